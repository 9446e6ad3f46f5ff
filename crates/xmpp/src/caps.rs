//! What this server is and does (XEP-0030), and its entity capabilities
//! (XEP-0115): a hash of that, announced in the stream features so a
//! client that has seen the same hash before need not ask again.

use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio_xmpp::minidom::Element;
use tokio_xmpp::parsers::caps::{Caps, compute_disco, hash_caps};
use tokio_xmpp::parsers::disco::{DiscoInfoResult, Identity};
use tokio_xmpp::parsers::hashes::{Algo, Hash};

/// The node of the capabilities: the software's home (XEP-0115 §4).
pub(crate) const NODE: &str = env!("CARGO_PKG_REPOSITORY");

/// What the server is: its identity and features, under `node` if asked
/// with one.
pub(crate) fn server_info(node: Option<String>) -> DiscoInfoResult {
    DiscoInfoResult {
        node,
        identities: vec![Identity::new("server", "im", "en", "Simul")],
        features: crate::session::FEATURES.iter().map(|feature| (*feature).to_owned()).collect(),
        extensions: Vec::new(),
    }
}

/// The capabilities hash of `info` (XEP-0115 §5.1): SHA-1 of its
/// identities, features and forms in the XEP's order.
fn hash_of(info: &DiscoInfoResult) -> Hash {
    hash_caps(&compute_disco(info), Algo::Sha_1).expect("SHA-1 is supported")
}

/// The server's capabilities hash, computed once.
static HASH: LazyLock<Hash> = LazyLock::new(|| hash_of(&server_info(None)));

/// The node a client asks about to check the hash (`NODE#VER`).
pub(crate) fn caps_node() -> String {
    format!("{NODE}#{}", STANDARD.encode(&HASH.hash))
}

/// The `<c/>` stream feature (XEP-0115 §6.3).
pub(crate) fn feature() -> Element {
    Caps::new(NODE, HASH.clone()).into()
}

#[cfg(test)]
mod tests {
    use tokio_xmpp::parsers::ns;

    use super::*;

    /// The verification string of `info`: its hash in Base64.
    fn ver_of(info: &DiscoInfoResult) -> String {
        STANDARD.encode(hash_of(info).hash)
    }

    /// XEP-0115 §5.2's example: Exodus 0.9.1.
    #[test]
    fn the_verification_string_of_the_xep_example() {
        let info = DiscoInfoResult {
            node: None,
            identities: vec![Identity::new("client", "pc", "", "Exodus 0.9.1")],
            features: [ns::CAPS, ns::DISCO_INFO, ns::DISCO_ITEMS, ns::MUC]
                .map(str::to_owned)
                .into(),
            extensions: Vec::new(),
        };
        assert_eq!(ver_of(&info), "QgayPKawpkPSDYmwT/WM94uAlu0=");
    }

    #[test]
    fn the_server_hash_names_its_node_and_changes_with_its_features() {
        assert_eq!(caps_node(), format!("{NODE}#{}", ver_of(&server_info(None))));
        let mut fewer = server_info(None);
        fewer.features.pop_last();
        assert_ne!(ver_of(&fewer), ver_of(&server_info(None)));
    }
}
