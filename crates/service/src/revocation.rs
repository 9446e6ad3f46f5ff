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

/// What identifies one token, whatever its spelling (quoted, URL-encoded,
/// with or without Base64 padding: the same token can be sent as several
/// texts, so its text cannot be what is revoked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenStamp {
    /// A digest of the user as the token names them and its expiry: the
    /// LtpaToken2 and LtpaToken of one login share it, so logging out
    /// ends both.
    digest: [u8; 32],
    /// The user, as the realm spells them.
    pub user: String,
    /// When the token was issued (ms since the Unix epoch): Domino tokens
    /// say so; WebSphere tokens only carry their expiry, so this is the
    /// expiry less the configured lifetime (`sso.expiration_minutes`).
    issued_ms: i64,
    /// When it expires.
    pub expires_ms: i64,
}

impl TokenStamp {
    /// The stamp of a verified token of `user` (the realm's spelling).
    pub fn of(identity: &Identity, user: &str, lifetime_ms: i64) -> Self {
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
    /// Takes in a batch; whose tokens it concerns.
    fn apply(&mut self, batch: RevocationBatch) -> HashSet<String> {
        self.last_seq = batch.last_seq;
        let mut concerned = HashSet::new();
        for revocation in batch.revocations {
            match revocation {
                Revocation::Token { digest, user, .. } => {
                    self.tokens.insert(digest);
                    concerned.insert(user);
                }
                Revocation::User { user, issued_before_ms } => {
                    let cutoff = self.cutoffs.entry(user.clone()).or_insert(issued_before_ms);
                    *cutoff = (*cutoff).max(issued_before_ms);
                    concerned.insert(user);
                }
            }
        }
        concerned
    }
}

/// The revocations, in memory, kept in step with the store.
pub struct Revocations {
    store: Store,
    index: RwLock<Index>,
}

impl Revocations {
    /// Loads every revocation from the store.
    pub async fn load(store: Store) -> Result<Self, StoreError> {
        let revocations = Self { store, index: RwLock::new(Index::default()) };
        revocations.catch_up().await?;
        Ok(revocations)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        // The index is plain sets; a panic elsewhere leaves them usable.
        self.index.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether a token with this stamp is still accepted.
    pub fn accepts(&self, stamp: &TokenStamp) -> bool {
        let index = self.read();
        !index.tokens.contains(&stamp.digest)
            && index.cutoffs.get(&stamp.user).is_none_or(|cutoff| stamp.issued_ms >= *cutoff)
    }

    /// Ends one token (a logout) until it expires; the users whose tokens
    /// were revoked since the last look (as [`Revocations::catch_up`]).
    pub async fn revoke(&self, stamp: &TokenStamp) -> Result<HashSet<String>, StoreError> {
        self.store.revoke_token(&stamp.digest, &stamp.user, stamp.expires_ms).await?;
        self.catch_up().await
    }

    /// Reads what was revoked since the last look (by this server or by
    /// `simul user`): the users it concerns, whose sessions are to be
    /// told.
    pub async fn catch_up(&self) -> Result<HashSet<String>, StoreError> {
        let last_seq = self.read().last_seq;
        let batch = self.store.revocations_after(last_seq).await?;
        if batch.revocations.is_empty() {
            return Ok(HashSet::new());
        }
        let mut index = self.index.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Two catch-ups may overlap; the later batch wins.
        if batch.last_seq <= index.last_seq {
            return Ok(HashSet::new());
        }
        Ok(index.apply(batch))
    }

    /// Forgets logged-out tokens that have expired anyway (`skew_ms`
    /// after, as tokens are accepted that much past their expiry).
    pub async fn forget_expired(&self, now_ms: i64, skew_ms: i64) -> Result<(), StoreError> {
        if self.store.forget_expired_revocations(now_ms - skew_ms).await? > 0 {
            // Rebuild from the store: the index does not keep expiries.
            let mut index = Index::default();
            // Nothing new is revoked here: nobody needs telling.
            index.apply(self.store.revocations_after(0).await?);
            *self.index.write().unwrap_or_else(std::sync::PoisonError::into_inner) = index;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(user: &str, expires_ms: i64, lifetime_ms: i64) -> TokenStamp {
        let identity = Identity {
            format: ltpa::TokenFormat::Ltpa2,
            user: user.to_owned(),
            realm: None,
            access_id: None,
            expires_ms,
            created_ms: None,
            attributes: Default::default(),
        };
        TokenStamp::of(&identity, user, lifetime_ms)
    }

    #[tokio::test]
    async fn a_logout_ends_that_token_and_concerns_only_its_user() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("simul.db")).await.unwrap();
        let revocations = Revocations::load(store).await.unwrap();
        let (alice, other_alice, carol) = (
            stamp("alice", 10_000, 1_000),
            stamp("alice", 20_000, 1_000),
            stamp("carol", 10_000, 1_000),
        );
        let concerned = revocations.revoke(&alice).await.unwrap();
        assert!(!revocations.accepts(&alice));
        assert!(revocations.accepts(&other_alice), "her other sign-ins go on");
        assert!(revocations.accepts(&carol));
        // Alice's sessions check again; carol's sleep on.
        assert_eq!(concerned, HashSet::from(["alice".to_owned()]));
        assert!(revocations.catch_up().await.unwrap().is_empty(), "told once");
    }
}
