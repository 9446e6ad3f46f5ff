//! The deployment's LTPA key files: `ltpa.keys`, which signs new tokens
//! and verifies them, and the sets it replaced, kept in `ltpa-previous/`
//! to verify tokens until their date. This is what Liberty's
//! `<validationKeys notUseAfterDate="...">` and WebSphere's kept key
//! versions do: a rotation or an import signs nobody out, and the other
//! servers of the SSO domain can take the new keys on their own schedule.
//! `simul ltpa` and the console's single sign-on page both work through
//! [`KeyDir`]; a running server follows the files within seconds.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, SecondsFormat, Utc};
use ltpa::{KeyFile, LtpaKeys, Overwrite, Password, secret_file};
use rand_core::{OsRng, RngCore as _};
use zeroize::Zeroizing;

/// The deployment's key file, in the data directory.
pub const LTPA_KEYS: &str = "ltpa.keys";
/// Key sets replaced by a rotation or an import, still accepted in tokens
/// until their date (one `ltpa.keys`-format file each, same password).
pub const PREVIOUS_LTPA_KEYS: &str = "ltpa-previous";
/// The password protecting `ltpa.keys` at rest: the server reads it at
/// start-up, so both files are readable by the owner only, as Liberty's
/// `keysPassword` sits next to its key file.
pub const LTPA_PASSWORD: &str = "ltpa.password";
/// The realm of the first keys when the configuration names none.
const DEFAULT_REALM: &str = "simul";

/// The key files of one data directory.
#[derive(Debug, Clone)]
pub struct KeyDir {
    root: PathBuf,
}

impl KeyDir {
    /// The key files of the data directory `root`.
    pub fn new(root: &Path) -> Self {
        Self { root: root.to_owned() }
    }

    /// The deployment's LTPA key file.
    pub fn current_path(&self) -> PathBuf {
        self.root.join(LTPA_KEYS)
    }

    /// The folder of previous key sets (it may not exist).
    pub fn previous_dir(&self) -> PathBuf {
        self.root.join(PREVIOUS_LTPA_KEYS)
    }

    /// Reads the deployment's current keys.
    pub fn read_current(&self) -> anyhow::Result<KeyFile> {
        let path = self.current_path();
        if !path.exists() {
            anyhow::bail!(
                "{} has no LTPA keys yet: import a key file with `simul ltpa import FILE --data {}` \
                 (or let `simul serve` generate them)",
                self.root.display(),
                self.root.display()
            );
        }
        self.read_key_file(&path)
    }

    /// Makes `file` the deployment's LTPA keys (replacing any before:
    /// [`KeyDir::replace`] keeps those first when it should).
    pub fn install(&self, file: &KeyFile) -> anyhow::Result<()> {
        let password = self.password(true)?;
        file.write(&self.current_path(), &password, Overwrite::Replace)?;
        Ok(())
    }

    /// Reads a key file of this directory, protected by its at-rest password.
    fn read_key_file(&self, path: &Path) -> anyhow::Result<KeyFile> {
        Ok(KeyFile::read(path, &self.password(false)?)?)
    }

    /// Writes a key file into this directory (0600, never over another),
    /// protected by its at-rest password.
    fn write_new_key_file(&self, path: &Path, file: &KeyFile) -> anyhow::Result<()> {
        let password = self.password(true)?;
        file.write(path, &password, Overwrite::Refuse)?;
        Ok(())
    }

    /// The at-rest password, created (random, 0600) when `create` is set and it is missing.
    fn password(&self, create: bool) -> anyhow::Result<Password> {
        let path = self.root.join(LTPA_PASSWORD);
        if !path.exists() && create {
            let mut bytes = Zeroizing::new([0u8; 24]);
            OsRng.fill_bytes(bytes.as_mut());
            let text: Zeroizing<String> =
                Zeroizing::new(bytes.iter().map(|b| format!("{b:02x}")).collect());
            secret_file::write(&path, text.as_bytes(), Overwrite::Refuse)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        let text = Zeroizing::new(std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read {} (the password of {LTPA_KEYS} in this data directory)",
                path.display()
            )
        })?);
        Ok(Password::new(text.trim_end()))
    }

    /// The realm this deployment's tokens carry, also before it has keys:
    /// `configured` (the configuration's), else the key file's, else `simul`.
    pub fn deployment_realm(&self, configured: Option<String>) -> anyhow::Result<String> {
        if let Some(realm) = configured {
            return Ok(realm);
        }
        if !self.current_path().exists() {
            return Ok(DEFAULT_REALM.to_owned());
        }
        Ok(self.read_current()?.realm)
    }
}

