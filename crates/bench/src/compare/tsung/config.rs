//! The Tsung configuration (XML) of a scenario and its users file (CSV).
//!
//! Every session signs in as one user of the file (`user,secret` lines,
//! taken in order), as a client does: stream, STARTTLS when asked, SASL
//! PLAIN, stream restart, resource binding (no legacy `session` request,
//! which current clients skip), then the roster and the initial
//! presence. Each step waits for its answer by a pattern (`ack="parse"`):
//! Tsung's `ack="local"` takes any packet as the answer and then sends the
//! next step early, which some servers do not take (bench-notes: 5–7 % of
//! ejabberd's sessions closed between SASL and bind). A SASL `<failure`
//! aborts the session, counted as `match`.
//!
//! Sessions start at fixed times ([`ARRIVALS_PER_SECOND`]), as static
//! users: Tsung's arrival phases are Poisson and fall short of their
//! `maxnumber` when the phase ends.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::{Transport, TsungScenario};

/// Sessions started per second, one every 10 ms: Tsung shares the two
/// cores with the server and falls behind its schedule above a few
/// hundred sign-ins per second ("users were not launched in time").
pub const ARRIVALS_PER_SECOND: u64 = 100;

/// Source addresses per this many sessions: one address has some 28,000
/// ephemeral ports towards the server's one port.
const SESSIONS_PER_ADDRESS: usize = 10_000;

/// Pause after everyone has signed in before the first message, so that
/// every destination is online.
pub const SETTLE: Duration = Duration::from_secs(2);

/// A pattern that ends a stream's features (`</stream:features>` or an
/// empty element), whatever the prefix.
const FEATURES: &str = "&lt;/[a-z:]*features&gt;|features/&gt;";

/// What the server and scenario need from the configuration.
pub struct Target<'a> {
    /// The XMPP domain.
    pub domain: &'a str,
    /// The port of `transport`, on 127.0.0.1.
    pub port: u16,
    /// How sessions start TLS.
    pub transport: Transport,
    /// The users file.
    pub users_csv: &'a Path,
}

/// How long the sessions take from the first start to the last close
/// (without Tsung's own start and stop).
pub fn duration(scenario: &TsungScenario) -> Duration {
    match scenario {
        TsungScenario::IdleHold { sessions, hold } => ramp(*sessions) * 2 + *hold,
        TsungScenario::Messages { users, messages_per_user, interval } => {
            ramp(*users) * 2 + SETTLE * 2 + *interval * *messages_per_user
        }
    }
}

/// The time over which `sessions` sessions start.
pub fn ramp(sessions: usize) -> Duration {
    Duration::from_millis(sessions as u64 * 1000 / ARRIVALS_PER_SECOND)
}

/// The users file: `name,secret` per line. Tsung's CSV reader knows no
/// quoting, so a comma or line break in either fails here.
pub fn users_csv<'a>(users: impl Iterator<Item = (String, &'a str)>) -> anyhow::Result<String> {
    let mut csv = String::new();
    for (name, secret) in users {
        anyhow::ensure!(
            ![&name[..], secret].iter().any(|s| s.contains([',', '\n', '\r'])),
            "user {name}: a name or secret with ',' or a line break cannot go in Tsung's CSV"
        );
        writeln!(csv, "{name},{secret}")?;
    }
    Ok(csv)
}

