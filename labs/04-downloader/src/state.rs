//! Stage 4: the state file that makes a download resumable, and writing it so a crash at any
//! moment leaves either the old state or the new one, never a mixture.
//!
//! The format is yours to choose (the chapter discusses the options); [`State::decode`] must read
//! what [`State::encode`] writes, and refuse anything else without panicking.

use std::fs::{self, File};
use std::io;
use std::path::Path;

use crate::plan::chunk_count;
use crate::probe::Validator;

// TODO(stage 4): a fixed magic first and a checksum of everything before it last (FNV-1a is a
// few lines) make a torn or foreign file easy to refuse. Decode through a small cursor whose reads
// return StateError::Truncated rather than index past the end, and check a length against the
// bytes left before allocating for it.

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
        todo!("stage 4: write the state as bytes")
    }

    /// Reads what [`State::encode`] wrote. Never panics, whatever the bytes.
    ///
    /// # Errors
    ///
    /// A [`StateError`] for bytes that are not a complete, intact and consistent state.
    pub fn decode(bytes: &[u8]) -> Result<State, StateError> {
        todo!(
            "stage 4: read what encode wrote; refuse short, foreign, corrupt or inconsistent bytes without panicking"
        )
    }

    /// Writes the state to `path` atomically and durably: into `path.tmp`, synced, then renamed
    /// over `path`, and the directory synced so the rename itself survives a power cut.
    ///
    /// # Errors
    ///
    /// When the file cannot be written, synced or renamed.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        todo!("stage 4: write `path`.tmp, sync it, rename it over `path`, sync the directory")
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
