//! Files sent in 1:1 and n-way conversations, the same way from every
//! door: received into the store while the sender may write to the
//! conversation, then sent as a message that carries the file (and
//! describes it in its text, for doors that show text only), and handed
//! out to the conversation's members only.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rand_core::{OsRng, RngCore as _};
use simul_core::policy::{Action, PolicyRefusal};
use simul_core::{Attachment, ChatId, Conversation, CoreError, MessageId, SessionId, UserId};
use simul_store::{FileRecord, Upload};

use crate::{Service, ServiceError};

/// The largest file by default (`[files] max_mb = 25`).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 25 * 1024 * 1024;
/// Longest file name kept, in characters (longer ones are cut, keeping
/// the extension).
const MAX_NAME_CHARS: usize = 200;
/// Longest media type kept (`application/vnd.openxmlformats-…` fits).
const MAX_TYPE_CHARS: usize = 100;

/// Where a file goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileTarget {
    /// To one user, by any name the directory knows.
    Im(String),
    /// Into an n-way chat the sender is a member of.
    Nway(ChatId),
}

/// What one user may send: the largest file, and the policy that sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileAllowance {
    /// The largest file in bytes: the server's limit, or the user's
    /// policy's (`max_file_mb`) when lower; 0 when they may send none.
    pub max_bytes: u64,
    /// Whether their policy lets them send files at all (`file_transfer`).
    pub allowed: bool,
    /// The policy that sets the limit or refuses files, if not the server.
    pub policy: Option<String>,
}

/// A file being received for a conversation the sender may write to,
/// within the size limit.
#[derive(Debug)]
pub struct FileUpload {
    upload: Upload,
    conversation: Conversation,
    limit: u64,
    /// The sender's policy's refusal of a file over `limit`, where that
    /// limit is the policy's (`max_file_mb`) rather than the server's.
    policy: Option<PolicyRefusal>,
}

impl FileUpload {
    /// A file received before its conversation was known.
    pub(crate) fn new(upload: Upload, conversation: Conversation, limit: u64) -> Self {
        Self { upload, conversation, limit, policy: None }
    }

    /// Appends a piece of the file; [`ServiceError::TooLarge`] once the
    /// file would be over the limit (nothing more is written: the caller
    /// stops reading).
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), ServiceError> {
        if self.upload.size().saturating_add(bytes.len() as u64) > self.limit {
            return Err(match &self.policy {
                Some(refusal) => refusal.clone().into(),
                None => Self::too_large(self.limit),
            });
        }
        Ok(self.upload.write(bytes).await?)
    }

    /// The refusal of a file over `limit` bytes, for a door that finds it
    /// first (its own framing over the limit).
    pub fn too_large(limit: u64) -> ServiceError {
        ServiceError::TooLarge(format!(
            "a file may hold at most {} (files.max_mb)",
            human_size(limit)
        ))
    }
}

/// A file that was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentFile {
    /// The message that carries it.
    pub id: MessageId,
    /// The file, as the message carries it.
    pub file: Arc<Attachment>,
    /// When it was sent.
    pub at: DateTime<Utc>,
}

impl Service {
    /// Starts receiving a file from `from` for `to`: refused before a
    /// byte is read if `from` may not write there (1:1: a recipient the
    /// directory does not know; n-way: not a member now, or no such
    /// chat, one answer for both) or is over the message limits (a
    /// file counts as a message).
    pub async fn file_upload(
        &self,
        from: &UserId,
        to: FileTarget,
    ) -> Result<FileUpload, ServiceError> {
        self.message_limits().check(from.as_str())?;
        let (limit, policy) = self.file_limit(from, None).await?;
        let conversation = self.file_conversation(from, to).await?;
        let upload = self.store().new_upload().await?;
        Ok(FileUpload { upload, conversation, limit, policy })
    }

    /// Whether `from` may send a file of `size` bytes: their policy
    /// (`file_transfer`, `max_file_mb`) and the server's `files.max_mb`.
    pub async fn check_file_size(&self, from: &UserId, size: u64) -> Result<(), ServiceError> {
        self.file_limit(from, Some(size)).await?;
        if size > self.max_file_bytes() {
            return Err(FileUpload::too_large(self.max_file_bytes()));
        }
        Ok(())
    }

    /// What `user` may send now (their policy and the server's limit): what
    /// a client tells them before they pick a file.
    pub async fn file_allowance(&self, user: &UserId) -> Result<FileAllowance, ServiceError> {
        match self.file_limit(user, None).await {
            Ok((max_bytes, refusal)) => {
                Ok(FileAllowance { max_bytes, allowed: true, policy: refusal.map(|r| r.policy) })
            }
            Err(ServiceError::Policy(refusal)) => {
                Ok(FileAllowance { max_bytes: 0, allowed: false, policy: Some(refusal.policy) })
            }
            Err(error) => Err(error),
        }
    }

