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
        let events = read_events(path)?;
        let events = latest_of_each(events);
        let fresh = path.with_extension("rewrite");
        {
            let mut out = File::create(&fresh).map_err(Error::file(&fresh))?;
            out.write_all(&lines(&events)).map_err(Error::file(&fresh))?;
            out.sync_all().map_err(Error::file(&fresh))?;
        }
        fs::rename(&fresh, path).map_err(Error::file(path))?;
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            // The rename is durable only once the directory is.
            File::open(dir).and_then(|dir| dir.sync_all()).map_err(Error::file(dir))?;
        }
        let file = OpenOptions::new().append(true).open(path).map_err(Error::file(path))?;
        Ok((EventLog { path: path.to_owned(), file }, events))
    }

    /// Appends `events` and syncs them to disk.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when they cannot be written or synced.
    pub fn append(&mut self, events: &[Event]) -> Result<(), Error> {
        if events.is_empty() {
            return Ok(());
        }
        self.file.write_all(&lines(events)).map_err(Error::file(&self.path))?;
        self.file.sync_data().map_err(Error::file(&self.path))
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The events in the log at `path`, up to the first line that does not read (a torn tail); none
/// when there is no log.
fn read_events(path: &Path) -> Result<Vec<Event>, Error> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(Error::File { path: path.to_owned(), source: err }),
    };
    let mut events = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(Error::file(path))?;
        match serde_json::from_str::<Event>(&line) {
            Ok(event) => events.push(event),
            Err(err) => {
                tracing::warn!(path = %path.display(), cause = %err, "event log cut at a line that does not read");
                break;
            }
        }
    }
    Ok(events)
}

/// The last event of each alert and every pipeline-down, in the order they came.
fn latest_of_each(events: Vec<Event>) -> Vec<Event> {
    let mut last: HashMap<(RuleId, SeriesKey), usize> = HashMap::new();
    for (index, event) in events.iter().enumerate() {
        if let Event::Alert(alert) = event {
            last.insert((alert.rule, alert.series.clone()), index);
        }
    }
    events
        .into_iter()
        .enumerate()
        .filter(|(index, event)| match event {
            Event::Alert(alert) => last.get(&(alert.rule, alert.series.clone())) == Some(index),
            Event::PipelineDown { .. } => true,
        })
        .map(|(_, event)| event)
        .collect()
}

/// `events` as JSON lines.
fn lines(events: &[Event]) -> Vec<u8> {
    let mut out = Vec::new();
    for event in events {
        // An Event has string keys and numbers only: serializing it cannot fail.
        serde_json::to_writer(&mut out, event).expect("an event serializes");
        out.push(b'\n');
    }
    out
}
