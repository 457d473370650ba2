//! Reading input files under a size limit.
//!
//! Every reader works on an in-memory byte slice, because all-or-nothing validation
//! needs the whole file before anything is returned. A 2 GB file must therefore be
//! refused *before* it is read: the size is checked from the file's metadata, and the
//! read itself stops one byte past the limit, so a file that grows while it is read (or a
//! pipe whose size is unknown) is refused as well.

use std::io::Read;
use std::path::Path;

use super::error::FormatError;

/// Default size limit: 256 MiB is about two million 全銀 records, far more than one
/// municipality's monthly debit run, and small enough to validate in memory.
pub const DEFAULT_MAX_BYTES: u64 = 256 * 1024 * 1024;

/// Limits applied when reading input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

impl Limits {
    /// Returns an error when `len` bytes are above the limit.
    pub fn check(&self, len: u64) -> Result<(), FormatError> {
        if len > self.max_bytes {
            Err(FormatError::TooLarge {
                size: len,
                limit: self.max_bytes,
            })
        } else {
            Ok(())
        }
    }
}

/// Reads a whole file, refusing it when it is larger than `limits.max_bytes`.
pub fn read_file(path: &Path, limits: &Limits) -> Result<Vec<u8>, FormatError> {
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    limits.check(len)?;
    read_limited(file, limits)
}

/// Reads a stream to its end, refusing it as soon as more than `limits.max_bytes` bytes
/// arrive. Used for standard input, whose size is not known in advance.
pub fn read_limited(reader: impl Read, limits: &Limits) -> Result<Vec<u8>, FormatError> {
    let mut buf = Vec::new();
    reader
        .take(limits.max_bytes.saturating_add(1))
        .read_to_end(&mut buf)?;
    limits.check(buf.len() as u64)?;
    Ok(buf)
}
