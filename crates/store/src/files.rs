//! Files sent in conversations: the bytes under the data directory,
//! content-addressed (`files/ab/cdef…`, the SHA-256 in hex), so a file
//! sent twice is kept once and a name on disk never comes from a user;
//! a row per sending in the `files` table says who sent it where.
//!
//! An [`Upload`] is written into `files/tmp/` (mode 0600) while it
//! arrives and hashed on the way; [`Store::keep_file`] renames it into
//! place, so a half-received file is never where a download looks.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row as _, Sqlite};
use tokio::io::AsyncWriteExt as _;

use crate::paging::sql_id;
use crate::{Store, StoreError};

/// The directory under the data directory that holds the files.
pub const FILES_DIR: &str = "files";
/// Where uploads wait while they arrive (emptied at every open).
const UPLOADS_DIR: &str = "tmp";

/// One file as sent in a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    /// Its id: the link names it.
    pub id: String,
    /// The SHA-256 of its bytes, lower-case hex: where they are.
    pub sha256: String,
    /// The name the sender gave it.
    pub name: String,
    /// The media type the sender declared.
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// Who sent it.
    pub uploader: String,
    /// Where (`im:<recipient>` or `nway:<chat id>`).
    pub conversation: String,
    /// The message that carries it, once accepted.
    pub message: Option<u64>,
    /// When it was kept.
    pub at: DateTime<Utc>,
}

/// A file being received: written to a temporary file of the store's
/// (removed if the upload is dropped) and hashed as it comes.
#[derive(Debug)]
pub struct Upload {
    temp: tempfile::TempPath,
    file: tokio::fs::File,
    hasher: Sha256,
    size: u64,
}

impl Upload {
    /// Appends a piece of the file.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.file.write_all(bytes).await.map_err(io)?;
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
        Ok(())
    }

    /// The bytes received so far.
    pub fn size(&self) -> u64 {
        self.size
    }
}

/// The columns of a file, in [`file_record`]'s terms.
macro_rules! columns {
    () => {
        "id, sha256, name, content_type, size, uploader, conversation, message, at"
    };
}

fn file_record(row: &SqliteRow) -> Result<FileRecord, sqlx::Error> {
    Ok(FileRecord {
        id: row.try_get("id")?,
        sha256: row.try_get("sha256")?,
        name: row.try_get("name")?,
        content_type: row.try_get("content_type")?,
        size: row.try_get::<i64, _>("size")?.unsigned_abs(),
        uploader: row.try_get("uploader")?,
        conversation: row.try_get("conversation")?,
        message: row.try_get::<Option<i64>, _>("message")?.map(i64::unsigned_abs),
        at: row.try_get("at")?,
    })
}

impl Store {
    /// Starts receiving a file.
    pub async fn new_upload(&self) -> Result<Upload, StoreError> {
        let dir = self.files_dir.join(UPLOADS_DIR);
        private_dirs(&dir)?;
        // tempfile creates the file with mode 0600 on Unix; the hidden
        // name keeps it out of backups.
        let temp = tempfile::Builder::new().prefix(".upload-").tempfile_in(&dir).map_err(io)?;
        let file = tokio::fs::File::from_std(temp.as_file().try_clone().map_err(io)?);
        Ok(Upload { temp: temp.into_temp_path(), file, hasher: Sha256::new(), size: 0 })
    }

