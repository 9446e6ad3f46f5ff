//! The backup archive: a gzip'd tar (`tar tzf` lists it) whose first
//! entry, `manifest.json`, says what wrote it, the database's schema
//! version, and every other entry's size and SHA-256. The manifest comes
//! first so that a restore refuses an archive it cannot use before it
//! unpacks gigabytes, and every file is checked against it.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::data::DataDir;

/// The name of the manifest entry.
const MANIFEST: &str = "manifest.json";
/// The format this build writes, and the newest it reads.
const FORMAT: u32 = 1;
/// More than any real manifest (a few hundred bytes a file).
const MANIFEST_LIMIT: u64 = 1 << 20;

/// What an archive holds, and what wrote it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// The archive format ([`FORMAT`] when written by this build).
    pub format: u32,
    /// The Simul version that wrote it.
    pub simul_version: String,
    /// The database's schema version (its newest migration).
    pub schema: i64,
    /// When the backup was taken (RFC 3339, UTC).
    pub created: String,
    /// The data directory it was taken from.
    pub source: String,
    /// Every file besides the manifest, in archive order.
    pub files: Vec<FileEntry>,
}

/// One file of the archive.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the data directory, with `/`.
    pub path: String,
    /// In bytes.
    pub size: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

/// A file to put into an archive: the database copy (on disk, in a
/// private directory, so it cannot change between hashing and writing)
/// or a key file read once into memory (where it cannot change either).
pub enum Contents {
    /// A file that nothing else writes.
    File(PathBuf),
    /// Bytes read before, wiped when dropped.
    Bytes(Zeroizing<Vec<u8>>),
}

impl Contents {
    fn open(&self) -> anyhow::Result<Box<dyn Read + '_>> {
        Ok(match self {
            Self::File(path) => Box::new(
                std::fs::File::open(path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
            ),
            Self::Bytes(bytes) => Box::new(bytes.as_slice()),
        })
    }
}

impl Manifest {
    /// The manifest of `files` (hashed here), for a database of `schema`
    /// taken from `source`.
    pub fn new(schema: i64, source: &Path, files: &[(String, Contents)]) -> anyhow::Result<Self> {
        let entries = files
            .iter()
            .map(|(path, contents)| {
                let mut hasher = Sha256::new();
                let size = std::io::copy(&mut contents.open()?, &mut hasher)?;
                let sha256 = format!("{:x}", hasher.finalize());
                Ok(FileEntry { path: path.clone(), size, sha256 })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            format: FORMAT,
            simul_version: env!("CARGO_PKG_VERSION").to_owned(),
            schema,
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            source: source.canonicalize().as_deref().unwrap_or(source).display().to_string(),
            files: entries,
        })
    }

    /// The bytes of all files together.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|file| file.size).sum()
    }

    /// The manifest's own checks: a format this build reads, paths a data
    /// directory may hold (each once), and the database among them.
    fn check(&self, archive: &Path) -> anyhow::Result<()> {
        let name = archive.display();
        if self.format > FORMAT {
            bail!(
                "{name} is in backup format {}, newer than this Simul reads ({FORMAT}): restore it \
                 with Simul {} or newer",
                self.format,
                self.simul_version
            );
        }
        let mut seen = std::collections::HashSet::new();
        for file in &self.files {
            if !DataDir::may_hold(&file.path) {
                bail!(
                    "{name} holds {:?}, which is no file of a data directory that this Simul \
                     knows: restore it with Simul {} or newer",
                    file.path,
                    self.simul_version
                );
            }
            if !seen.insert(file.path.as_str()) {
                bail!("{name} lists {:?} twice: the archive is damaged", file.path);
            }
        }
        if !seen.contains(crate::data::DATABASE) {
            bail!("{name} holds no database: it is not a backup of a Simul data directory");
        }
        Ok(())
    }
}

/// Writes an archive of `files` under `manifest` to `writer` (gzip'd),
/// calling `progress` with the bytes of files written so far.
pub fn write(
    writer: impl Write,
    manifest: &Manifest,
    files: &[(String, Contents)],
    mut progress: impl FnMut(u64),
) -> anyhow::Result<()> {
    let gzip = flate2::write::GzEncoder::new(writer, flate2::Compression::fast());
    let mut tar = tar::Builder::new(gzip);
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    let mut append = |path: &str, size: u64, data: &mut dyn Read| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o600);
        header.set_mtime(now);
        header.set_size(size);
        tar.append_data(&mut header, path, data).with_context(|| format!("cannot archive {path}"))
    };
    let json = serde_json::to_vec_pretty(manifest)?;
    append(MANIFEST, json.len() as u64, &mut json.as_slice())?;
    let mut done = 0;
    for ((path, contents), entry) in files.iter().zip(&manifest.files) {
        let before = done;
        let inner = contents.open()?.take(entry.size);
        let mut counting = Counting { inner, count: &mut done, progress: &mut progress };
        append(path, entry.size, &mut counting)?;
        // The contents cannot change (see `Contents`); were it otherwise,
        // this is better than an entry that does not match its header.
        anyhow::ensure!(done - before == entry.size, "{path} changed while it was archived");
    }
    tar.into_inner()?.finish()?.flush()?;
    Ok(())
}

