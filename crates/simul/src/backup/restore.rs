//! `simul restore`: a backup archive back into a data directory. Nothing
//! in the directory changes until the whole archive has been unpacked
//! beside it and checked; what was there is moved aside, never deleted.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Args;

use super::archive::{self, Manifest};
use super::progress::size;
use crate::Outcome;
use crate::data::{DataArgs, DataDir};

/// Arguments of `simul restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The archive `simul backup` wrote.
    #[arg(value_name = "FILE")]
    archive: PathBuf,
    #[command(flatten)]
    deployment: DataArgs,
    /// Restore into a data directory that holds something: its contents
    /// move to DIR.before-restore-TIME first.
    #[arg(long)]
    force: bool,
}

impl RestoreArgs {
    /// Restores the archive.
    pub fn run(self) -> anyhow::Result<Outcome> {
        let root = self.deployment.data_path()?;
        // Both checked first to fail early, and again under the lock, just
        // before anything changes.
        drop(DataDir::lock_for_restore(&root, false)?);
        self.refuse_to_replace(&root, &DataDir::contents(&root)?)?;
        let created = !root.exists();
        let data = DataDir::open(&root)?;
        let unpacked = unpack(&self.archive, &root);
        if created && unpacked.is_err() {
            let _ = std::fs::remove_dir(&root);
        }
        let (staging, manifest) = unpacked?;
        let _lock = DataDir::lock_for_restore(&root, true)?;
        let staging_name = staging.path().file_name().unwrap_or_default().to_string_lossy();
        let present: Vec<String> =
            DataDir::contents(&root)?.into_iter().filter(|name| *name != staging_name).collect();
        self.refuse_to_replace(&root, &present)?;
        give_to_owner_of(&root, staging.path())?;
        let aside = replace_contents(&root, staging.path(), &present)?;
        report(&self.archive, &data, &manifest, aside.as_deref());
        Ok(Outcome::Success)
    }

    /// Fails unless `present` (what `root` holds) is nothing or --force
    /// was given.
    fn refuse_to_replace(&self, root: &Path, present: &[String]) -> anyhow::Result<()> {
        if present.is_empty() || self.force {
            return Ok(());
        }
        let mut names = present.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
        if present.len() > 5 {
            names.push_str(", ...");
        }
        bail!(
            "{} is not empty ({names}): restore into a new directory, or give --force to move its \
             contents to {}.before-restore-TIME first",
            root.display(),
            root.display()
        )
    }
}

/// Moves `present` (entries of `root`) to a new `ROOT.before-restore-TIME`
/// and what `staging` holds into `root`; where the old contents went.
/// When a move fails, what was moved goes back.
fn replace_contents(
    root: &Path,
    staging: &Path,
    present: &[String],
) -> anyhow::Result<Option<PathBuf>> {
    let aside = if present.is_empty() {
        None
    } else {
        let aside = aside_path(root)?;
        create_private_dir(&aside).with_context(|| {
            format!(
                "cannot create {} to keep what {} holds now: move its contents away yourself and \
                 restore into the empty directory",
                aside.display(),
                root.display()
            )
        })?;
        if let Err(error) = move_all(root, &aside, present) {
            let _ = std::fs::remove_dir(&aside);
            return Err(error);
        }
        Some(aside)
    };
    if let Err(error) = move_all(staging, root, &DataDir::contents(staging)?) {
        if let Some(aside) = &aside {
            move_all(aside, root, present).context("and cannot put the old contents back")?;
            let _ = std::fs::remove_dir(aside);
        }
        return Err(error);
    }
    // The owner's alone, as `simul serve` makes it (an existing directory
    // may have been more open).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700))?;
    }
    std::fs::File::open(root)?.sync_all()?;
    Ok(aside)
}

