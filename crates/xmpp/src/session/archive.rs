//! A session's archive queries (XEP-0313): each message of the page as a
//! result message, then the page's end (`fin`) as the answer. The archive
//! is the user's own 1:1 history (see `crate::archive`), searchable by
//! words (XEP-0431, the community's full-text search); a room gives its
//! history on entry.

use simul_core::{Attachment, Conversation, MessageId, UserId};
use simul_service::{
    HistoryPage, MAX_SEARCH_RESULTS, Page, PageStart, SearchPage, ServiceError, StoredIm,
};
use tokio_xmpp::jid::{BareJid, Jid};
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::data_forms::{DataForm, DataFormType, Field, FieldType};
use tokio_xmpp::parsers::forwarding::Forwarded;
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::parsers::mam::{Fin, Query, QueryId, Result_};
use tokio_xmpp::parsers::message::Message;
use tokio_xmpp::parsers::ns;
use tokio_xmpp::parsers::rsm::{First, SetResult};
use tokio_xmpp::parsers::stanza_error::{DefinedCondition, ErrorType};

use super::{End, Session, server_trouble, stanza_error};
use crate::archive::{FULLTEXT, With, delay, wanted};

impl Session<'_> {
    /// An archive request `id` to `to` (none: the user's own archive):
    /// the fields a query may use (get), or a page of messages (set).
    pub(super) async fn archive(
        &mut self,
        id: &str,
        to: Option<&Jid>,
        payload: Element,
        is_set: bool,
    ) -> Result<Iq, End> {
        let Some(own) = self.door.jid(&self.user) else {
            return Ok(Iq::from_error(
                id,
                stanza_error(ErrorType::Cancel, DefinedCondition::ItemNotFound, ""),
            ));
        };
        if to.is_some_and(|to| to.to_bare() != own) {
            let text = "only your own archive is kept here";
            return Ok(Iq::from_error(
                id,
                stanza_error(ErrorType::Cancel, DefinedCondition::ServiceUnavailable, text),
            ));
        }
        if !is_set {
            return Ok(Iq::from_result(id, Some(query_form())));
        }
        let bad = |text: &str| {
            Iq::from_error(id, stanza_error(ErrorType::Modify, DefinedCondition::BadRequest, text))
        };
        let Ok(query) = Query::try_from(payload) else { return Ok(bad("not an archive query")) };
        let mut wanted = match wanted(&query, &self.door.domain) {
            Ok(wanted) => wanted,
            Err(text) => return Ok(bad(text)),
        };
        match wanted.with {
            With::Anyone => {}
            With::User(name) => match self.service.recipient(&name).await {
                Ok(partner) => wanted.page.with = Some(partner.to_string()),
                Err(ServiceError::NoSuchUser(_)) => {
                    return Ok(Iq::from_result(id, Some(fin(&[], true))));
                }
                Err(error) => return Ok(server_trouble(id, &error)),
            },
            With::Nobody => return Ok(Iq::from_result(id, Some(fin(&[], true)))),
        }
        let found = match &wanted.fulltext {
            Some(words) => self.search(words, &wanted.page).await,
            None => self.service.im_page(self.user.as_str(), &wanted.page).await,
        };
        let Page { mut messages, complete } = match found {
            Ok(page) => page,
            Err(error) => return Ok(server_trouble(id, &error)),
        };
        if query.flip_page {
            messages.reverse();
        }
        let files = self.files_of(&messages.iter().map(|m| m.id).collect::<Vec<_>>()).await;
        for message in &messages {
            let file = files.get(&message.id).map(|file| &**file);
            if let Some(result) = self.result(&own, query.queryid.clone(), message, file) {
                self.send(&result).await?;
            }
        }
        Ok(Iq::from_result(id, Some(fin(&messages, complete))))
    }

    /// The 1:1 messages holding `words` (XEP-0431), newest page first as
    /// the community's search pages them, oldest first within the page
    /// (with one partner if `page` names one).
    async fn search(
        &self,
        words: &str,
        page: &HistoryPage,
    ) -> Result<Page<StoredIm>, ServiceError> {
        let before = match page.from {
            PageStart::Before(id) => Some(MessageId::from_raw(id)),
            _ => None,
        };
        let wanted = SearchPage { before, limit: page.limit.clamp(1, MAX_SEARCH_RESULTS) };
        let hits = self.service.search_messages(&self.user, words, wanted).await?;
        let complete = hits.len() < wanted.limit as usize;
        let mut messages: Vec<StoredIm> = hits
            .into_iter()
            .filter_map(|hit| {
                let Conversation::Im(partner) = hit.conversation else { return None };
                if page.with.as_deref().is_some_and(|with| with != partner.as_str()) {
                    return None;
                }
                let to = if hit.from == self.user { partner } else { self.user.clone() };
                let (from, to) = (hit.from.to_string(), to.to_string());
                Some(StoredIm::new(hit.id.get(), from, to, hit.text, hit.at))
            })
            .collect();
        messages.reverse();
        Ok(Page { messages, complete })
    }

    /// One message of the archive, forwarded to the client (XEP-0313 §4.2).
    fn result(
        &self,
        own: &BareJid,
        queryid: Option<QueryId>,
        stored: &StoredIm,
        file: Option<&Attachment>,
    ) -> Option<Message> {
        let from = self.door.jid(&UserId::new(&stored.from))?;
        let to = self.door.jid(&UserId::new(&stored.to))?;
        let mut message = Message::chat(Some(to.into()));
        if stored.deleted {
            // XEP-0424 §5: the archive keeps a tombstone in its place.
            message.payloads.push(super::changes::tombstone(stored.id));
        } else {
            message = message.with_body(Default::default(), stored.text.clone());
            message = self.with_file(message, file);
        }
        message.from = Some(from.into());
        let forwarded = Forwarded { delay: Some(delay(own.clone().into(), stored.at)), message };
        let result = Result_ { id: stored.id.to_string(), queryid, forwarded };
        let mut outer = Message::new(Some(self.jid.clone().into())).with_payload(result);
        outer.from = Some(own.clone().into());
        Some(outer)
    }
}

/// The end of a page: its first and last ids, and whether it is the end
/// of the archive that way.
fn fin(messages: &[StoredIm], complete: bool) -> Fin {
    let first = messages.first().map(|m| First { index: None, item: m.id.to_string() });
    let last = messages.last().map(|m| m.id.to_string());
    Fin { complete, set: SetResult { first, last, count: None } }
}

/// The fields a query may use (XEP-0313 §5.1).
fn query_form() -> Query {
    let fields = vec![
        Field::new("with", FieldType::JidSingle),
        Field::new("start", FieldType::TextSingle),
        Field::new("end", FieldType::TextSingle),
        Field::new(FULLTEXT, FieldType::TextSingle),
    ];
    Query {
        queryid: None,
        node: None,
        form: Some(DataForm::new(DataFormType::Form, ns::MAM, fields)),
        set: None,
        flip_page: false,
    }
}
