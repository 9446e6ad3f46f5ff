//! The message archive (XEP-0313, paged as XEP-0059 says) on the 1:1
//! history every door keeps, and the marks a message carries to match it
//! (XEP-0359 stanza ids, XEP-0203 delays). An archive id is the message's
//! id in the community (the order it accepted messages in), so a client
//! that saw a message live finds the same id in the archive. Public for
//! the fuzz target.

use chrono::SubsecRound as _;
use simul_service::{HistoryPage, PageStart};
use tokio_xmpp::jid::{BareJid, Jid};
use tokio_xmpp::parsers::date::DateTime;
use tokio_xmpp::parsers::delay::Delay;
use tokio_xmpp::parsers::mam::Query;
use tokio_xmpp::parsers::message::Message;
use tokio_xmpp::parsers::stanza_id::StanzaId;

use crate::jid::user_of;

/// Most messages on one page of the archive (XEP-0313 lets the server
/// cap what a client asks for).
pub const MAX_PAGE: u32 = 100;
/// Messages on a page when the client does not say.
const DEFAULT_PAGE: u32 = 50;

/// Whose messages a query asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum With {
    /// All of the user's conversations.
    Anyone,
    /// The conversation with the user of this (unescaped) name.
    User(String),
    /// Someone outside the community: no message.
    Nobody,
}

/// What a query asks for in the service's terms: the page (its `with`
/// still to be found in the directory) and whose messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The page, `with` left empty.
    pub page: HistoryPage,
    /// Whose messages.
    pub with: With,
    /// Words the messages hold (XEP-0431 full-text search); its pages go
    /// back from the newest.
    pub fulltext: Option<String>,
}

/// The form field of a full-text search (XEP-0431).
pub const FULLTEXT: &str = "{urn:xmpp:fulltext:0}fulltext";

/// Reads a query (its form's `with`, `start` and `end`; its set's `max`,
/// `after` and `before`) for the archive of a user of `domain`; what is
/// wrong with it, for a `bad-request`.
pub fn wanted(query: &Query, domain: &str) -> Result<Wanted, &'static str> {
    let mut page =
        HistoryPage { from: PageStart::Oldest, limit: DEFAULT_PAGE, ..HistoryPage::default() };
    let mut with = With::Anyone;
    let mut fulltext = None;
    for field in query.form.iter().flat_map(|form| &form.fields) {
        let value = field.values.first().map(String::as_str);
        match (field.var.as_deref(), value) {
            (Some("with"), Some(jid)) => {
                let jid: Jid = jid.parse().map_err(|_| "'with' is not a JID")?;
                with = match user_of(&jid, domain) {
                    Some(user) => With::User(user),
                    None => With::Nobody,
                };
            }
            (Some("start"), Some(time)) => page.start = Some(time_of(time)?),
            (Some("end"), Some(time)) => page.end = Some(time_of(time)?),
            (Some(FULLTEXT), Some(words)) => fulltext = Some(words.to_owned()),
            _ => {}
        }
    }
    if let Some(set) = &query.set {
        if let Some(max) = set.max {
            page.limit = u32::try_from(max).unwrap_or(MAX_PAGE).min(MAX_PAGE);
        }
        page.from = match (set.after.as_deref(), set.before.as_deref()) {
            (Some(after), _) => PageStart::After(id_of(after)?),
            // An empty `<before/>` asks for the last page.
            (None, Some("")) => PageStart::Newest,
            (None, Some(before)) => PageStart::Before(id_of(before)?),
            (None, None) => PageStart::Oldest,
        };
    }
    let dated = page.start.is_some() || page.end.is_some();
    if fulltext.is_some() && (dated || matches!(page.from, PageStart::After(_))) {
        return Err("a full-text search pages back from the newest: no start, end or after");
    }
    Ok(Wanted { page, with, fulltext })
}

fn time_of(text: &str) -> Result<chrono::DateTime<chrono::Utc>, &'static str> {
    let time: DateTime = text.parse().map_err(|_| "not a XEP-0082 date and time")?;
    Ok(time.0.to_utc())
}

