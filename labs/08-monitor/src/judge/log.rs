//! The judge's memory across restarts: every event it reports, a JSON line each, written and
//! synced before the batch that caused it is acknowledged.
//!
//! At a start the log is read back: the last event of each alert is its state
//! ([`super::Judge::restore`]), so that an alert reported before a crash is not reported again. A
//! line torn by a crash is cut off, and the log is rewritten with one line an alert, so it does
//! not grow without end.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use super::event::Event;
use super::rule::RuleId;
use crate::error::Error;
use crate::point::SeriesKey;

/// An append-only log of events.
#[derive(Debug)]
pub struct EventLog {
    /// Where it is.
    path: PathBuf,
    /// The file, open for appending.
    file: File,
}

impl EventLog {
    /// Opens the log at `path` (made when missing) and returns it with the events an earlier run
    /// left: the last of each alert, and every pipeline-down, in the order they were written.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when the log cannot be read or rewritten.
    pub fn open(path: &Path) -> Result<(EventLog, Vec<Event>), Error> {
        todo!(
            "stage 6: read_events, keep latest_of_each, write them to a fresh file, sync it, rename it over the log, sync the directory, then open the log for appending"
        )
    }

    /// Appends `events` and syncs them to disk.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when they cannot be written or synced.
    pub fn append(&mut self, events: &[Event]) -> Result<(), Error> {
        todo!("stage 6: nothing for no events; else write their lines and sync_data")
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        todo!("stage 6: the path")
    }
}

/// The events in the log at `path`, up to the first line that does not read (a torn tail); none
/// when there is no log.
fn read_events(path: &Path) -> Result<Vec<Event>, Error> {
    todo!(
        "stage 6: no file is no events; read line by line as JSON, and stop (with a warning) at the first line that does not parse"
    )
}

/// The last event of each alert and every pipeline-down, in the order they came.
fn latest_of_each(events: Vec<Event>) -> Vec<Event> {
    todo!(
        "stage 6: the index of the last event of each (rule, series), then keep those and every pipeline-down, in order"
    )
}

/// `events` as JSON lines.
fn lines(events: &[Event]) -> Vec<u8> {
    todo!("stage 6: each event as JSON, then a line feed")
}
