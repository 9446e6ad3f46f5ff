//! The report of a comparison: `compare.json` (every figure),
//! `compare.md` (the tables and the ratios Simul/Prosody and
//! Simul/ejabberd measured in that run) and `latency.png` (1:1 message
//! latency against offered load, drawn by gnuplot).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use serde_json::Value;

/// Writes the three files into `dir` (created if missing).
pub async fn write(dir: &Path, results: &Value) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let report = serde_json::json!({ "machine": crate::machine(), "command": command_line(), "results": results });
    std::fs::write(dir.join("compare.json"), serde_json::to_string_pretty(&report)?)?;
    let plotted = plot(dir, results).await;
    let mut markdown = markdown(&report);
    match plotted {
        Ok(()) => markdown.push_str("\n![1:1 message latency against offered load](latency.png)\n"),
        Err(e) => {
            let _ = writeln!(markdown, "\nNo plot: {e:#}.");
        }
    }
    std::fs::write(dir.join("compare.md"), markdown)?;
    eprintln!("compare: wrote {}/compare.json, compare.md and latency.png", dir.display());
    Ok(())
}

/// The command that made the figures, as run.
fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}

/// A figure of one server, found by a path of keys and indexes.
fn figure<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |value, key| match key.parse::<usize>() {
        Ok(index) => value.get(index),
        Err(_) => value.get(key),
    })
}

fn number(value: &Value, path: &[&str]) -> Option<f64> {
    figure(value, path)?.as_f64()
}

/// One row of the headline table: a figure of every server and how many
/// times better Simul does than each other server.
struct Headline {
    label: &'static str,
    unit: &'static str,
    /// Lower is better (memory, latency) or higher (rates).
    lower_is_better: bool,
    value: fn(&Value) -> Option<f64>,
}

const HEADLINES: &[Headline] = &[
    Headline {
        label: "idle session, no TLS",
        unit: "KiB",
        lower_is_better: true,
        value: |s| idle(s, "cleartext"),
    },
    Headline {
        label: "idle session, TLS",
        unit: "KiB",
        lower_is_better: true,
        value: |s| idle(s, "direct-tls"),
    },
    Headline {
        label: "login storm, Simul by token, others by password",
        unit: "sign-ins/s",
        lower_is_better: false,
        value: |s| number(s, &["login_storm", "0", "storm", "logins_per_second"]),
    },
    Headline {
        label: "login storm p99, the same",
        unit: "ms",
        lower_is_better: true,
        value: |s| number(s, &["login_storm", "0", "storm", "latency", "p99_ms"]),
    },
    Headline {
        label: "login storm without TLS, the same secrets",
        unit: "sign-ins/s",
        lower_is_better: false,
        value: |s| without_tls(s, &["storm", "logins_per_second"]),
    },
    Headline {
        label: "login storm without TLS p99",
        unit: "ms",
        lower_is_better: true,
        value: |s| without_tls(s, &["storm", "latency", "p99_ms"]),
    },
    Headline {
        label: "login storm by password, each server's own hash",
        unit: "sign-ins/s",
        lower_is_better: false,
        value: |s| by_password(s, &["storm", "logins_per_second"]),
    },
    Headline {
        label: "presence: highest rate kept (all delivered, p99 < 100 ms)",
        unit: "changes/s",
        lower_is_better: false,
        value: |s| highest_kept(s, "presence_storm", "changes"),
    },
    Headline {
        label: "1:1 messages: highest load kept (all delivered, p99 < 100 ms)",
        unit: "msg/s",
        lower_is_better: false,
        value: |s| highest_kept(s, "messages", "messages"),
    },
    Headline {
        label: "1:1 messages: most delivered in a step, at any latency",
        unit: "msg/s",
        lower_is_better: false,
        value: |s| most_delivered(s),
    },
];

/// Latency under which a step counts as kept up with.
const KEPT_P99_MS: f64 = 100.0;

