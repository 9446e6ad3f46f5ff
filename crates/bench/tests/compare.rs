//! `simul-bench compare` end to end at a small size, against the real
//! `simul serve` and Debian's Prosody (which scripts/test installs): every
//! scenario gives figures for both servers, every marked presence and
//! message arrives and is archived (Prosody with its SQLite archive, the
//! default),
//! and the report holds the ratios. Figures themselves are never asserted
//! (BENCHMARKS.md holds them).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// The `simul` binary built beside this package's binaries.
fn simul_binary() -> PathBuf {
    let bench = PathBuf::from(env!("CARGO_BIN_EXE_simul-bench"));
    bench.with_file_name("simul")
}

#[test]
fn simul_and_prosody_run_every_scenario_and_the_report_compares_them() {
    let out = tempfile::tempdir().expect("a temporary directory");
    let simul = simul_binary();
    assert!(simul.exists(), "build it first: cargo build -p simul ({})", simul.display());
    let run = Command::new(env!("CARGO_BIN_EXE_simul-bench"))
        .arg("--simul")
        .arg(&simul)
        .args(["--settle-ms", "200", "compare", "--servers", "simul,prosody", "--users", "40"])
        .args(["--roster", "4", "--logins", "40", "--password-users", "2"])
        .args(["--presence-rates", "20", "--message-rates", "50", "--step-seconds", "2"])
        .args(["--json", "--out"])
        .arg(out.path())
        .output()
        .expect("run simul-bench");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "simul-bench compare failed:\n{stderr}");

    let report: Value = serde_json::from_slice(
        &std::fs::read(out.path().join("compare.json")).expect("compare.json written"),
    )
    .expect("compare.json is JSON");
    let servers = report["results"]["servers"].as_array().expect("a list of servers");
    let names: Vec<&str> = servers.iter().filter_map(|s| s["server"]["name"].as_str()).collect();
    assert_eq!(names, ["simul", "prosody"]);
    for server in servers {
        let name = &server["server"]["name"];
        // Both hold sessions: without TLS (Simul on its cleartext
        // listener, Prosody on its client port), then with.
        let holds = server["idle_hold"].as_array().expect("idle holds");
        let transports: Vec<&Value> = holds.iter().map(|hold| &hold["transport"]).collect();
        assert_eq!(transports, ["cleartext", "direct-tls"], "{name}");
        for hold in holds {
            assert!(hold["kib_per_session"].as_f64().is_some(), "{name}: {hold}");
        }
        // A storm with TLS first, one without last.
        let storms = server["login_storm"].as_array().expect("login storms");
        let transports: Vec<&Value> = storms.iter().map(|storm| &storm["transport"]).collect();
        assert_eq!(transports.first().copied(), Some(&Value::from("direct-tls")), "{name}");
        assert_eq!(transports.last().copied(), Some(&Value::from("cleartext")), "{name}");
        for storm in storms {
            let storm = &storm["storm"];
            assert_eq!(storm["logins"], 40, "{name}: {storm}");
            assert_eq!(storm["failures"], 0, "{name}: {storm}");
        }
        for scenario in ["presence_storm", "messages"] {
            let step = &server[scenario][0]["outcome"];
            assert!(step["expected"].as_u64().unwrap_or(0) > 0, "{name} {scenario}: {step}");
            assert_eq!(step["expected"], step["delivered"], "{name} {scenario}: {step}");
        }
        assert_eq!(server["reader_failure"], Value::Null, "{name}");
        // Every message sent was archived, once.
        let sent: u64 = server["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|step| step["outcome"]["expected"].as_u64())
            .sum();
        assert_eq!(server["archived"]["messages"], sent, "{name}: {}", server["archived"]);
    }
    let simul = &servers[0];
    assert_eq!(simul["login_storm"][1]["secret"], "password");
    assert_eq!(simul["login_storm"][2]["secret"], "token");

    let markdown = std::fs::read_to_string(out.path().join("compare.md")).expect("compare.md");
    assert!(markdown.contains("| Simul vs prosody |"), "{markdown}");
    assert!(markdown.contains("## prosody "), "{markdown}");
    assert!(markdown.contains("Every server archives each 1:1 message"), "{markdown}");
    assert!(markdown.contains("In its archive once stopped: "), "{markdown}");
    assert!(markdown.contains("| login storm without TLS, the same secrets "), "{markdown}");

    // Simul's three doors, the same size, in the report too.
    let doors = &report["results"]["simul_doors"];
    for door in ["web", "vp", "xmpp"] {
        let messages = &doors[door]["im"]["runs"][0];
        assert!(
            messages["delivered_per_second"].as_f64().unwrap_or(0.0) > 0.0,
            "{door}: {messages}"
        );
        assert_eq!(messages["timeouts"], 0, "{door}: {messages}");
        assert!(markdown.contains(&format!("| {door} | ")), "{door} missing:\n{markdown}");
    }
    assert_eq!(doors["web_presence"]["runs"][0]["missing_events"], 0);
}