    /// Whether `from`'s policy lets them send a file (of `size` bytes, if
    /// known), and the largest they may send: the server's limit or the
    /// policy's, with the policy's refusal if it is the policy's.
    pub(crate) async fn file_limit(
        &self,
        from: &UserId,
        size: Option<u64>,
    ) -> Result<(u64, Option<PolicyRefusal>), ServiceError> {
        let policy = self.effective_policy(from).await?;
        policy.check(Action::SendFile(size))?;
        Ok(match policy.max_file_bytes() {
            Some(max) if max < self.max_file_bytes() => {
                (max, policy.check(Action::SendFile(Some(max + 1))).err())
            }
            _ => (self.max_file_bytes(), None),
        })
    }

    /// The conversation a file from `from` to `to` goes to, if `from`
    /// may write there (see [`Service::file_upload`]).
    pub(crate) async fn file_conversation(
        &self,
        from: &UserId,
        to: FileTarget,
    ) -> Result<Conversation, ServiceError> {
        Ok(match to {
            FileTarget::Im(name) => Conversation::Im(self.recipient(&name).await?),
            FileTarget::Nway(chat) => {
                if !self.is_member(from, chat) {
                    return Err(CoreError::NotMember(chat).into());
                }
                Conversation::Nway(chat)
            }
        })
    }

    /// Keeps a received file and sends it into its conversation as a
    /// message to every door (but `origin`, the session it came from):
    /// the message carries the file, and its text is a line with the
    /// name, the size and `link` followed by the file's id (the absolute
    /// URL the door serves it at), for doors that show text only. `name`
    /// is cleaned of paths and control characters.
    pub async fn send_file(
        &self,
        from: &UserId,
        origin: Option<SessionId>,
        upload: FileUpload,
        (name, content_type): (&str, &str),
        link: &str,
    ) -> Result<SentFile, ServiceError> {
        let kept = (new_file_id(), name, content_type);
        self.keep_and_send(from, origin, upload, kept, link).await
    }

    /// [`Service::send_file`] of a file whose id is chosen (a reserved
    /// one's, see `reserved_files`).
    pub(crate) async fn keep_and_send(
        &self,
        from: &UserId,
        origin: Option<SessionId>,
        upload: FileUpload,
        (id, name, content_type): (String, &str, &str),
        link: &str,
    ) -> Result<SentFile, ServiceError> {
        if upload.upload.size() == 0 {
            return Err(ServiceError::Invalid("the file is empty".into()));
        }
        let record = FileRecord {
            id,
            sha256: String::new(),
            name: clean_name(name),
            content_type: clean_type(content_type),
            size: 0,
            uploader: from.to_string(),
            conversation: upload.conversation.to_string(),
            message: None,
            at: Utc::now(),
        };
        let record = self.store().keep_file(upload.upload, record).await?;
        let file = Arc::new(attachment(&record));
        let text = format!("File: {} ({}) {link}{}", file.name, human_size(file.size), file.id);
        let sent = match upload.conversation {
            Conversation::Im(to) => self
                .deliver_im(from, origin, to, text, Some(file.clone()))
                .await
                .map(|s| (s.id, s.at)),
            Conversation::Nway(chat) => self.post_with(from, chat, text, Some(file.clone())).await,
        };
        let (id, at) = match sent {
            Ok(sent) => sent,
            Err(error) => {
                self.store().forget_file(&record.id).await?;
                return Err(error);
            }
        };
        metrics::counter!("simul_files_total").increment(1);
        Ok(SentFile { id, file, at })
    }

    /// Records that message `id` carries the file `file` (if any): called
    /// before the message is kept, so that a history that shows the
    /// message shows its file.
    pub(crate) async fn link_file(
        &self,
        file: Option<&str>,
        id: MessageId,
    ) -> Result<(), ServiceError> {
        match file {
            Some(file) => Ok(self.store().set_file_message(file, id.get()).await?),
            None => Ok(()),
        }
    }

    /// File `id` for `user` to download, with where its bytes are: for
    /// the sender and the recipient of a 1:1 file, for the members (now)
    /// of an n-way chat's. `None` alike for a file that does not exist
    /// and one that is not the user's to read.
    pub async fn file(
        &self,
        user: &UserId,
        id: &str,
    ) -> Result<Option<(Arc<Attachment>, PathBuf)>, ServiceError> {
        let Some(record) = self.store().file(id).await? else { return Ok(None) };
        Ok(self.readers(&record).await?.contains(user).then(|| self.kept(&record)))
    }

