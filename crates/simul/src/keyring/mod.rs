//! The deployment's LTPA key sets: `ltpa.keys`, which signs new tokens
//! and verifies them, and the sets it replaced, kept in `ltpa-previous/`
//! to verify tokens until their date. This is what Liberty's
//! `<validationKeys notUseAfterDate="...">` and WebSphere's kept key
//! versions do: a rotation or an import signs nobody out, and the other
//! servers of the SSO domain can take the new keys on their own schedule.

mod follow;

use std::path::PathBuf;

use anyhow::Context as _;
use chrono::{DateTime, SecondsFormat, Utc};
use ltpa::{KeyFile, LtpaKeys};

use crate::config::Config;
use crate::data::DataDir;

pub use follow::follow;

/// The property of a previous key set that holds the end of its validity
/// (RFC 3339), named after Liberty's `notUseAfterDate`.
const NOT_USE_AFTER: &str = "simul.ltpa.notUseAfterDate";

/// The realm of the first keys when the configuration names none.
const DEFAULT_REALM: &str = "simul";

/// The key sets of a data directory.
#[derive(Debug)]
pub struct Keyring {
    /// `ltpa.keys`: signs and verifies.
    pub current: KeyFile,
    /// Replaced sets still in their validity, newest first.
    pub previous: Vec<PreviousKeys>,
    /// Previous sets that could not be used, as sentences for the log.
    pub notes: Vec<String>,
}

/// A replaced key set, verifying until `not_use_after`.
#[derive(Debug)]
pub struct PreviousKeys {
    /// The keys and their properties.
    pub file: KeyFile,
    /// After this moment tokens of these keys are refused.
    pub not_use_after: DateTime<Utc>,
    /// Where it is kept.
    pub path: PathBuf,
}

/// What becomes of the key set a rotation or an import replaces.
#[derive(Debug, Clone, Copy)]
pub enum Replaced {
    /// Keep verifying its tokens until then.
    KeepUntil(DateTime<Utc>),
    /// Refuse its tokens (and those of every earlier set) at once: for
    /// keys that may be known to someone else.
    Discard,
}

/// What [`replace`] did, for the command to report.
#[derive(Debug, Default)]
pub struct Replacement {
    /// The set that was current before, if there was one.
    pub before: Option<KeyFile>,
    /// Until when it is still accepted, unless it was discarded.
    pub kept_until: Option<DateTime<Utc>>,
    /// Previous sets removed (expired, or all of them when discarding).
    pub removed: usize,
}

impl Keyring {
    /// Reads the current keys and the previous sets still valid at `now`.
    pub fn read(data: &DataDir, now: DateTime<Utc>) -> anyhow::Result<Self> {
        let current = data.read_ltpa_keys()?;
        let mut previous = Vec::new();
        let mut notes = Vec::new();
        for path in previous_files(data)? {
            match read_previous(data, &path) {
                Ok(keys) if keys.not_use_after > now => previous.push(keys),
                Ok(_) => {}
                Err(error) => notes.push(format!(
                    "{} is not used: {error:#} (remove it, or replace it with `simul ltpa import`)",
                    path.display()
                )),
            }
        }
        previous.sort_by_key(|set| std::cmp::Reverse(set.not_use_after));
        Ok(Self { current, previous, notes })
    }

    /// The previous sets' keys, in the order they are tried.
    pub fn previous_keys(&self) -> Vec<LtpaKeys> {
        self.previous.iter().map(|set| set.file.keys.clone()).collect()
    }

    /// When the next previous set stops verifying.
    pub fn next_expiry(&self) -> Option<DateTime<Utc>> {
        self.previous.iter().map(|set| set.not_use_after).min()
    }

    /// The realm this deployment's tokens carry: the configuration's
    /// ([`Config::token_realm`]) or else the key file's.
    pub fn token_realm(&self, config: &Config) -> String {
        config.token_realm().unwrap_or_else(|| self.current.realm.clone())
    }

    /// The fingerprints of the current and previous shared keys: what
    /// changed, when they differ.
    pub fn fingerprints(&self) -> Vec<String> {
        std::iter::once(&self.current)
            .chain(self.previous.iter().map(|set| &set.file))
            .map(|file| file.keys.shared_key_fingerprint())
            .collect()
    }
}

/// The realm this deployment's tokens carry, also before it has keys:
/// the configuration's, else the key file's, else `simul`.
pub fn deployment_realm(data: &DataDir, config: &Config) -> anyhow::Result<String> {
    if let Some(realm) = config.token_realm() {
        return Ok(realm);
    }
    if !data.ltpa_keys_path().exists() {
        return Ok(DEFAULT_REALM.to_owned());
    }
    Ok(data.read_ltpa_keys()?.realm)
}

/// Makes `new` the current key set; what was current becomes a previous
/// set (or is discarded, with every earlier one), and previous sets past
/// their date are removed. The previous copy is written before the
/// current file is replaced, so a crash in between leaves both usable.
pub fn replace(data: &DataDir, new: &KeyFile, old: Replaced) -> anyhow::Result<Replacement> {
    let now = Utc::now();
    let before = if data.ltpa_keys_path().exists() { Some(data.read_ltpa_keys()?) } else { None };
    let mut replacement = Replacement::default();
    if let (Some(before), Replaced::KeepUntil(until)) = (&before, old) {
        keep_previous(data, before, until, now)?;
        replacement.kept_until = Some(until);
    }
    for path in previous_files(data)? {
        let spent = match old {
            Replaced::Discard => true,
            Replaced::KeepUntil(_) => {
                read_previous(data, &path).is_ok_and(|keys| keys.not_use_after <= now)
            }
        };
        if spent {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
            replacement.removed += 1;
        }
    }
    data.install_ltpa_keys(new)?;
    replacement.before = before;
    Ok(replacement)
}

