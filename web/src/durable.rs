//! Small state files replaced whole and durably: the witness's record of what it cosigned and
//! the log's record of the cosignatures it gathered. A crash or `kill -9` at any point leaves
//! either the old file or the new one, never a mix or nothing.

use std::fs;
use std::io::Write;
use std::path::Path;

/// Writes `contents` to a temporary file beside `path`, fsyncs it, renames it over `path` and
/// fsyncs the folder, so that the rename itself survives a power loss. `private` files are
/// created with owner-only permissions.
pub fn replace_file(path: &Path, contents: &[u8], private: bool) -> std::io::Result<()> {
    write_and_rename(path, contents, private)?;
    sync_folder(path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")))
}

/// The first half of [`replace_file`]: `contents` written to a temporary file beside `path`
/// (named for this process, so two writers never share one), fsynced, and renamed over `path`.
/// A reader sees the old file or the new one, never a part; the new name survives a power loss
/// once [`sync_folder`] has run on its folder, which a caller writing many files does once.
pub fn write_and_rename(path: &Path, contents: &[u8], private: bool) -> std::io::Result<()> {
    let name = path.file_name().ok_or_else(|| std::io::Error::other(format!("{} is not a file path", path.display())))?;
    let tmp = path.with_file_name(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = opts.open(&tmp)?;
    f.write_all(contents)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)
}

/// Fsyncs folder `dir`, so the names renamed into it survive a power loss.
pub fn sync_folder(dir: &Path) -> std::io::Result<()> {
    // Directories cannot be opened for syncing everywhere (Windows); where they can, sync.
    if let Ok(d) = fs::File::open(dir) {
        d.sync_all()?;
    }
    Ok(())
}

/// Holds an exclusive lock on `path` (created if missing) for as long as the returned file
/// lives; `Err` if another process holds it. The kernel drops the lock when the process dies,
/// even by `kill -9`.
pub fn lock_exclusive(path: &Path) -> std::io::Result<fs::File> {
    let f = fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
    #[cfg(unix)]
    rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockExclusive).map_err(std::io::Error::from)?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_file_holds_the_new_contents_and_no_temporary_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        replace_file(&path, b"one", true).unwrap();
        replace_file(&path, b"two", true).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let first = lock_exclusive(&path).unwrap();
        assert!(lock_exclusive(&path).is_err());
        drop(first);
        assert!(lock_exclusive(&path).is_ok());
    }
}
