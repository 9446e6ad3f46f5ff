//! LtpaToken2 tokens minted with a deployment's own keys, so that sessions
//! need no password login (and the users need not exist in the store).

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use ltpa::{AccessId, KeyFile, Password, UserData, ltpa2};

/// How long minted tokens stay valid: longer than any run.
const LIFETIME_MS: i64 = 4 * 60 * 60 * 1000;

/// Mints tokens with the keys of a data directory.
pub struct Minter {
    keys: KeyFile,
    expires_ms: i64,
}

impl Minter {
    /// Reads `ltpa.keys` with its at-rest password `ltpa.password` from a
    /// data directory that `simul serve` has set up.
    pub fn from_data_dir(data: &Path) -> anyhow::Result<Self> {
        let password_path = data.join("ltpa.password");
        let password = std::fs::read_to_string(&password_path)
            .with_context(|| format!("cannot read {}", password_path.display()))?;
        let keys = KeyFile::read(&data.join("ltpa.keys"), &Password::new(password.trim_end()))?;
        let now_ms = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis())?;
        Ok(Self { keys, expires_ms: now_ms + LIFETIME_MS })
    }

    /// An LtpaToken2 for `user` in the key file's realm
    /// (`u:user\:REALM/USER`), as a login to that deployment would make.
    pub fn mint(&self, user: &str) -> String {
        let access_id = AccessId::user(&self.keys.realm, user);
        ltpa2::create(&self.keys.keys, &UserData::for_user(&access_id), self.expires_ms)
    }

    /// Tokens for many users, on every core (an RSA signature each, about
    /// half a millisecond).
    pub fn mint_all(&self, users: &[String]) -> Vec<String> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = users.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let handles: Vec<_> = users
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || part.iter().map(|u| self.mint(u)).collect::<Vec<_>>())
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("minting does not panic")).collect()
        })
    }
}

/// The bench's user names: `bench-000000`, `bench-000001`, …
pub fn user_names(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("bench-{i:06}")).collect()
}
