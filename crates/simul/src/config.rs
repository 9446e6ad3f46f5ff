//! The configuration: one TOML file, every key with a default, and
//! `SIMUL_...` environment variables over both (`SIMUL_SERVER__DOMAIN`
//! sets `server.domain`: a double underscore separates the levels).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use figment::Figment;
use figment::providers::{Env, Format as _, Serialized, Toml};
use ltpa::SsoSettings;
use serde::{Deserialize, Serialize};

/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "simul-data";

/// Everything that can be configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Data directory: database, keys, certificate.
    pub data: PathBuf,
    /// Log levels, per module if wanted (`info`, `warn,simul_web=debug`).
    pub log: String,
    /// The community server.
    pub server: ServerConfig,
    /// The user directory.
    pub directory: DirectoryConfig,
    /// Single sign-on, as on WebSphere's "Single sign-on (SSO)" page.
    pub sso: SsoSettings,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data: PathBuf::from(DEFAULT_DATA_DIR),
            log: "info".into(),
            server: ServerConfig::default(),
            directory: DirectoryConfig::default(),
            sso: SsoSettings::default(),
        }
    }
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// The community's domain: XMPP domain and default host in generated snippets.
    pub domain: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self { domain: "localhost".into() }
    }
}

/// `[directory]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DirectoryConfig {
    /// Realm in the tokens of embedded-realm users (`u:user\:REALM/NAME`);
    /// default: the realm of the deployment's LTPA key file.
    pub realm: Option<String>,
}

impl Config {
    /// Defaults, then `file` (if given), then `SIMUL_*` variables.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                anyhow::bail!("configuration file {} does not exist", file.display());
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        let config: Config = figment
            .merge(Env::prefixed("SIMUL_").split("__"))
            .extract()
            .map_err(|error| anyhow::anyhow!("{}", describe(error)))
            .with_context(|| match file {
                Some(file) => {
                    format!("invalid configuration in {} or SIMUL_* variables", file.display())
                }
                None => "invalid configuration in SIMUL_* variables".into(),
            })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what types alone cannot; errors name the key and the fix.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.sso.validate().map_err(|error| anyhow::anyhow!("sso.{error}"))?;
        tracing_subscriber::EnvFilter::try_new(&self.log).map_err(|error| {
            anyhow::anyhow!(
                "log: {:?} is not a log filter like \"info\" or \"warn,simul_web=debug\" ({error})",
                self.log
            )
        })?;
        if self.server.domain.trim().is_empty() || self.server.domain.contains(['/', ' ', '@']) {
            anyhow::bail!(
                "server.domain: {:?} is not a host name (e.g. chat.example.com)",
                self.server.domain
            );
        }
        if self.directory.realm.as_deref().is_some_and(|r| r.contains('/')) {
            anyhow::bail!(
                "directory.realm: a realm cannot contain '/' (it ends the realm in an access id)"
            );
        }
        Ok(())
    }
}

/// figment's errors, one per line, each with its key.
fn describe(error: figment::Error) -> String {
    error.into_iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_complete_and_valid() {
        let config = Config::default();
        config.validate().unwrap();
        assert_eq!(config.data, PathBuf::from("simul-data"));
        assert_eq!(config.sso.ltpa2_cookie_name, "LtpaToken2");
    }
}
