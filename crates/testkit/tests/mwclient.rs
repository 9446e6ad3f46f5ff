//! The scripted libmeanwhile client against closed ports and tiny fake servers: proof that
//! the harness builds, runs, speaks libmeanwhile's protocol (spec §3.1, §4.2, §4.4, §4.6) and
//! reports what happens, before there is a VP door to test with it.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use simul_testkit::{MwClient, MwOptions, closed_port};

/// How long the fake servers wait for the client.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A listener on a free loopback port, and its address.
fn listen() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    (listener, addr)
}

/// Accepts one connection, giving up after [`TIMEOUT`] rather than hanging the test.
fn accept(listener: &TcpListener) -> TcpStream {
    listener.set_nonblocking(true).expect("non-blocking listener");
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).expect("blocking stream");
                stream.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
                return stream;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("the client did not connect: {e}"),
        }
    }
}

/// Reads one frame (spec §1.2: u32 length, then the message) and returns the message.
fn read_frame(stream: &mut TcpStream) -> Vec<u8> {
    let mut length = [0u8; 4];
    stream.read_exact(&mut length).expect("read a frame length");
    let length = u32::from_be_bytes(length) as usize;
    assert!(length < 1 << 16, "implausible frame length {length}");
    let mut message = vec![0u8; length];
    stream.read_exact(&mut message).expect("read a frame body");
    message
}

/// Writes `message` as one frame.
fn write_frame(stream: &mut TcpStream, message: &[u8]) {
    let length = u32::try_from(message.len()).expect("short message");
    let mut frame = length.to_be_bytes().to_vec();
    frame.extend_from_slice(message);
    stream.write_all(&frame).expect("write a frame");
}

/// A master-channel message: header (type, options 0, channel 0; §3.1) and `body`.
fn message(kind: u16, body: &[u8]) -> Vec<u8> {
    let mut message = kind.to_be_bytes().to_vec();
    message.extend_from_slice(&0u16.to_be_bytes());
    message.extend_from_slice(&0u32.to_be_bytes());
    message.extend_from_slice(body);
    message
}

/// A HANDSHAKE_ACK with minor version 0x18: no magic and no DH key, so libmeanwhile logs in
/// with RC2/40 (§4.3) and the fake server needs no Diffie-Hellman.
fn handshake_ack_without_key() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&0x001eu16.to_be_bytes());
    body.extend_from_slice(&0x0018u16.to_be_bytes());
    body.extend_from_slice(&[127, 0, 0, 1]);
    message(0x8000, &body)
}

/// CHANNEL_DESTROY on channel 0 with `reason` and empty data: the end of the connection
/// (§4.8, §5.4).
fn destroy_master(reason: u32) -> Vec<u8> {
    let mut body = reason.to_be_bytes().to_vec();
    body.extend_from_slice(&0u32.to_be_bytes());
    message(0x0003, &body)
}

/// A big-endian u16 at `at`.
fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

/// A big-endian u32 at `at`.
fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// The fields of a LOGIN message (§4.4) the tests look at.
struct Login {
    login_type: u16,
    name: String,
    auth_data: Vec<u8>,
    auth_type: u16,
}

/// Parses a LOGIN message (header included), panicking on anything else.
fn parse_login(message: &[u8]) -> Login {
    assert_eq!(u16_at(message, 0), 0x0001, "a LOGIN: {message:02x?}");
    let login_type = u16_at(message, 8);
    let name_len = usize::from(u16_at(message, 10));
    let name = String::from_utf8(message[12..12 + name_len].to_vec()).expect("UTF-8 name");
    let at = 12 + name_len;
    let data_len = u32_at(message, at) as usize;
    let auth_data = message[at + 4..at + 4 + data_len].to_vec();
    let auth_type = u16_at(message, at + 4 + data_len);
    Login { login_type, name, auth_data, auth_type }
}

#[test]
fn a_closed_port_is_reported_and_the_client_exits() {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, closed_port()));
    let mut client = MwClient::start(addr, "alice", "alice-secret");
    let line = client.expect("DISCONNECTED");
    assert!(line.contains("refused"), "{line}");
    let status = client.wait_exit(TIMEOUT);
    assert!(!status.success(), "a failed connection is a failure: {status}");
}

