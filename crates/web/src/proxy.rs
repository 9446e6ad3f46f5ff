//! Who the client is behind a reverse proxy or load balancer (IBM HTTP
//! Server, an F5, nginx). Only the peers in `server.trusted_proxies` are
//! believed: from them, the client's address comes from `Forwarded`
//! (RFC 7239) or `X-Forwarded-For` (the rightmost address that is not a
//! trusted proxy), and the scheme and host the browser used from
//! `X-Forwarded-Proto` and `X-Forwarded-Host` (or `Forwarded`'s `proto`
//! and `host`). From anyone else these headers are ignored: a client
//! cannot choose its own address for the rate limits and the logs.

use std::net::IpAddr;

use axum::http::{HeaderMap, header};
use ipnet::IpNet;

/// The request as the browser made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Client {
    /// The client's address.
    pub(crate) address: IpAddr,
    /// Whether the browser used HTTPS (to Simul or to the proxy).
    pub(crate) https: bool,
    /// The host (and port, if any) the browser asked for.
    pub(crate) authority: String,
    /// The request came through a proxy that is not trusted: its
    /// forwarding headers were ignored.
    pub(crate) via_unknown_proxy: bool,
}

impl Client {
    /// The client of a request that reached Simul from `peer`, over HTTPS
    /// if `https`.
    pub(crate) fn of(peer: IpAddr, https: bool, headers: &HeaderMap, trusted: &[IpNet]) -> Self {
        let own_authority = header_text(headers, header::HOST).unwrap_or("localhost").to_owned();
        let forwarded = forwarded_elements(headers);
        let proxied = !forwarded.is_empty() || headers.contains_key("x-forwarded-for");
        if !trusted.iter().any(|net| net.contains(&peer)) {
            return Self {
                address: peer,
                https,
                authority: own_authority,
                via_unknown_proxy: proxied,
            };
        }
        let hops = if forwarded.is_empty() {
            x_forwarded_for(headers)
        } else {
            forwarded.iter().map(|element| element.for_address).collect()
        };
        // The rightmost hop no trusted proxy vouches for is the client; a
        // hop that names no address (`unknown`) ends the walk at the proxy
        // that wrote it.
        let mut address = peer;
        for hop in hops.iter().rev() {
            match hop {
                Some(hop) if trusted.iter().any(|net| net.contains(hop)) => address = *hop,
                Some(hop) => {
                    address = *hop;
                    break;
                }
                None => break,
            }
        }
        let last = forwarded.last();
        let proto = last
            .and_then(|element| element.proto.clone())
            .or_else(|| first_value(headers, "x-forwarded-proto"));
        let host = last
            .and_then(|element| element.host.clone())
            .or_else(|| first_value(headers, "x-forwarded-host"));
        Self {
            address,
            https: proto.map_or(https, |p| p.eq_ignore_ascii_case("https")),
            authority: host.unwrap_or(own_authority),
            via_unknown_proxy: false,
        }
    }

    /// The host without port, for cookie domains and redirects (an IPv6
    /// literal keeps its brackets: `[::1]`).
    pub(crate) fn host(&self) -> &str {
        let authority = self.authority.as_str();
        if let Some(end) = authority.strip_prefix('[').and_then(|rest| rest.find(']')) {
            return &authority[..end + 2];
        }
        match authority.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => authority,
        }
    }
}

fn header_text(headers: &HeaderMap, name: impl axum::http::header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// The first of a header's comma-separated values (the one the first
/// proxy, nearest the browser, wrote).
fn first_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let text = header_text(headers, name)?;
    text.split(',').next().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// `X-Forwarded-For`'s hops, nearest the browser first.
fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|hop| node_address(hop.trim()))
        .collect()
}

/// One element of `Forwarded` (one proxy's record).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ForwardedElement {
    for_address: Option<IpAddr>,
    proto: Option<String>,
    host: Option<String>,
}

/// Every `Forwarded` element, nearest the browser first.
fn forwarded_elements(headers: &HeaderMap) -> Vec<ForwardedElement> {
    headers
        .get_all(header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|element| {
            let mut parsed = ForwardedElement { for_address: None, proto: None, host: None };
            for pair in element.split(';') {
                let Some((key, value)) = pair.split_once('=') else { continue };
                let value = value.trim().trim_matches('"');
                match key.trim().to_ascii_lowercase().as_str() {
                    "for" => parsed.for_address = node_address(value),
                    "proto" => parsed.proto = Some(value.to_owned()),
                    "host" => parsed.host = Some(value.to_owned()),
                    _ => {}
                }
            }
            parsed
        })
        .collect()
}

