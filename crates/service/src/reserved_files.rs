//! Files uploaded before anyone knows where they go. XMPP's HTTP upload
//! (XEP-0363) asks for a slot with the file's name and size, sends the
//! bytes by HTTP PUT, and then sends a message with the file's link to
//! someone. The service reserves a file id for the uploader, takes the
//! bytes once (exactly the size announced), and sends the file into the
//! conversation when its uploader names it in a message there.
//!
//! Reservations live in memory for [`RESERVATION_TTL`]: a client sends
//! the message as soon as the upload ends, and one that never does
//! leaves nothing behind (its temporary file goes with the reservation).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use rand_core::{OsRng, RngCore as _};
use sha2::{Digest as _, Sha256};
use simul_core::{SessionId, UserId};
use simul_store::Upload;
use subtle::ConstantTimeEq as _;

use crate::file_links::hex;
use crate::files::{FileTarget, FileUpload, SentFile};
use crate::{Service, ServiceError, TooMany};

/// How long a reservation waits for its bytes and then its message: the
/// longest upload the web door allows (30 minutes), and more.
const RESERVATION_TTL: Duration = Duration::from_secs(60 * 60);
/// Reservations one user may hold at once.
const MAX_PER_USER: usize = 8;
/// Reservations held at once by everyone (each received one holds an
/// open temporary file).
const MAX_RESERVATIONS: usize = 1024;

/// A file reserved for an upload: its id, and the secret that lets its
/// bytes in once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// The file's id (the id it keeps once sent).
    pub file: String,
    /// The upload's secret, for the upload URL only.
    pub secret: String,
    /// The file's name as kept.
    pub name: String,
}

/// A reserved file's bytes coming in.
#[derive(Debug)]
pub struct ReservedUpload {
    file: String,
    upload: Upload,
    size: u64,
}

impl ReservedUpload {
    /// Appends a piece of the file; [`ServiceError::TooLarge`] past the
    /// size announced (nothing more is written: the caller stops reading).
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), ServiceError> {
        if self.upload.size().saturating_add(bytes.len() as u64) > self.size {
            return Err(ServiceError::TooLarge(format!(
                "the slot was for {} bytes; send exactly that many",
                self.size
            )));
        }
        Ok(self.upload.write(bytes).await?)
    }
}

/// The reservations of the community.
#[derive(Debug, Default)]
pub(crate) struct Reservations(Mutex<HashMap<String, Reserved>>);

#[derive(Debug)]
struct Reserved {
    uploader: UserId,
    name: String,
    content_type: String,
    size: u64,
    secret: [u8; 32],
    until: Instant,
    bytes: Bytes,
}

#[derive(Debug)]
enum Bytes {
    Awaited,
    Coming,
    Received(Box<Upload>),
}

impl Reservations {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Reserved>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Service {
    /// Reserves a file of `size` bytes named `name` for `uploader` to
    /// upload: refused if it is empty or over the size limit, or if the
    /// uploader is over the message limits (a file counts as a message)
    /// or holds too many reservations.
    pub async fn reserve_file(
        &self,
        uploader: &UserId,
        name: &str,
        size: u64,
        content_type: &str,
    ) -> Result<Reservation, ServiceError> {
        if size == 0 {
            return Err(ServiceError::Invalid("the file is empty".into()));
        }
        self.check_file_size(uploader, size).await?;
        let mut reservations = self.reservations().lock();
        let now = Instant::now();
        reservations.retain(|_, reserved| reserved.until > now);
        let held = reservations.values().filter(|r| r.uploader == *uploader).count();
        if held >= MAX_PER_USER || reservations.len() >= MAX_RESERVATIONS {
            let wait = RESERVATION_TTL / 60;
            return Err(TooMany::new(
                |s| format!("too many uploads under way; try again in {s} s"),
                wait,
            )
            .into());
        }
        self.message_limits().check(uploader.as_str())?;
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        let file = crate::files::new_file_id();
        let name = crate::files::clean_name(name);
        reservations.insert(
            file.clone(),
            Reserved {
                uploader: uploader.clone(),
                name: name.clone(),
                content_type: crate::files::clean_type(content_type),
                size,
                secret: Sha256::digest(hex(&secret)).into(),
                until: now + RESERVATION_TTL,
                bytes: Bytes::Awaited,
            },
        );
        Ok(Reservation { file, secret: hex(&secret), name })
    }

    /// The upload of reserved file `file` by whoever holds its `secret`,
    /// once: `None` alike for no such reservation, a wrong secret, and
    /// bytes already sent or coming.
    pub async fn reserved_upload(
        &self,
        file: &str,
        secret: &str,
    ) -> Result<Option<ReservedUpload>, ServiceError> {
        let size = {
            let mut reservations = self.reservations().lock();
            let Some(reserved) = reservations.get_mut(file) else { return Ok(None) };
            let digest: [u8; 32] = Sha256::digest(secret).into();
            let matches = bool::from(reserved.secret.ct_eq(&digest));
            if !matches || !matches!(reserved.bytes, Bytes::Awaited) {
                return Ok(None);
            }
            reserved.bytes = Bytes::Coming;
            reserved.size
        };
        let upload = self.store().new_upload().await?;
        Ok(Some(ReservedUpload { file: file.to_owned(), upload, size }))
    }

    /// Keeps the bytes of a reserved file until its message names it:
    /// [`ServiceError::Invalid`] if fewer came than announced (the
    /// reservation is then spent).
    pub fn finish_reserved(&self, upload: ReservedUpload) -> Result<(), ServiceError> {
        let mut reservations = self.reservations().lock();
        if upload.upload.size() != upload.size {
            reservations.remove(&upload.file);
            return Err(ServiceError::Invalid(format!(
                "the slot was for {} bytes and {} came",
                upload.size,
                upload.upload.size()
            )));
        }
        match reservations.get_mut(&upload.file) {
            Some(reserved) => reserved.bytes = Bytes::Received(Box::new(upload.upload)),
            None => return Err(ServiceError::Invalid("the upload took too long".into())),
        }
        Ok(())
    }

    /// Sends reserved file `file` from its uploader `from` to `to`, once
    /// its bytes came: `None` if it is no such file of theirs (the
    /// door then sends the message as it is). `link` is as for
    /// [`Service::send_file`].
    pub async fn send_reserved(
        &self,
        from: &UserId,
        origin: Option<SessionId>,
        to: FileTarget,
        file: &str,
        link: &str,
    ) -> Result<Option<SentFile>, ServiceError> {
        let reserved = {
            let mut reservations = self.reservations().lock();
            let ready = reservations.get(file).is_some_and(|reserved| {
                reserved.uploader == *from && matches!(reserved.bytes, Bytes::Received(_))
            });
            if !ready {
                return Ok(None);
            }
            reservations.remove(file)
        };
        let Some(Reserved { name, content_type, bytes: Bytes::Received(upload), .. }) = reserved
        else {
            return Ok(None);
        };
        let conversation = self.file_conversation(from, to).await?;
        let upload = FileUpload::new(*upload, conversation, self.max_file_bytes());
        let kept = (file.to_owned(), name.as_str(), content_type.as_str());
        self.keep_and_send(from, origin, upload, kept, link).await.map(Some)
    }
}
