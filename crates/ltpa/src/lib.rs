//! LTPA single sign-on, byte for byte compatible with IBM WebSphere, Open
//! Liberty, HCL Domino and Sametime.
//!
//! Servers in one DNS domain share LTPA keys, so a user who signed in to
//! one of them carries a cookie the others accept. This crate reads and
//! writes the shared material and the cookies:
//!
//! - [`KeyFile`]: WebSphere/Liberty `ltpa.keys` export files (import with a
//!   password, export with a password, generate), see [`keyfile`];
//! - [`ltpa2`]: `LtpaToken2` (WebSphere 7+, Liberty);
//! - [`ltpa1`]: `LtpaToken` in WebSphere's version-1 format;
//! - [`domino`]: `LtpaToken` in Domino's own format (Web SSO secret);
//! - [`Verifier`]: one entry point that routes any token to its format;
//! - [`SsoSettings`]: the WebSphere "Single sign-on" page and the cookies
//!   it implies; [`WebSsoDocument`]: Domino's Web SSO document.
//!
//! No async, no network: the only I/O is reading and atomically writing
//! key files.
//!
//! # Sources
//!
//! The formats were taken from public sources and checked against tokens
//! and key files made by the real products (see the tests):
//!
//! - Open Liberty (`OpenLiberty/open-liberty`, EPL-2.0):
//!   `com.ibm.ws.crypto.ltpakeyutil` (`LTPAKeyFileUtilityImpl`,
//!   `PasswordLTPAKeyEncryptor`, `LTPACrypto`, `LTPAPrivateKey`,
//!   `LTPAPublicKey`) and `com.ibm.ws.security.token.ltpa` (`LTPAToken2`,
//!   `LTPATokenizer`, `UserData`), `com.ibm.ws.security.AccessIdUtil`;
//! - Eclipse Amlen `server_admin/src/ltpautils.c` (EPL-2.0): WebSphere
//!   version-1 tokens and the ISO/IEC 9796-1 signature;
//! - pietergeertsdev/LtpaToken2 (MIT) and benkroeger/oniyi-ltpa: LtpaToken2
//!   outside IBM's code, the double SHA-1 signature;
//! - HCL `domino-c-api-docs`, "Single Sign-On with Domino and WebSphere":
//!   the Domino token format; markusberg/ltpa (Apache-2.0) for its vectors;
//! - IBM WebSphere documentation, "Single sign-on (SSO) settings" and
//!   "LTPA settings"; HCL Domino documentation, "Web SSO configuration".
//!
//! # Example
//!
//! ```
//! use ltpa::{AccessId, KeyFile, Password, UserData, VerifyOptions, ltpa2};
//!
//! let file = KeyFile::generate("defaultWIMFileBasedRealm", "chat.example.com");
//! let password = Password::new("export password");
//! let exported = file.to_bytes(&password);
//! let imported = KeyFile::parse(&exported, &password, "ltpa.keys".as_ref()).unwrap();
//!
//! let user = AccessId::user(&imported.realm, "uid=jdoe,o=example");
//! let token = ltpa2::create(&imported.keys, &UserData::for_user(&user), 1_900_000_000_000);
//! let identity = ltpa2::verify(&file.keys, &token, &VerifyOptions::at(1_800_000_000_000)).unwrap();
//! assert_eq!(identity.user, "uid=jdoe,o=example");
//! ```

pub mod domino;
mod encoding;
pub mod keyfile;
mod keys;
pub mod ltpa1;
pub mod ltpa2;
mod password;
pub mod properties;
mod rsa_public;
pub mod secret_file;
pub mod sso;
pub mod token;
pub mod userdata;
mod verifier;
mod websphere;
pub mod websso;

pub use domino::DominoSecret;
pub use keyfile::{KeyFile, KeyFileError};
pub use keys::LtpaKeys;
pub use password::Password;
pub use secret_file::Overwrite;
pub use sso::SsoSettings;
pub use token::{Identity, Inspection, Invalid, TokenFormat, VerifyOptions};
pub use userdata::{AccessId, UserData};
pub use verifier::Verifier;
pub use websso::WebSsoDocument;
