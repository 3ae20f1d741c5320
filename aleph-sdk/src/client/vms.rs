//! Programs and instances: package a directory into a zip code volume, STORE it, then publish the
//! PROGRAM that runs it; publish INSTANCEs.

use std::io::Write;
use std::path::{Path, PathBuf};

use aleph_core::Signer;

use super::storage::StoreOptions;
use super::{AlephClient, SubmitMode};
use crate::compose::{InstanceSpec, MessageBuilder, ProgramSpec};
use crate::error::{ClientError, Result};
use crate::types::Submitted;

/// The two messages that publish a program.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramPublished {
    /// The STORE of the code volume.
    pub code: Submitted,
    /// The PROGRAM.
    pub program: Submitted,
}

/// Packages a code directory into a zip archive (deterministic: sorted entries, fixed
/// timestamps), as the Python SDK does for programs. A path to an existing `.zip` file is read
/// as is.
pub fn package_directory(path: &Path) -> Result<Vec<u8>> {
    if path.is_file() {
        return Ok(std::fs::read(path)?);
    }
    if !path.is_dir() {
        return Err(ClientError::InvalidArgument(format!(
            "{} is neither a directory nor a file",
            path.display()
        )));
    }
    let mut files = Vec::new();
    collect(path, path, &mut files)?;
    files.sort();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    for (name, full) in &files {
        zip.start_file(name.as_str(), options).map_err(zip_error)?;
        zip.write_all(&std::fs::read(full)?)?;
    }
    if files.is_empty() {
        return Err(ClientError::InvalidArgument(format!("{} holds no file", path.display())));
    }
    Ok(zip.finish().map_err(zip_error)?.into_inner())
}

fn zip_error(e: zip::result::ZipError) -> ClientError {
    ClientError::Io(std::io::Error::other(e))
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let p = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect(root, &p, out)?;
        } else if kind.is_file() {
            let rel = p.strip_prefix(root).map_err(|e| ClientError::InvalidArgument(e.to_string()))?;
            let name =
                rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            out.push((name, p));
        }
    }
    Ok(())
}

impl AlephClient {
    /// Publishes a program: packages `code` (a directory, or a zip file), STOREs it (waiting for
    /// the STORE to be processed, as the PROGRAM depends on it), then publishes the PROGRAM with
    /// `entrypoint` and the settings `configure` applies to the defaults.
    pub async fn create_program<S: Signer + Sync>(
        &self,
        signer: &S,
        code: &Path,
        entrypoint: &str,
        configure: impl FnOnce(&mut ProgramSpec) + Send,
        mode: SubmitMode,
    ) -> Result<ProgramPublished> {
        let code_path = code.to_path_buf();
        let archive = tokio::task::spawn_blocking(move || package_directory(&code_path))
            .await
            .map_err(|e| ClientError::Io(std::io::Error::other(e)))??;
        let code = self
            .create_store(
                signer,
                archive,
                &StoreOptions::new().content_type("application/zip").mode(mode.for_dependency()),
            )
            .await?;
        let mut spec = ProgramSpec::new(code.item_hash().clone(), entrypoint);
        configure(&mut spec);
        let program = self.publish(signer, &MessageBuilder::program(&spec), mode).await?;
        Ok(ProgramPublished { code, program })
    }

    /// Publishes an INSTANCE.
    pub async fn create_instance<S: Signer + Sync>(
        &self,
        signer: &S,
        spec: &InstanceSpec,
        mode: SubmitMode,
    ) -> Result<Submitted> {
        self.publish(signer, &MessageBuilder::instance(spec), mode).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn directories_zip_deterministically() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pkg")).unwrap();
        std::fs::write(dir.path().join("main.py"), "app = 1\n").unwrap();
        std::fs::write(dir.path().join("pkg/util.py"), "x = 2\n").unwrap();
        let a = package_directory(dir.path()).unwrap();
        let b = package_directory(dir.path()).unwrap();
        assert_eq!(a, b);
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(a)).unwrap();
        let names: Vec<String> = archive.file_names().map(|n| n.unwrap().into_owned()).collect();
        assert_eq!(names, ["main.py", "pkg/util.py"]);
        let mut s = String::new();
        archive.by_name("pkg/util.py").unwrap().read_to_string(&mut s).unwrap();
        assert_eq!(s, "x = 2\n");
        assert!(package_directory(&dir.path().join("missing")).is_err());
        let empty = tempfile::tempdir().unwrap();
        assert!(package_directory(empty.path()).is_err());
    }
}
