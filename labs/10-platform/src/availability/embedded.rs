//! The lease on one machine: an exclusive lock on a file, which the kernel lets go when its
//! holder's process ends, however it ends. A standby that asks a moment later has it; nothing has
//! to expire. The file keeps the last token and its holder, so each leadership's token is one
//! more than the one before (the lock is held while they are read and written).
//!
//! It cannot be lost while its process lives, and it cannot tell a hung leader from a busy one:
//! that is what etcd's lease, which a leader must keep renewing, is for.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::lease::{Attempt, Hold, Leadership, LeaseError};

/// Tries the lock on `path` (made when missing) for `node`, without waiting.
///
/// # Errors
///
/// [`LeaseError::File`] when the file cannot be opened, read or written.
pub fn try_lead(path: &Path, node: &str) -> Result<Attempt, LeaseError> {
    todo!(
        "stage 5: make the file's directory and open the file without truncating it; File::try_lock: WouldBlock is Held by the name the file holds; once locked, read the last token from the file, write token + 1 and this node, sync it, and keep the File in the Leadership (the lock goes with it)"
    )
}
