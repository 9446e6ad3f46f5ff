//! TLS channel binding for SCRAM's -PLUS mechanisms: `tls-exporter`
//! (RFC 9266), keying material both ends export from the TLS 1.3
//! connection; a client whose TLS was intercepted computes other bytes
//! and its proof fails. Only over TLS 1.3: on TLS 1.2 the exporter is
//! safe only with the extended master secret, which is not checked here,
//! so such connections are offered no -PLUS mechanism.

use tokio_rustls::server::TlsStream;
use tokio_xmpp::parsers::sasl_cb::{SaslChannelBinding, Type};

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

/// The stream feature naming the binding types offered (XEP-0440).
pub(crate) fn feature() -> SaslChannelBinding {
    SaslChannelBinding { types: vec![Type::TlsExporter] }
}
