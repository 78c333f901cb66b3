//! [`KeyStore`]: the master's enrolment records, one small file per agent in a directory per
//! state (`accepted/`, `pending/`, `rejected/`), as Salt keeps its minions' keys.
//!
//! An agent the master has never seen lands in `pending/` and is refused until an operator accepts
//! it; nothing is accepted by itself unless the master was started to (`--auto-accept`). The files
//! are the truth: `control keys` edits them while the master runs, and the master reads them at
//! every handshake and looks again every second for keys taken away.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::keys::PublicKey;

/// Where an agent's key stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyState {
    /// Let in.
    Accepted,
    /// Seen, waiting for an operator: refused meanwhile.
    Pending,
    /// Refused for good, until deleted.
    Rejected,
}

impl KeyState {
    const ALL: [KeyState; 3] = [KeyState::Accepted, KeyState::Pending, KeyState::Rejected];

    /// The state's directory name, and its name in `control keys list`.
    pub fn name(self) -> &'static str {
        todo!("stage 2: accepted, pending or rejected")
    }
}

/// One agent's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    /// The agent's id.
    pub id: String,
    /// Where it stands.
    pub state: KeyState,
    /// Its public key.
    pub key: PublicKey,
}

/// The master's answer to an agent's handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Its key is accepted: let it in.
    Admit,
    /// Its key waits for an operator (it was just recorded, or already was).
    Pending,
    /// Refused, and why: rejected, or a key other than the one recorded for its id.
    Refused(String),
}

/// The enrolment records in a directory.
#[derive(Debug, Clone)]
pub struct KeyStore {
    dir: PathBuf,
}

impl KeyStore {
    /// The store in `dir`, its state directories made (owner only) when missing.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when a directory cannot be made.
    pub fn open(dir: &Path) -> Result<KeyStore, Error> {
        todo!("stage 2: make each state's directory, recursive and mode 0o700")
    }

    /// Every record, by state then id.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when a directory or a record cannot be read, [`Error::BadKey`] when a
    /// record is not a key.
    pub fn list(&self) -> Result<Vec<KeyEntry>, Error> {
        todo!(
            "stage 2: every file of each state's directory whose name is a valid id, read, sorted by state then id"
        )
    }

    /// Agent `id`'s record, when there is one.
    ///
    /// # Errors
    ///
    /// As [`KeyStore::list`]; [`Error::BadOption`] for an id that cannot name a record.
    pub fn find(&self, id: &str) -> Result<Option<KeyEntry>, Error> {
        todo!("stage 2: check_id, then the first state that has a record of id")
    }

    /// Decides on agent `id` presenting `key`: admitted when accepted with this key; recorded as
    /// pending (or accepted, with `auto_accept`) when never seen; refused otherwise.
    ///
    /// # Errors
    ///
    /// As [`KeyStore::find`], and [`Error::File`] when a new record cannot be written.
    pub fn admit(&self, id: &str, key: &PublicKey, auto_accept: bool) -> Result<Admission, Error> {
        todo!(
            "stage 2: refuse a bad id or another key; by state when recorded; else write it pending, or accepted with auto_accept"
        )
    }

    /// Records agent `id` with `key` as accepted, whatever it was (an operator enrolling an agent
    /// ahead of its first connection).
    ///
    /// # Errors
    ///
    /// [`Error::BadOption`] for a bad id, [`Error::File`] when the record cannot be written.
    pub fn enroll(&self, id: &str, key: &PublicKey) -> Result<(), Error> {
        todo!("stage 2: delete any record, then write it accepted")
    }

    /// Accepts the pending agent `id`.
    ///
    /// # Errors
    ///
    /// [`Error::Keys`] when `id` is not pending; [`Error::File`] when it cannot be moved.
    pub fn accept(&self, id: &str) -> Result<KeyEntry, Error> {
        todo!("stage 2: change it from pending to accepted")
    }

    /// Rejects agent `id`, pending or accepted: an accepted one is cut off.
    ///
    /// # Errors
    ///
    /// [`Error::Keys`] when `id` has no record or is rejected already.
    pub fn reject(&self, id: &str) -> Result<KeyEntry, Error> {
        todo!("stage 2: change it from pending or accepted to rejected")
    }

    /// Deletes agent `id`'s record, whatever its state; true when there was one. Its next
    /// connection is pending again.
    ///
    /// # Errors
    ///
    /// [`Error::BadOption`] for a bad id, [`Error::File`] when the record cannot be removed.
    pub fn delete(&self, id: &str) -> Result<bool, Error> {
        todo!("stage 2: check_id, then remove it from every state, a missing file no error")
    }

    /// When the directory of `state` last changed (a record added, moved or removed), if it can be
    /// read: the master reloads the keys only when the accepted ones changed.
    pub fn stamp(&self, state: KeyState) -> Option<std::time::SystemTime> {
        todo!("stage 2: the modification time of the state's directory")
    }

    /// Moves `id`'s record from one of `from` to `to`.
    fn change(&self, id: &str, from: &[KeyState], to: KeyState) -> Result<KeyEntry, Error> {
        todo!("stage 2: find it, Keys unless its state is in from, then rename its file into to")
    }

    /// The key recorded for `id` under `state`, if any.
    fn read(&self, state: KeyState, id: &str) -> Result<Option<PublicKey>, Error> {
        todo!("stage 2: None for a missing file, BadKey for one that does not parse")
    }

    /// Writes a record whole or not at all: a temporary file, synced, renamed into place.
    fn write(&self, state: KeyState, id: &str, key: &PublicKey) -> Result<(), Error> {
        todo!(
            "stage 2: a hidden temporary file with mode 0o600, the key, sync_all, then rename it into place"
        )
    }

    fn path(&self, state: KeyState, id: &str) -> PathBuf {
        todo!("stage 2: the state's directory, then the id")
    }
}

/// Checks that `id` can name an agent: 1 to 64 letters, digits, `.`, `_` or `-`, not starting with
/// `.` or `-` (so no id is a path, a hidden file or an option).
///
/// # Errors
///
/// [`Error::BadOption`] naming the id and the rule.
pub fn check_id(id: &str) -> Result<(), Error> {
    todo!(
        "stage 2: 1 to 64 letters, digits, dots, underscores or dashes, not starting with a dot or a dash; else BadOption"
    )
}
