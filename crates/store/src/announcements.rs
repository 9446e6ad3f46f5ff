//! Administrators' announcements: written by the console or `simul
//! announce` (another process), taken once by the running server.

use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;

use crate::{Store, StoreError};

/// To whom an announcement goes (of those online when it is shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Everyone online.
    Everyone,
    /// The members of a directory group (its DN).
    Group(String),
    /// These users (the realm's ids).
    Users(Vec<String>),
}

impl Audience {
    /// The stored kind and list.
    fn columns(&self) -> (&'static str, String) {
        match self {
            Self::Everyone => ("everyone", String::new()),
            Self::Group(dn) => ("group", dn.clone()),
            Self::Users(users) => ("users", users.join("\n")),
        }
    }

    fn from_columns(kind: &str, audience: String) -> Result<Self, StoreError> {
        Ok(match kind {
            "everyone" => Self::Everyone,
            "group" => Self::Group(audience),
            "users" => Self::Users(audience.lines().map(str::to_owned).collect()),
            other => {
                return Err(StoreError::Damaged {
                    what: "announcement",
                    owner: other.to_owned(),
                    detail: "unknown audience kind".into(),
                });
            }
        })
    }
}

/// One announcement as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// Its number, in the order written.
    pub seq: i64,
    /// When it was written (ms since the Unix epoch).
    pub at_ms: i64,
    /// Who sent it, as the audit log names them.
    pub sender: String,
    /// To whom.
    pub audience: Audience,
    /// The text.
    pub text: String,
    /// How many people saw it, once the server showed it.
    pub reached: Option<i64>,
}

fn announcement(row: &SqliteRow) -> Result<Announcement, StoreError> {
    let kind: String = row.try_get("audience_kind")?;
    Ok(Announcement {
        seq: row.try_get("seq")?,
        at_ms: row.try_get("at_ms")?,
        sender: row.try_get("sender")?,
        audience: Audience::from_columns(&kind, row.try_get("audience")?)?,
        text: row.try_get("text")?,
        reached: row.try_get("reached")?,
    })
}

impl Store {
    /// Keeps an announcement for the server to show; its number.
    pub async fn add_announcement(
        &self,
        at_ms: i64,
        sender: &str,
        audience: &Audience,
        text: &str,
    ) -> Result<i64, StoreError> {
        let (kind, list) = audience.columns();
        let row = sqlx::query(
            "INSERT INTO announcements (at_ms, sender, audience_kind, audience, text) \
             VALUES ($1, $2, $3, $4, $5) RETURNING seq",
        )
        .bind(at_ms)
        .bind(sender)
        .bind(kind)
        .bind(list)
        .bind(text)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("seq")?)
    }

    /// Takes the announcements nobody took yet, oldest first: each is
    /// handed out once, whoever asks (the console's server, its loop).
    pub async fn take_announcements(&self, now_ms: i64) -> Result<Vec<Announcement>, StoreError> {
        let rows = sqlx::query(
            "UPDATE announcements SET taken_ms = $1 WHERE taken_ms IS NULL \
             RETURNING seq, at_ms, sender, audience_kind, audience, text, reached",
        )
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await?;
        let mut taken = rows.iter().map(announcement).collect::<Result<Vec<_>, _>>()?;
        taken.sort_by_key(|announcement| announcement.seq);
        Ok(taken)
    }

    /// Notes how many people an announcement reached.
    pub async fn set_announcement_reached(&self, seq: i64, reached: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE announcements SET reached = $2 WHERE seq = $1")
            .bind(seq)
            .bind(reached)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The latest `limit` announcements, newest first.
    pub async fn recent_announcements(&self, limit: u32) -> Result<Vec<Announcement>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at_ms, sender, audience_kind, audience, text, reached \
             FROM announcements ORDER BY seq DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(announcement).collect()
    }
}
