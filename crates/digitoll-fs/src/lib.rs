//! Owner-only, atomic writes of secret files.
//!
//! [`write_private`] is the one way digitoll writes a private key, a master
//! key or any other secret to disk: created 0600 (on Unix) before a secret
//! byte is written, written to a temporary file beside the target and moved
//! into place, and an existing file is replaced only when the caller asks.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Writes `bytes` to `path`, readable and writable by its owner only.
///
/// With `overwrite` false an existing `path` is an error of kind
/// [`io::ErrorKind::AlreadyExists`] and is left untouched; with `overwrite`
/// true it is replaced atomically. Either way `path` holds all of `bytes` or
/// is as it was: the bytes are written and synced to a temporary file in the
/// same directory first. Errors carry the path in their message.
pub fn write_private(path: &Path, bytes: &[u8], overwrite: bool) -> io::Result<()> {
    if !overwrite && fs::symlink_metadata(path).is_ok() {
        return Err(exists(path));
    }
    let tmp = temp_path(path);
    let result = write_temp(&tmp, bytes).and_then(|()| place(&tmp, path, overwrite));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn exists(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{} already exists", path.display()),
    )
}

fn with_path(path: &Path, what: &str) -> impl FnOnce(io::Error) -> io::Error {
    let shown = path.display().to_string();
    let what = what.to_owned();
    move |e| io::Error::new(e.kind(), format!("cannot {what} {shown}: {e}"))
}

fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let unique = format!(
        ".{name}.{}.{}.{nanos}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    path.with_file_name(unique)
}

fn open_private(path: &Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let file = opts.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // The umask can only remove bits; make the mode exact anyway.
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

fn write_temp(tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = open_private(tmp).map_err(with_path(tmp, "create"))?;
    file.write_all(bytes).map_err(with_path(tmp, "write"))?;
    file.sync_all().map_err(with_path(tmp, "sync"))
}

fn place(tmp: &Path, path: &Path, overwrite: bool) -> io::Result<()> {
    if overwrite {
        return fs::rename(tmp, path).map_err(with_path(path, "replace"));
    }
    // A hard link fails if the name exists, so a file created since the
    // check above is not replaced either.
    match fs::hard_link(tmp, path) {
        Ok(()) => {
            fs::remove_file(tmp).map_err(with_path(tmp, "remove"))?;
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(exists(path)),
        // Filesystems without hard links: re-check, then rename.
        Err(_) => {
            if fs::symlink_metadata(path).is_ok() {
                return Err(exists(path));
            }
            fs::rename(tmp, path).map_err(with_path(path, "create"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    /// `path` holds `bytes`, is owner-only, and no temporary file is left.
    fn assert_written(dir: &Path, path: &Path, bytes: &[u8]) {
        assert_eq!(fs::read(path).unwrap(), bytes);
        #[cfg(unix)]
        assert_eq!(mode(path), 0o600);
        assert!(leftovers(dir).is_empty());
    }

    #[test]
    fn creates_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        write_private(&path, b"secret", false).unwrap();
        assert_written(dir.path(), &path, b"secret");
    }

    #[test]
    fn refuses_to_overwrite_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        fs::write(&path, b"old").unwrap();
        let err = write_private(&path, b"new", false).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert!(err.to_string().contains("key.pem"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn overwrites_when_asked_and_tightens_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        fs::write(&path, b"old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        }
        write_private(&path, b"new", true).unwrap();
        assert_written(dir.path(), &path, b"new");
    }

    #[test]
    fn a_missing_directory_names_the_path_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("key.pem");
        let err = write_private(&path, b"x", true).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("missing"), "{err}");
    }
}
