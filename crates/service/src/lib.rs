//! The live community that every front door shares (web, and next the
//! Sametime VP and XMPP doors): the hub (the core `Community` behind its
//! lock, with an outlet to each live session of any door) and the LTPA
//! keys in use. Front doors translate their protocol into calls of this
//! crate and its events back into their protocol; they never reach into
//! each other.

mod hub;
mod keyring;

pub use hub::Hub;
pub use keyring::{KeySets, Keyring};
