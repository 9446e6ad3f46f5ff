//! The data directory (`./simul-data` by default): what a deployment keeps
//! on disk. This module owns its layout, so nothing else builds paths
//! into it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use ltpa::{Overwrite, secret_file};
use simul_service::key_files::{KeyDir, LTPA_KEYS, LTPA_PASSWORD};
use zeroize::Zeroizing;

/// The SQLite database (with its `-wal` and `-shm` files while in use).
pub const DATABASE: &str = "simul.db";
/// The first admin's one-time password, for the administrator to read
/// once (not in the service's log); removed once it is spent.
const INITIAL_ADMIN_PASSWORD: &str = "initial-admin-password";
/// The self-signed HTTPS certificate the first start creates, and its key.
const TLS_CERTIFICATE: &str = "tls-certificate.pem";
const TLS_KEY: &str = "tls-key.pem";
/// The trust store's directory.
const TRUST_DIR: &str = "trust";
/// The files a backup carries besides the database (which it copies with
/// SQLite, not as a file). A new file of the data directory belongs here;
/// subdirectories (sets of older key files:
/// [`simul_service::key_files::PREVIOUS_LTPA_KEYS`]) are
/// carried whole without being named.
const BACKED_UP_FILES: &[&str] =
    &[LTPA_KEYS, LTPA_PASSWORD, TLS_CERTIFICATE, TLS_KEY, INITIAL_ADMIN_PASSWORD];
/// Locked by `simul serve` for as long as it runs, so that `simul
/// restore` can tell. The lock is the operating system's (`flock`): it
/// goes with the process however it ends, `kill -9` included, where a pid
/// file would outlive it. The file holds the last server's pid, for the
/// message.
const SERVER_LOCK: &str = "simul.lock";

