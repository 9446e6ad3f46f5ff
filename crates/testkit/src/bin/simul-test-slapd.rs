//! `simul-test-slapd`: the fixture slapd of [`simul_testkit`] as a process, for tests written
//! in other languages (the browser end-to-end tests in `e2e/`).
//!
//! It starts a [`Slapd`] (with `--crowd N`, also N more people of [`simul_testkit::crowd_ldif`]),
//! prints one JSON line to stdout and flushes it:
//!
//! ```json
//! {"url": "ldap://127.0.0.1:PORT", "ldaps_url": "ldaps://127.0.0.1:PORT", "ca": "/tmp/…/ca.pem",
//!  "suffix": "dc=renovations,dc=com", "root_dn": "cn=admin,dc=renovations,dc=com",
//!  "root_password": "admin-secret"}
//! ```
//!
//! then runs until stdin closes (EOF: the parent closed the pipe or exited; with stdin already
//! closed, such as `</dev/null`, that is at once) or it gets SIGTERM, SIGINT or SIGHUP, and
//! then stops slapd and deletes its temporary directory. SIGKILL cannot be caught: it leaves
//! slapd running. If slapd does not start, it exits with status 101 and the reason (with the
//! tail of slapd's log) on stderr, and prints nothing on stdout.

use std::io::{self, Read as _, Write as _};
use std::process::ExitCode;

use simul_testkit::{ROOT_DN, ROOT_PASSWORD, SUFFIX, Slapd};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let crowd = match args.as_slice() {
        [] => Some(0),
        [flag, n] if flag == "--crowd" => n.parse::<usize>().ok(),
        _ => None,
    };
    let Some(crowd) = crowd else {
        eprintln!("usage: simul-test-slapd [--crowd N]");
        return ExitCode::from(2);
    };
    let slapd = Slapd::start_with(&simul_testkit::crowd_ldif(crowd));
    let line = serde_json::json!({
        "url": slapd.url(),
        "ldaps_url": slapd.ldaps_url(),
        "ca": slapd.ca_pem_path().display().to_string(),
        "suffix": SUFFIX,
        "root_dn": ROOT_DN,
        "root_password": ROOT_PASSWORD,
    });
    let printed = {
        let mut out = io::stdout().lock();
        writeln!(out, "{line}").and_then(|()| out.flush())
    };
    let code = match printed {
        Ok(()) => {
            wait_for_the_end();
            ExitCode::SUCCESS
        }
        // Nobody reads the line: the parent is gone already.
        Err(error) => {
            eprintln!("simul-test-slapd: cannot write to stdout: {error}");
            ExitCode::FAILURE
        }
    };
    drop(slapd);
    code
}

/// Returns once stdin is at its end (or unreadable) or a SIGTERM, SIGINT or SIGHUP arrives.
fn wait_for_the_end() {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            // No signals then; stdin alone still ends it.
            eprintln!("simul-test-slapd: no signal handling ({error}); runs until stdin closes");
            read_to_end_of_stdin();
            return;
        }
    };
    runtime.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let stdin_closed = tokio::task::spawn_blocking(read_to_end_of_stdin);
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            eprintln!("simul-test-slapd: cannot handle signals; runs until stdin closes");
            let _ = stdin_closed.await;
            return;
        };
        tokio::select! {
            _ = stdin_closed => {}
            _ = term.recv() => {}
            _ = int.recv() => {}
            _ = hup.recv() => {}
        }
    });
    // The stdin reader may still be blocked in `read`: do not wait for it.
    runtime.shutdown_background();
}

/// Reads and discards stdin until its end or an error.
fn read_to_end_of_stdin() {
    let mut stdin = io::stdin().lock();
    let mut buffer = [0_u8; 1024];
    loop {
        match stdin.read(&mut buffer) {
            Ok(0) => return,
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}