#[test]
fn the_client_opens_with_a_vp_handshake() {
    let (listener, addr) = listen();
    let mut client = MwClient::start(addr, "alice", "alice-secret");
    let mut server = accept(&listener);

    let mut length = [0u8; 4];
    server.read_exact(&mut length).expect("read the first frame's length");
    let length = u32::from_be_bytes(length) as usize;
    let mut handshake = vec![0u8; length];
    server.read_exact(&mut handshake).expect("read the HANDSHAKE");
    // The length is exact: the client says nothing more until the HANDSHAKE_ACK.
    server.set_read_timeout(Some(Duration::from_millis(300))).expect("read timeout");
    let mut more = [0u8; 1];
    match server.read(&mut more) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("bytes after the HANDSHAKE frame: {other:?}"),
    }

    // Header (§3.1): type HANDSHAKE 0x0000, no options, channel 0.
    assert_eq!(&handshake[..8], &[0; 8], "HANDSHAKE header: {handshake:02x?}");
    // Body (§4.2): version 0x1e.0x1d, channel 0, srvrcalc_addr 0, login type 0x1700
    // (meanwhile), loclcalc_addr, then the three fields of version ≥ 0x1e.0x1d.
    assert_eq!(u16_at(&handshake, 8), 0x001e, "major");
    assert_eq!(u16_at(&handshake, 10), 0x001d, "minor");
    assert_eq!(u32_at(&handshake, 12), 0, "channel");
    assert_eq!(u32_at(&handshake, 16), 0, "srvrcalc_addr");
    assert_eq!(u16_at(&handshake, 20), 0x1700, "login type");
    assert_eq!(u16_at(&handshake, 26), 0x0100, "unknown_a");
    assert_eq!(length, 34, "the whole HANDSHAKE, local_host empty: {handshake:02x?}");

    // The server hangs up: the client says so, stops and exits.
    drop(server);
    client.expect("DISCONNECTED");
    let stopped = client.expect("STOPPED ");
    assert!(stopped.starts_with("STOPPED 0x80000221"), "{stopped}");
    client.wait_exit(TIMEOUT);
}

#[test]
fn a_password_login_without_a_server_key_is_rc2_40_and_a_refusal_stops_the_client() {
    let (listener, addr) = listen();
    let mut client = MwClient::start(addr, "alice", "alice-secret");
    let mut server = accept(&listener);
    assert_eq!(u16_at(&read_frame(&mut server), 0), 0x0000, "HANDSHAKE first");
    write_frame(&mut server, &handshake_ack_without_key());

    let login = parse_login(&read_frame(&mut server));
    assert_eq!(login.login_type, 0x1700);
    assert_eq!(login.name, "alice");
    assert_eq!(login.auth_type, 0x0002, "RC2/40 when the ACK has no key (§4.3)");
    // opaque(5-byte key) + opaque(RC2 of "alice-secret", padded to 16 bytes) (§4.5).
    assert_eq!(u32_at(&login.auth_data, 0), 5, "RC2/40 key length");
    assert_eq!(u32_at(&login.auth_data, 9), 16, "ciphertext length");
    assert_eq!(login.auth_data.len(), 4 + 5 + 4 + 16);

    write_frame(&mut server, &destroy_master(0x8000_0211));
    let stopped = client.expect("STOPPED ");
    assert!(stopped.starts_with("STOPPED 0x80000211 "), "{stopped}");
    assert!(!client.wait_exit(TIMEOUT).success());
}

