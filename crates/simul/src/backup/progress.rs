//! A progress line for long copies, on standard error and only when that
//! is a terminal (a cron job's mail and a journal get none).

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

/// How often the line changes at most.
const EVERY: Duration = Duration::from_millis(200);

/// The progress line.
pub struct Progress {
    terminal: bool,
    last: Option<Instant>,
}

impl Progress {
    /// A line on standard error if it is a terminal, else nothing.
    pub fn new() -> Self {
        Self { terminal: std::io::stderr().is_terminal(), last: None }
    }

    /// Shows "WHAT: DONE of TOTAL" (at most five times a second).
    pub fn show(&mut self, what: &str, done: u64, total: u64) {
        if !self.terminal || self.last.is_some_and(|last| last.elapsed() < EVERY) {
            return;
        }
        self.last = Some(Instant::now());
        eprint!("\r{what}: {} of {}\x1b[K", size(done), size(total));
    }

    /// Clears the line.
    pub fn clear(&mut self) {
        if self.last.take().is_some() {
            eprint!("\r\x1b[K");
        }
    }
}

/// A size for people: "512 bytes", "38 kB", "12.4 MB", "3.02 GB".
pub fn size(bytes: u64) -> String {
    let value = bytes as f64;
    match bytes {
        0..10_000 => format!("{bytes} bytes"),
        10_000..1_000_000 => format!("{:.0} kB", value / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", value / 1e6),
        _ => format!("{:.2} GB", value / 1e9),
    }
}