fn id_of(text: &str) -> Result<u64, &'static str> {
    text.parse().map_err(|_| "not a message id of this archive")
}

/// A time stamp for XEP-0203: milliseconds, since clients written in
/// Python, among others, cannot read the nanoseconds XEP-0082 allows.
pub(crate) fn delay(from: Jid, at: chrono::DateTime<chrono::Utc>) -> Delay {
    Delay { from: Some(from), stamp: DateTime(at.trunc_subsecs(3).fixed_offset()), data: None }
}

/// `message` marked with its archive id, as `own`'s archive knows it
/// (XEP-0359), so that the client can match it with what the archive
/// gives later.
pub(crate) fn with_archive_id(message: Message, id: u64, own: BareJid) -> Message {
    message.with_payload(StanzaId { id: id.to_string(), by: own.into() })
}

#[cfg(test)]
mod tests {
    use tokio_xmpp::minidom::Element;

    use super::*;

    fn query(xml: &str) -> Query {
        let element: Element = xml.parse().unwrap();
        Query::try_from(element).unwrap()
    }

    const FORM: &str = "<x xmlns='jabber:x:data' type='submit'>\
        <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>";

    #[test]
    fn a_query_names_the_partner_the_times_and_the_page() {
        let xml = format!(
            "<query xmlns='urn:xmpp:mam:2' queryid='q'>{FORM}\
             <field var='with'><value>Bob@Example.com</value></field>\
             <field var='start'><value>2026-12-01T10:00:00Z</value></field></x>\
             <set xmlns='http://jabber.org/protocol/rsm'><max>500</max><before>41</before></set>\
             </query>"
        );
        let wanted = wanted(&query(&xml), "example.com").unwrap();
        assert_eq!(wanted.with, With::User("bob".into()));
        assert_eq!(wanted.page.limit, MAX_PAGE, "capped");
        assert_eq!(wanted.page.from, PageStart::Before(41));
        assert_eq!(wanted.page.start.unwrap().to_rfc3339(), "2026-12-01T10:00:00+00:00");
    }

    #[test]
    fn without_paging_the_archive_is_read_from_its_start_and_before_nothing_is_the_end() {
        let plain = wanted(&query("<query xmlns='urn:xmpp:mam:2'/>"), "example.com").unwrap();
        assert_eq!(
            (plain.with, plain.page.from, plain.page.limit),
            (With::Anyone, PageStart::Oldest, 50)
        );
        let xml = "<query xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'>\
                   <max>10</max><before/></set></query>";
        assert_eq!(wanted(&query(xml), "example.com").unwrap().page.from, PageStart::Newest);
    }

    #[test]
    fn strangers_and_bad_values_are_told_apart() {
        let foreign = format!(
            "<query xmlns='urn:xmpp:mam:2'>{FORM}<field var='with'><value>eve@elsewhere.org</value></field></x></query>"
        );
        assert_eq!(wanted(&query(&foreign), "example.com").unwrap().with, With::Nobody);
        let bad_time = format!(
            "<query xmlns='urn:xmpp:mam:2'>{FORM}<field var='end'><value>yesterday</value></field></x></query>"
        );
        assert!(wanted(&query(&bad_time), "example.com").is_err());
        let bad_id = "<query xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'>\
                      <after>abc</after></set></query>";
        assert!(wanted(&query(bad_id), "example.com").is_err());
    }

    #[test]
    fn a_full_text_search_pages_back_only() {
        let search = |paging: &str| {
            format!(
                "<query xmlns='urn:xmpp:mam:2'>{FORM}<field var='{{urn:xmpp:fulltext:0}}fulltext'>\
                 <value>from carol</value></field></x>\
                 <set xmlns='http://jabber.org/protocol/rsm'><max>10</max>{paging}</set></query>"
            )
        };
        let newest = wanted(&query(&search("")), "example.com").unwrap();
        assert_eq!(newest.fulltext.as_deref(), Some("from carol"));
        let back = wanted(&query(&search("<before>41</before>")), "example.com").unwrap();
        assert_eq!(back.page.from, PageStart::Before(41));
        assert!(wanted(&query(&search("<after>41</after>")), "example.com").is_err());
    }
}