/// Writes `keys` into the previous sets, valid until `until`.
fn keep_previous(
    data: &DataDir,
    keys: &KeyFile,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let dir = data.previous_ltpa_keys_dir();
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    // The owner's alone, like the data directory around it.
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut file = keys.clone();
    file.other_properties.retain(|(name, _)| name != NOT_USE_AFTER);
    file.other_properties
        .push((NOT_USE_AFTER.to_owned(), until.to_rfc3339_opts(SecondsFormat::Secs, true)));
    // Named by when they were replaced; a second replacement within the
    // same second gets a suffix.
    let stamp = now.format("%Y%m%dT%H%M%SZ");
    let path = (0..)
        .map(|n| match n {
            0 => dir.join(format!("{stamp}.keys")),
            n => dir.join(format!("{stamp}-{n}.keys")),
        })
        .find(|path| !path.exists())
        .expect("an unused name");
    data.write_new_key_file(&path, &file)
}

fn read_previous(data: &DataDir, path: &std::path::Path) -> anyhow::Result<PreviousKeys> {
    let file = data.read_key_file(path)?;
    let until = file
        .other_properties
        .iter()
        .find(|(name, _)| name == NOT_USE_AFTER)
        .map(|(_, value)| value.clone())
        .with_context(|| format!("it has no {NOT_USE_AFTER} property"))?;
    let not_use_after = DateTime::parse_from_rfc3339(&until)
        .with_context(|| format!("{NOT_USE_AFTER} = {until:?} is not an RFC 3339 time"))?
        .with_timezone(&Utc);
    Ok(PreviousKeys { file, not_use_after, path: path.to_owned() })
}

/// The `*.keys` files of the previous sets' folder, by name.
fn previous_files(data: &DataDir) -> anyhow::Result<Vec<PathBuf>> {
    let dir = data.previous_ltpa_keys_dir();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", dir.display())),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "keys") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> (tempfile::TempDir, DataDir) {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::open(&dir.path().join("data")).unwrap();
        (dir, data)
    }

    #[test]
    fn a_replaced_key_set_verifies_until_its_date_then_goes() {
        let (_dir, data) = data();
        let first = KeyFile::generate("simul", "test");
        assert!(replace(&data, &first, Replaced::Discard).unwrap().before.is_none());
        let second = KeyFile::generate("simul", "test");
        let until = Utc::now() + chrono::Duration::hours(1);
        let done = replace(&data, &second, Replaced::KeepUntil(until)).unwrap();
        assert_eq!(done.kept_until, Some(until));
        let ring = Keyring::read(&data, Utc::now()).unwrap();
        assert_eq!(
            ring.current.keys.shared_key_fingerprint(),
            second.keys.shared_key_fingerprint()
        );
        assert_eq!(ring.fingerprints()[1], first.keys.shared_key_fingerprint());
        assert_eq!(ring.next_expiry().map(|t| t.timestamp()), Some(until.timestamp()));
        let later = Keyring::read(&data, until + chrono::Duration::seconds(1)).unwrap();
        assert!(later.previous.is_empty());
    }

    #[test]
    fn previous_sets_past_their_date_are_removed_at_the_next_replacement() {
        let (_dir, data) = data();
        replace(&data, &KeyFile::generate("simul", "t"), Replaced::Discard).unwrap();
        let past = Utc::now() - chrono::Duration::hours(1);
        let done = replace(&data, &KeyFile::generate("simul", "t"), Replaced::KeepUntil(past));
        assert_eq!(done.unwrap().removed, 1);
        assert!(previous_files(&data).unwrap().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn previous_sets_are_the_owners_alone() {
        use std::os::unix::fs::PermissionsExt as _;
        let (_dir, data) = data();
        let later = Utc::now() + chrono::Duration::days(1);
        for _ in 0..2 {
            replace(&data, &KeyFile::generate("simul", "t"), Replaced::KeepUntil(later)).unwrap();
        }
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data.previous_ltpa_keys_dir()), 0o700);
        for file in previous_files(&data).unwrap() {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    }

    #[test]
    fn discarding_removes_every_previous_set() {
        let (_dir, data) = data();
        let until = Utc::now() + chrono::Duration::days(1);
        for _ in 0..3 {
            replace(&data, &KeyFile::generate("simul", "t"), Replaced::KeepUntil(until)).unwrap();
        }
        assert_eq!(Keyring::read(&data, Utc::now()).unwrap().previous.len(), 2);
        let done = replace(&data, &KeyFile::generate("simul", "t"), Replaced::Discard).unwrap();
        assert_eq!(done.removed, 2);
        assert!(Keyring::read(&data, Utc::now()).unwrap().previous.is_empty());
    }

    #[test]
    fn a_damaged_previous_set_is_reported_not_fatal() {
        let (_dir, data) = data();
        replace(&data, &KeyFile::generate("simul", "t"), Replaced::Discard).unwrap();
        std::fs::create_dir_all(data.previous_ltpa_keys_dir()).unwrap();
        let broken = data.previous_ltpa_keys_dir().join("broken.keys");
        std::fs::write(&broken, "not a key file").unwrap();
        let ring = Keyring::read(&data, Utc::now()).unwrap();
        assert!(ring.previous.is_empty());
        assert_eq!(ring.notes.len(), 1);
        assert!(ring.notes[0].contains("broken.keys"), "{}", ring.notes[0]);
    }
}