    /// Keeps a received file: its bytes are flushed to disk and moved to
    /// their content address, and `record` (whose `sha256` and `size` are
    /// the upload's, and whose message is not known yet) is stored.
    pub async fn keep_file(
        &self,
        mut upload: Upload,
        record: FileRecord,
    ) -> Result<FileRecord, StoreError> {
        upload.file.flush().await.map_err(io)?;
        upload.file.sync_all().await.map_err(io)?;
        let sha256 = format!("{:x}", upload.hasher.finalize());
        let record = FileRecord { sha256, size: upload.size, message: None, ..record };
        let path = self.file_path(&record);
        private_dirs(path.parent().unwrap_or(&self.files_dir))?;
        let _keeping = self.files_lock.lock().await;
        // Same bytes at the same name: replacing a copy kept before is
        // harmless, and the rename is atomic.
        upload.temp.persist(&path).map_err(|error| io(error.error))?;
        const INSERT: &str = concat!(
            "INSERT INTO files (",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8)"
        );
        sqlx::query(INSERT)
            .bind(&record.id)
            .bind(&record.sha256)
            .bind(&record.name)
            .bind(&record.content_type)
            .bind(sql_id(record.size))
            .bind(&record.uploader)
            .bind(&record.conversation)
            .bind(record.at)
            .execute(&self.pool)
            .await?;
        Ok(record)
    }

    /// Records the message that carries file `id`.
    pub async fn set_file_message(&self, id: &str, message: u64) -> Result<(), StoreError> {
        sqlx::query("UPDATE files SET message = $1 WHERE id = $2")
            .bind(sql_id(message))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forgets a sending whose message was refused, and its bytes unless
    /// another sending shares them.
    pub async fn forget_file(&self, id: &str) -> Result<(), StoreError> {
        let sha256: Option<String> =
            sqlx::query_scalar("DELETE FROM files WHERE id = $1 RETURNING sha256")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        self.remove_unshared(sha256.into_iter().collect()).await
    }

    /// Removes the bytes of these contents that no sending has any more
    /// (under the lock [`Store::keep_file`] takes, so that bytes a sending
    /// just kept stay).
    pub(crate) async fn remove_unshared(&self, contents: Vec<String>) -> Result<(), StoreError> {
        let _removing = self.files_lock.lock().await;
        for sha256 in contents {
            let shared: Option<i64> =
                sqlx::query_scalar("SELECT 1 FROM files WHERE sha256 = $1 LIMIT 1")
                    .bind(&sha256)
                    .fetch_optional(&self.pool)
                    .await?;
            if shared.is_none() {
                let path = self.content_path(&sha256);
                match std::fs::remove_file(&path) {
                    Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                        tracing::warn!(%error, path = %path.display(), "a file's bytes stay");
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Removes the bytes no sending has (a server stopped between keeping
    /// them and recording the sending; or kept before bytes went with
    /// their last sending): how many. For the server at its start only,
    /// while nothing is being sent.
    pub async fn sweep_unshared_files(&self) -> Result<usize, StoreError> {
        let kept: std::collections::HashSet<String> =
            sqlx::query_scalar("SELECT DISTINCT sha256 FROM files")
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .collect();
        let mut unshared = Vec::new();
        let Ok(dirs) = std::fs::read_dir(&self.files_dir) else { return Ok(0) };
        for dir in dirs.flatten() {
            let prefix = dir.file_name().to_string_lossy().into_owned();
            if prefix.len() != 2 || !dir.path().is_dir() {
                continue;
            }
            for file in std::fs::read_dir(dir.path()).map_err(io)?.flatten() {
                let sha256 = format!("{prefix}{}", file.file_name().to_string_lossy());
                if !kept.contains(&sha256) {
                    unshared.push(sha256);
                }
            }
        }
        let count = unshared.len();
        self.remove_unshared(unshared).await?;
        Ok(count)
    }

    /// The file of this id, if any.
    pub async fn file(&self, id: &str) -> Result<Option<FileRecord>, StoreError> {
        let row = sqlx::query(concat!("SELECT ", columns!(), " FROM files WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(file_record).transpose()?)
    }

    /// The files these messages carry.
    pub async fn files_of_messages(&self, messages: &[u64]) -> Result<Vec<FileRecord>, StoreError> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Sqlite>::new(concat!(
            "SELECT ",
            columns!(),
            " FROM files WHERE message IN ("
        ));
        let mut ids = query.separated(", ");
        for id in messages {
            ids.push_bind(sql_id(*id));
        }
        query.push(")");
        let rows = query.build().fetch_all(&self.pool).await?;
        Ok(rows.iter().map(file_record).collect::<Result<_, _>>()?)
    }

    /// Where the bytes of a kept file are: `files/ab/cdef…` under the
    /// data directory, from the stored hash alone.
    pub fn file_path(&self, file: &FileRecord) -> PathBuf {
        self.content_path(&file.sha256)
    }

    fn content_path(&self, sha256: &str) -> PathBuf {
        let (dir, name) = sha256.split_at(2.min(sha256.len()));
        self.files_dir.join(dir).join(name)
    }
}

/// Empties the uploads directory: what is there was being received when
/// the server stopped.
pub(crate) fn clear_uploads(files_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(files_dir.join(UPLOADS_DIR)) else { return };
    for entry in entries.flatten() {
        let _ = std::fs::remove_file(entry.path());
    }
}

/// Creates `dir` and its missing parents, readable by the owner only.
fn private_dirs(dir: &Path) -> Result<(), StoreError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io)
}

fn io(error: std::io::Error) -> StoreError {
    StoreError::Database(sqlx::Error::Io(error))
}
