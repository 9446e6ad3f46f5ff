//! The server's logging: standard output (text or JSON) at levels the
//! console can change while the server runs (a reload handle on the
//! filter), the latest lines kept in memory for the console's tail and
//! its diagnostics, and the levels saved to the configuration file with
//! its comments kept (`toml_edit`). Every text that leaves the process
//! this way is scrubbed of the secrets the process knows.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _, Registry, reload};
use zeroize::Zeroizing;

use crate::config::{Config, LogFormat};
use crate::config_file::ConfigFile;

/// How many lines the memory keeps.
const KEPT_LINES: usize = 2_000;

/// A longer line is cut (the memory stays bounded whatever is logged).
const MAX_LINE_BYTES: usize = 2_048;

/// What stands where a secret was.
const REMOVED: &str = "<removed>";

/// Secrets shorter than this are not looked for: they would blank out
/// ordinary words (and no configured secret is that short).
const MIN_SECRET_CHARS: usize = 6;

/// Configuration keys whose values are secrets, whatever their section.
const SECRET_KEY_WORDS: [&str; 6] =
    ["password", "secret", "token", "credential", "passphrase", "private"];

/// The latest lines logged.
#[derive(Default)]
struct Ring(Mutex<VecDeque<String>>);

impl Ring {
    fn lines(&self) -> MutexGuard<'_, VecDeque<String>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, line: &str) {
        let mut line = line.to_owned();
        if line.len() > MAX_LINE_BYTES {
            let mut end = MAX_LINE_BYTES;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            line.truncate(end);
            line.push('…');
        }
        let mut lines = self.lines();
        if lines.len() == KEPT_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }
}

/// The writer the in-memory layer formats each event into.
#[derive(Clone)]
struct RingWriter(Arc<Ring>);

/// One event's text; its lines go to the ring when the layer is done.
struct LineBuffer {
    ring: Arc<Ring>,
    bytes: Vec<u8>,
}

impl<'a> MakeWriter<'a> for RingWriter {
    type Writer = LineBuffer;

    fn make_writer(&'a self) -> LineBuffer {
        LineBuffer { ring: self.0.clone(), bytes: Vec::new() }
    }
}

impl std::io::Write for LineBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.bytes.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineBuffer {
    fn drop(&mut self) {
        for line in String::from_utf8_lossy(&self.bytes).lines() {
            self.ring.push(line);
        }
    }
}

/// The running server's logs, as the console sees them.
pub struct Logs {
    handle: reload::Handle<EnvFilter, Registry>,
    filter: Mutex<String>,
    ring: Arc<Ring>,
    /// Where `save` writes (`--config FILE`), if the server was given one.
    config_file: ConfigFile,
    /// The configuration in full, secrets removed (TOML).
    configuration: String,
    /// Secret values to scrub from what leaves the process.
    secrets: Mutex<Vec<Zeroizing<String>>>,
}

impl Logs {
    /// Logs to standard output at the configured levels, as text or
    /// JSON, and keeps the latest lines; `config_file` is where the
    /// levels are saved to.
    pub fn start(config: &Config, config_file: Option<&Path>) -> Arc<Self> {
        let (filter, handle) = reload::Layer::new(EnvFilter::new(&config.log));
        let ring = Arc::new(Ring::default());
        let output = match config.log_format {
            // Colours only for a terminal: a file or a journal gets plain text.
            LogFormat::Text => tracing_subscriber::fmt::layer()
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
                .boxed(),
            // Fields at the top level, where a log collector looks for them.
            LogFormat::Json => tracing_subscriber::fmt::layer().json().flatten_event(true).boxed(),
        };
        let kept =
            tracing_subscriber::fmt::layer().with_ansi(false).with_writer(RingWriter(ring.clone()));
        tracing_subscriber::registry().with(filter).with(output).with(kept).init();
        let logs = Self {
            handle,
            filter: Mutex::new(config.log.clone()),
            ring,
            config_file: ConfigFile::new(config_file),
            configuration: redacted(config),
            secrets: Mutex::default(),
        };
        if let Some(password) = &config.directory.ldap.bind_password {
            logs.keep_secret(&password.0);
        }
        if let Some(file) = &config.directory.ldap.bind_password_file
            && let Ok(text) = std::fs::read_to_string(file)
        {
            logs.keep_secret(text.trim_end_matches(['\r', '\n']));
        }
        Arc::new(logs)
    }

    /// Scrubs `secret` from what leaves the process from now on.
    pub fn keep_secret(&self, secret: &str) {
        if secret.chars().count() >= MIN_SECRET_CHARS {
            self.secrets
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(secret.to_owned().into());
        }
    }
}

impl simul_web::console::LogControl for Logs {
    fn filter(&self) -> String {
        self.filter.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn apply(&self, filter: &str) -> Result<(), String> {
        crate::config::check_log_filter(filter).map_err(|error| error.to_string())?;
        let parsed = EnvFilter::try_new(filter).map_err(|error| error.to_string())?;
        self.handle.reload(parsed).map_err(|error| error.to_string())?;
        *self.filter.lock().unwrap_or_else(PoisonError::into_inner) = filter.to_owned();
        Ok(())
    }

    fn save(&self, filter: &str) -> Result<String, String> {
        self.config_file
            .edit(|document| crate::config_file::set(document.as_table_mut(), "log", filter))
            .map_err(|error| format!("{error:#}"))
    }

    fn recent(&self, needle: &str, limit: usize) -> Vec<String> {
        let needle = needle.to_lowercase();
        let lines = self.ring.lines();
        let mut matching: Vec<String> = lines
            .iter()
            .rev()
            .filter(|line| needle.is_empty() || line.to_lowercase().contains(&needle))
            .take(limit)
            .map(|line| self.scrub(line))
            .collect();
        matching.reverse();
        matching
    }

    fn configuration(&self) -> String {
        self.scrub(&self.configuration)
    }

    fn scrub(&self, text: &str) -> String {
        let secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        let mut text = text.to_owned();
        for secret in secrets.iter() {
            // As written, and as a log field quotes it (`user="..."`).
            let quoted = format!("{:?}", secret.as_str());
            let escaped = &quoted[1..quoted.len() - 1];
            text = text.replace(secret.as_str(), REMOVED).replace(escaped, REMOVED);
        }
        text
    }
}

/// The configuration in full as TOML, the value of every key that names a
/// secret removed, in any section.
fn redacted(config: &Config) -> String {
    let mut value = match toml::Value::try_from(config.in_full()) {
        Ok(value) => value,
        Err(error) => return format!("# the configuration could not be shown: {error}\n"),
    };
    remove_secrets(&mut value);
    toml::to_string_pretty(&value).unwrap_or_default()
}

fn remove_secrets(value: &mut toml::Value) {
    match value {
        toml::Value::Table(table) => {
            for (key, value) in table.iter_mut() {
                // `bind_password` and `domino_secret` are secrets;
                // `bind_password_file` is where one is, and stays.
                let key = key.to_ascii_lowercase();
                let secret =
                    key.split(['_', '-', '.']).any(|word| SECRET_KEY_WORDS.contains(&word));
                if secret && !key.ends_with("_file") {
                    *value = toml::Value::String(REMOVED.into());
                } else {
                    remove_secrets(value);
                }
            }
        }
        toml::Value::Array(items) => items.iter_mut().for_each(remove_secrets),
        _ => {}
    }
}
