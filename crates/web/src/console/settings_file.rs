//! What the console may write into the configuration file. The `simul`
//! binary owns the file (`--config FILE`) and hands the web door this
//! handle; the single sign-on page only calls it.

use ltpa::SsoSettings;

/// The configuration file, as the console changes it.
pub trait SettingsFile: Send + Sync {
    /// Writes the `[sso]` keys the console's form sets (domains, requires
    /// SSL, interoperability mode, cookie names, expiry), keeping the rest
    /// of the file as it is; what it wrote to. `Err`: a sentence (no file
    /// to write to, or it could not be written); nothing changed.
    fn save_sso(&self, sso: &SsoSettings) -> Result<String, String>;
}
