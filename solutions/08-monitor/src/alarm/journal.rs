//! The alarm's memory across restarts: every event it takes and every tick of its clock that sent
//! something, in order, and which of the messages they caused were delivered. The decisions are a
//! pure function of that order, so a restarted alarm replays the journal into a fresh [`Alarm`],
//! comes back to the same state (what it told whom, its limits' logs, the digests waiting), and
//! sends again exactly the messages that were not delivered.
//!
//! Events and ticks are synced before the alarm answers for them; a delivery is written after the
//! message went, so a crash between the two sends that message twice (at least once, never lost).

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::engine::{Alarm, Outgoing};
use crate::error::Error;
use crate::judge::Event;
use crate::point::Millis;

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entry {
    /// An event taken at `at`.
    Event {
        /// When it was taken.
        at: Millis,
        /// The event.
        event: Event,
    },
    /// A tick of the clock at `at` that sent something.
    Tick {
        /// When.
        at: Millis,
    },
    /// The message numbered `seq` (in the order the alarm decided them) was delivered or given up.
    Done {
        /// Its number.
        seq: u64,
    },
}

/// An append-only journal of [`Entry`]s, a JSON line each.
#[derive(Debug)]
pub struct Journal {
    /// Where it is.
    path: PathBuf,
    /// The file, open for appending.
    file: File,
}

impl Journal {
    /// Opens the journal at `path` (made when missing) and returns it with its entries, up to a
    /// line torn by a crash, which is cut off.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when it cannot be read, cut or opened.
    pub fn open(path: &Path) -> Result<(Journal, Vec<Entry>), Error> {
        let mut entries = Vec::new();
        let mut good_bytes = 0u64;
        if let Ok(file) = File::open(path) {
            let mut reader = BufReader::new(file);
            let mut line = String::new();
            while reader.read_line(&mut line).map_err(Error::file(path))? > 0 {
                let Some(text) = line.strip_suffix('\n') else { break };
                match serde_json::from_str::<Entry>(text) {
                    Ok(entry) => entries.push(entry),
                    Err(_) => break,
                }
                good_bytes += line.len() as u64;
                line.clear();
            }
        }
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(Error::file(path))?;
        if file.metadata().map_err(Error::file(path))?.len() > good_bytes {
            tracing::warn!(path = %path.display(), "alarm journal cut after its last whole line");
            file.set_len(good_bytes).map_err(Error::file(path))?;
        }
        Ok((Journal { path: path.to_owned(), file }, entries))
    }

    /// Appends `entries`; synced to disk when `sync`.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when they cannot be written or synced.
    pub fn append(&mut self, entries: &[Entry], sync: bool) -> Result<(), Error> {
        let mut bytes = Vec::new();
        for entry in entries {
            // An Entry has string keys and numbers only: serializing it cannot fail.
            serde_json::to_writer(&mut bytes, entry).expect("an entry serializes");
            bytes.push(b'\n');
        }
        self.file.write_all(&bytes).map_err(Error::file(&self.path))?;
        if sync {
            self.file.sync_data().map_err(Error::file(&self.path))?;
        }
        Ok(())
    }
}

/// Replays `entries` into `alarm`: the messages they caused that were never delivered, each with
/// its number, and the number of the next message.
pub fn replay(alarm: &mut Alarm, entries: Vec<Entry>) -> (Vec<(u64, Outgoing)>, u64) {
    let done: HashSet<u64> = entries
        .iter()
        .filter_map(|entry| match entry {
            Entry::Done { seq } => Some(*seq),
            _ => None,
        })
        .collect();
    let mut seq = 0;
    let mut pending = Vec::new();
    for entry in entries {
        let outgoing = match entry {
            Entry::Event { at, event } => alarm.receive(event, at),
            Entry::Tick { at } => alarm.tick(at),
            Entry::Done { .. } => continue,
        };
        for message in outgoing {
            if !done.contains(&seq) {
                pending.push((seq, message));
            }
            seq += 1;
        }
    }
    (pending, seq)
}