/// The highest offered rate of `scenario` whose step delivered everything
/// with a p99 under [`KEPT_P99_MS`].
fn highest_kept(server: &Value, scenario: &str, what: &str) -> Option<f64> {
    server[scenario]
        .as_array()?
        .iter()
        .filter(|step| {
            number(step, &["outcome", "lost_or_late"]) == Some(0.0)
                && number(step, &["outcome", "latency", "p99_ms"])
                    .is_some_and(|p99| p99 < KEPT_P99_MS)
        })
        .filter_map(|step| number(step, &["step", what, "offered_per_second"]))
        .reduce(f64::max)
}

/// The idle hold's KiB per session over `transport` (after a garbage
/// collection where the server needs one).
fn idle(server: &Value, transport: &str) -> Option<f64> {
    let hold = server["idle_hold"].as_array()?.iter().find(|h| h["transport"] == transport)?;
    number(hold, &["kib_per_session_after_gc"]).or_else(|| number(hold, &["kib_per_session"]))
}

/// A figure of the login storm without TLS.
fn without_tls(server: &Value, path: &[&str]) -> Option<f64> {
    let storm = server["login_storm"].as_array()?.iter().find(|s| s["transport"] == "cleartext")?;
    number(storm, path)
}

/// A figure of the login storm by password.
fn by_password(server: &Value, path: &[&str]) -> Option<f64> {
    let storm = server["login_storm"].as_array()?.iter().find(|s| s["secret"] == "password")?;
    number(storm, path)
}

fn most_delivered(server: &Value) -> Option<f64> {
    server["messages"]
        .as_array()?
        .iter()
        .filter_map(|step| number(step, &["outcome", "delivered_per_second"]))
        .reduce(f64::max)
}

/// The Markdown report.
fn markdown(report: &Value) -> String {
    let results = &report["results"];
    let servers = results["servers"].as_array().cloned().unwrap_or_default();
    let names: Vec<String> =
        servers.iter().map(|s| s["server"]["name"].as_str().unwrap_or("?").to_owned()).collect();
    let mut out = String::new();
    let _ = writeln!(out, "# Simul, Prosody and ejabberd side by side\n");
    let _ = writeln!(
        out,
        "{} users, {} contacts each (mutual), {} of them online in the login storm, \
         steps of {} s. Machine: {} CPUs ({}), kernel {}; client and servers share them.\n",
        results["population"]["users"],
        results["population"]["roster"],
        results["online_fraction"],
        results["step_seconds"],
        report["machine"]["cpus"],
        report["machine"]["cpu"].as_str().unwrap_or("?"),
        report["machine"]["kernel"].as_str().unwrap_or("?"),
    );
    let archiving = if results["every_server_archives"] == true {
        "Every server archives each 1:1 message: Simul in its history, Prosody and \
         ejabberd with mod_mam on SQLite."
    } else {
        "Simul archives each 1:1 message (its history); Prosody and ejabberd keep none \
         (`--no-archive`)."
    };
    let _ = writeln!(out, "{archiving}\n");
    let _ = writeln!(out, "Command: `{}`\n", report["command"].as_str().unwrap_or_default());
    headline_table(&mut out, &servers, &names);
    tsung_table(&mut out, &servers);
    doors_table(&mut out, &results["simul_doors"]);
    for server in &servers {
        server_section(&mut out, server);
    }
    out
}

