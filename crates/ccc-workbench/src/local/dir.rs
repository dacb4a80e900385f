//! The owner-only directory that holds the lock files and control sockets.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Why the local directory cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DirError {
    /// It could not be created or read.
    #[error("local directory {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// It belongs to another user, or others may enter it: its sockets could be reached
    /// by them, so it is refused.
    #[error(
        "local directory {path} is not private to this user (owner uid {owner}, mode {mode:o})"
    )]
    NotPrivate {
        /// The directory.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// Its permission bits.
        mode: u32,
    },
}

/// The directory where the registered workbench of each agent leaves its lock file and
/// its control socket. Only its owner may enter it (mode `0700`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalDir {
    path: PathBuf,
}

impl LocalDir {
    /// The default: `$XDG_RUNTIME_DIR/ccc-rs`, or `ccc-rs-<uid>` in the temporary
    /// directory when there is no runtime directory. Created if missing.
    pub fn default_for_user() -> Result<Self, DirError> {
        let base = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute())
            .map_or_else(
                || std::env::temp_dir().join(format!("ccc-rs-{}", nix::unistd::getuid())),
                |runtime| runtime.join("ccc-rs"),
            );
        Self::at(base)
    }

    /// `path`, created with mode `0700` if missing. An existing directory must belong to
    /// this user and be closed to others.
    pub fn at(path: impl Into<PathBuf>) -> Result<Self, DirError> {
        let path = path.into();
        let io_error = |source| DirError::Io {
            path: path.clone(),
            source,
        };
        match fs::DirBuilder::new()
            .mode(0o700)
            .recursive(true)
            .create(&path)
        {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error(e)),
        }
        let meta = fs::metadata(&path).map_err(io_error)?;
        let mode = meta.permissions().mode() & 0o777;
        let me = nix::unistd::getuid().as_raw();
        if meta.uid() != me || mode & 0o077 != 0 {
            return Err(DirError::NotPrivate {
                path,
                owner: meta.uid(),
                mode,
            });
        }
        Ok(Self { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The lock file of an agent of an instance.
    pub fn lock_path(&self, instance_id: &str, user_id: &str) -> PathBuf {
        self.path
            .join(format!("{}.lock", file_stem(instance_id, user_id)))
    }

    /// The control socket of an agent of an instance.
    pub fn socket_path(&self, instance_id: &str, user_id: &str) -> PathBuf {
        self.path
            .join(format!("{}.sock", file_stem(instance_id, user_id)))
    }
}

/// A file name for the pair that no instance or user id can turn into a path: letters,
/// digits, `-` and `_` stay, every other byte becomes `.xx` (its hex), and the two parts
/// are joined by `~`. Distinct pairs give distinct names.
fn file_stem(instance_id: &str, user_id: &str) -> String {
    fn push_escaped(stem: &mut String, part: &str) {
        for byte in part.bytes() {
            if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
                stem.push(char::from(byte));
            } else {
                stem.push_str(&format!(".{byte:02x}"));
            }
        }
    }
    let mut stem = String::with_capacity(instance_id.len() + user_id.len() + 1);
    push_escaped(&mut stem, instance_id);
    stem.push('~');
    push_escaped(&mut stem, user_id);
    stem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_keep_ids_apart_and_inside_the_directory() {
        assert_eq!(
            file_stem("ccc-test", "agent@ccc-test"),
            "ccc-test~agent.40ccc-test"
        );
        assert_eq!(file_stem("../x", "/y"), ".2e.2e.2fx~.2fy");
        assert_ne!(file_stem("a~b", "c"), file_stem("a", "b~c"));
        assert_ne!(file_stem("a.b", "c"), file_stem("a", "b.c"));
    }

    #[test]
    fn a_directory_open_to_others_is_refused() {
        let base = tempfile::tempdir().unwrap();
        let open = base.path().join("open");
        fs::create_dir(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o755)).unwrap();
        let error = LocalDir::at(&open).unwrap_err();
        assert!(
            matches!(error, DirError::NotPrivate { mode: 0o755, .. }),
            "{error}"
        );

        let fresh = LocalDir::at(base.path().join("fresh/nested")).unwrap();
        let mode = fs::metadata(fresh.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}
