//! Ending tokens. An LTPA token is valid until it expires wherever the
//! keys are known, so Simul remembers the ones it must refuse although
//! they verify: a token that was logged out, and every token of a user
//! issued before their password changed or their account was disabled or
//! removed. The store keeps the list (`simul user` writes to it too); this
//! index answers from memory and catches up with the store every second.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use ltpa::Identity;
use sha2::{Digest, Sha256};
use simul_store::{Revocation, RevocationBatch, Store, StoreError};
use tokio::sync::watch;

/// What identifies one token, whatever its spelling (quoted, URL-encoded,
/// with or without Base64 padding: the same token can be sent as several
/// texts, so its text cannot be what is revoked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenStamp {
    /// A digest of the user as the token names them and its expiry: the
    /// LtpaToken2 and LtpaToken of one login share it, so logging out
    /// ends both.
    digest: [u8; 32],
    /// The user, as the realm spells them.
    pub(crate) user: String,
    /// When the token was issued (ms since the Unix epoch): Domino tokens
    /// say so; WebSphere tokens only carry their expiry, so this is the
    /// expiry less the configured lifetime (`sso.expiration_minutes`).
    issued_ms: i64,
    /// When it expires.
    pub(crate) expires_ms: i64,
}

impl TokenStamp {
    /// The stamp of a verified token of `user` (the realm's spelling).
    pub(crate) fn of(identity: &Identity, user: &str, lifetime_ms: i64) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(identity.user.as_bytes());
        hasher.update([0]);
        hasher.update(identity.expires_ms.to_be_bytes());
        Self {
            digest: hasher.finalize().into(),
            user: user.to_owned(),
            issued_ms: identity.created_ms.unwrap_or(identity.expires_ms - lifetime_ms),
            expires_ms: identity.expires_ms,
        }
    }
}

#[derive(Default)]
struct Index {
    tokens: HashSet<[u8; 32]>,
    /// Tokens of these users issued before these moments are refused.
    cutoffs: HashMap<String, i64>,
    /// The store's last revocation read.
    last_seq: i64,
}

impl Index {
    fn apply(&mut self, batch: RevocationBatch) {
        self.last_seq = batch.last_seq;
        for revocation in batch.revocations {
            match revocation {
                Revocation::Token { digest, .. } => {
                    self.tokens.insert(digest);
                }
                Revocation::User { user, issued_before_ms } => {
                    let cutoff = self.cutoffs.entry(user).or_insert(issued_before_ms);
                    *cutoff = (*cutoff).max(issued_before_ms);
                }
            }
        }
    }
}

/// The revocations, in memory, kept in step with the store.
pub(crate) struct Revocations {
    store: Store,
    index: RwLock<Index>,
    /// Counts the changes, so that open sessions check their token again.
    changes: watch::Sender<u64>,
}

impl Revocations {
    /// Loads every revocation from the store.
    pub(crate) async fn load(store: Store) -> Result<Self, StoreError> {
        let revocations =
            Self { store, index: RwLock::new(Index::default()), changes: watch::Sender::new(0) };
        revocations.catch_up().await?;
        Ok(revocations)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        // The index is plain sets; a panic elsewhere leaves them usable.
        self.index.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether a token with this stamp is still accepted.
    pub(crate) fn accepts(&self, stamp: &TokenStamp) -> bool {
        let index = self.read();
        !index.tokens.contains(&stamp.digest)
            && index.cutoffs.get(&stamp.user).is_none_or(|cutoff| stamp.issued_ms >= *cutoff)
    }

    /// Ends one token (a logout) until it expires.
    pub(crate) async fn revoke(&self, stamp: &TokenStamp) -> Result<(), StoreError> {
        self.store.revoke_token(&stamp.digest, stamp.expires_ms).await?;
        self.catch_up().await
    }

    /// Reads what was revoked since the last look (by this server or by
    /// `simul user`); sessions are told when anything was.
    pub(crate) async fn catch_up(&self) -> Result<(), StoreError> {
        let last_seq = self.read().last_seq;
        let batch = self.store.revocations_after(last_seq).await?;
        if batch.revocations.is_empty() {
            return Ok(());
        }
        {
            let mut index = self.index.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            // Two catch-ups may overlap; the later batch wins.
            if batch.last_seq <= index.last_seq {
                return Ok(());
            }
            index.apply(batch);
        }
        self.changes.send_modify(|n| *n += 1);
        Ok(())
    }

    /// Forgets logged-out tokens that have expired anyway (`skew_ms`
    /// after, as tokens are accepted that much past their expiry).
    pub(crate) async fn forget_expired(&self, now_ms: i64, skew_ms: i64) -> Result<(), StoreError> {
        if self.store.forget_expired_revocations(now_ms - skew_ms).await? > 0 {
            // Rebuild from the store: the index does not keep expiries.
            let mut index = Index::default();
            index.apply(self.store.revocations_after(0).await?);
            *self.index.write().unwrap_or_else(std::sync::PoisonError::into_inner) = index;
        }
        Ok(())
    }

    /// Changes whenever something was revoked: open sessions check their
    /// token again then.
    pub(crate) fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }
}
