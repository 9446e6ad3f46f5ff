//! vCards made from the directory's business card: what the web client's
//! business card shows, for XMPP clients, as XEP-0054 (`vcard-temp`)
//! and as XEP-0292 (vCard 4 in XML, RFC 6351: asked for directly or as
//! the PEP node `urn:xmpp:vcard4`). The directory is where people's
//! details are kept, so a client cannot change them here.

use simul_service::Person;
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::ns;
use tokio_xmpp::parsers::pubsub::pubsub::{Item, Items, PubSub};
use tokio_xmpp::parsers::pubsub::{ItemId, NodeName};

/// The namespace of XEP-0054.
pub(crate) const NS: &str = "vcard-temp";
/// The namespace of vCard 4 in XML (XEP-0292).
pub(crate) const NS4: &str = "urn:ietf:params:xml:ns:vcard-4.0";
/// The PEP node XEP-0292 keeps vCards in.
const PEP_NODE: &str = "urn:xmpp:vcard4";

/// Makes a requested vCard of a person.
pub(crate) type Render = fn(&Person) -> Element;

/// How `payload` asks for a vCard, if it does.
pub(crate) fn request(payload: &Element) -> Option<Render> {
    let pep = payload.is("pubsub", ns::PUBSUB)
        && payload.get_child("items", ns::PUBSUB).and_then(|items| items.attr("node"))
            == Some(PEP_NODE);
    if payload.is("vCard", NS) {
        Some(vcard_of)
    } else if payload.is("vcard", NS4) {
        Some(vcard4_of)
    } else if pep {
        Some(pep_item_of)
    } else {
        None
    }
}

/// One detail of a business card and where each vCard format puts it.
struct Detail<'a> {
    /// The vcard-temp element, and the one inside it if any.
    temp: (&'static str, Option<&'static str>),
    /// The vCard 4 element and the value element inside it.
    v4: (&'static str, &'static str),
    text: &'a str,
}

/// The details of `person`'s card, empty ones left out.
fn details(person: &Person) -> Vec<Detail<'_>> {
    let name = if person.display_name.is_empty() { &person.id } else { &person.display_name };
    [
        (("FN", None), ("fn", "text"), name),
        (("EMAIL", Some("USERID")), ("email", "text"), &person.mail),
        (("TITLE", None), ("title", "text"), &person.title),
        (("TEL", Some("NUMBER")), ("tel", "text"), &person.phone),
        (("ADR", Some("LOCALITY")), ("adr", "locality"), &person.location),
        (("PHOTO", Some("EXTVAL")), ("photo", "uri"), &person.photo_url),
    ]
    .into_iter()
    .filter(|(_, _, text)| !text.is_empty())
    .map(|(temp, v4, text)| Detail { temp, v4, text })
    .collect()
}

fn field(name: &str, namespace: &str, text: &str) -> Element {
    Element::builder(name, namespace).append(text.to_owned()).build()
}

/// The XEP-0054 vCard of `person`: name, mail, title, phone, place,
/// photo link.
pub(crate) fn vcard_of(person: &Person) -> Element {
    let mut vcard = Element::builder("vCard", NS);
    for Detail { temp: (outer, inner), text, .. } in details(person) {
        vcard = vcard.append(match inner {
            Some(inner) => Element::builder(outer, NS).append(field(inner, NS, text)).build(),
            None => field(outer, NS, text),
        });
    }
    vcard.build()
}

/// The vCard 4 of `person` (XEP-0292), the same details.
pub(crate) fn vcard4_of(person: &Person) -> Element {
    let mut vcard = Element::builder("vcard", NS4);
    for Detail { v4: (outer, inner), text, .. } in details(person) {
        vcard = vcard.append(Element::builder(outer, NS4).append(field(inner, NS4, text)).build());
    }
    vcard.build()
}

/// The vCard 4 as the PEP node's one item (XEP-0292 §3).
fn pep_item_of(person: &Person) -> Element {
    let item = Item {
        id: Some(ItemId("current".into())),
        publisher: None,
        payload: Some(vcard4_of(person)),
    };
    let items =
        Items { max_items: None, node: NodeName(PEP_NODE.into()), subid: None, items: vec![item] };
    PubSub::Items(items).into()
}
