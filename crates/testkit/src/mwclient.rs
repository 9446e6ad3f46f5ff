//! The scripted libmeanwhile client (`vp-mwclient`, spec `vp-protocol.md` §12.3): a small C
//! program on Debian's libmeanwhile, the library inside Pidgin's Sametime plugin, so that VP
//! tests exercise the protocol code stock clients really run rather than our own reading of
//! the spec.
//!
//! The C source lives in `crates/testkit/mwclient/vp-mwclient.c` and is compiled by the tests
//! themselves (gcc, `pkg-config --cflags --libs meanwhile glib-2.0`), at most once per test
//! process, into `<target dir>/mwclient/`. The binary's name carries a hash of the source, so
//! an unchanged source is not compiled again by the next process and an edited one is.

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
const SOURCE: &str = include_str!("../mwclient/vp-mwclient.c");

/// How long [`MwClient::expect`] waits for a line: long enough for a loaded CI machine, short
/// enough that a missing event fails the test rather than hanging it.
const EXPECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a missing package looks like to a developer: the fix, not just the symptom.
const PACKAGES_HINT: &str = "the scripted libmeanwhile client needs Debian's packages \
     libmeanwhile-dev libglib2.0-dev pkg-config gcc (apt-get install them, as scripts/test \
     does; never a self-built meanwhile: vp-protocol.md 12.1)";

/// How a [`MwClient`] logs in, beyond user id and password.
#[derive(Debug, Clone)]
pub struct MwOptions {
    /// Log in with auth type 1 and this token (`str token` as auth data, spec §4.6 item 2):
    /// the client rewrites libmeanwhile's password LOGIN on its way out, since libmeanwhile
    /// 1.1.1 cannot send one itself.
    pub token: Option<String>,
    /// Register the RC2/40 and RC2/128 channel ciphers, as Pidgin does (encrypted IM);
    /// `false` gives plaintext IM. The login itself is encrypted either way.
    pub ciphers: bool,
    /// Accept every conference invitation at once instead of waiting for `chat_accept`.
    pub auto_accept: bool,
}

impl Default for MwOptions {
    /// Password login, ciphers registered (like Pidgin), invitations left to `chat_accept`.
    fn default() -> MwOptions {
        MwOptions { token: None, ciphers: true, auto_accept: false }
    }
}

/// A running `vp-mwclient` connected to a VP server: commands go to its stdin, events come
/// back one line each.
///
/// Commands ([`MwClient::send`]): `watch USER`, `unwatch USER`, `status 0xSTATUS TEXT`,
/// `im USER TEXT` (opens the conversation if needed and sends once it is open),
/// `chat_create TOPIC`, `chat_invite USER TEXT`, `chat_say TEXT`, `chat_typing 0|1`,
/// `chat_leave`, `chat_accept`, `save KEY TEXT`, `save_blist USER…` (a Sametime buddy list
/// with group "Buddies", saved as key 0), `load KEY`, `resolve NAME`, `keepalive`, `quit`.
/// Keys and statuses are decimal or `0x` hex. The chat commands act on the conference last
/// created or opened.
///
/// Events ([`MwClient::expect`]), codes in hex, control characters in texts escaped as `\n`,
/// `\r`, `\t`, `\xNN`:
///
/// | event | when |
/// | --- | --- |
/// | `LOGGED_IN user_id=… login_id=… community=… name=…` | the session is started |
/// | `STOPPED 0x80000211 <text>` | the session stopped (reason, `mwError` text); the process then exits, 0 for reason 0, else 1 |
/// | `DISCONNECTED [why]` | the connection failed or the server closed it (then `STOPPED 0x80000221 …` if a session was running) |
/// | `PRESENCE <user> online=<0/1> status=0x0060 msg=<text>` | an awareness snapshot of a watched user |
/// | `IM_OPENED <user>`, `IM_CLOSED <user> 0x…`, `IM <user> <text>`, `TYPING <user> <0/1>` | IM; also `IM_HTML`, `IM_SUBJECT`, `IM_MIME`, `IM_TIMESTAMP` for NotesBuddy parts |
/// | `CHAT_INVITED <name> from=<user> text=<…>`, `CHAT_OPENED <name> members=<u1,u2>`, `CHAT_JOINED <user>`, `CHAT_LEFT <user>`, `CHAT <user> <text>`, `CHAT_TYPING <user> <0/1>`, `CHAT_CLOSED 0x… <name>` | conferences |
/// | `STORED key=0x… result=0x…`, `LOADED key=0x… result=0x… value=<text>` | storage |
/// | `RESOLVED <query> id=<id> name=<name>`, `UNRESOLVED <query> code=0x…` | resolve |
/// | `ADMIN <text>`, `ANNOUNCE from=<user> may_reply=<0/1> text=<…>`, `REDIRECT <host>` | server messages |
/// | `ERROR <text>` | a command the harness could not carry out (usage, no chat, not connected) |
///
/// `MWCLIENT_DEBUG=1` in the test's environment makes the client log libmeanwhile's messages
/// to stderr; the last of those lines are in every panic message of this type.
///
/// Dropping it kills the process.
#[derive(Debug)]
pub struct MwClient {
    /// The process, killed on drop.
    child: Child,
    /// Its stdin; `None` once closed.
    stdin: Option<ChildStdin>,
    /// Lines from the stdout reader thread.
    lines: Receiver<String>,
    /// Every line received so far.
    seen: Vec<String>,
    /// The index in `seen` of the first line [`MwClient::expect`] has not consumed yet.
    next: usize,
    /// Everything the process wrote to stderr.
    stderr: Arc<Mutex<String>>,
}

