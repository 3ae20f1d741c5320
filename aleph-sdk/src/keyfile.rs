//! Secret key files: written private (mode 0600 on Unix) from their creation, complete or
//! absent, and keystores read back.
//!
//! A key file is first written under a temporary name created with its final mode (never
//! world-readable, even for an instant, whatever the umask), synced, then renamed into place.
//! A failure to set the mode is an error.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::accounts::AccountError;

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> AccountError + '_ {
    move |source| AccountError::Write { path: path.display().to_string(), source }
}

/// A file created for writing that only its owner can read (`O_CREAT | O_EXCL`, mode 0600).
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    // The umask can only remove bits; make sure nothing else was kept either.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

fn temporary_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp{}", std::process::id()))
}

/// Writes `bytes` to `path` as a private file (mode 0600), replacing it atomically.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), AccountError> {
    let tmp = temporary_name(path);
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut file = create_private(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(write_error(path))
}

/// Encrypts `secret` with `password` into a keystore v3 file named `name` in `dir`, written as
/// [`write_private`] writes; returns its path.
pub fn write_keystore(
    dir: &Path,
    name: &str,
    secret: &[u8],
    password: impl AsRef<[u8]>,
) -> Result<PathBuf, AccountError> {
    // The keystore library writes the file itself, with the process's default mode: let it write
    // into a directory only we can enter, then copy the text out privately.
    let scratch = dir.join(format!(".keystore-{}-{name}", std::process::id()));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(&scratch).map_err(write_error(&scratch))?;
    let written = (|| {
        let mut rng = rand_core::OsRng;
        eth_keystore::encrypt_key(&scratch, &mut rng, secret, password, Some(name))
            .map_err(|e| AccountError::Keystore(e.to_string()))?;
        let text = std::fs::read(scratch.join(name)).map_err(write_error(&scratch))?;
        let path = dir.join(name);
        write_private(&path, &text)?;
        Ok(path)
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    written
}

/// Decrypts the secret of a keystore v3 file (scrypt or pbkdf2) with `password`; a password
/// that does not open it is [`AccountError::WrongPassword`].
pub fn read_keystore(path: &Path, password: impl AsRef<[u8]>) -> Result<Vec<u8>, AccountError> {
    eth_keystore::decrypt_key(path, password).map_err(|e| match e {
        eth_keystore::KeystoreError::MacMismatch => {
            AccountError::WrongPassword { path: path.display().to_string() }
        }
        other => AccountError::Keystore(format!("{}: {other}", path.display())),
    })
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn key_files_are_private_and_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.key");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, b"secret").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"secret");
        assert_eq!(mode(&path), 0o600);
        let keystore = write_keystore(dir.path(), "a.json", &[0xac; 32], "pw").unwrap();
        assert_eq!(mode(&keystore), 0o600);
        assert_eq!(read_keystore(&keystore, "pw").unwrap(), vec![0xac; 32]);
        assert!(matches!(read_keystore(&keystore, "other"), Err(AccountError::WrongPassword { .. })));
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 2, "no temporary file or directory is left: {names:?}");
        // A directory we cannot write to is an error, not a silent fallback.
        assert!(write_private(&dir.path().join("missing").join("b.key"), b"x").is_err());
    }
}
