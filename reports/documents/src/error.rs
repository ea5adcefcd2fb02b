//! The one error of reading and writing documents: what failed, on which file.

use std::io;
use std::path::{Path, PathBuf};

/// What went wrong, on which file, and what to do: one line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {}", .path.display(), io_reason(.error))]
    Io { path: PathBuf, error: io::Error },
    #[error("{0}")]
    Msg(String),
}

impl Error {
    pub fn io(path: impl AsRef<Path>, error: io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            error,
        }
    }
    pub fn msg(m: impl Into<String>) -> Self {
        Error::Msg(m.into())
    }
}

/// An I/O error as a short phrase ("no such file or directory", "permission denied",
/// "is a directory").
pub fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            // "Is a directory (os error 21)" → "is a directory"
            let s = s.split(" (os error").next().unwrap_or(&s).to_string();
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_lowercase().chain(c).collect(),
                None => s,
            }
        }
    }
}
