//! Writing a site file, whole or through a buffered writer, with errors that name it.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use documents::Error;

/// Write `bytes` to `path`.
pub(crate) fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

/// Flush-and-report helper for buffered writers.
pub(crate) fn finish(path: &Path, w: io::BufWriter<fs::File>) -> Result<(), Error> {
    let mut w = w;
    w.flush().map_err(|e| Error::io(path, e))
}