/// Unpacks the archive at `archive` into `into` (an empty private
/// directory: files 0600, directories 0700), checking every file against
/// the manifest; `accept` sees the manifest before anything is unpacked
/// and may refuse it. The manifest, once all is read and matches.
pub fn extract(
    archive: &Path,
    into: &Path,
    accept: impl FnOnce(&Manifest) -> anyhow::Result<()>,
) -> anyhow::Result<Manifest> {
    let name = archive.display();
    let file = std::fs::File::open(archive).with_context(|| format!("cannot read {name}"))?;
    let damaged = || {
        format!(
            "{name} is not a whole Simul backup (damaged, or a copy cut short?): use another \
             copy of it"
        )
    };
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let mut entries = tar.entries().with_context(damaged)?;
    let mut first = match entries.next() {
        Some(entry) => entry.with_context(damaged)?,
        None => bail!("{name} is empty: it is not a Simul backup"),
    };
    if first.path().ok().as_deref() != Some(Path::new(MANIFEST)) {
        bail!("{name} does not start with {MANIFEST}: it is not a Simul backup");
    }
    let manifest = read_manifest(&mut first).with_context(damaged)?;
    manifest.check(archive)?;
    accept(&manifest)?;
    let mut expected: BTreeMap<&str, &FileEntry> =
        manifest.files.iter().map(|file| (file.path.as_str(), file)).collect();
    for entry in entries {
        let mut entry = entry.with_context(damaged)?;
        let path = entry.path().with_context(damaged)?.to_string_lossy().into_owned();
        let Some(wanted) = expected.remove(path.as_str()) else {
            bail!(
                "{name} holds {path:?}, which its manifest does not list (twice?): the archive is damaged"
            );
        };
        if entry.header().entry_type() != tar::EntryType::Regular {
            bail!("{name}: {path:?} is not a plain file: the archive is damaged");
        }
        // Never more than the manifest says (a damaged header could claim
        // any size); a difference shows in the check below.
        let mut limited = (&mut entry).take(wanted.size + 1);
        let (size, sha256) = unpack(&mut limited, &into.join(&path)).with_context(damaged)?;
        if size != wanted.size || sha256 != wanted.sha256 {
            bail!(
                "{name}: {path} does not match its checksum in the manifest: the archive is \
                 damaged; use another copy of the backup"
            );
        }
    }
    if let Some(missing) = expected.keys().next() {
        bail!("{name} ends before {missing}: the archive is incomplete (a copy cut short?)");
    }
    // The rest of the gzip stream (tar's end blocks, gzip's own checksum).
    std::io::copy(&mut tar.into_inner(), &mut std::io::sink()).with_context(damaged)?;
    Ok(manifest)
}

fn read_manifest(entry: &mut impl Read) -> anyhow::Result<Manifest> {
    let mut json = Vec::new();
    entry.take(MANIFEST_LIMIT).read_to_end(&mut json)?;
    serde_json::from_slice(&json).context("its manifest does not parse")
}

/// Writes `entry` to `path` (a new file, 0600, parents 0700): its size
/// and SHA-256.
fn unpack(entry: &mut impl Read, path: &Path) -> anyhow::Result<(u64, String)> {
    if let Some(parent) = path.parent() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    let mut hasher = Sha256::new();
    let mut both = Tee { file: &mut file, hasher: &mut hasher };
    let size = std::io::copy(entry, &mut both)?;
    file.sync_all()?;
    Ok((size, format!("{:x}", hasher.finalize())))
}

/// Writes to a file and a hash at once.
struct Tee<'a> {
    file: &'a mut std::fs::File,
    hasher: &'a mut Sha256,
}

impl Write for Tee<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let written = self.file.write(bytes)?;
        self.hasher.update(&bytes[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Counts what is read through it, for the progress line.
struct Counting<'a, R, P> {
    inner: R,
    count: &'a mut u64,
    progress: &'a mut P,
}

impl<R: Read, P: FnMut(u64)> Read for Counting<'_, R, P> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        *self.count += read as u64;
        (self.progress)(*self.count);
        Ok(read)
    }
}
