//! Full-text search across a user's conversations: the 1:1 messages they
//! sent or received and what was said in the n-way chats they may read,
//! newest first, a page at a time; one function for every door.

use chrono::{DateTime, Utc};
use simul_core::{ChatId, Conversation, MessageId, UserId};
use simul_store::{Found, SearchQuery};

use crate::flood::UserLimit;
use crate::{Service, ServiceError};

/// Most characters a search may be (a sentence; the words are what count).
pub const MAX_SEARCH_CHARS: usize = 256;
/// Most words a search may hold.
pub const MAX_SEARCH_WORDS: usize = 16;
/// Most results on one page.
pub const MAX_SEARCH_RESULTS: u32 = 100;
/// Searches a user may make a minute on average (as they type, a client
/// asks every few hundred milliseconds), and at once.
/// The ended chats a search covers at most: those with the latest
/// messages the user took part in.
pub const SEARCHED_CHATS: u32 = 1000;
const SEARCHES_PER_MINUTE: u32 = 120;
const SEARCH_BURST: u32 = 30;

/// Which page of results: the newest, or those older than a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchPage {
    /// Only messages older than this one (the next page).
    pub before: Option<MessageId>,
    /// Most results (1 to [`MAX_SEARCH_RESULTS`]).
    pub limit: u32,
}

/// A message a search found, with the conversation it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    /// The conversation (`im:<the other user>` or `nway:<chat>`).
    pub conversation: Conversation,
    /// The message's id.
    pub id: MessageId,
    /// Who wrote it.
    pub from: UserId,
    /// What it says.
    pub text: String,
    /// When the server accepted it.
    pub at: DateTime<Utc>,
}

/// Searches per user, whatever door they come through.
pub(crate) fn search_limits() -> UserLimit {
    UserLimit::per_minute(SEARCHES_PER_MINUTE, SEARCH_BURST, |seconds| {
        format!("too many searches; wait {seconds} s")
    })
}

/// The words of what a user typed: runs of letters and digits, so that
/// punctuation, quotes, operators' symbols, control characters and emoji
/// separate words and are never looked for themselves.
fn search_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Service {
    /// The messages `user` may read that hold every word of `query`
    /// (the last one may be half typed), newest first: the 1:1 messages
    /// they sent or received, and those of the n-way chats they may read
    /// (as for [`Service::chat_page`]; of the chats they are no longer in,
    /// the latest [`SEARCHED_CHATS`]), none older than their policy's
    /// `history_days`. A query without a
    /// word, too long, or a page over [`MAX_SEARCH_RESULTS`] is
    /// [`ServiceError::Invalid`]; more than a person types is
    /// [`ServiceError::TooMany`].
    pub async fn search_messages(
        &self,
        user: &UserId,
        query: &str,
        page: SearchPage,
    ) -> Result<Vec<SearchHit>, ServiceError> {
        if query.chars().count() > MAX_SEARCH_CHARS {
            return Err(ServiceError::Invalid(format!(
                "a search is at most {MAX_SEARCH_CHARS} characters"
            )));
        }
        let words = search_words(query);
        if words.is_empty() {
            return Err(ServiceError::Invalid("search for at least one word".into()));
        }
        if words.len() > MAX_SEARCH_WORDS {
            return Err(ServiceError::Invalid(format!(
                "a search is at most {MAX_SEARCH_WORDS} words"
            )));
        }
        if !(1..=MAX_SEARCH_RESULTS).contains(&page.limit) {
            return Err(ServiceError::Invalid(format!(
                "limit is a number from 1 to {MAX_SEARCH_RESULTS}"
            )));
        }
        self.search_limits().check(user.as_str())?;
        let mut chats: Vec<u64> = self
            .hub()
            .inspect(|c| c.chats_of(user))
            .into_iter()
            .filter(|chat| chat.members.contains(user))
            .map(|chat| chat.id.get())
            .collect();
        for (chat, _) in self.store().participated_chats(user.as_str(), SEARCHED_CHATS).await? {
            if !chats.contains(&chat) {
                chats.push(chat);
            }
        }
        let before = page.before.map(MessageId::get);
        // The policy's window (`history_days`) holds for search as for
        // the history pages.
        let since = self.history_start(user).await?;
        let query = SearchQuery { words: &words, before, limit: page.limit, since };
        let found = self.store().search(user.as_str(), &chats, &query).await?;
        Ok(found.into_iter().map(|found| hit(user, found)).collect())
    }
}

/// A message found for `user` as a result, in its conversation.
fn hit(user: &UserId, found: Found) -> SearchHit {
    match found {
        Found::Im(m) => {
            let other = if m.from == user.as_str() { m.to } else { m.from.clone() };
            SearchHit {
                conversation: Conversation::Im(UserId::new(other)),
                id: MessageId::from_raw(m.id),
                from: UserId::new(m.from),
                text: m.text,
                at: m.at,
            }
        }
        Found::Chat(m) => SearchHit {
            conversation: Conversation::Nway(ChatId::from_raw(m.chat)),
            id: MessageId::from_raw(m.id),
            from: UserId::new(m.from),
            text: m.text,
            at: m.at,
        },
    }
}