/// Unpacks and checks the archive into a private directory inside `root`
/// (on the same file system, so that moving its files in is a rename).
fn unpack(archive_path: &Path, root: &Path) -> anyhow::Result<(tempfile::TempDir, Manifest)> {
    let staging = tempfile::Builder::new()
        .prefix(".restore-")
        .tempdir_in(root)
        .with_context(|| format!("cannot create a temporary directory in {}", root.display()))?;
    let manifest = archive::extract(archive_path, staging.path(), |manifest| {
        let known = simul_store::schema::latest_version();
        if manifest.schema > known {
            bail!(
                "{} was taken from a newer Simul ({}, schema {}; this binary knows up to schema \
                 {known}): restore it with that version or newer",
                archive_path.display(),
                manifest.simul_version,
                manifest.schema
            );
        }
        Ok(())
    })?;
    Ok((staging, manifest))
}

/// Gives what `staging` holds to the owner of `root` when that is another
/// user: root restoring a service's data (`/var/lib/simul`, owned by
/// `simul`) must leave files the service can read.
#[cfg(unix)]
fn give_to_owner_of(root: &Path, staging: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let (owner, unpacked) = (std::fs::metadata(root)?, std::fs::metadata(staging)?);
    if (owner.uid(), owner.gid()) == (unpacked.uid(), unpacked.gid()) {
        return Ok(());
    }
    let give = |path: &Path| {
        std::os::unix::fs::lchown(path, Some(owner.uid()), Some(owner.gid())).with_context(|| {
            format!(
                "cannot give {} to the owner of {} (uid {}): restore as that user or as root",
                path.display(),
                root.display(),
                owner.uid()
            )
        })
    };
    for_each_below(staging, &give)
}

/// Calls `visit` on every entry below `dir`, parents first.
#[cfg(unix)]
fn for_each_below(dir: &Path, visit: &dyn Fn(&Path) -> anyhow::Result<()>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        visit(&entry.path())?;
        if entry.file_type()?.is_dir() {
            for_each_below(&entry.path(), visit)?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn give_to_owner_of(_root: &Path, _staging: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// `DIR.before-restore-TIME`, beside the data directory.
fn aside_path(root: &Path) -> anyhow::Result<PathBuf> {
    let name = root.file_name().with_context(|| {
        format!(
            "{} has no name to make a name for its old contents from: give --data DIR",
            root.display()
        )
    })?;
    let mut aside = name.to_owned();
    aside.push(format!(".before-restore-{}", chrono::Utc::now().format("%Y%m%dT%H%M%SZ")));
    Ok(root.with_file_name(aside))
}

fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// Moves the entries `names` of directory `from` into `to`: all of them,
/// or, when one cannot move, none (those moved go back).
fn move_all(from: &Path, to: &Path, names: &[String]) -> anyhow::Result<()> {
    for (done, name) in names.iter().enumerate() {
        if let Err(error) = std::fs::rename(from.join(name), to.join(name)) {
            for name in &names[..done] {
                let _ = std::fs::rename(to.join(name), from.join(name));
            }
            return Err(error).with_context(|| {
                format!(
                    "cannot move {} to {} (another file system?); nothing was changed",
                    from.join(name).display(),
                    to.display()
                )
            });
        }
    }
    Ok(())
}

/// Says what was restored, and from what.
fn report(archive_path: &Path, data: &DataDir, manifest: &Manifest, aside: Option<&Path>) {
    let root = data.root().display();
    println!(
        "Restored {} (taken {} from {} by Simul {}) into {root}:",
        archive_path.display(),
        manifest.created,
        manifest.source,
        manifest.simul_version
    );
    for file in &manifest.files {
        println!("  {} ({})", file.path, size(file.size));
    }
    let known = simul_store::schema::latest_version();
    if manifest.schema < known {
        println!(
            "The database has schema {}; the server upgrades it to {known} when it starts.",
            manifest.schema
        );
    }
    if let Some(aside) = aside {
        println!(
            "What {root} held before is in {}: delete it once the restored server works.",
            aside.display()
        );
    }
    println!("Start the server on it as before (`simul serve --data {root}`).");
}
