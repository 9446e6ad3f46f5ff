//! WebSphere/Liberty `ltpa.keys` files: import with a password, export with
//! a password, and generate new ones.
//!
//! The file is a Java properties file (see [`crate::properties`]) whose
//! key properties are protected by the export password as described in
//! [`crate::Password`]. A file exported by WebSphere's "Cross-cell single
//! sign-on" page, by Liberty or by Sametime's System Console imports here,
//! and a file written here imports there: importing and exporting again
//! with the same password reproduces the key properties byte for byte.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

use crate::encoding;
use crate::keys::{KeyMaterialError, LtpaKeys, SHARED_KEY_LEN, decode_base64, decode_key_pair};
use crate::password::Password;
use crate::properties;
use crate::secret_file::{self, Overwrite};

/// Property holding the encrypted shared key.
pub const SHARED_KEY_PROPERTY: &str = "com.ibm.websphere.ltpa.3DESKey";
/// Property holding the encrypted private key.
pub const PRIVATE_KEY_PROPERTY: &str = "com.ibm.websphere.ltpa.PrivateKey";
/// Property holding the public key (not encrypted).
pub const PUBLIC_KEY_PROPERTY: &str = "com.ibm.websphere.ltpa.PublicKey";
/// Property holding the user registry realm.
pub const REALM_PROPERTY: &str = "com.ibm.websphere.ltpa.Realm";
/// Property holding the key format version (`1.0`).
pub const VERSION_PROPERTY: &str = "com.ibm.websphere.ltpa.version";
/// Property holding the creation date (Java `Date.toString()` text).
pub const CREATION_DATE_PROPERTY: &str = "com.ibm.websphere.CreationDate";
/// Property holding the name of the host that created the keys.
pub const CREATION_HOST_PROPERTY: &str = "com.ibm.websphere.CreationHost";
/// Property Liberty writes instead of the 3DES key in FIPS 140-3 mode.
const FIPS_SHARED_KEY_PROPERTY: &str = "com.ibm.websphere.ltpa.SharedKey";

const HEADER_COMMENT: &str = "IBM WebSphere Application Server key file";

/// A decrypted key file: the keys and every property WebSphere writes.
#[derive(Debug, Clone)]
pub struct KeyFile {
    /// The shared key and RSA key pair.
    pub keys: LtpaKeys,
    /// The registry realm the keys were exported for (Domino uses it as
    /// the "LDAP Realm" of imported keys; Liberty ignores it).
    pub realm: String,
    /// Key format version; `1.0` for every interoperable file.
    pub version: String,
    /// Creation date as WebSphere wrote it (`Thu Jan 23 10:18:32 CET 2020`).
    pub creation_date: String,
    /// Host that created the keys.
    pub creation_host: String,
    /// Properties this crate does not interpret, kept and written back.
    pub other_properties: Vec<(String, String)>,
}

/// Why a key file could not be read or written. Every variant names the
/// file; the ones about content name the property.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file could not be read or written.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The output exists and overwriting was not requested.
    #[error("{file} already exists; choose another file or pass --force to replace it")]
    Exists {
        /// The file.
        file: PathBuf,
    },
    /// The file is not a properties file.
    #[error("{file}: not a key file: {error}")]
    Syntax {
        /// The file.
        file: PathBuf,
        /// Where the syntax is broken.
        error: properties::SyntaxError,
    },
    /// A required property is absent.
    #[error(
        "{file}: property {property} is missing; export the keys again from the server that made them"
    )]
    MissingProperty {
        /// The file.
        file: PathBuf,
        /// The missing property.
        property: &'static str,
    },
    /// A key property is not valid Base64.
    #[error(
        "{file}: property {property} is not valid Base64; the file was damaged (copy it again in binary mode)"
    )]
    CorruptBase64 {
        /// The file.
        file: PathBuf,
        /// The damaged property.
        property: &'static str,
    },
    /// A key property is shorter than its format requires.
    #[error("{file}: property {property} is truncated ({detail}); copy the whole file again")]
    Truncated {
        /// The file.
        file: PathBuf,
        /// The damaged property.
        property: &'static str,
        /// What is short.
        detail: String,
    },
    /// The password does not decrypt the keys.
    #[error(
        "{file}: wrong password: the keys do not decrypt with it; use the password given when the keys were exported"
    )]
    WrongPassword {
        /// The file.
        file: PathBuf,
    },
    /// The password is right but a key is damaged.
    #[error("{file}: property {property} is corrupt: {detail}")]
    Corrupt {
        /// The file.
        file: PathBuf,
        /// The damaged property.
        property: &'static str,
        /// What is inconsistent.
        detail: String,
    },
    /// A valid file in a variant that cannot interoperate.
    #[error("{file}: {detail}")]
    Unsupported {
        /// The file.
        file: PathBuf,
        /// Which variant and what to do instead.
        detail: String,
    },
}

