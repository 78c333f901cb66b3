//! Stage 4: the state file that makes a download resumable, and writing it so a crash at any
//! moment leaves either the old state or the new one, never a mixture.
//!
//! The format is yours to choose (the chapter discusses the options); [`State::decode`] must read
//! what [`State::encode`] writes, and refuse anything else without panicking.

// This reference's format, little-endian: the magic `DLSTATE1`; the file's size and the chunk size
// (`u64`); the `ETag` and the `Last-Modified` (each a byte 0 or 1 for absent or present, then a `u32`
// length and the UTF-8 bytes); the number of chunks (`u32`) and, for each, how many of its bytes are
// safely on disk (`u64`); last, an FNV-1a hash (`u64`) of everything before it.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

use crate::plan::{chunk_count, plan};
use crate::probe::Validator;

const MAGIC: &[u8; 8] = b"DLSTATE1";

/// How far a download has come: enough to continue it, and to check it is the same file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The file's size.
    pub size: u64,
    /// The chunk size the download was planned with (a resumed download keeps it).
    pub chunk_size: u64,
    /// The file's validators when the download started.
    pub validator: Validator,
    /// For each chunk of `plan(size, chunk_size)`, how many of its bytes, from its start, are on
    /// disk (synced before this state was written).
    pub progress: Vec<u64>,
}

/// Why a state file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The bytes end before the format does (a torn or truncated file).
    #[error("state file is cut short")]
    Truncated,
    /// Not a state file of this version.
    #[error("not a downloader state file")]
    BadMagic,
    /// The hash does not match the contents.
    #[error("state file is corrupt (checksum mismatch)")]
    Checksum,
    /// The contents contradict each other (a chunk count that does not fit the size…).
    #[error("state file is inconsistent: {0}")]
    Inconsistent(&'static str),
}

impl State {
    /// The state of a download that has not fetched anything yet.
    pub fn new(size: u64, chunk_size: u64, validator: Validator) -> State {
        State { size, chunk_size, validator, progress: vec![0; chunk_count(size, chunk_size)] }
    }

    /// How many bytes are on disk already.
    pub fn done(&self) -> u64 {
        self.progress.iter().sum()
    }

    /// The state as bytes, for [`State::decode`].
    pub fn encode(&self) -> Vec<u8> {
        // ANCHOR: encode
        let mut out = Vec::with_capacity(64 + 8 * self.progress.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.size.to_le_bytes());
        out.extend_from_slice(&self.chunk_size.to_le_bytes());
        for text in [&self.validator.etag, &self.validator.last_modified] {
            match text {
                None => out.push(0),
                Some(text) => {
                    out.push(1);
                    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
                    out.extend_from_slice(text.as_bytes());
                }
            }
        }
        out.extend_from_slice(&(self.progress.len() as u32).to_le_bytes());
        for done in &self.progress {
            out.extend_from_slice(&done.to_le_bytes());
        }
        let hash = fnv1a(&out);
        out.extend_from_slice(&hash.to_le_bytes());
        out
        // ANCHOR_END: encode
    }

    /// Reads what [`State::encode`] wrote. Never panics, whatever the bytes.
    ///
    /// # Errors
    ///
    /// A [`StateError`] for bytes that are not a complete, intact and consistent state.
    pub fn decode(bytes: &[u8]) -> Result<State, StateError> {
        // ANCHOR: decode
        let (body, hash) = bytes.split_last_chunk::<8>().ok_or(StateError::Truncated)?;
        let mut reader = Reader(body);
        if reader.take(MAGIC.len())? != MAGIC {
            return Err(StateError::BadMagic);
        }
        if fnv1a(body) != u64::from_le_bytes(*hash) {
            return Err(StateError::Checksum);
        }
        let size = reader.u64()?;
        let chunk_size = reader.u64()?;
        let etag = reader.text()?;
        let last_modified = reader.text()?;
        let count = reader.u32()? as usize;
        if chunk_size == 0 {
            return Err(StateError::Inconsistent("chunk size 0"));
        }
        if count as u64 != size.div_ceil(chunk_size) || reader.0.len() != count * 8 {
            return Err(StateError::Inconsistent("the chunk count does not match the size"));
        }
        let chunks = plan(size, chunk_size);
        let mut progress = Vec::with_capacity(count);
        for chunk in &chunks {
            let done = reader.u64()?;
            if done > chunk.len() {
                return Err(StateError::Inconsistent("a chunk has more bytes than it holds"));
            }
            progress.push(done);
        }
        Ok(State { size, chunk_size, validator: Validator { etag, last_modified }, progress })
        // ANCHOR_END: decode
    }

    /// Writes the state to `path` atomically and durably: into `path.tmp`, synced, then renamed
    /// over `path`, and the directory synced so the rename itself survives a power cut.
    ///
    /// # Errors
    ///
    /// When the file cannot be written, synced or renamed.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        // ANCHOR: save
        let mut temp = path.as_os_str().to_owned();
        temp.push(".tmp");
        let mut file = File::create(&temp)?;
        file.write_all(&self.encode())?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)?;
        sync_dir(path)
        // ANCHOR_END: save
    }

    /// Reads the state file at `path`; `Ok(None)` when there is none.
    ///
    /// # Errors
    ///
    /// An I/O error other than "not found"; [`StateError`] wrapped as [`io::ErrorKind::InvalidData`]
    /// for a file that is not a valid state.
    pub fn load(path: &Path) -> io::Result<Option<State>> {
        match fs::read(path) {
            Ok(bytes) => {
                State::decode(&bytes).map(Some).map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }
}

/// Syncs the directory holding `path`, which makes a rename or a new name in it durable.
pub fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// FNV-1a, 64 bits: a few lines, and any single changed byte changes the hash.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// A cursor over the bytes being decoded; every read checks the length first.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StateError> {
        if self.0.len() < n {
            return Err(StateError::Truncated);
        }
        let (taken, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(taken)
    }

    fn u32(&mut self) -> Result<u32, StateError> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn u64(&mut self) -> Result<u64, StateError> {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(bytes))
    }

    fn text(&mut self) -> Result<Option<String>, StateError> {
        match self.take(1)?[0] {
            0 => Ok(None),
            1 => {
                let len = self.u32()? as usize;
                let bytes = self.take(len)?;
                let text = std::str::from_utf8(bytes)
                    .map_err(|_| StateError::Inconsistent("a validator is not UTF-8"))?;
                Ok(Some(text.to_owned()))
            }
            _ => Err(StateError::Inconsistent("bad presence byte")),
        }
    }
}
