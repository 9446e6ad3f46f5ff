//! TLS channel binding for SCRAM's -PLUS mechanisms: `tls-exporter`
//! (RFC 9266), keying material both ends export from the TLS 1.3
//! connection, and `tls-server-end-point` (RFC 5929), the hash of the
//! server's certificate (which XEP-0440 asks every server to offer); a
//! client whose TLS was intercepted computes other bytes and its proof
//! fails. The exporter only over TLS 1.3: on TLS 1.2 it is safe only with
//! the extended master secret, which is not checked here.

use tokio_rustls::server::TlsStream;
use tokio_xmpp::parsers::sasl_cb::{SaslChannelBinding, Type};

use crate::sasl::Channel;

/// The exporter label RFC 9266 §2 fixes.
const LABEL: &[u8] = b"EXPORTER-Channel-Binding";

/// The `tls-exporter` binding data of `tls` (32 bytes, no context), if
/// the connection is TLS 1.3.
pub(crate) fn tls_exporter<Io>(tls: &TlsStream<Io>) -> Option<[u8; 32]> {
    let connection = tls.get_ref().1;
    if connection.protocol_version() != Some(rustls::ProtocolVersion::TLSv1_3) {
        return None;
    }
    let mut data = [0; 32];
    connection.export_keying_material(&mut data, LABEL, None).ok()?;
    Some(data)
}

/// The stream feature naming the binding types `channel` offers
/// (XEP-0440).
pub(crate) fn feature(channel: &Channel<'_>) -> SaslChannelBinding {
    let types =
        [(channel.exporter, Type::TlsExporter), (channel.end_point, Type::TlsServerEndPoint)];
    SaslChannelBinding {
        types: types.into_iter().filter(|(data, _)| data.is_some()).map(|(_, t)| t).collect(),
    }
}
