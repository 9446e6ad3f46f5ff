//! Where the web door serves files, and the links to a file that answer
//! without a sign-in, for clients that fetch files with a plain HTTP GET
//! (XMPP clients, after HTTP upload, XEP-0363).
//!
//! Such a link cannot carry a session, so it carries a capability: each
//! member of the file's conversation gets a link of their own, an HMAC of
//! the file and the member under a key of the deployment. The server
//! checks it against the conversation's members *now*, so a member who
//! leaves an n-way chat loses their links, and a link names nobody.

use hmac::{Hmac, Mac as _};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rand_core::{OsRng, RngCore as _};
use sha2::Sha256;
use simul_core::UserId;
use simul_store::{Store, StoreError};
use subtle::ConstantTimeEq as _;

/// How the web door's path of a file starts (members signed in to the
/// web door); the file's id follows, then for a link without a sign-in
/// `/{capability}/{name}`.
pub const FILES_PATH: &str = "/api/v1/files/";
/// How the web door's path of a reserved upload starts (HTTP PUT).
pub const UPLOADS_PATH: &str = "/api/v1/uploads/";
/// The store setting that keeps the key (hex), so that links outlive a
/// restart and come back with a backup.
const KEY_SETTING: &str = "file_link_key";
/// Bytes of HMAC a link carries: 128 bits cannot be guessed.
const CAPABILITY_BYTES: usize = 16;

/// The deployment's key for file links.
pub(crate) struct LinkKey([u8; 32]);

impl LinkKey {
    /// The key the store keeps, made at the first start.
    pub(crate) async fn load_or_create(store: &Store) -> Result<Self, StoreError> {
        if let Some(key) = store.setting(KEY_SETTING).await?.as_deref().and_then(from_hex) {
            return Ok(Self(key));
        }
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        store.set_setting(KEY_SETTING, &hex(&key)).await?;
        Ok(Self(key))
    }

    /// The capability of `user` for file `file`, in hex.
    pub(crate) fn capability(&self, file: &str, user: &UserId) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        // The NUL keeps ("ab", "c") and ("a", "bc") apart; ids hold none.
        mac.update(file.as_bytes());
        mac.update(&[0]);
        mac.update(user.as_str().as_bytes());
        hex(&mac.finalize().into_bytes()[..CAPABILITY_BYTES])
    }

    /// Whether `capability` is that of one of `readers` for `file`
    /// (every candidate compared in constant time).
    pub(crate) fn admits(&self, file: &str, capability: &str, readers: &[UserId]) -> bool {
        readers.iter().fold(false, |found, reader| {
            let expected = self.capability(file, reader);
            found | bool::from(expected.as_bytes().ct_eq(capability.as_bytes()))
        })
    }
}

/// The absolute URLs of the web door's files, for doors that hand them
/// out: `origin` is how people reach the web door
/// (`https://chat.example.com`, `[server] public_url`).
#[derive(Debug, Clone)]
pub struct FileUrls {
    origin: String,
}

impl FileUrls {
    /// The URLs under `origin` (a trailing `/` is dropped).
    pub fn new(origin: &str) -> Self {
        Self { origin: origin.trim_end_matches('/').to_owned() }
    }

    /// Where members signed in to the web door download files: the
    /// file's id follows.
    pub fn members(&self) -> String {
        format!("{}{FILES_PATH}", self.origin)
    }

    /// The link of file `file` named `name` for the holder of `capability`.
    pub fn with_capability(&self, file: &str, capability: &str, name: &str) -> String {
        format!("{}{FILES_PATH}{file}/{capability}/{}", self.origin, encoded(name))
    }

    /// Where the uploader of a reserved file sends its bytes (HTTP PUT).
    pub fn upload(&self, file: &str, secret: &str, name: &str) -> String {
        format!("{}{UPLOADS_PATH}{file}/{secret}/{}", self.origin, encoded(name))
    }

    /// The file a link of [`Self::with_capability`]'s names, if `text` is
    /// one such link and nothing else (spaces around it aside).
    pub fn file_of<'a>(&self, text: &'a str) -> Option<&'a str> {
        let rest = text.trim().strip_prefix(&self.origin)?.strip_prefix(FILES_PATH)?;
        let mut parts = rest.split('/');
        let (file, _capability, _name) = (parts.next()?, parts.next()?, parts.next()?);
        let plain = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_hexdigit());
        (plain(file) && parts.next().is_none() && !rest.contains(char::is_whitespace))
            .then_some(file)
    }
}

/// What a file name keeps in a path segment: RFC 3986's unreserved
/// characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A file name as one path segment.
fn encoded(name: &str) -> String {
    utf8_percent_encode(name, UNRESERVED).to_string()
}

/// Bytes in lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<[u8; 32]> {
    let mut key = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (byte, pair) in key.iter_mut().zip(text.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_names_its_file_and_nothing_else_does() {
        let urls = FileUrls::new("https://chat.example.com/");
        let link = urls.with_capability("ab12", "cd34", "a b/ü.png");
        assert_eq!(link, "https://chat.example.com/api/v1/files/ab12/cd34/a%20b%2F%C3%BC.png");
        assert_eq!(urls.file_of(&format!(" {link}\n")), Some("ab12"));
        assert_eq!(urls.file_of(&format!("see {link}")), None);
        assert_eq!(urls.file_of(&format!("{link} and more")), None);
        assert_eq!(urls.file_of("https://chat.example.com/api/v1/files/ab12"), None);
        assert_eq!(urls.file_of("https://evil.example/api/v1/files/ab12/cd34/x"), None);
        assert_eq!(urls.file_of("https://chat.example.com/api/v1/files/../cd34/x"), None);
        assert_eq!(urls.file_of(&format!("{link}/more")), None);
    }

    #[test]
    fn capabilities_differ_by_file_and_by_user_and_admit_only_readers() {
        let key = LinkKey([7; 32]);
        let (alice, bob) = (UserId::new("alice"), UserId::new("bob"));
        let of_alice = key.capability("f1", &alice);
        assert_eq!(of_alice.len(), 32);
        assert_ne!(of_alice, key.capability("f1", &bob));
        assert_ne!(of_alice, key.capability("f2", &alice));
        assert!(key.admits("f1", &of_alice, &[bob.clone(), alice.clone()]));
        assert!(!key.admits("f1", &of_alice, std::slice::from_ref(&bob)));
        assert!(!key.admits("f2", &of_alice, &[alice]));
    }

    #[test]
    fn the_kept_key_reads_back() {
        assert_eq!(from_hex(&hex(&[0xa5; 32])), Some([0xa5; 32]));
        assert_eq!(from_hex("zz"), None);
        assert_eq!(from_hex(&"g".repeat(64)), None);
    }
}
