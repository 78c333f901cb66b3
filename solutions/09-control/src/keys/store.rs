//! [`KeyStore`]: the master's enrolment records, one small file per agent in a directory per
//! state (`accepted/`, `pending/`, `rejected/`), as Salt keeps its minions' keys.
//!
//! An agent the master has never seen lands in `pending/` and is refused until an operator accepts
//! it; nothing is accepted by itself unless the master was started to (`--auto-accept`). The files
//! are the truth: `control keys` edits them while the master runs, and the master reads them at
//! every handshake and looks again every second for keys taken away.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
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
        match self {
            KeyState::Accepted => "accepted",
            KeyState::Pending => "pending",
            KeyState::Rejected => "rejected",
        }
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
        for state in KeyState::ALL {
            let path = dir.join(state.name());
            fs::DirBuilder::new().recursive(true).mode(0o700).create(&path).map_err(Error::file(&path))?;
        }
        Ok(KeyStore { dir: dir.to_owned() })
    }

    /// Every record, by state then id.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when a directory or a record cannot be read, [`Error::BadKey`] when a
    /// record is not a key.
    pub fn list(&self) -> Result<Vec<KeyEntry>, Error> {
        let mut entries = Vec::new();
        for state in KeyState::ALL {
            let dir = self.dir.join(state.name());
            for file in fs::read_dir(&dir).map_err(Error::file(&dir))? {
                let file = file.map_err(Error::file(&dir))?;
                let Some(id) = file.file_name().to_str().filter(|id| check_id(id).is_ok()).map(str::to_owned)
                else {
                    continue; // an editor's backup, a temporary file: not a record
                };
                if let Some(key) = self.read(state, &id)? {
                    entries.push(KeyEntry { id, state, key });
                }
            }
        }
        entries.sort_by(|a, b| (a.state, &a.id).cmp(&(b.state, &b.id)));
        Ok(entries)
    }

    /// Agent `id`'s record, when there is one.
    ///
    /// # Errors
    ///
    /// As [`KeyStore::list`]; [`Error::BadOption`] for an id that cannot name a record.
    pub fn find(&self, id: &str) -> Result<Option<KeyEntry>, Error> {
        check_id(id)?;
        for state in KeyState::ALL {
            if let Some(key) = self.read(state, id)? {
                return Ok(Some(KeyEntry { id: id.to_owned(), state, key }));
            }
        }
        Ok(None)
    }

    /// Decides on agent `id` presenting `key`: admitted when accepted with this key; recorded as
    /// pending (or accepted, with `auto_accept`) when never seen; refused otherwise.
    ///
    /// # Errors
    ///
    /// As [`KeyStore::find`], and [`Error::File`] when a new record cannot be written.
    pub fn admit(&self, id: &str, key: &PublicKey, auto_accept: bool) -> Result<Admission, Error> {
        if check_id(id).is_err() {
            return Ok(Admission::Refused(format!("{id:?} is not a valid agent id")));
        }
        Ok(match self.find(id)? {
            Some(entry) if entry.key != *key => Admission::Refused(format!(
                "{id} presented key {} but the {} key is {}",
                key.fingerprint(),
                entry.state.name(),
                entry.key.fingerprint()
            )),
            Some(KeyEntry { state: KeyState::Accepted, .. }) => Admission::Admit,
            Some(KeyEntry { state: KeyState::Pending, .. }) => Admission::Pending,
            Some(KeyEntry { state: KeyState::Rejected, .. }) => {
                Admission::Refused(format!("{id} is rejected"))
            }
            None if auto_accept => {
                self.write(KeyState::Accepted, id, key)?;
                Admission::Admit
            }
            None => {
                self.write(KeyState::Pending, id, key)?;
                Admission::Pending
            }
        })
    }

    /// Records agent `id` with `key` as accepted, whatever it was (an operator enrolling an agent
    /// ahead of its first connection).
    ///
    /// # Errors
    ///
    /// [`Error::BadOption`] for a bad id, [`Error::File`] when the record cannot be written.
    pub fn enroll(&self, id: &str, key: &PublicKey) -> Result<(), Error> {
        self.delete(id)?;
        self.write(KeyState::Accepted, id, key)
    }

    /// Accepts the pending agent `id`.
    ///
    /// # Errors
    ///
    /// [`Error::Keys`] when `id` is not pending; [`Error::File`] when it cannot be moved.
    pub fn accept(&self, id: &str) -> Result<KeyEntry, Error> {
        self.change(id, &[KeyState::Pending], KeyState::Accepted)
    }

    /// Rejects agent `id`, pending or accepted: an accepted one is cut off.
    ///
    /// # Errors
    ///
    /// [`Error::Keys`] when `id` has no record or is rejected already.
    pub fn reject(&self, id: &str) -> Result<KeyEntry, Error> {
        self.change(id, &[KeyState::Pending, KeyState::Accepted], KeyState::Rejected)
    }

    /// Deletes agent `id`'s record, whatever its state; true when there was one. Its next
    /// connection is pending again.
    ///
    /// # Errors
    ///
    /// [`Error::BadOption`] for a bad id, [`Error::File`] when the record cannot be removed.
    pub fn delete(&self, id: &str) -> Result<bool, Error> {
        check_id(id)?;
        let mut deleted = false;
        for state in KeyState::ALL {
            let path = self.path(state, id);
            match fs::remove_file(&path) {
                Ok(()) => deleted = true,
                Err(err) if err.kind() == ErrorKind::NotFound => {}
                Err(err) => return Err(Error::file(&path)(err)),
            }
        }
        Ok(deleted)
    }

    /// When the directory of `state` last changed (a record added, moved or removed), if it can be
    /// read: the master reloads the keys only when the accepted ones changed.
    pub fn stamp(&self, state: KeyState) -> Option<std::time::SystemTime> {
        fs::metadata(self.dir.join(state.name())).and_then(|meta| meta.modified()).ok()
    }

    /// Moves `id`'s record from one of `from` to `to`.
    fn change(&self, id: &str, from: &[KeyState], to: KeyState) -> Result<KeyEntry, Error> {
        let entry = self.find(id)?.ok_or_else(|| Error::Keys(format!("no agent {id} in the key store")))?;
        if !from.contains(&entry.state) {
            return Err(Error::Keys(format!("agent {id} is {}", entry.state.name())));
        }
        let (old, new) = (self.path(entry.state, id), self.path(to, id));
        fs::rename(&old, &new).map_err(Error::file(&old))?;
        Ok(KeyEntry { state: to, ..entry })
    }

    /// The key recorded for `id` under `state`, if any.
    fn read(&self, state: KeyState, id: &str) -> Result<Option<PublicKey>, Error> {
        let path = self.path(state, id);
        match fs::read_to_string(&path) {
            Ok(text) => text
                .parse()
                .map(Some)
                .map_err(|reason| Error::BadKey { what: path.display().to_string(), reason }),
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
            Err(err) => Err(Error::file(&path)(err)),
        }
    }

    /// Writes a record whole or not at all: a temporary file, synced, renamed into place.
    fn write(&self, state: KeyState, id: &str, key: &PublicKey) -> Result<(), Error> {
        let path = self.path(state, id);
        let temporary = self.dir.join(state.name()).join(format!(".{id}.new"));
        let written = (|| {
            let mut file =
                OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&temporary)?;
            writeln!(file, "{key}")?;
            file.sync_all()?;
            fs::rename(&temporary, &path)
        })();
        written.map_err(Error::file(&path))
    }

    fn path(&self, state: KeyState, id: &str) -> PathBuf {
        self.dir.join(state.name()).join(id)
    }
}

/// Checks that `id` can name an agent: 1 to 64 letters, digits, `.`, `_` or `-`, not starting with
/// `.` or `-` (so no id is a path, a hidden file or an option).
///
/// # Errors
///
/// [`Error::BadOption`] naming the id and the rule.
pub fn check_id(id: &str) -> Result<(), Error> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    let fine = (1..=64).contains(&id.len()) && id.chars().all(allowed) && !id.starts_with(['.', '-']);
    match fine {
        true => Ok(()),
        false => Err(Error::BadOption(format!(
            "agent id {id:?}: use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'"
        ))),
    }
}
