//! The headless Pidgin client (`vp-purpleclient`, spec `vp-protocol.md` §12.4): a small C
//! program in the manner of libpurple's `nullclient.c` that runs Pidgin's own Sametime plugin
//! (`prpl-meanwhile` from Debian's libpurple) without a UI, so that VP tests see what Pidgin
//! users see: its sign-on, its connection errors, its buddy list, its conversations.
//!
//! The C source lives in `crates/testkit/purpleclient/vp-purpleclient.c` and is compiled by the
//! tests themselves (gcc, `pkg-config --cflags --libs purple glib-2.0`), at most once per test
//! process, into `<target dir>/purpleclient/`. The binary's name carries a hash of the source,
//! so an unchanged source is not compiled again by the next process and an edited one is.

use std::collections::hash_map::DefaultHasher;
use std::fmt::Write as _;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// The harness's source, embedded so that the compiled binary always matches this crate.
const SOURCE: &str = include_str!("../purpleclient/vp-purpleclient.c");

/// How long [`PurpleClient::expect`] waits for a line: libpurple is slower than bare
/// libmeanwhile (it starts its core, loads plugins, resolves and schedules), so longer than
/// [`crate::MwClient`]'s, yet short enough that a missing event fails the test rather than
/// hanging it.
const EXPECT_TIMEOUT: Duration = Duration::from_secs(20);

/// What a missing package looks like to a developer: the fix, not just the symptom.
const PACKAGES_HINT: &str = "the headless Pidgin client needs Debian's packages \
     libpurple-dev libglib2.0-dev pkg-config gcc (apt-get install them, as scripts/test does; \
     libpurple0 brings the prpl-meanwhile plugin)";

/// A running `vp-purpleclient`: Pidgin's Sametime plugin signed in to a VP server with its own
/// fresh profile directory; commands go to its stdin, events come back one line each.
///
/// Commands ([`PurpleClient::send`]): `im USER TEXT` (a new or existing IM conversation, then
/// `purple_conv_im_send`), `add USER` (a buddy in group "Buddies": the plugin resolves and
/// watches it), `away TEXT`, `dnd TEXT`, `available` (saved statuses), `chat TOPIC` (creates a
/// conference), `invite USER [TEXT]` and `say TEXT` (in the chat last joined), `quit`
/// (disconnects and exits).
///
/// Events ([`PurpleClient::expect`]), control characters in texts escaped as `\n`, `\r`, `\t`,
/// `\xNN`, displayed texts with their markup stripped, flags as `PurpleMessageFlags` names
/// joined by `|` (`SEND`, `RECV`, `SYSTEM`, `ERROR`, …) or `0`:
///
/// | event | when |
/// | --- | --- |
/// | `SIGNED_ON`, `SIGNED_OFF` | the account's connection is up, or gone |
/// | `CONNECTION_ERROR <n> <text>` | libpurple's `connection-error`: the `PurpleConnectionError` number (2 = authentication failed, 0 = network error, …) and the sentence Pidgin shows |
/// | `BUDDY_STATUS <name> <status id> <message>` | a buddy's status changed (ids of the plugin: `active`, `away`, `dnd`, `offline`) |
/// | `BUDDY_SIGNED_ON <name>`, `BUDDY_SIGNED_OFF <name>` | a buddy came online or went offline |
/// | `IM <who> <text>` | a received IM as Pidgin displays it |
/// | `IM_LINE <who> <flags> <text>` | any other line of an IM conversation: the own sent lines (`SEND`), errors, system lines |
/// | `CHAT_INVITED <inviter> <chat> <text>` | an invitation, which the client accepts at once |
/// | `CHAT_JOINED <chat> <title>`, `CHAT_BUDDY_JOINED <name>`, `CHAT_BUDDY_LEFT <name>` | conferences |
/// | `CHAT_LINE <who> <flags> <text>` | a displayed chat line (a `SEND` line of one's own proves the server's echo) |
/// | `ERROR <text>` | a command the harness could not carry out (usage, no chat, not connected) |
///
/// `PURPLECLIENT_DEBUG=1` in the test's environment sends libpurple's debug log to stderr; the
/// last of those lines are in every panic message of this type.
///
/// Dropping it kills the process and removes its profile directory.
#[derive(Debug)]
pub struct PurpleClient {
    /// The process, killed on drop.
    child: Child,
    /// Its stdin; `None` once closed.
    stdin: Option<ChildStdin>,
    /// Lines from the stdout reader thread.
    lines: Receiver<String>,
    /// Every line received so far.
    seen: Vec<String>,
    /// The index in `seen` of the first line [`PurpleClient::expect`] has not consumed yet.
    next: usize,
    /// Everything the process wrote to stderr.
    stderr: Arc<Mutex<String>>,
    /// libpurple's profile directory, fresh for every client.
    _profile: tempfile::TempDir,
}

