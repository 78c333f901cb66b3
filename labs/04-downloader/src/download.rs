//! Stages 2 to 4: one download from start to finish. Probe the file, plan its chunks (or continue
//! an earlier plan), run the workers, keep the state file current, and put the file in place only
//! once it is complete and verified.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use crate::{Config, Error};

/// The most chunks a download is split into: a larger file gets larger chunks, so the state file
/// and the work queue stay small.
pub const MAX_CHUNKS: u64 = 1 << 16;

/// How a download that returned `Ok` went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Where the file is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// The body bytes received in this run (more than `size - reused` when some were fetched twice
    /// after a failure).
    pub received: u64,
    /// The bytes an earlier, interrupted run had already saved, which this run did not fetch again.
    pub reused: u64,
}

/// Downloads `config.url` to `config.destination()`.
///
/// The bytes go into `FILE.part` next to the destination; for a server that accepts ranges the
/// progress is recorded in `FILE.part.state`, so that an interrupted download can be continued with
/// [`Config::resume`]. The destination appears only when the file is complete (and matches
/// [`Config::sha256`], if given), by a rename; the state file is then removed. Raising `stop` makes
/// the workers finish their current read, saves the state and returns [`Error::Interrupted`].
///
/// # Errors
///
/// Every [`Error`] but [`Error::Url`]: the probe's, the workers' once their retries are spent, a
/// changed or lying server, a refused resume, a checksum mismatch, a local file error.
pub fn download(config: &Config, stop: &AtomicBool) -> Result<Outcome, Error> {
    todo!("stage 2: probe, plan, run the workers, rename; stage 4: the state file and --resume")
}

// TODO(stage 2): the private functions of your design go here (or in files of their own): the
// workers' coordination, saving the state, opening the part file, finishing.

/// Lowercase hexadecimal, for the checksum error.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
