//! What the console may do with the serving process's logs. The `simul`
//! binary owns the logging (its subscriber, its configuration file) and
//! hands the web door this handle; the console's log page and its
//! diagnostics download only call it.

/// The logs of the serving process, as the console changes and reads them.
pub trait LogControl: Send + Sync {
    /// The log filter in force now (`info`, `warn,simul_web=debug`).
    fn filter(&self) -> String;

    /// Applies `filter` now, until the process ends. `Err`: a sentence
    /// naming what is wrong with it (nothing changed).
    fn apply(&self, filter: &str) -> Result<(), String>;

    /// Writes `filter` as `log` into the configuration file, keeping the
    /// rest of the file as it is, for the next start; what it wrote to.
    /// `Err`: a sentence (no file to write to, or it could not be written).
    fn save(&self, filter: &str) -> Result<String, String>;

    /// The latest lines logged (at most `limit`, oldest first) that
    /// contain `needle` (any case; every line when empty), secrets the
    /// process knows removed.
    fn recent(&self, needle: &str, limit: usize) -> Vec<String>;

    /// The configuration in full with every secret removed (TOML).
    fn configuration(&self) -> String;

    /// `text` with every secret the process knows (the LDAP bind password,
    /// key passwords) replaced: for what leaves the process.
    fn scrub(&self, text: &str) -> String;
}