impl MwClient {
    /// Starts a client logging in to `server` as `user` with `password`, with the default
    /// [`MwOptions`]: ciphers registered, password login.
    ///
    /// # Panics
    ///
    /// If the client cannot be built (see [`MwClient::binary`]) or started.
    pub fn start(server: SocketAddr, user: &str, password: &str) -> MwClient {
        MwClient::start_with(server, user, password, &MwOptions::default())
    }

    /// Starts a client logging in to `server` as `user` with `password` and `options`. It
    /// connects and sends the HANDSHAKE at once; wait for `LOGGED_IN` (or `STOPPED`) with
    /// [`MwClient::expect`].
    ///
    /// # Panics
    ///
    /// If the client cannot be built (see [`MwClient::binary`]) or started.
    pub fn start_with(
        server: SocketAddr,
        user: &str,
        password: &str,
        options: &MwOptions,
    ) -> MwClient {
        let mut command = Command::new(MwClient::binary());
        command.arg(server.ip().to_string()).arg(server.port().to_string()).arg(user).arg(password);
        if let Some(token) = &options.token {
            command.arg("--token").arg(token);
        }
        if !options.ciphers {
            command.arg("--no-cipher");
        }
        if options.auto_accept {
            command.arg("--auto-accept");
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run vp-mwclient: {e}"));
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

        MwClient { child, stdin, lines, seen: Vec::new(), next: 0, stderr }
    }

    /// The compiled client, built on first use in this process (see the module
    /// documentation). Tests need not call it; [`MwClient::start`] does.
    ///
    /// # Panics
    ///
    /// If pkg-config, gcc, or libmeanwhile's or glib's headers are missing (the message names
    /// the Debian packages), or gcc fails (the message has its output).
    pub fn binary() -> &'static Path {
        static BINARY: OnceLock<PathBuf> = OnceLock::new();
        BINARY.get_or_init(build)
    }

    /// Sends one command line (see [`MwClient`] for the commands), without the newline.
    ///
    /// # Panics
    ///
    /// If `command` contains a line break, or the client no longer reads commands (it
    /// exited); the message has the events so far.
    pub fn send(&mut self, command: &str) {
        assert!(!command.contains(['\n', '\r']), "a vp-mwclient command is one line: {command:?}");
        let written = match self.stdin.as_mut() {
            Some(stdin) => {
                stdin.write_all(format!("{command}\n").as_bytes()).and_then(|()| stdin.flush())
            }
            None => Err(std::io::Error::other("stdin already closed")),
        };
        if let Err(e) = written {
            self.drain();
            panic!("cannot send {command:?} to vp-mwclient: {e}\n{}", self.report());
        }
    }

    /// Waits up to 10 seconds for the next event line starting with `prefix` and returns it
    /// whole. Lines before it are consumed (they stay in [`MwClient::events`]), so successive
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
                    format!("vp-mwclient exited ({status})")
                }
            };
            let skipped = self.seen[start..].join("\n  ");
            panic!(
                "expected a vp-mwclient event starting with {prefix:?}: {failure}\n\
                 skipped lines:\n  {skipped}\n{}",
                self.report()
            );
        }
    }

    /// Every event line received so far, consumed by [`MwClient::expect`] or not.
    pub fn events(&mut self) -> &[String] {
        self.drain();
        &self.seen
    }

    /// Waits up to `timeout` for the client to exit, for tests that check the process really
    /// ends (after `STOPPED`, `quit` or [`MwClient::close_stdin`]).
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
                    panic!("vp-mwclient still runs after {timeout:?}\n{}", self.report());
                }
                Err(e) => panic!("cannot wait for vp-mwclient: {e}"),
            }
        }
    }

    /// Closes stdin: the client then stops its session as with `quit`.
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
        let _ = write!(report, "stderr (MWCLIENT_DEBUG=1 logs libmeanwhile):\n  {tail}");
        report
    }
}

impl Drop for MwClient {
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
    let binary = dir.join(format!("vp-mwclient-{hash:016x}"));
    if binary.exists() {
        return binary;
    }
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));

    let flags = Command::new("pkg-config")
        .args(["--cflags", "--libs", "meanwhile", "glib-2.0"])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run pkg-config ({e}): {PACKAGES_HINT}"));
    if !flags.status.success() {
        panic!(
            "pkg-config --cflags --libs meanwhile glib-2.0 failed ({}): {}\n{PACKAGES_HINT}",
            flags.status,
            String::from_utf8_lossy(&flags.stderr).trim()
        );
    }
    let flags = String::from_utf8_lossy(&flags.stdout).into_owned();

    // Unique names per process, then a rename: test processes running at once (nextest runs
    // one per test) must never see a half-written source or binary.
    let pid = std::process::id();
    let source = dir.join(format!("vp-mwclient-{hash:016x}.{pid}.c"));
    let partial = dir.join(format!("vp-mwclient-{hash:016x}.{pid}.partial"));
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
            "gcc failed to build vp-mwclient ({}):\n{}{}\n{PACKAGES_HINT}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    fs::rename(&partial, &binary)
        .unwrap_or_else(|e| panic!("cannot move vp-mwclient into {}: {e}", binary.display()));
    binary
}

/// `<target dir>/<profile>/mwclient`, found from the running test binary
/// (`target/debug/deps/…`), so the build lands next to cargo's and `cargo clean` removes it;
/// the system temporary directory if that cannot be found.
fn cache_dir() -> PathBuf {
    let exe_dir = std::env::current_exe().ok().and_then(|exe| exe.parent().map(Path::to_path_buf));
    match exe_dir {
        Some(dir) if dir.file_name().is_some_and(|name| name == "deps") => {
            dir.parent().map_or(dir.clone(), Path::to_path_buf).join("mwclient")
        }
        Some(dir) => dir.join("mwclient"),
        None => std::env::temp_dir().join("simul-mwclient"),
    }
}