impl KeyFile {
    /// A new key set for `realm`, created now on `host`.
    pub fn generate(realm: &str, host: &str) -> Self {
        Self {
            keys: LtpaKeys::generate(),
            realm: realm.to_owned(),
            version: "1.0".to_owned(),
            creation_date: java_date(Utc::now()),
            creation_host: host.to_owned(),
            other_properties: Vec::new(),
        }
    }

    /// Reads and decrypts the key file at `path`.
    pub fn read(path: &Path, password: &Password) -> Result<Self, KeyFileError> {
        let bytes = std::fs::read(path)
            .map_err(|source| KeyFileError::Io { file: path.to_owned(), source })?;
        Self::parse(&bytes, password, path)
    }

    /// Decrypts key-file contents; `file` only names the source in errors.
    pub fn parse(bytes: &[u8], password: &Password, file: &Path) -> Result<Self, KeyFileError> {
        let file = file.to_owned();
        let entries = properties::parse(bytes)
            .map_err(|error| KeyFileError::Syntax { file: file.clone(), error })?;
        if properties::get(&entries, FIPS_SHARED_KEY_PROPERTY).is_some() {
            return Err(KeyFileError::Unsupported {
                file,
                detail: "this is a Liberty FIPS 140-3 key file (SharedKey, AES-256, RSA-2048); \
                         WebSphere and Domino cannot use it. Export keys from a server \
                         running without FIPS 140-3 mode"
                    .into(),
            });
        }
        let reader = Reader {
            file: &file,
            entries: &entries,
            ends_mid_line: !bytes.is_empty() && !bytes.ends_with(b"\n"),
        };
        let shared = reader.encrypted(SHARED_KEY_PROPERTY)?;
        let private = reader.encrypted(PRIVATE_KEY_PROPERTY)?;
        let public = reader.public_key()?;
        let keys = reader.decrypt(password, &shared, &private, &public)?;
        let text = |property| reader.text(property).map(str::to_owned);
        let known = [
            SHARED_KEY_PROPERTY,
            PRIVATE_KEY_PROPERTY,
            PUBLIC_KEY_PROPERTY,
            REALM_PROPERTY,
            VERSION_PROPERTY,
            CREATION_DATE_PROPERTY,
            CREATION_HOST_PROPERTY,
        ];
        let mut other_properties: Vec<(String, String)> = Vec::new();
        for (key, value) in &entries {
            if !known.contains(&key.as_str()) {
                other_properties.retain(|(k, _)| k != key);
                other_properties.push((key.clone(), value.clone()));
            }
        }
        Ok(Self {
            keys,
            realm: text(REALM_PROPERTY)?,
            version: text(VERSION_PROPERTY)?,
            creation_date: reader.optional(CREATION_DATE_PROPERTY),
            creation_host: reader.optional(CREATION_HOST_PROPERTY),
            other_properties,
        })
    }

    /// The file's contents protected with `password`, in the layout
    /// WebSphere's export writes (header comment, then the properties).
    pub fn to_bytes(&self, password: &Password) -> Zeroizing<Vec<u8>> {
        let shared = encoding::encode(&password.encrypt(self.keys.shared()));
        let private = encoding::encode(&password.encrypt(&self.keys.private_plain()));
        let public = encoding::encode(&self.keys.public_bytes());
        let mut entries = vec![
            (CREATION_DATE_PROPERTY.to_owned(), self.creation_date.clone()),
            (VERSION_PROPERTY.to_owned(), self.version.clone()),
            (SHARED_KEY_PROPERTY.to_owned(), shared),
            (CREATION_HOST_PROPERTY.to_owned(), self.creation_host.clone()),
            (PRIVATE_KEY_PROPERTY.to_owned(), private),
            (REALM_PROPERTY.to_owned(), self.realm.clone()),
            (PUBLIC_KEY_PROPERTY.to_owned(), public),
        ];
        entries.extend(self.other_properties.iter().cloned());
        let stamp = java_date(Utc::now());
        Zeroizing::new(properties::store(&[HEADER_COMMENT, &stamp], &entries).into_bytes())
    }

    /// Writes the file protected with `password`: atomically (temporary
    /// file, then rename) and readable by the owner only.
    pub fn write(
        &self,
        path: &Path,
        password: &Password,
        overwrite: Overwrite,
    ) -> Result<(), KeyFileError> {
        secret_file::write(path, &self.to_bytes(password), overwrite).map_err(|error| match error {
            secret_file::WriteError::Exists => KeyFileError::Exists { file: path.to_owned() },
            secret_file::WriteError::Io(source) => {
                KeyFileError::Io { file: path.to_owned(), source }
            }
        })
    }
}

/// Java's `Date.toString()` (`EEE MMM dd HH:mm:ss zzz yyyy`) in UTC.
pub fn java_date(at: DateTime<Utc>) -> String {
    at.format("%a %b %d %H:%M:%S UTC %Y").to_string()
}