impl PurpleClient {
    /// Starts Pidgin's plugin signing in to `server` as `user` with `password`, with a fresh
    /// profile (no buddies, default preferences) and the available status. Wait for
    /// `SIGNED_ON` (or `CONNECTION_ERROR`) with [`PurpleClient::expect`].
    ///
    /// # Panics
    ///
    /// If the client cannot be built (see [`PurpleClient::binary`]) or started.
    pub fn start(server: SocketAddr, user: &str, password: &str) -> PurpleClient {
        let profile = tempfile::Builder::new()
            .prefix("simul-purple-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a libpurple profile directory: {e}"));
        let mut command = Command::new(PurpleClient::binary());
        command
            .arg(server.ip().to_string())
            .arg(server.port().to_string())
            .arg(user)
            .arg(password)
            .arg(profile.path());
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run vp-purpleclient: {e}"));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let mut child_stderr = child.stderr.take().expect("piped stderr");

        // Reader threads, so that expect() can wait with a timeout and a chatty stderr can
        // never block the client.
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&line);
                        let text = text.trim_end_matches(['\n', '\r']).to_owned();
                        if sender.send(text).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let collected = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = child_stderr.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&buffer[..n]);
                collected.lock().unwrap_or_else(|e| e.into_inner()).push_str(&text);
            }
        });

        PurpleClient { child, stdin, lines, seen: Vec::new(), next: 0, stderr, _profile: profile }
    }

    /// The compiled client, built on first use in this process (see the module
    /// documentation). Tests need not call it; [`PurpleClient::start`] does.
    ///
    /// # Panics
    ///
    /// If pkg-config, gcc, or libpurple's or glib's headers are missing (the message names
    /// the Debian packages), or gcc fails (the message has its output).
    pub fn binary() -> &'static Path {
        static BINARY: OnceLock<PathBuf> = OnceLock::new();
        BINARY.get_or_init(build)
    }

    /// Sends one command line (see [`PurpleClient`] for the commands), without the newline.
    ///
    /// # Panics
    ///
    /// If `command` contains a line break, or the client no longer reads commands (it
    /// exited); the message has the events so far.
    pub fn send(&mut self, command: &str) {
        assert!(
            !command.contains(['\n', '\r']),
            "a vp-purpleclient command is one line: {command:?}"
        );
        let written = match self.stdin.as_mut() {
            Some(stdin) => {
                stdin.write_all(format!("{command}\n").as_bytes()).and_then(|()| stdin.flush())
            }
            None => Err(std::io::Error::other("stdin already closed")),
        };
        if let Err(e) = written {
            self.drain();
            panic!("cannot send {command:?} to vp-purpleclient: {e}\n{}", self.report());
        }
    }

    /// Waits up to 20 seconds for the next event line starting with `prefix` and returns it
    /// whole. Lines before it are consumed (they stay in [`PurpleClient::events`]), so successive
    /// calls see events in order.
    ///
    /// # Panics
    ///
    /// If no such line arrives in time or the client exits first; the message lists the lines
    /// skipped and the client's stderr.
    pub fn expect(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + EXPECT_TIMEOUT;
        let start = self.next;
        loop {
            while self.next < self.seen.len() {
                let line = &self.seen[self.next];
                self.next += 1;
                if line.starts_with(prefix) {
                    return line.clone();
                }
            }
            let wait = deadline.saturating_duration_since(Instant::now());
            let failure = match self.lines.recv_timeout(wait) {
                Ok(line) => {
                    self.seen.push(line);
                    continue;
                }
                Err(RecvTimeoutError::Timeout) => format!("no line within {EXPECT_TIMEOUT:?}"),
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                    format!("vp-purpleclient exited ({status})")
                }
            };
            let skipped = self.seen[start..].join("\n  ");
            panic!(
                "expected a vp-purpleclient event starting with {prefix:?}: {failure}\n\
                 skipped lines:\n  {skipped}\n{}",
                self.report()
            );
        }
    }

    /// Every event line received so far, consumed by [`PurpleClient::expect`] or not.
    pub fn events(&mut self) -> &[String] {
        self.drain();
        &self.seen
    }

    /// Waits up to `timeout` for the client to exit, for tests that check the process really
    /// ends (after `quit` or [`PurpleClient::close_stdin`]).
    ///
    /// # Panics
    ///
    /// If it is still running after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status,
                Ok(None) if Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(10));
                }
                Ok(None) => {
                    self.drain();
                    panic!("vp-purpleclient still runs after {timeout:?}\n{}", self.report());
                }
                Err(e) => panic!("cannot wait for vp-purpleclient: {e}"),
            }
        }
    }

    /// Closes stdin: the client then disconnects and exits as with `quit`.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Moves the lines that have arrived into `seen`, without waiting.
    fn drain(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
    }

    /// The events so far and the tail of stderr, for panic messages.
    fn report(&self) -> String {
        let stderr = self.stderr.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let lines: Vec<&str> = stderr.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n  ");
        let mut report = format!("all events:\n  {}\n", self.seen.join("\n  "));
        let _ = write!(report, "stderr (PURPLECLIENT_DEBUG=1 logs libpurple):\n  {tail}");
        report
    }
}

