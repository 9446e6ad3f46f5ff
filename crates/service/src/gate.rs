//! The connection gate every door's listener asks before it serves a
//! connection: one count of open connections per client address and in
//! all, whichever door they came to, so that no door lets one address
//! (or everyone together) take the server's open files from the others.
//! The binary makes it (`server.max_connections_per_address`,
//! `server.max_connections`); a door only asks it.

use std::net::IpAddr;
use std::sync::Arc;

/// An admitted connection's place; given back when dropped.
pub type ConnectionTicket = Box<dyn Send + Sync>;

/// Whether a connection from an address may be served: its ticket, or
/// none when it is refused (too many from that address, or in all).
pub type ConnectionGate = Arc<dyn Fn(IpAddr) -> Option<ConnectionTicket> + Send + Sync>;
