//! Tokens that verify but are no longer accepted. An LTPA token is a
//! signed statement with no server-side session behind it, so ending one
//! means remembering it until it expires: a logged-out token, or every
//! token of a user issued before a password change, a disabled account or
//! a removal. Rows carry a growing `seq`, so that a running server picks up
//! what the command line wrote.

use sqlx::{Row as _, Sqlite, Transaction};

use crate::{Store, StoreError};

/// One revocation, as [`Store::revocations_after`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// One token, identified by a digest of what makes it unique (see the
    /// web front door's token stamp), refused until it expires.
    Token {
        /// The digest, 32 bytes.
        digest: [u8; 32],
        /// Whose token it is.
        user: String,
        /// When the token expires (ms since the Unix epoch); the row is
        /// useless after that.
        expires_ms: i64,
    },
    /// Every token of `user` issued before `issued_before_ms`.
    User {
        /// The user's id, as the realm spells it.
        user: String,
        /// Tokens issued before this moment (ms since the Unix epoch) are refused.
        issued_before_ms: i64,
    },
}

/// Revocations written since a sequence number, and the highest one read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationBatch {
    /// What was revoked, oldest first.
    pub revocations: Vec<Revocation>,
    /// The sequence number to ask after next time.
    pub last_seq: i64,
}

impl Store {
    /// Refuses one token until it expires (a logout).
    pub async fn revoke_token(
        &self,
        digest: &[u8; 32],
        user: &str,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT OR REPLACE INTO revocations (kind, subject, user, at_ms) \
             VALUES ('token', $1, $2, $3)",
        )
        .bind(hex(digest))
        .bind(user)
        .bind(expires_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Revocations written after `seq` (0: all of them).
    pub async fn revocations_after(&self, seq: i64) -> Result<RevocationBatch, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, kind, subject, user, at_ms FROM revocations WHERE seq > $1 ORDER BY seq",
        )
        .bind(seq)
        .fetch_all(&self.pool)
        .await?;
        let mut batch = RevocationBatch { revocations: Vec::new(), last_seq: seq };
        for row in rows {
            batch.last_seq = row.try_get("seq")?;
            let subject: String = row.try_get("subject")?;
            let at_ms: i64 = row.try_get("at_ms")?;
            let revocation = match row.try_get::<&str, _>("kind")? {
                "token" => match unhex(&subject) {
                    Some(digest) => {
                        let user = row.try_get("user")?;
                        Revocation::Token { digest, user, expires_ms: at_ms }
                    }
                    None => {
                        return Err(StoreError::Damaged {
                            what: "token revocation",
                            owner: subject,
                            detail: "not 64 hex digits".into(),
                        });
                    }
                },
                _ => Revocation::User { user: subject, issued_before_ms: at_ms },
            };
            batch.revocations.push(revocation);
        }
        Ok(batch)
    }

    /// Forgets token revocations whose tokens expired before `before_ms`.
    pub async fn forget_expired_revocations(&self, before_ms: i64) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM revocations WHERE kind = 'token' AND at_ms < $1")
            .bind(before_ms)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }
}

/// Within a user change: every token of `user` issued until now is refused
/// from now on. The change and the revocation commit together.
pub(crate) async fn cut_off_tokens(
    transaction: &mut Transaction<'_, Sqlite>,
    user: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT OR REPLACE INTO revocations (kind, subject, at_ms) VALUES ('user', $1, $2)",
    )
    .bind(user)
    .bind(chrono::Utc::now().timestamp_millis())
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    let mut digest = [0u8; 32];
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    for (byte, pair) in digest.iter_mut().zip(text.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_round_trip_through_hex() {
        let digest: [u8; 32] = std::array::from_fn(|i| (i * 37) as u8);
        assert_eq!(unhex(&hex(&digest)), Some(digest));
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex(&"é".repeat(32)), None);
    }
}