fn headline_table(out: &mut String, servers: &[Value], names: &[String]) {
    let simul = names.iter().position(|n| n == "simul");
    let others: Vec<usize> = (0..names.len()).filter(|&i| Some(i) != simul).collect();
    let _ = write!(out, "| figure |");
    for name in names {
        let _ = write!(out, " {name} |");
    }
    for &i in &others {
        let _ = write!(out, " Simul vs {} |", names[i]);
    }
    let _ = write!(out, "\n|---|");
    for _ in names.iter().chain(others.iter().map(|&i| &names[i])) {
        let _ = write!(out, "---:|");
    }
    out.push('\n');
    for headline in HEADLINES {
        let values: Vec<Option<f64>> = servers.iter().map(headline.value).collect();
        let _ = write!(out, "| {} ({}) |", headline.label, headline.unit);
        for value in &values {
            let _ = write!(out, " {} |", value.map_or("–".to_owned(), format_figure));
        }
        for &i in &others {
            let ratio = match (simul.and_then(|s| values[s]), values[i]) {
                (Some(s), Some(o)) if s > 0.0 && o > 0.0 => {
                    let better = if headline.lower_is_better { o / s } else { s / o };
                    format!("{better:.2}× {}", if better >= 1.0 { "better" } else { "worse" })
                }
                _ => "–".to_owned(),
            };
            let _ = write!(out, " {ratio} |");
        }
        out.push('\n');
    }
    out.push('\n');
}

/// The figures of Tsung, the second load generator, where it ran.
fn tsung_table(out: &mut String, servers: &[Value]) {
    let runs = |server: &Value| server["tsung"].as_array().cloned().unwrap_or_default();
    if servers.iter().all(|server| runs(server).is_empty()) {
        return;
    }
    let _ = writeln!(
        out,
        "Tsung, the second load generator (STARTTLS, 100 sign-ins a second):\n\n\
         | server | idle sessions | KiB per session | sign-in p50 / p99 ms | messages timed | message p50 / p99 ms |\n\
         |---|---:|---:|---:|---:|---:|"
    );
    for server in servers {
        let (mut idle, mut messages) = (Value::Null, Value::Null);
        for run in runs(server) {
            match run["scenario"].as_str() {
                Some("idle-hold") => idle = run,
                Some("messages") => messages = run,
                _ => {}
            }
        }
        let cell = |value: &Value, path: &[&str]| {
            number(value, path).map_or("–".to_owned(), format_figure)
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} / {} | {} | {} / {} |",
            server["server"]["name"].as_str().unwrap_or("?"),
            cell(&idle, &["signed_in"]),
            cell(&idle, &["memory", "per_session_kib"]),
            cell(&idle, &["login", "p50_ms"]),
            cell(&idle, &["login", "p99_ms"]),
            cell(&messages, &["messages", "recorded"]),
            cell(&messages, &["messages", "latency", "p50_ms"]),
            cell(&messages, &["messages", "latency", "p99_ms"]),
        );
    }
    out.push('\n');
}

/// Simul's three doors side by side, where they ran.
fn doors_table(out: &mut String, doors: &Value) {
    if doors.is_null() {
        return;
    }
    let _ = writeln!(
        out,
        "Simul's three doors at the same size (`sessions`; `im`: the sessions in \
         pairs, one message in flight per pair):\n\n\
         | door | KiB per idle session | 1:1 messages/s | p50 / p99 ms | server CPU % |\n\
         |---|---:|---:|---:|---:|"
    );
    let cell = |value: Option<f64>| value.map_or("–".to_owned(), format_figure);
    for door in ["web", "vp", "xmpp"] {
        let (memory, messages) = (&doors[door]["sessions"], &doors[door]["im"]);
        let _ = writeln!(
            out,
            "| {door} | {} | {} | {} / {} | {} |",
            cell(number(memory, &["runs", "0", "per_session_rss_kib"])),
            cell(number(messages, &["runs", "0", "delivered_per_second"])),
            cell(number(messages, &["runs", "0", "latency", "p50_ms"])),
            cell(number(messages, &["runs", "0", "latency", "p99_ms"])),
            cell(number(messages, &["runs", "0", "cpu_percent_of_one_core", "server"])),
        );
    }
    let fan_out = &doors["web_presence"]["runs"][0];
    let _ = writeln!(
        out,
        "\nA status change seen by all {} web sessions: p50 {} ms, p99 {} ms.\n",
        fan_out["sessions"],
        cell(number(fan_out, &["latency", "p50_ms"])),
        cell(number(fan_out, &["latency", "p99_ms"])),
    );
}

