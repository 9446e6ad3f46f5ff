//! `simul backup` and `simul restore`: the whole deployment in one file,
//! taken while the server runs, and put back into a data directory.

mod archive;
mod progress;
mod restore;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Args;
use simul_store::DatabaseCopy;

use crate::Outcome;
use crate::data::{DATABASE, DataArgs, DataDir};
use archive::{Contents, Manifest};
use progress::{Progress, size};

pub use restore::RestoreArgs;

/// Arguments of `simul backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    deployment: DataArgs,
    /// The archive to write: a gzip'd tar, mode 0600.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    force: bool,
}

impl BackupArgs {
    /// Takes the backup, on a small runtime of its own.
    pub fn run(self) -> anyhow::Result<Outcome> {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(self.backup())
    }

    async fn backup(self) -> anyhow::Result<Outcome> {
        let started = Instant::now();
        let data = DataDir::existing(&self.deployment.data_path()?)?;
        let out = self.out.display();
        if self.out.exists() && !self.force {
            bail!("{out} exists: give another --out, or --force to replace it");
        }
        let out_dir = parent(&self.out);
        let inside = |dir: &Path| {
            let (dir, root) = (dir.canonicalize().ok()?, data.root().canonicalize().ok()?);
            Some(dir.starts_with(root))
        };
        if inside(out_dir) == Some(true) {
            bail!("{out} is inside the data directory: write the backup somewhere else");
        }
        // The database copy waits next to the archive, on the disk meant
        // for backups (a /tmp in memory may be too small), in a directory
        // of this user's alone.
        let staging =
            tempfile::Builder::new().prefix(".simul-backup-").tempdir_in(out_dir).with_context(
                || format!("cannot create a temporary directory in {}", out_dir.display()),
            )?;
        let mut progress = Progress::new();
        let database = staging.path().join(DATABASE);
        let copy = copy_database(&data, &database, &mut progress).await?;
        let mut files = vec![(DATABASE.to_owned(), Contents::File(database))];
        for (path, bytes) in data.backup_files()? {
            files.push((path, Contents::Bytes(bytes)));
        }
        for path in data.sent_files()? {
            let on_disk = data.root().join(&path);
            files.push((path, Contents::File(on_disk)));
        }
        let manifest = Manifest::new(copy.schema, data.root(), &files)?;
        let total = manifest.total_size();
        let written = write_new(&self.out, self.force, |file| {
            archive::write(file, &manifest, &files, |done| {
                progress.show("compressing", done, total)
            })
        })?;
        progress.clear();
        // Sent files are counted, not listed: there may be thousands.
        let sent = |path: &&str| path.starts_with(&format!("{}/", simul_store::FILES_DIR));
        let mut others: Vec<String> = files[1..]
            .iter()
            .map(|(path, _)| path.as_str())
            .filter(|p| !sent(p))
            .map(str::to_owned)
            .collect();
        match files[1..].iter().filter(|(path, _)| sent(&path.as_str())).count() {
            0 => {}
            count => others.push(format!("{count} sent file{}", if count == 1 { "" } else { "s" })),
        }
        println!(
            "Wrote {out} ({}) in {:.1} s: the database (schema {}, {}){}{}.",
            size(written),
            started.elapsed().as_secs_f64(),
            copy.schema,
            size(copy.bytes),
            if others.is_empty() { "" } else { " and " },
            others.join(", ")
        );
        println!(
            "It holds the SSO keys and their password, password hashes and every conversation: \
             keep it as safe as a password (the file is mode 0600)."
        );
        Ok(Outcome::Success)
    }
}

/// Copies the deployment's database to `target` with SQLite (never the
/// file: see `simul_store::backup_database`), showing how far it got.
async fn copy_database(
    data: &DataDir,
    target: &Path,
    progress: &mut Progress,
) -> anyhow::Result<DatabaseCopy> {
    let source = data.database_path();
    let about = std::fs::metadata(&source).map_or(0, |metadata| metadata.len());
    let copy = simul_store::backup_database(&source, target);
    tokio::pin!(copy);
    let mut ticks = tokio::time::interval(Duration::from_millis(200));
    let copied = loop {
        tokio::select! {
            copied = &mut copy => break copied,
            _ = ticks.tick() => {
                let done = std::fs::metadata(target).map_or(0, |metadata| metadata.len());
                progress.show("copying the database", done, about);
            }
        }
    };
    copied.with_context(|| format!("cannot copy the database {}", source.display()))
}

/// Writes a new file at `path` through `write`, atomically and mode 0600:
/// into a temporary file beside it, flushed to disk, then renamed (over
/// an existing file only with `replace`). Its size.
fn write_new(
    path: &Path,
    replace: bool,
    write: impl FnOnce(&mut std::io::BufWriter<&std::fs::File>) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let dir = parent(path);
    // tempfile creates the file with mode 0600 on Unix.
    let temp = tempfile::Builder::new()
        .prefix(".simul-backup-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let mut buffered = std::io::BufWriter::new(temp.as_file());
    write(&mut buffered).with_context(|| format!("cannot write {}", path.display()))?;
    buffered.flush()?;
    drop(buffered);
    temp.as_file().sync_all()?;
    let written = temp.as_file().metadata()?.len();
    let persisted = if replace { temp.persist(path) } else { temp.persist_noclobber(path) };
    persisted.map_err(|error| error.error).with_context(|| {
        format!("cannot write {} (give --force to replace a file)", path.display())
    })?;
    Ok(written)
}

/// The directory a file is in (`.` for a bare name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}
