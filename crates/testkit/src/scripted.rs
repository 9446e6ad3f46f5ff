//! What the scripted test clients ([`crate::MwClient`], [`crate::PurpleClient`], [`crate::XmppClient`]) share:
//! compiling their embedded source once, and running one with commands on stdin and one
//! event a line on stdout.
//!
//! A client's binary lands in `<target dir>/<profile>/<dir>/`, named after a hash of its
//! source, so an unchanged source is not compiled again by the next test process and an edited
//! one is.

use std::collections::hash_map::DefaultHasher;
use std::fmt::Write as _;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// One C test client: its source and how to build and describe it.
pub(crate) struct Harness {
    /// The program's name (`vp-mwclient`).
    pub(crate) name: &'static str,
    /// Its C source.
    pub(crate) source: &'static str,
    /// The pkg-config packages it links with.
    pub(crate) pkg_config: &'static [&'static str],
    /// The folder of the target directory its builds go to.
    pub(crate) cache: &'static str,
    /// What to install when the build fails for want of a package.
    pub(crate) packages_hint: &'static str,
    /// How to see the library's own log, for panic messages.
    pub(crate) debug_hint: &'static str,
    /// How long [`Scripted::expect`] waits for a line.
    pub(crate) expect_timeout: Duration,
}

impl Harness {
    /// Compiles the source into the cache directory unless a binary of the same source is
    /// there; its path.
    pub(crate) fn build(&self) -> PathBuf {
        let mut hasher = DefaultHasher::new();
        self.source.hash(&mut hasher);
        let hash = hasher.finish();
        let dir = self.cache_dir();
        let binary = dir.join(format!("{}-{hash:016x}", self.name));
        if binary.exists() {
            return binary;
        }
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let hint = self.packages_hint;
        let packages = self.pkg_config.join(" ");
        let flags = Command::new("pkg-config")
            .args(["--cflags", "--libs"])
            .args(self.pkg_config)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run pkg-config ({e}): {hint}"));
        if !flags.status.success() {
            panic!(
                "pkg-config --cflags --libs {packages} failed ({}): {}\n{hint}",
                flags.status,
                String::from_utf8_lossy(&flags.stderr).trim()
            );
        }
        let flags = String::from_utf8_lossy(&flags.stdout).into_owned();

        // Unique names per process, then a rename: test processes running at once (nextest
        // runs one per test) must never see a half-written source or binary.
        let pid = std::process::id();
        let source = dir.join(format!("{}-{hash:016x}.{pid}.c", self.name));
        let partial = dir.join(format!("{}-{hash:016x}.{pid}.partial", self.name));
        fs::write(&source, self.source)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", source.display()));
        // The libraries come after the source: Debian's linker drops libraries that nothing
        // before them needs (--as-needed), spec 12.2.
        let output = Command::new("gcc")
            .args(["-std=gnu99", "-Wall", "-o"])
            .arg(&partial)
            .arg(&source)
            .args(flags.split_whitespace())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run gcc ({e}): {hint}"));
        let _ = fs::remove_file(&source);
        if !output.status.success() {
            let _ = fs::remove_file(&partial);
            panic!(
                "gcc failed to build {} ({}):\n{}{}\n{hint}",
                self.name,
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        fs::rename(&partial, &binary)
            .unwrap_or_else(|e| panic!("cannot move {} into {}: {e}", self.name, binary.display()));
        binary
    }

    /// `<target dir>/<profile>/<cache>`, found from the running test binary
    /// (`target/debug/deps/…`), so the build lands next to cargo's and `cargo clean` removes
    /// it; the system temporary directory if that cannot be found.
    fn cache_dir(&self) -> PathBuf {
        let exe_dir =
            std::env::current_exe().ok().and_then(|exe| exe.parent().map(Path::to_path_buf));
        match exe_dir {
            Some(dir) if dir.file_name().is_some_and(|name| name == "deps") => {
                dir.parent().map_or(dir.clone(), Path::to_path_buf).join(self.cache)
            }
            Some(dir) => dir.join(self.cache),
            None => std::env::temp_dir().join(format!("simul-{}", self.cache)),
        }
    }
}

/// A running client: commands go to its stdin, events come back one line each.
#[derive(Debug)]
pub struct Scripted {
    name: &'static str,
    debug_hint: &'static str,
    expect_timeout: Duration,
    /// The process, killed on drop.
    child: Child,
    /// Its stdin; `None` once closed.
    stdin: Option<ChildStdin>,
    /// Lines from the stdout reader thread.
    lines: Receiver<String>,
    /// Every line received so far.
    seen: Vec<String>,
    /// The index in `seen` of the first line [`Scripted::expect`] has not consumed yet.
    next: usize,
    /// Everything the process wrote to stderr.
    stderr: Arc<Mutex<String>>,
}

impl Scripted {
    /// Runs `command` (a build of `harness`) with piped stdin, stdout and stderr.
    pub(crate) fn spawn(harness: &Harness, mut command: Command) -> Scripted {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", harness.name));
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
        Scripted {
            name: harness.name,
            debug_hint: harness.debug_hint,
            expect_timeout: harness.expect_timeout,
            child,
            stdin,
            lines,
            seen: Vec::new(),
            next: 0,
            stderr,
        }
    }

    /// Sends one command line, without the newline.
    pub fn send(&mut self, command: &str) {
        assert!(
            !command.contains(['\n', '\r']),
            "a {} command is one line: {command:?}",
            self.name
        );
        let written = match self.stdin.as_mut() {
            Some(stdin) => {
                stdin.write_all(format!("{command}\n").as_bytes()).and_then(|()| stdin.flush())
            }
            None => Err(std::io::Error::other("stdin already closed")),
        };
        if let Err(e) = written {
            self.drain();
            panic!("cannot send {command:?} to {}: {e}\n{}", self.name, self.report());
        }
    }

    /// The next event line starting with `prefix`, whole; lines before it are consumed.
    pub fn expect(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + self.expect_timeout;
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
                Err(RecvTimeoutError::Timeout) => {
                    format!("no line within {:?}", self.expect_timeout)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().map(|s| s.to_string()).unwrap_or_default();
                    format!("{} exited ({status})", self.name)
                }
            };
            let skipped = self.seen[start..].join("\n  ");
            panic!(
                "expected a {} event starting with {prefix:?}: {failure}\n\
                 skipped lines:\n  {skipped}\n{}",
                self.name,
                self.report()
            );
        }
    }

    /// The next event line starting with `prefix` that contains every one of `parts`;
    /// other lines of that prefix are consumed on the way (a client may report a state
    /// several times before the one a test waits for).
    pub fn expect_matching(&mut self, prefix: &str, parts: &[&str]) -> String {
        loop {
            let line = self.expect(prefix);
            if parts.iter().all(|part| line.contains(part)) {
                return line;
            }
        }
    }

    /// Every event line received so far.
    pub fn events(&mut self) -> &[String] {
        self.drain();
        &self.seen
    }

    /// Waits up to `timeout` for the process to exit.
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
                    panic!("{} still runs after {timeout:?}\n{}", self.name, self.report());
                }
                Err(e) => panic!("cannot wait for {}: {e}", self.name),
            }
        }
    }

    /// The client's process id (to stop and continue it with signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Closes stdin.
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
        let _ = write!(report, "stderr ({}):\n  {tail}", self.debug_hint);
        report
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