/// A data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Opens the directory, creating it (mode 0700) if needed.
    pub fn open(root: &Path) -> anyhow::Result<Self> {
        if !root.exists() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder
                .create(root)
                .with_context(|| format!("cannot create the data directory {}", root.display()))?;
        }
        Ok(Self { root: root.to_owned() })
    }

    /// Opens the directory only if it is there, creating nothing: for the
    /// commands that only read (`sso doctor`, `integrate`, `user list`),
    /// which must not leave an empty deployment behind. `None`: no
    /// deployment there.
    pub fn open_existing(root: &Path) -> Option<Self> {
        root.is_dir().then(|| Self { root: root.to_owned() })
    }

    /// The existing data directory at `root`, which must hold a database
    /// (for `simul backup`: unlike [`DataDir::open_existing`], no database
    /// is an error that names the fix).
    pub fn existing(root: &Path) -> anyhow::Result<Self> {
        if !root.join(DATABASE).is_file() {
            anyhow::bail!(
                "{} holds no Simul database ({DATABASE}): give the deployment's data directory \
                 with --data DIR (or --config FILE)",
                root.display()
            );
        }
        Ok(Self { root: root.to_owned() })
    }

    /// Makes every file in the directory readable by its owner only
    /// (deployments made before Simul did so kept a database readable by
    /// all). What it changed, and whether the directory itself is open to
    /// others, come back as sentences for the log.
    pub fn make_private(&self) -> anyhow::Result<Vec<String>> {
        let mut notes = Vec::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&self.root)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                notes.push(format!(
                    "the data directory {} is open to other users (mode {mode:o}): \
                     chmod 700 {}",
                    self.root.display(),
                    self.root.display()
                ));
            }
            let entries = std::fs::read_dir(&self.root)
                .with_context(|| format!("cannot read {}", self.root.display()))?;
            for entry in entries {
                let entry = entry?;
                let metadata = entry.metadata()?;
                let mode = metadata.permissions().mode() & 0o777;
                if metadata.is_file() && mode & 0o077 != 0 {
                    std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))
                        .with_context(|| format!("cannot chmod {}", entry.path().display()))?;
                    notes.push(format!(
                        "{} was readable by other users (mode {mode:o}); it is 600 now",
                        entry.path().display()
                    ));
                }
            }
        }
        Ok(notes)
    }

    /// Where the directory is.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes the first admin's one-time password to a file only the
    /// owner can read; its path.
    pub fn write_initial_admin_password(&self, password: &str) -> anyhow::Result<PathBuf> {
        let path = self.root.join(INITIAL_ADMIN_PASSWORD);
        secret_file::write(&path, format!("{password}\n").as_bytes(), Overwrite::Replace)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }

    /// The secrets kept here (the key password, a one-time password not
    /// yet spent), for the logs to scrub from what leaves the process.
    pub fn secrets(&self) -> Vec<Zeroizing<String>> {
        [LTPA_PASSWORD, INITIAL_ADMIN_PASSWORD]
            .iter()
            .filter_map(|name| std::fs::read_to_string(self.root.join(name)).ok())
            .map(|text| Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_owned()))
            .collect()
    }

    /// Removes the one-time password file, if there is one; its path then.
    pub fn remove_initial_admin_password(&self) -> anyhow::Result<Option<PathBuf>> {
        let path = self.root.join(INITIAL_ADMIN_PASSWORD);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(Some(path)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error).with_context(|| format!("cannot remove {}", path.display())),
        }
    }

    /// Opens (creating and migrating if needed) the deployment's database,
    /// and says where the copy from before an upgrade went.
    pub async fn store(&self) -> anyhow::Result<simul_store::Store> {
        let path = self.database_path();
        let store = simul_store::Store::open(&path)
            .await
            .with_context(|| format!("cannot open the database {}", path.display()))?;
        if let Some(upgrade) = store.upgrade() {
            // Standard error, as `simul user list`'s output is one user a line.
            eprintln!(
                "Upgraded the database {} from schema {} to {}; the database as it was is in {} \
                 (to undo the upgrade, stop Simul, put that file back as {DATABASE} and run the \
                 previous version)",
                path.display(),
                upgrade.from,
                upgrade.to,
                upgrade.copy.display()
            );
        }
        Ok(store)
    }

    /// The SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.root.join(DATABASE)
    }

    /// The files a backup carries besides the database, read: relative
    /// paths with `/` and contents. They are the known ones that exist
    /// and every file in a subdirectory; hidden names (the temporary files
    /// of atomic writes) and what is not a regular file (symbolic links)
    /// are left out.
    pub fn backup_files(&self) -> anyhow::Result<Vec<(String, Zeroizing<Vec<u8>>)>> {
        let mut paths: Vec<String> = BACKED_UP_FILES
            .iter()
            .filter(|name| self.root.join(name).is_file())
            .map(|name| (*name).to_owned())
            .collect();
        for (name, file_type) in visible_entries(&self.root)? {
            if file_type.is_dir() && name != simul_store::FILES_DIR {
                files_below(&self.root.join(&name), &name, &mut paths)?;
            }
        }
        paths.sort();
        paths
            .into_iter()
            .map(|path| {
                let file = self.root.join(&path);
                let bytes = std::fs::read(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                Ok((path, Zeroizing::new(bytes)))
            })
            .collect()
    }

    /// The files sent in conversations (`files/ab/cdef…`, relative, with
    /// `/`), for a backup to copy from the disk as they are: they are
    /// never changed once kept (their name is their content's hash), and
    /// may be too many and too large to read into memory.
    pub fn sent_files(&self) -> anyhow::Result<Vec<String>> {
        let mut paths = Vec::new();
        let dir = self.root.join(simul_store::FILES_DIR);
        if dir.is_dir() {
            files_below(&dir, simul_store::FILES_DIR, &mut paths)?;
        }
        paths.sort();
        Ok(paths)
    }

    /// Whether a backup may hold `path` (relative, with `/`): the
    /// database, a known file, or a file in a subdirectory; never a path
    /// that leaves the directory (`..` is hidden), a hidden name, or a
    /// directory in place of a file the data directory has.
    pub fn may_hold(path: &str) -> bool {
        let known =
            |name: &str| name == DATABASE || name == SERVER_LOCK || BACKED_UP_FILES.contains(&name);
        let plain =
            |part: &&str| !part.is_empty() && !part.starts_with('.') && !part.contains('\\');
        match path.split('/').collect::<Vec<_>>().as_slice() {
            [name] => *name != SERVER_LOCK && known(name),
            parts @ [first, ..] => !known(first) && parts.iter().all(plain),
            [] => false,
        }
    }

    /// Marks the directory as served by this process until the value is
    /// dropped or the process ends (a shared lock: `simul restore` takes
    /// it exclusively).
    pub fn lock_for_serving(&self) -> anyhow::Result<DirLock> {
        let path = self.root.join(SERVER_LOCK);
        let mut file = open_lock(&path)?;
        match file.try_lock_shared() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
                "`simul restore` is replacing the data in {}: start the server once it is done",
                self.root.display()
            ),
            Err(std::fs::TryLockError::Error(error)) => {
                return Err(error).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
        // Several servers on one directory would overwrite each other's
        // pid: it only makes restore's message more helpful.
        file.set_len(0)?;
        writeln!(file, "{}", std::process::id())?;
        Ok(DirLock { _file: file })
    }

    /// Takes the directory at `root` from every server, for a restore;
    /// fails when one runs there. Without `create`, a directory no server
    /// of this version ran on (no lock file) is left as it is: `None`.
    pub fn lock_for_restore(root: &Path, create: bool) -> anyhow::Result<Option<DirLock>> {
        let path = root.join(SERVER_LOCK);
        if !create && !path.exists() {
            return Ok(None);
        }
        let file = open_lock(&path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(DirLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => {
                let pid = std::fs::read_to_string(&path).unwrap_or_default();
                anyhow::bail!(
                    "a server (pid {}) is running on {}: stop it first, then restore",
                    pid.trim(),
                    root.display()
                )
            }
            Err(std::fs::TryLockError::Error(error)) => {
                Err(error).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }

    /// What the directory at `root` holds (names), its lock file aside;
    /// nothing when it does not exist.
    pub fn contents(root: &Path) -> anyhow::Result<Vec<String>> {
        if !root.exists() {
            return Ok(Vec::new());
        }
        let entries = std::fs::read_dir(root)
            .with_context(|| format!("cannot read the directory {}", root.display()))?;
        let mut names = Vec::new();
        for entry in entries {
            let name = entry?.file_name();
            if name != SERVER_LOCK {
                names.push(name.to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    /// The database, opened to read only (nothing created, migrated or
    /// written), if the deployment has one.
    pub async fn read_only_store(&self) -> anyhow::Result<Option<simul_store::Store>> {
        let path = self.root.join(DATABASE);
        if !path.is_file() {
            return Ok(None);
        }
        let store = simul_store::Store::open_read_only(&path)
            .await
            .with_context(|| format!("cannot read the database {}", path.display()))?;
        Ok(Some(store))
    }

    /// The deployment's database if it has one, else `None`; never
    /// creates it (see [`open_existing`](Self::open_existing)).
    pub async fn existing_store(&self) -> anyhow::Result<Option<simul_store::Store>> {
        if !self.root.join(DATABASE).is_file() {
            return Ok(None);
        }
        self.store().await.map(Some)
    }

    /// The deployment's LTPA key files.
    pub fn keys(&self) -> KeyDir {
        KeyDir::new(&self.root)
    }

    /// The signers trusted for outgoing TLS besides the system's, a PEM
    /// file each (`simul trust add`).
    pub fn trust_dir(&self) -> PathBuf {
        self.root.join(TRUST_DIR)
    }

    /// The HTTPS certificate (PEM) and its private key (0600): generated
    /// self-signed on the first start, or imported (`simul cert import`).
    pub fn self_signed_tls_paths(&self) -> (PathBuf, PathBuf) {
        (self.root.join(TLS_CERTIFICATE), self.root.join(TLS_KEY))
    }
}

/// An operating-system lock on the data directory's lock file, released
/// when dropped.
#[derive(Debug)]
pub struct DirLock {
    _file: std::fs::File,
}

/// Opens (creating, 0600) a lock file. It belongs to the directory's
/// owner: root restoring a service's data must not leave a lock file that
/// the service cannot open.
fn open_lock(path: &Path) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path).with_context(|| format!("cannot open {}", path.display()))?;
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        use std::os::unix::fs::MetadataExt as _;
        let (owner, lock) = (std::fs::metadata(dir)?, file.metadata()?);
        if (owner.uid(), owner.gid()) != (lock.uid(), lock.gid()) {
            // Best effort: only root may give a file away, and only root
            // can have made one of another owner here.
            let _ = std::os::unix::fs::fchown(&file, Some(owner.uid()), Some(owner.gid()));
        }
    }
    Ok(file)
}

/// The entries of `dir` whose names do not start with a dot, with their
/// types (a symbolic link is one, not what it points to).
fn visible_entries(dir: &Path) -> anyhow::Result<Vec<(String, std::fs::FileType)>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let mut visible = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().into_string().map_err(|name| {
            anyhow::anyhow!("{} has a name that is not UTF-8: rename it", dir.join(name).display())
        })?;
        if !name.starts_with('.') {
            visible.push((name, entry.file_type()?));
        }
    }
    Ok(visible)
}

/// Adds the regular files below `dir` (`prefix` relative to the data
/// directory) to `files`.
fn files_below(dir: &Path, prefix: &str, files: &mut Vec<String>) -> anyhow::Result<()> {
    for (name, file_type) in visible_entries(dir)? {
        let relative = format!("{prefix}/{name}");
        if file_type.is_dir() {
            files_below(&dir.join(&name), &relative, files)?;
        } else if file_type.is_file() {
            files.push(relative);
        }
    }
    Ok(())
}

/// Where a command finds the deployment: `--config FILE` and `--data DIR`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DataArgs {
    /// Configuration file (TOML); SIMUL_* variables override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory (default: the configuration's `data`, else ./simul-data).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
}

impl DataArgs {
    /// The configuration file given, if any.
    pub fn config_file(&self) -> Option<&Path> {
        self.config.as_deref()
    }

    /// The configuration, from the file and the environment.
    pub fn config(&self) -> anyhow::Result<crate::config::Config> {
        crate::config::Config::load(self.config.as_deref())
    }

    /// The data directory, created if needed.
    pub fn data_dir(&self) -> anyhow::Result<DataDir> {
        DataDir::open(&self.data_path()?)
    }

    /// The data directory if it exists; never creates it (for commands
    /// that only read). `Err` only for an unreadable configuration.
    pub fn existing_data_dir(&self) -> anyhow::Result<Option<DataDir>> {
        Ok(DataDir::open_existing(&self.data_path()?))
    }

    /// The data directory, which must exist: for commands that only read
    /// a deployment (a wrong `--data` must not leave an empty one behind).
    pub fn deployment_dir(&self) -> anyhow::Result<DataDir> {
        let path = self.data_path()?;
        DataDir::open_existing(&path).with_context(|| {
            format!(
                "there is no deployment in {}: give the deployment's --data DIR or --config FILE",
                path.display()
            )
        })
    }

    /// Where the data directory is: `--data`, else the configuration's `data`.
    pub fn data_path(&self) -> anyhow::Result<PathBuf> {
        match &self.data {
            Some(dir) => Ok(dir.clone()),
            None => Ok(self.config()?.data),
        }
    }
}