/// Reads properties of one file, producing errors that name it.
struct Reader<'a> {
    file: &'a Path,
    entries: &'a [(String, String)],
    /// The file does not end with a line break: a missing property is
    /// then more likely cut off than never written.
    ends_mid_line: bool,
}

impl Reader<'_> {
    fn text(&self, property: &'static str) -> Result<&str, KeyFileError> {
        properties::get(self.entries, property).ok_or_else(|| {
            if self.ends_mid_line {
                self.truncated(
                    property,
                    "the file ends in the middle of a line and this property is absent",
                )
            } else {
                KeyFileError::MissingProperty { file: self.file.to_owned(), property }
            }
        })
    }

    fn truncated(&self, property: &'static str, detail: impl Into<String>) -> KeyFileError {
        KeyFileError::Truncated { file: self.file.to_owned(), property, detail: detail.into() }
    }

    fn optional(&self, property: &str) -> String {
        properties::get(self.entries, property).unwrap_or_default().to_owned()
    }

    fn base64(&self, property: &'static str) -> Result<Vec<u8>, KeyFileError> {
        let cut_off =
            self.ends_mid_line && self.entries.last().is_some_and(|(key, _)| key == property);
        decode_base64(self.text(property)?).map_err(|error| match error {
            base64::DecodeError::InvalidLength(_) => {
                self.truncated(property, "its Base64 text ends in the middle of a character group")
            }
            _ if cut_off => {
                self.truncated(property, "the file ends in the middle of this property")
            }
            _ => KeyFileError::CorruptBase64 { file: self.file.to_owned(), property },
        })
    }

    /// The public key bytes; shorter than a 1024-bit key's is a cut-off file.
    fn public_key(&self) -> Result<Vec<u8>, KeyFileError> {
        let bytes = self.base64(PUBLIC_KEY_PROPERTY)?;
        if bytes.len() < crate::keys::MIN_PUBLIC_LEN {
            return Err(self.truncated(
                PUBLIC_KEY_PROPERTY,
                format!("{} bytes, a 1024-bit public key has 132", bytes.len()),
            ));
        }
        Ok(bytes)
    }

    /// Base64 of Triple-DES ciphertext: a whole, non-empty number of blocks.
    fn encrypted(&self, property: &'static str) -> Result<Vec<u8>, KeyFileError> {
        let bytes = self.base64(property)?;
        if bytes.is_empty() || bytes.len() % 8 != 0 {
            return Err(self.truncated(
                property,
                format!("{} bytes of ciphertext, not a whole number of 8-byte blocks", bytes.len()),
            ));
        }
        Ok(bytes)
    }

    fn corrupt(&self, property: &'static str, detail: impl Into<String>) -> KeyFileError {
        KeyFileError::Corrupt { file: self.file.to_owned(), property, detail: detail.into() }
    }

    /// Decrypts the keys and tells a wrong password from a damaged file.
    ///
    /// The private key is the strong witness: with the right password it
    /// decrypts to numbers whose product is the public modulus. The shared
    /// key is the weak one (a wrong password yields valid padding and 24
    /// bytes with probability about 2^-64). The password is declared wrong
    /// only when neither witness says it is right.
    fn decrypt(
        &self,
        password: &Password,
        shared: &[u8],
        private: &[u8],
        public: &[u8],
    ) -> Result<LtpaKeys, KeyFileError> {
        let shared: Option<[u8; SHARED_KEY_LEN]> =
            password.decrypt(shared).and_then(|plain| plain.as_slice().try_into().ok());
        let pair = password
            .decrypt(private)
            .ok_or(KeyMaterialError::Private("it does not decrypt".into()))
            .and_then(|plain| decode_key_pair(&plain, public));
        match (shared, pair) {
            (Some(shared), Ok(pair)) => Ok(LtpaKeys::from_shared_and_pair(shared, pair)),
            (None, Ok(_)) => Err(self.corrupt(
                SHARED_KEY_PROPERTY,
                "it does not decrypt although the private key does with the same password",
            )),
            (Some(_), Err(KeyMaterialError::Truncated(detail))) => {
                Err(self.truncated(PRIVATE_KEY_PROPERTY, detail))
            }
            (_, Err(KeyMaterialError::Public(detail))) => {
                Err(self.corrupt(PUBLIC_KEY_PROPERTY, detail))
            }
            // A consistent private key cannot come from a wrong password.
            (_, Err(error @ KeyMaterialError::Mismatch)) => {
                Err(self.corrupt(PUBLIC_KEY_PROPERTY, error.to_string()))
            }
            (Some(_), Err(error)) => Err(self.corrupt(PRIVATE_KEY_PROPERTY, error.to_string())),
            (None, Err(_)) => Err(KeyFileError::WrongPassword { file: self.file.to_owned() }),
        }
    }
}