/// The property of a previous key set that holds the end of its validity
/// (RFC 3339), named after Liberty's `notUseAfterDate`.
const NOT_USE_AFTER: &str = "simul.ltpa.notUseAfterDate";

/// The key sets of a data directory, as read at one moment.
#[derive(Debug)]
pub struct StoredKeys {
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

/// What [`KeyDir::replace`] did, for the command to report.
#[derive(Debug, Default)]
pub struct Replacement {
    /// The set that was current before, if there was one.
    pub before: Option<KeyFile>,
    /// Until when it is still accepted, unless it was discarded.
    pub kept_until: Option<DateTime<Utc>>,
    /// Previous sets removed (expired, or all of them when discarding).
    pub removed: usize,
}

impl KeyDir {
    /// Reads the current keys and the previous sets still valid at `now`.
    pub fn read(&self, now: DateTime<Utc>) -> anyhow::Result<StoredKeys> {
        let current = self.read_current()?;
        let mut previous = Vec::new();
        let mut notes = Vec::new();
        for path in self.previous_files()? {
            match self.read_previous(&path) {
                Ok(keys) if keys.not_use_after > now => previous.push(keys),
                Ok(_) => {}
                Err(error) => notes.push(format!(
                    "{} is not used: {error:#} (remove it, or replace it with `simul ltpa import`)",
                    path.display()
                )),
            }
        }
        previous.sort_by_key(|set| std::cmp::Reverse(set.not_use_after));
        Ok(StoredKeys { current, previous, notes })
    }

