//! The on-disk format of a sorted run: for each pair, the key's length (`u32` little-endian), the
//! key's bytes and the value (`u64` little-endian). Spills are written and read back in this format.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

/// Writes `run` to a new file at `path` and returns its size in bytes.
///
/// # Errors
///
/// When the file cannot be created or written.
pub fn write_run(path: &Path, run: &[(String, u64)]) -> io::Result<u64> {
    let mut out = BufWriter::with_capacity(256 * 1024, File::create(path)?);
    let mut bytes = 0;
    for (key, value) in run {
        let len = u32::try_from(key.len()).map_err(|_| io::Error::other("key longer than 4 GiB"))?;
        out.write_all(&len.to_le_bytes())?;
        out.write_all(key.as_bytes())?;
        out.write_all(&value.to_le_bytes())?;
        bytes += 12 + key.len() as u64;
    }
    out.flush()?;
    Ok(bytes)
}

/// The pairs of a run file, in order.
pub struct RunReader {
    input: BufReader<File>,
}

impl RunReader {
    /// Opens the run file at `path`.
    ///
    /// # Errors
    ///
    /// When the file cannot be opened.
    pub fn open(path: &Path) -> io::Result<Self> {
        Ok(Self { input: BufReader::with_capacity(64 * 1024, File::open(path)?) })
    }

    fn read_pair(&mut self) -> io::Result<Option<(String, u64)>> {
        let mut len = [0; 4];
        match self.input.read_exact(&mut len) {
            Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            other => other?,
        }
        let mut key = vec![0; u32::from_le_bytes(len) as usize];
        self.input.read_exact(&mut key)?;
        let mut value = [0; 8];
        self.input.read_exact(&mut value)?;
        let key = String::from_utf8(key).map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))?;
        Ok(Some((key, u64::from_le_bytes(value))))
    }
}

impl Iterator for RunReader {
    type Item = io::Result<(String, u64)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.read_pair().transpose()
    }
}