/// The XML configuration of `scenario` against `target`.
pub fn xml(scenario: &TsungScenario, target: &Target) -> String {
    let sessions = match scenario {
        TsungScenario::IdleHold { sessions, .. } => *sessions,
        TsungScenario::Messages { users, .. } => *users,
    };
    let ramp = ramp(sessions);
    let mut xml = String::from(
        "<?xml version=\"1.0\"?>\n\
         <!DOCTYPE tsung SYSTEM \"/usr/share/tsung/tsung-1.0.dtd\">\n\
         <tsung loglevel=\"warning\" version=\"1.0\" backend=\"fullstats\">\n",
    );
    // Every loopback address reaches the server without an alias on lo.
    let _ = write!(
        xml,
        "<clients><client host=\"localhost\" use_controller_vm=\"true\" maxusers=\"{}\">",
        sessions + 100
    );
    for n in 0..sessions.div_ceil(SESSIONS_PER_ADDRESS).max(2) {
        let _ = write!(xml, "<ip value=\"127.0.0.{}\"/>", n + 2);
    }
    // `localhost`, not 127.0.0.1: Tsung sends the host as the TLS server
    // name, and a server refuses an address there (Prosody: alert
    // unrecognized_name).
    let server_type = if target.transport == Transport::DirectTls { "ssl" } else { "tcp" };
    let _ = writeln!(
        xml,
        "</client></clients>\n\
         <servers><server host=\"localhost\" port=\"{}\" type=\"{server_type}\"/></servers>\n<load>",
        target.port
    );
    for i in 0..sessions as u64 {
        let _ = writeln!(
            xml,
            "<user session=\"s\" start_time=\"{}\" unit=\"millisecond\"/>",
            i * 1000 / ARRIVALS_PER_SECOND
        );
    }
    let _ = write!(
        xml,
        "</load>\n<options>\n\
         <option type=\"ts_jabber\" name=\"domain\" value=\"{}\"/>\n\
         <option type=\"ts_jabber\" name=\"userid_max\" value=\"0\"/>\n\
         <option name=\"file_server\" id=\"users\" value=\"{}\"/>\n\
         </options>\n<sessions>\n\
         <session probability=\"100\" name=\"s\" type=\"ts_jabber\" bidi=\"true\">\n\
         <setdynvars sourcetype=\"file\" fileid=\"users\" delimiter=\",\" order=\"iter\">\
         <var name=\"user\"/><var name=\"secret\"/></setdynvars>\n",
        escape(target.domain),
        escape(&target.users_csv.to_string_lossy()),
    );
    sign_in(&mut xml, target.transport);
    // Whoever starts first waits for the last to sign in: the hold (or
    // the messages) overlaps for everyone.
    match scenario {
        TsungScenario::IdleHold { hold, .. } => {
            thinktime(&mut xml, ramp + *hold);
        }
        TsungScenario::Messages { messages_per_user, interval, .. } => {
            thinktime(&mut xml, ramp + SETTLE);
            let _ = write!(
                xml,
                "<for from=\"1\" to=\"{messages_per_user}\" incr=\"1\" var=\"i\">\
                 <transaction name=\"chat\"><request><jabber type=\"chat\" ack=\"no_ack\" \
                 size=\"64\" destination=\"online\" stamped=\"true\"/></request></transaction>"
            );
            thinktime(&mut xml, *interval);
            xml.push_str("</for>\n");
            // The last messages of the last sessions are still under way.
            thinktime(&mut xml, ramp + SETTLE);
        }
    }
    xml.push_str(
        "<request><jabber type=\"close\" ack=\"no_ack\"/></request>\n\
         </session>\n</sessions>\n</tsung>\n",
    );
    xml
}

/// The sign-in, the roster and the initial presence.
fn sign_in(xml: &mut String, transport: Transport) {
    let _ = write!(
        xml,
        "<transaction name=\"login\">\n\
         <request subst=\"true\"><jabber type=\"connect\" ack=\"parse\" regexp=\"{FEATURES}\">\
         <xmpp_authenticate username=\"%%_user%%\" passwd=\"%%_secret%%\"/></jabber></request>\n"
    );
    if transport == Transport::Starttls {
        // Tsung answers <proceed/> itself (bidi) and times the handshake
        // as xmpp_starttls.
        let _ = write!(
            xml,
            "<request><jabber type=\"starttls\" ack=\"bidi_ack\"/></request>\n\
             <request><jabber type=\"connect\" ack=\"parse\" regexp=\"{FEATURES}\"/></request>\n"
        );
    }
    let _ = write!(
        xml,
        "<request><match do=\"abort\" when=\"match\">&lt;failure</match>\
         <jabber type=\"auth_sasl\" ack=\"parse\" regexp=\"&lt;success|&lt;failure\"/></request>\n\
         <request><jabber type=\"connect\" ack=\"parse\" regexp=\"{FEATURES}\"/></request>\n\
         <request><jabber type=\"auth_sasl_bind\" ack=\"parse\" regexp=\"&lt;/jid&gt;|type=.error.\"/></request>\n\
         </transaction>\n\
         <transaction name=\"roster\"><request><jabber type=\"iq:roster:get\" ack=\"parse\" \
         regexp=\"jabber:iq:roster\"/></request></transaction>\n\
         <request><jabber type=\"presence:initial\" ack=\"no_ack\"/></request>\n"
    );
}

/// A fixed pause (Tsung's are random around the value by default).
fn thinktime(xml: &mut String, pause: Duration) {
    let _ = writeln!(xml, "<thinktime value=\"{:.3}\" random=\"false\"/>", pause.as_secs_f64());
}

/// Text for an XML attribute value.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_with_a_separator_are_refused() {
        let ok = users_csv([("user1".to_owned(), "pw")].into_iter()).expect("plain");
        assert_eq!(ok, "user1,pw\n");
        assert!(users_csv([("user1".to_owned(), "a,b")].into_iter()).is_err());
        assert!(users_csv([("user1".to_owned(), "a\nb")].into_iter()).is_err());
    }

    #[test]
    fn every_session_is_scheduled_and_starttls_is_asked_only_for_it() {
        let target = Target {
            domain: "a\"b",
            port: 5222,
            transport: Transport::DirectTls,
            users_csv: Path::new("/tmp/u.csv"),
        };
        let scenario = TsungScenario::IdleHold { sessions: 250, hold: Duration::from_secs(10) };
        let xml = xml(&scenario, &target);
        assert_eq!(xml.matches("<user session=").count(), 250);
        assert!(xml.contains("start_time=\"2490\""));
        assert!(xml.contains("type=\"ssl\""));
        assert!(!xml.contains("starttls"));
        assert!(xml.contains("value=\"a&quot;b\""));
        assert!(xml.contains("<thinktime value=\"12.500\""));
        let starttls = Target { transport: Transport::Starttls, ..target };
        assert!(super::xml(&scenario, &starttls).contains("type=\"starttls\""));
    }
}