fn server_section(out: &mut String, server: &Value) {
    let about = &server["server"];
    let _ = writeln!(
        out,
        "## {} {}\n",
        about["name"].as_str().unwrap_or("?"),
        about["version"].as_str().unwrap_or("")
    );
    for setting in about["settings"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "- {}", setting.as_str().unwrap_or_default());
    }
    let _ = writeln!(
        out,
        "\n| step | offered/s | delivered/s | lost or late | p50 ms | p99 ms | p99.9 ms | server CPU % |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for (kind, scenario, what) in
        [("presence", "presence_storm", "changes"), ("1:1 messages", "messages", "messages")]
    {
        for step in server[scenario].as_array().into_iter().flatten() {
            let outcome = &step["outcome"];
            let cell = |path: &[&str]| number(outcome, path).map_or("–".to_owned(), format_figure);
            let _ = writeln!(
                out,
                "| {kind} | {} | {} | {} | {} | {} | {} | {} |",
                step["step"][what]["offered_per_second"],
                cell(&["delivered_per_second"]),
                number(outcome, &["lost_or_late"]).map_or("–".to_owned(), |n| format!("{n:.0}")),
                cell(&["latency", "p50_ms"]),
                cell(&["latency", "p99_ms"]),
                cell(&["latency", "p999_ms"]),
                number(step, &["cpu_percent_of_one_core", "server"])
                    .map_or("–".to_owned(), format_figure),
            );
        }
    }
    let archived = &server["archived"];
    if let (Some(messages), Some(bytes)) =
        (archived["messages"].as_u64(), number(archived, &["bytes"]))
    {
        let _ = writeln!(
            out,
            "\nIn its archive once stopped: {messages} messages, {} MiB.",
            format_figure(bytes / 1_048_576.0)
        );
    }
    out.push('\n');
}

/// A figure with as many decimals as it deserves.
fn format_figure(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// Draws `latency.png` with gnuplot: p50 and p99 of 1:1 messages against
/// the offered load, one colour a server.
async fn plot(dir: &Path, results: &Value) -> anyhow::Result<()> {
    let mut script = String::from(
        "set terminal pngcairo size 900,540 font 'sans,10'\n\
         set output 'latency.png'\n\
         set title '1:1 message latency against offered load (same machine, same client)'\n\
         set xlabel 'offered load (messages/s)'\nset ylabel 'latency (ms)'\n\
         set logscale xy\nset grid\nset key top left\n",
    );
    let mut plots = Vec::new();
    for (n, server) in results["servers"].as_array().into_iter().flatten().enumerate() {
        let name = server["server"]["name"].as_str().unwrap_or("?");
        let mut data = String::new();
        for step in server["messages"].as_array().into_iter().flatten() {
            let offered = &step["step"]["messages"]["offered_per_second"];
            let (Some(p50), Some(p99)) = (
                number(step, &["outcome", "latency", "p50_ms"]),
                number(step, &["outcome", "latency", "p99_ms"]),
            ) else {
                continue;
            };
            let _ = writeln!(data, "{offered} {p50} {p99}");
        }
        let file = format!("latency-{name}.dat");
        std::fs::write(dir.join(&file), data)?;
        let colour = n + 1;
        plots.push(format!(
            "'{file}' using 1:3 with linespoints lc {colour} lw 2 title '{name} p99'"
        ));
        plots.push(format!(
            "'{file}' using 1:2 with linespoints lc {colour} dt 2 title '{name} p50'"
        ));
    }
    let _ = writeln!(script, "plot {}", plots.join(", \\\n     "));
    std::fs::write(dir.join("latency.gp"), script)?;
    let status = tokio::process::Command::new("gnuplot")
        .arg("latency.gp")
        .current_dir(dir)
        .status()
        .await
        .context("cannot run gnuplot (apt-get install gnuplot-nox)")?;
    anyhow::ensure!(status.success(), "gnuplot failed: {status}");
    Ok(())
}
