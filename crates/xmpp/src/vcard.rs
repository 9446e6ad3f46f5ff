//! vCards (XEP-0054, `vcard-temp`) made from the directory's business
//! card: what the web client's business card shows, for XMPP clients.
//! The directory is where people's details are kept, so a client cannot
//! change them here.

use simul_service::Person;
use tokio_xmpp::minidom::Element;

/// The namespace of XEP-0054.
pub(crate) const NS: &str = "vcard-temp";

/// The vCard of `person`: name, mail, title, phone, place, photo link.
pub(crate) fn vcard_of(person: &Person) -> Element {
    let field = |name: &str, text: &str| Element::builder(name, NS).append(text.to_owned()).build();
    let wrapped = |outer: &str, inner: &str, text: &str| {
        Element::builder(outer, NS).append(field(inner, text)).build()
    };
    let mut vcard = Element::builder("vCard", NS);
    let name = if person.display_name.is_empty() { &person.id } else { &person.display_name };
    vcard = vcard.append(field("FN", name));
    // (element, the element inside it if any, its text)
    let details = [
        ("EMAIL", Some("USERID"), &person.mail),
        ("TITLE", None, &person.title),
        ("TEL", Some("NUMBER"), &person.phone),
        ("ADR", Some("LOCALITY"), &person.location),
        ("PHOTO", Some("EXTVAL"), &person.photo_url),
    ];
    for (outer, inner, text) in details.into_iter().filter(|(_, _, text)| !text.is_empty()) {
        vcard = vcard.append(match inner {
            Some(inner) => wrapped(outer, inner, text),
            None => field(outer, text),
        });
    }
    vcard.build()
}