/// The address of a node: `192.0.2.7`, `192.0.2.7:4711`, `[2001:db8::1]`,
/// `[2001:db8::1]:4711` or `2001:db8::1`; `None` for `unknown` or an
/// obfuscated `_name`.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Ok(address) = node.parse::<IpAddr>() {
        return Some(address);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']').and_then(|(address, _)| address.parse().ok());
    }
    node.rsplit_once(':').and_then(|(address, _)| address.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    const PROXY: &str = "10.0.0.5";

    fn client(headers_: &[(&'static str, &str)], trusted: &[&str]) -> Client {
        Client::of(PROXY.parse().unwrap(), false, &headers(headers_), &nets(trusted))
    }

    #[test]
    fn untrusted_peers_cannot_choose_their_address() {
        let c = client(&[("x-forwarded-for", "192.0.2.1"), ("x-forwarded-proto", "https")], &[]);
        assert_eq!(c.address, PROXY.parse::<IpAddr>().unwrap());
        assert!(!c.https && c.via_unknown_proxy);
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = ["10.0.0.0/8"];
        // The browser lied about a first hop; the proxies appended the truth.
        let c = client(&[("x-forwarded-for", "203.0.113.9, 192.0.2.1, 10.0.0.7")], &trusted);
        assert_eq!(c.address, "192.0.2.1".parse::<IpAddr>().unwrap());
        let c =
            client(&[("x-forwarded-for", "192.0.2.1"), ("x-forwarded-for", "10.0.0.7")], &trusted);
        assert_eq!(c.address, "192.0.2.1".parse::<IpAddr>().unwrap());
        // Only trusted hops: the farthest of them.
        let c = client(&[("x-forwarded-for", "10.0.0.9")], &trusted);
        assert_eq!(c.address, "10.0.0.9".parse::<IpAddr>().unwrap());
        // A hop without an address ends the walk.
        let c = client(&[("x-forwarded-for", "192.0.2.1, unknown")], &trusted);
        assert_eq!(c.address, PROXY.parse::<IpAddr>().unwrap());
    }

    #[test]
    fn forwarded_wins_over_the_x_headers() {
        let c = client(
            &[
                ("forwarded", "for=\"[2001:db8::7]:4711\";proto=https;host=chat.example.com"),
                ("x-forwarded-for", "192.0.2.99"),
            ],
            &["10.0.0.0/8"],
        );
        assert_eq!(c.address, "2001:db8::7".parse::<IpAddr>().unwrap());
        assert!(c.https);
        assert_eq!(c.host(), "chat.example.com");
    }

    #[test]
    fn scheme_and_host_come_from_trusted_proxies_only() {
        let fields = [
            ("host", "10.0.0.5:8080"),
            ("x-forwarded-for", "192.0.2.1"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "chat.example.com:8443"),
        ];
        let trusted = client(&fields, &["10.0.0.5/32"]);
        assert!(trusted.https);
        assert_eq!(
            (trusted.authority.as_str(), trusted.host()),
            ("chat.example.com:8443", "chat.example.com")
        );
        let untrusted = client(&fields, &[]);
        assert_eq!(untrusted.host(), "10.0.0.5");
    }

    #[test]
    fn the_host_drops_the_port_and_keeps_ipv6_brackets() {
        let host = |authority: &str| {
            let client = client(&[("host", authority)], &[]);
            client.host().to_owned()
        };
        assert_eq!(host("chat.example.com:8443"), "chat.example.com");
        assert_eq!(host("chat.example.com"), "chat.example.com");
        assert_eq!(host("[::1]:8080"), "[::1]");
        assert_eq!(host("[2001:db8::7]"), "[2001:db8::7]");
        assert_eq!(host("192.0.2.7:80"), "192.0.2.7");
    }

    #[test]
    fn node_addresses_in_every_spelling() {
        for (node, address) in [
            ("192.0.2.7", Some("192.0.2.7")),
            ("192.0.2.7:4711", Some("192.0.2.7")),
            ("[2001:db8::1]", Some("2001:db8::1")),
            ("[2001:db8::1]:4711", Some("2001:db8::1")),
            ("2001:db8::1", Some("2001:db8::1")),
            ("unknown", None),
            ("_hidden", None),
            ("", None),
            ("[", None),
        ] {
            assert_eq!(node_address(node), address.map(|a| a.parse().unwrap()), "{node}");
        }
    }
}