    /// Makes `new` the current key set; what was current becomes a previous
    /// set (or is discarded, with every earlier one), and previous sets past
    /// their date are removed. The previous copy is written before the
    /// current file is replaced, so a crash in between leaves both usable.
    pub fn replace(&self, new: &KeyFile, old: Replaced) -> anyhow::Result<Replacement> {
        let now = Utc::now();
        let before = if self.current_path().exists() { Some(self.read_current()?) } else { None };
        let mut replacement = Replacement::default();
        if let (Some(before), Replaced::KeepUntil(until)) = (&before, old) {
            self.keep_previous(before, until, now)?;
            replacement.kept_until = Some(until);
        }
        for path in self.previous_files()? {
            let spent = match old {
                Replaced::Discard => true,
                Replaced::KeepUntil(_) => {
                    self.read_previous(&path).is_ok_and(|keys| keys.not_use_after <= now)
                }
            };
            if spent {
                std::fs::remove_file(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
                replacement.removed += 1;
            }
        }
        self.install(new)?;
        replacement.before = before;
        Ok(replacement)
    }

    /// A new key set for `realm`, made the current one (see
    /// [`KeyDir::replace`] for what becomes of the one before).
    pub fn rotate(&self, realm: &str, old: Replaced) -> anyhow::Result<(KeyFile, Replacement)> {
        let file = KeyFile::generate(realm, &host_name());
        let replacement = self.replace(&file, old)?;
        Ok((file, replacement))
    }

    /// The current keys as the other servers need them: naming the realm
    /// the deployment's tokens carry (`configured`, else the file's),
    /// whatever realm the file was made for.
    pub fn for_export(&self, configured: Option<String>) -> anyhow::Result<KeyFile> {
        let ring = self.read(Utc::now())?;
        let realm = ring.token_realm(configured);
        let mut file = ring.current;
        file.realm = realm;
        Ok(file)
    }

    /// Writes `keys` into the previous sets, valid until `until`.
    fn keep_previous(
        &self,
        keys: &KeyFile,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let dir = self.previous_dir();
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
        self.write_new_key_file(&path, &file)
    }

    fn read_previous(&self, path: &Path) -> anyhow::Result<PreviousKeys> {
        let file = self.read_key_file(path)?;
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

    /// The `*.keys` files of the previous sets' folder, by name: what a
    /// running server watches, with the current file.
    pub fn previous_files(&self) -> anyhow::Result<Vec<PathBuf>> {
        let dir = self.previous_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read {}", dir.display()));
            }
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
}

impl StoredKeys {
    /// The previous sets' keys, in the order they are tried.
    pub fn previous_keys(&self) -> Vec<LtpaKeys> {
        self.previous.iter().map(|set| set.file.keys.clone()).collect()
    }

    /// When the next previous set stops verifying.
    pub fn next_expiry(&self) -> Option<DateTime<Utc>> {
        self.previous.iter().map(|set| set.not_use_after).min()
    }

    /// The realm this deployment's tokens carry: `configured` (the
    /// configuration's) or else the key file's.
    pub fn token_realm(&self, configured: Option<String>) -> String {
        configured.unwrap_or_else(|| self.current.realm.clone())
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

/// This machine's host name, as WebSphere records it in CreationHost.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> (tempfile::TempDir, KeyDir) {
        let dir = tempfile::tempdir().unwrap();
        let data = KeyDir::new(dir.path());
        (dir, data)
    }

    #[test]
    fn a_replaced_key_set_verifies_until_its_date_then_goes() {
        let (_dir, data) = data();
        let first = KeyFile::generate("simul", "test");
        assert!(data.replace(&first, Replaced::Discard).unwrap().before.is_none());
        let second = KeyFile::generate("simul", "test");
        let until = Utc::now() + chrono::Duration::hours(1);
        let done = data.replace(&second, Replaced::KeepUntil(until)).unwrap();
        assert_eq!(done.kept_until, Some(until));
        let ring = data.read(Utc::now()).unwrap();
        assert_eq!(
            ring.current.keys.shared_key_fingerprint(),
            second.keys.shared_key_fingerprint()
        );
        assert_eq!(ring.fingerprints()[1], first.keys.shared_key_fingerprint());
        assert_eq!(ring.next_expiry().map(|t| t.timestamp()), Some(until.timestamp()));
        let later = data.read(until + chrono::Duration::seconds(1)).unwrap();
        assert!(later.previous.is_empty());
    }

    #[test]
    fn previous_sets_past_their_date_are_removed_at_the_next_replacement() {
        let (_dir, data) = data();
        data.replace(&KeyFile::generate("simul", "t"), Replaced::Discard).unwrap();
        let past = Utc::now() - chrono::Duration::hours(1);
        let done = data.replace(&KeyFile::generate("simul", "t"), Replaced::KeepUntil(past));
        assert_eq!(done.unwrap().removed, 1);
        assert!(data.previous_files().unwrap().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn previous_sets_are_the_owners_alone() {
        use std::os::unix::fs::PermissionsExt as _;
        let (_dir, data) = data();
        let later = Utc::now() + chrono::Duration::days(1);
        for _ in 0..2 {
            data.replace(&KeyFile::generate("simul", "t"), Replaced::KeepUntil(later)).unwrap();
        }
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data.previous_dir()), 0o700);
        for file in data.previous_files().unwrap() {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    }

    #[test]
    fn discarding_removes_every_previous_set() {
        let (_dir, data) = data();
        let until = Utc::now() + chrono::Duration::days(1);
        for _ in 0..3 {
            data.replace(&KeyFile::generate("simul", "t"), Replaced::KeepUntil(until)).unwrap();
        }
        assert_eq!(data.read(Utc::now()).unwrap().previous.len(), 2);
        let done = data.replace(&KeyFile::generate("simul", "t"), Replaced::Discard).unwrap();
        assert_eq!(done.removed, 2);
        assert!(data.read(Utc::now()).unwrap().previous.is_empty());
    }

    #[test]
    fn a_damaged_previous_set_is_reported_not_fatal() {
        let (_dir, data) = data();
        data.replace(&KeyFile::generate("simul", "t"), Replaced::Discard).unwrap();
        std::fs::create_dir_all(data.previous_dir()).unwrap();
        let broken = data.previous_dir().join("broken.keys");
        std::fs::write(&broken, "not a key file").unwrap();
        let ring = data.read(Utc::now()).unwrap();
        assert!(ring.previous.is_empty());
        assert_eq!(ring.notes.len(), 1);
        assert!(ring.notes[0].contains("broken.keys"), "{}", ring.notes[0]);
    }
}