    /// The link token of file `id` for `user` (see `file_links`): it
    /// opens the file while `user` is one of its readers.
    pub fn file_capability(&self, id: &str, user: &UserId) -> String {
        self.link_key().capability(id, user)
    }

    /// File `id` for whoever holds `capability`, the link token of one
    /// of its readers now. `None` alike for a file that does not exist
    /// and a token that opens nothing.
    pub async fn file_by_capability(
        &self,
        id: &str,
        capability: &str,
    ) -> Result<Option<(Arc<Attachment>, PathBuf)>, ServiceError> {
        let Some(record) = self.store().file(id).await? else { return Ok(None) };
        let admitted = self.link_key().admits(id, capability, &self.readers(&record).await?);
        Ok(admitted.then(|| self.kept(&record)))
    }

    /// Who may read a file: the sender and the recipient of a 1:1 file;
    /// for an n-way chat's, those who may read the chat (its members now,
    /// and those who took part and did not leave).
    async fn readers(&self, record: &FileRecord) -> Result<Vec<UserId>, ServiceError> {
        Ok(match record.conversation.parse::<Conversation>() {
            Ok(Conversation::Im(to)) => vec![to, UserId::new(record.uploader.clone())],
            Ok(Conversation::Nway(chat)) => {
                let mut readers = self
                    .hub()
                    .inspect(|c| c.chat_members(chat))
                    .map(|m| m.to_vec())
                    .unwrap_or_default();
                for user in self.store().chat_participants(chat.get()).await? {
                    let user = UserId::new(user);
                    if !readers.contains(&user) {
                        readers.push(user);
                    }
                }
                readers
            }
            Err(_) => Vec::new(),
        })
    }

    /// A kept file as it is handed out, with where its bytes are.
    fn kept(&self, record: &FileRecord) -> (Arc<Attachment>, PathBuf) {
        (Arc::new(attachment(record)), self.store().file_path(record))
    }

    /// The files these messages carry, by message id (for history pages
    /// the caller may read).
    pub async fn attachments(
        &self,
        messages: &[u64],
    ) -> Result<HashMap<u64, Arc<Attachment>>, ServiceError> {
        let files = self.store().files_of_messages(messages).await?;
        Ok(files
            .iter()
            .filter_map(|file| Some((file.message?, Arc::new(attachment(file)))))
            .collect())
    }

    /// Whether `user` is a member of `chat` now (`false` for no such chat).
    fn is_member(&self, user: &UserId, chat: ChatId) -> bool {
        self.hub().inspect(|c| c.chat_members(chat)).is_ok_and(|members| members.contains(user))
    }
}

fn attachment(record: &FileRecord) -> Attachment {
    Attachment {
        id: record.id.clone(),
        name: record.name.clone(),
        content_type: record.content_type.clone(),
        size: record.size,
    }
}

/// 128 random bits in hex: a file's id cannot be guessed.
pub(crate) fn new_file_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    crate::file_links::hex(&bytes)
}

/// The name as kept: its last path component (either slash), without
/// control or format characters (newlines, bidi overrides), trimmed of
/// spaces and dots (no `..`, no hidden name), at most [`MAX_NAME_CHARS`]
/// characters with the extension kept; `file` when nothing is left.
pub(crate) fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_format(*c))
        .collect::<String>()
        .trim_matches(|c: char| c.is_whitespace() || c == '.')
        .to_owned();
    if cleaned.is_empty() {
        return "file".into();
    }
    if cleaned.chars().count() <= MAX_NAME_CHARS {
        return cleaned;
    }
    let extension = match cleaned.rsplit_once('.') {
        Some((_, ext)) if ext.chars().count() <= 10 => format!(".{ext}"),
        _ => String::new(),
    };
    let keep = MAX_NAME_CHARS - extension.chars().count();
    cleaned.chars().take(keep).chain(extension.chars()).collect()
}

/// Unicode format characters that reorder or hide text (bidi controls,
/// zero-width marks): a name like `invoice\u{202e}fdp.exe` would read
/// as a PDF.
fn is_format(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// The declared media type as kept: `type/subtype` in lower case without
/// parameters, if it is one; `application/octet-stream` otherwise.
pub(crate) fn clean_type(declared: &str) -> String {
    let essence = declared.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let token = |part: &str| {
        !part.is_empty()
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match essence.split_once('/') {
        Some((kind, sub)) if essence.len() <= MAX_TYPE_CHARS && token(kind) && token(sub) => {
            essence
        }
        _ => "application/octet-stream".into(),
    }
}

/// A size as people read it: `512 bytes`, `1.5 KB`, `25 MB` (1,024 per step).
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 3] = ["KB", "MB", "GB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let value = if value < 10.0 { format!("{value:.1}") } else { format!("{value:.0}") };
    format!("{} {}", value.trim_end_matches(".0"), UNITS[unit])
}
