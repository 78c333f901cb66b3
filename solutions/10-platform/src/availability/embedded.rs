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
    let fail = |source| LeaseError::File { path: path.display().to_string(), source };
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let mut file =
        OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).map_err(fail)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(Attempt::Held(last_holder(&mut file).1)),
        Err(TryLockError::Error(err)) => return Err(fail(err)),
    }
    let (last, _) = last_holder(&mut file);
    let token = last + 1;
    file.set_len(0).map_err(fail)?;
    file.seek(SeekFrom::Start(0)).map_err(fail)?;
    file.write_all(format!("{token} {node}\n").as_bytes()).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    Ok(Attempt::Led(Leadership::new(token, node, CancellationToken::new(), Hold::File(file))))
}

/// The token and holder the file names (`0` and nothing for a new or unreadable file).
fn last_holder(file: &mut File) -> (i64, String) {
    let mut text = String::new();
    let _ = file.seek(SeekFrom::Start(0)).and_then(|_| file.read_to_string(&mut text));
    let (token, holder) = text.trim().split_once(' ').unwrap_or((text.trim(), ""));
    (token.parse().unwrap_or(0), holder.to_string())
}
