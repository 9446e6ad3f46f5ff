//! Saving the console's changes into the configuration file `simul
//! serve` was started with (`--config FILE`), the rest of the file as it
//! was (comments, order, formatting: `toml_edit`), through a new file
//! renamed over it with the same permissions: the log levels and the
//! single sign-on settings.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use ltpa::SsoSettings;
use toml_edit::{DocumentMut, Item, Table, Value};

/// The configuration file, if the server was given one.
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    path: Option<PathBuf>,
}

impl ConfigFile {
    /// The file at `path`; `None`: the server runs on defaults and the
    /// environment, and nothing can be saved.
    pub fn new(path: Option<&Path>) -> Self {
        Self { path: path.map(Path::to_path_buf) }
    }

    /// Makes `change` to the file; the path written.
    pub fn edit(&self, change: impl FnOnce(&mut DocumentMut)) -> anyhow::Result<String> {
        let Some(file) = &self.path else {
            anyhow::bail!(
                "the server was started without --config FILE, so there is no configuration \
                 file to save to: start it with one"
            );
        };
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let mut document: DocumentMut =
            text.parse().with_context(|| format!("{} is not valid TOML", file.display()))?;
        change(&mut document);
        let permissions = std::fs::metadata(file)?.permissions();
        let directory =
            file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut temporary = tempfile::NamedTempFile::new_in(directory).with_context(|| {
            format!("cannot write next to {}: let Simul's user write there", file.display())
        })?;
        temporary.write_all(document.to_string().as_bytes())?;
        temporary.as_file().set_permissions(permissions)?;
        temporary.persist(file).with_context(|| format!("cannot replace {}", file.display()))?;
        Ok(file.display().to_string())
    }
}

/// Sets `key` in `table` to `value`; a comment after the old value stays.
pub fn set(table: &mut Table, key: &str, value: impl Into<Value>) {
    let mut value = value.into();
    match table.get_mut(key).and_then(Item::as_value_mut) {
        Some(old) => {
            *value.decor_mut() = old.decor().clone();
            *old = value;
        }
        None => {
            table.insert(key, Item::Value(value));
        }
    }
}

impl simul_web::console::SettingsFile for ConfigFile {
    fn save_sso(&self, sso: &SsoSettings) -> Result<String, String> {
        self.edit(|document| {
            if !document.contains_table("sso") {
                document.insert("sso", Item::Table(Table::new()));
            }
            let Some(table) = document.get_mut("sso").and_then(Item::as_table_mut) else {
                return;
            };
            let domains: toml_edit::Array = sso.domains.iter().map(String::as_str).collect();
            set(table, "domains", domains);
            set(table, "requires_ssl", sso.requires_ssl);
            set(table, "interoperability_mode", sso.interoperability_mode);
            set(table, "ltpa2_cookie_name", sso.ltpa2_cookie_name.as_str());
            set(table, "ltpa1_cookie_name", sso.ltpa1_cookie_name.as_str());
            set(table, "expiration_minutes", i64::from(sso.expiration_minutes));
        })
        .map_err(|error| format!("{error:#}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sso_table_changes_and_the_rest_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("simul.toml");
        let before = "# our server\nlog = \"info\"\n\n[sso]\n# the cell's domain\n\
                      domains = [\"example.com\"] # was wrong\nhttp_only = true\n";
        std::fs::write(&path, before).unwrap();
        let sso = SsoSettings { domains: vec![".example.com".into()], ..SsoSettings::default() };
        simul_web::console::SettingsFile::save_sso(&ConfigFile::new(Some(&path)), &sso).unwrap();
        let after = std::fs::read_to_string(&path).unwrap();
        assert!(after.starts_with("# our server\nlog = \"info\"\n\n[sso]\n# the cell's domain\n"));
        assert!(after.contains("domains = [\".example.com\"] # was wrong\n"), "{after}");
        assert!(after.contains("http_only = true\n"), "{after}");
        assert!(after.contains("expiration_minutes = 120"), "{after}");
        let parsed: toml_edit::DocumentMut = after.parse().unwrap();
        assert_eq!(parsed["sso"]["ltpa2_cookie_name"].as_str(), Some("LtpaToken2"));
    }
}
