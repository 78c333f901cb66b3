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
        todo!(
            "stage 7: read whole lines as entries until one does not read or has no newline; open for appending and cut the file after the last whole line"
        )
    }

    /// Appends `entries`; synced to disk when `sync`.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when they cannot be written or synced.
    pub fn append(&mut self, entries: &[Entry], sync: bool) -> Result<(), Error> {
        todo!("stage 7: the entries as JSON lines in one write; sync_data when asked")
    }
}

/// Replays `entries` into `alarm`: the messages they caused that were never delivered, each with
/// its number, and the number of the next message.
pub fn replay(alarm: &mut Alarm, entries: Vec<Entry>) -> (Vec<(u64, Outgoing)>, u64) {
    todo!(
        "stage 7: the set of Done numbers; then each Event and Tick through the alarm, numbering every message it gives, keeping those not done"
    )
}
