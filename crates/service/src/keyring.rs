//! The LTPA keys the server signs and verifies with, replaceable while it
//! runs: a key rotation or import takes effect without a restart and
//! without signing anyone out, because the previous key sets keep
//! verifying (as Liberty's validation keys do) while only the current one
//! signs.

use std::sync::{Arc, PoisonError, RwLock};

use ltpa::{LtpaKeys, Verifier};

/// The key sets in use at one moment.
pub struct KeySets {
    /// Signs every new token.
    pub signing: LtpaKeys,
    /// Verifies tokens with the signing keys first, then the previous ones.
    pub verifier: Verifier,
}

/// The current [`KeySets`], swapped whole so that a request sees either
/// the old or the new keys, never a mix.
pub struct Keyring {
    current: RwLock<Arc<KeySets>>,
}

impl Keyring {
    /// Signs with `signing`; verifies with it and with `previous`.
    pub fn new(signing: LtpaKeys, previous: Vec<LtpaKeys>) -> Self {
        Self { current: RwLock::new(Arc::new(KeySets::of(signing, previous))) }
    }

    /// The key sets in use now (held briefly: the lock is released at once).
    pub fn current(&self) -> Arc<KeySets> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Replaces every key set at once.
    pub fn replace(&self, signing: LtpaKeys, previous: Vec<LtpaKeys>) {
        let sets = Arc::new(KeySets::of(signing, previous));
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = sets;
    }
}

impl KeySets {
    fn of(signing: LtpaKeys, previous: Vec<LtpaKeys>) -> Self {
        let verifier = previous
            .into_iter()
            .fold(Verifier::new().with_keys(signing.clone()), Verifier::with_keys);
        Self { signing, verifier }
    }
}
