//! The store read for the site: its entry files listed (and their directories opened) in ID
//! order, read a chunk at a time into an [`Arena`]; and the reports it holds.

use std::fs;
use std::io;
use std::path::PathBuf;

use super::dir::Dir;
use super::util::is_sha256;
use crate::layout::{COMPONENTS_DIR, REPORTS_DIR, SYSTEMS_DIR};
use crate::store::Store;

use documents::Error;

/// The bytes of a chunk of entry files, one after the other (a few large allocations rather
/// than one per file: the views parsed from them are freed faster for it), and each file's
/// place in them or why it could not be read.
pub(crate) struct Arena {
    pub data: Vec<u8>,
    pub spans: Vec<Result<(usize, usize), String>>,
}

impl Arena {
    pub fn read(dirs: &[Dir], files: &[EntryFile]) -> Arena {
        use std::os::unix::ffi::OsStrExt;
        let mut data = Vec::with_capacity(files.len() * 6144);
        let mut spans = Vec::with_capacity(files.len());
        let mut buf = Vec::with_capacity(256);
        for f in files {
            let from = data.len();
            let name = f.path.file_name().map(|n| n.as_bytes()).unwrap_or_default();
            match dirs[f.dir].read_into(&mut buf, name, &mut data) {
                Ok(()) => spans.push(Ok((from, data.len()))),
                Err(e) => spans.push(Err(format!(
                    "{}: {}",
                    f.path.display(),
                    documents::io_reason(&e)
                ))),
            }
        }
        Arena { data, spans }
    }
}

/// An entry file of the store: its directory (an index into the open ones) and its path.
pub(crate) struct EntryFile {
    pub dir: usize,
    pub path: PathBuf,
}

/// Every entry file of the store, in ID order: systems first, then by file name, as
/// [`Store::entries`] reads them; and the directories they are in, open.
pub(crate) fn entry_paths(store: &Store) -> Result<(Vec<Dir>, Vec<EntryFile>), Error> {
    use std::os::unix::ffi::OsStrExt;
    let mut paths: Vec<EntryFile> = Vec::new();
    let mut dirs = Vec::new();
    for d in [SYSTEMS_DIR, COMPONENTS_DIR] {
        let dir = store.root().join(d);
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(&dir, e)),
        };
        let at = dirs.len();
        dirs.push(Dir::open(&dir).map_err(|e| Error::io(&dir, e))?);
        let mut names: Vec<std::ffi::OsString> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .filter(|n| {
                let b = n.as_bytes();
                b.ends_with(b".json") && !b.starts_with(b".")
            })
            .collect();
        names.sort_unstable();
        paths.extend(names.into_iter().map(|n| EntryFile {
            dir: at,
            path: dir.join(n),
        }));
    }
    Ok((dirs, paths))
}

/// The reports the store holds: the names of `reports/` that are SHA-256s, sorted.
pub(crate) fn store_reports(store: &Store) -> Result<Vec<String>, Error> {
    let dir = store.root().join(REPORTS_DIR);
    let rd = match fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(&dir, e)),
    };
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_sha256(n))
        .collect();
    names.sort_unstable();
    Ok(names)
}
