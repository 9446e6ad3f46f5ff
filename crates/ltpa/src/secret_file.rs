//! Writing files that hold secrets: all or nothing, owner-only.

use std::io::Write as _;
use std::path::Path;

/// Whether writing may replace an existing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// Fail with [`WriteError::Exists`] if the file exists.
    Refuse,
    /// Replace the file atomically.
    Replace,
}

/// Why a secret file was not written. Nothing was changed in either case.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file exists and [`Overwrite::Refuse`] was given.
    #[error("the file already exists")]
    Exists,
    /// Creating, writing or renaming failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Writes `contents` to `path` atomically with mode 0600: the bytes go to a
/// temporary file in the same directory, are flushed to disk, then renamed
/// over the target, so readers see either the old file or the whole new one.
pub fn write(path: &Path, contents: &[u8], overwrite: Overwrite) -> Result<(), WriteError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if overwrite == Overwrite::Refuse && path.exists() {
        return Err(WriteError::Exists);
    }
    // tempfile creates the file with mode 0600 on Unix.
    let mut temp = tempfile::Builder::new().prefix(".simul-").suffix(".tmp").tempfile_in(dir)?;
    temp.write_all(contents)?;
    temp.as_file().sync_all()?;
    match overwrite {
        Overwrite::Refuse => temp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                WriteError::Exists
            } else {
                WriteError::Io(e.error)
            }
        })?,
        Overwrite::Replace => temp.persist(path).map_err(|e| WriteError::Io(e.error))?,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_owner_only_and_refuses_to_clobber() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        write(&path, b"one", Overwrite::Refuse).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(write(&path, b"two", Overwrite::Refuse), Err(WriteError::Exists)));
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        write(&path, b"three", Overwrite::Replace).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"three");
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file left behind");
    }
}