impl Drop for PurpleClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Compiles [`SOURCE`] into the cache directory unless a binary of the same source is there.
fn build() -> PathBuf {
    let mut hasher = DefaultHasher::new();
    SOURCE.hash(&mut hasher);
    let hash = hasher.finish();
    let dir = cache_dir();
    let binary = dir.join(format!("vp-purpleclient-{hash:016x}"));
    if binary.exists() {
        return binary;
    }
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));

    let flags = Command::new("pkg-config")
        .args(["--cflags", "--libs", "purple", "glib-2.0"])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run pkg-config ({e}): {PACKAGES_HINT}"));
    if !flags.status.success() {
        panic!(
            "pkg-config --cflags --libs purple glib-2.0 failed ({}): {}\n{PACKAGES_HINT}",
            flags.status,
            String::from_utf8_lossy(&flags.stderr).trim()
        );
    }
    let flags = String::from_utf8_lossy(&flags.stdout).into_owned();

    // Unique names per process, then a rename: test processes running at once (nextest runs
    // one per test) must never see a half-written source or binary.
    let pid = std::process::id();
    let source = dir.join(format!("vp-purpleclient-{hash:016x}.{pid}.c"));
    let partial = dir.join(format!("vp-purpleclient-{hash:016x}.{pid}.partial"));
    fs::write(&source, SOURCE).unwrap_or_else(|e| panic!("cannot write {}: {e}", source.display()));
    // The libraries come after the source: Debian's linker drops libraries that nothing
    // before them needs (--as-needed), spec 12.2.
    let output = Command::new("gcc")
        .arg("-std=gnu99")
        .arg("-Wall")
        .arg("-o")
        .arg(&partial)
        .arg(&source)
        .args(flags.split_whitespace())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run gcc ({e}): {PACKAGES_HINT}"));
    let _ = fs::remove_file(&source);
    if !output.status.success() {
        let _ = fs::remove_file(&partial);
        panic!(
            "gcc failed to build vp-purpleclient ({}):\n{}{}\n{PACKAGES_HINT}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    fs::rename(&partial, &binary)
        .unwrap_or_else(|e| panic!("cannot move vp-purpleclient into {}: {e}", binary.display()));
    binary
}

/// `<target dir>/<profile>/purpleclient`, found from the running test binary
/// (`target/debug/deps/…`), so the build lands next to cargo's and `cargo clean` removes it;
/// the system temporary directory if that cannot be found.
fn cache_dir() -> PathBuf {
    let exe_dir = std::env::current_exe().ok().and_then(|exe| exe.parent().map(Path::to_path_buf));
    match exe_dir {
        Some(dir) if dir.file_name().is_some_and(|name| name == "deps") => {
            dir.parent().map_or(dir.clone(), Path::to_path_buf).join("purpleclient")
        }
        Some(dir) => dir.join("purpleclient"),
        None => std::env::temp_dir().join("simul-purpleclient"),
    }
}