#[test]
fn a_token_login_is_rewritten_to_auth_type_1() {
    let (listener, addr) = listen();
    let options = MwOptions { token: Some("T0KEN==".to_owned()), ..MwOptions::default() };
    let mut client = MwClient::start_with(addr, "alice", "", &options);
    let mut server = accept(&listener);
    read_frame(&mut server);
    write_frame(&mut server, &handshake_ack_without_key());

    let frame = read_frame(&mut server);
    let login = parse_login(&frame);
    assert_eq!(login.name, "alice");
    assert_eq!(login.auth_type, 0x0001, "TOKEN (§4.6)");
    assert_eq!(login.auth_data, b"\x00\x07T0KEN==", "str token");
    // The rest of the LOGIN is libmeanwhile's: its trailing u16 0 too (§4.4).
    assert_eq!(&frame[frame.len() - 2..], &[0, 0]);

    // quit before any LOGIN_ACK: the session stops with reason 0 and the process exits 0.
    client.send("quit");
    let stopped = client.expect("STOPPED ");
    assert!(stopped.starts_with("STOPPED 0x00000000"), "{stopped}");
    assert!(client.wait_exit(TIMEOUT).success());
    assert!(client.events().iter().all(|line| !line.starts_with("LOGGED_IN")));
}

/// Appends a str (§2.1): u16 length, then the bytes.
fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&u16::try_from(s.len()).expect("short str").to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// A LOGIN_ACK (§4.7) for user id `alice`, login id `login-alice-1`: LoginInfo (not full),
/// u16 0, PrivacyInfo allowing everyone, UserStatus active.
fn login_ack() -> Vec<u8> {
    let mut body = Vec::new();
    put_str(&mut body, "login-alice-1");
    body.extend_from_slice(&0x1700u16.to_be_bytes());
    put_str(&mut body, "alice");
    put_str(&mut body, "Alice Allen");
    put_str(&mut body, "");
    body.push(0); // full = 0
    body.extend_from_slice(&0u16.to_be_bytes());
    body.push(1); // deny
    body.extend_from_slice(&0u32.to_be_bytes()); // count
    body.extend_from_slice(&0x0020u16.to_be_bytes());
    body.extend_from_slice(&0u32.to_be_bytes());
    put_str(&mut body, "");
    message(0x8001, &body)
}

#[test]
fn a_logged_in_client_reports_and_obeys() {
    let (listener, addr) = listen();
    let mut client = MwClient::start(addr, "alice", "alice-secret");
    let mut server = accept(&listener);
    read_frame(&mut server);
    write_frame(&mut server, &handshake_ack_without_key());
    read_frame(&mut server);
    write_frame(&mut server, &login_ack());
    assert_eq!(
        client.expect("LOGGED_IN"),
        "LOGGED_IN user_id=alice login_id=login-alice-1 community= name=Alice Allen"
    );

    // Server texts stay on one line: control characters are escaped.
    let mut admin = Vec::new();
    put_str(&mut admin, "maintenance\nat 10:00\ttonight");
    write_frame(&mut server, &message(0x0019, &admin));
    assert_eq!(client.expect("ADMIN "), "ADMIN maintenance\\nat 10:00\\ttonight");

    client.send("frobnicate now");
    assert_eq!(client.expect("ERROR "), "ERROR unknown command: frobnicate");
    client.send("save notakey text");
    client.expect("ERROR usage: save KEY TEXT");

    // keepalive: one 0x80 byte between frames (§1.3). The client opens service channels
    // after the LOGIN_ACK (CHANNEL_CREATE frames, §4.1); skip those.
    client.send("keepalive");
    let deadline = Instant::now() + TIMEOUT;
    let mut creates = 0;
    loop {
        assert!(Instant::now() < deadline, "no keepalive byte");
        let mut first = [0u8; 1];
        server.read_exact(&mut first).expect("read from the client");
        if first[0] == 0x80 {
            break;
        }
        let mut rest = [0u8; 3];
        server.read_exact(&mut rest).expect("read a frame length");
        let length = u32::from_be_bytes([first[0], rest[0], rest[1], rest[2]]) as usize;
        let mut message = vec![0u8; length];
        server.read_exact(&mut message).expect("read a frame");
        if u16_at(&message, 0) == 0x0002 {
            creates += 1;
        }
    }
    assert!(creates > 0, "service channels were opened before the keepalive");

    client.send("quit");
    client.expect("STOPPED 0x00000000");
    assert!(client.wait_exit(TIMEOUT).success());
}
