//! What the dashboard and its API work on: the rules (pushed to the judges as they change), the
//! silences (pushed to the alarm), the host records, and the board of alerts (fed by the judges'
//! events on their way to the alarm). Rules, silences and hosts are kept in a JSON file, written
//! whole and renamed into place on every change, so a restart finds them as they were.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::alarm::{AlarmCore, Silence};
use crate::error::Error;
use crate::judge::{Alert, Event, EventSink, JudgeHandle, Rule, RuleId, RuleSpec, Status, parse_selectors};
use crate::point::{Millis, SeriesKey, Tags};
use crate::query::Source;

/// A silence as the API shows it: its matchers as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SilenceRecord {
    /// Its number.
    pub id: u64,
    /// `name=value, name!=value`: `host`, `metric`, `rule` or a tag.
    pub matchers: String,
    /// When it begins, in milliseconds since the epoch.
    pub starts: Millis,
    /// When it ends (not included).
    pub ends: Millis,
    /// Who made it, and why.
    pub comment: String,
}

impl SilenceRecord {
    /// The alarm's silence.
    ///
    /// # Errors
    ///
    /// The matchers' [`crate::judge::ParseError`], as text.
    pub fn to_silence(&self) -> Result<Silence, String> {
        todo!(
            "stage 8: parse_selectors over the matchers, the error as text, and the other fields as they are"
        )
    }
}

/// A host as registered: a machine that should report, with a note and tags of its own.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HostRecord {
    /// Its name, as its points carry it.
    pub name: String,
    /// A note (its role, its owner).
    #[serde(default)]
    pub note: String,
    /// Tags of the host itself (`rack=b4`).
    #[serde(default)]
    pub tags: Tags,
}

/// What is kept across restarts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Saved {
    /// The rules, by number.
    rules: BTreeMap<RuleId, RuleSpec>,
    /// The silences, by number.
    silences: BTreeMap<u64, SilenceRecord>,
    /// The hosts, by name.
    hosts: BTreeMap<String, HostRecord>,
    /// The next silence's number.
    next_silence: u64,
}

/// Why a change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No such rule, silence or host.
    NotFound(String),
    /// A rule with that number exists already.
    Exists(String),
    /// A field is not valid: the field and why.
    Invalid {
        /// The field.
        field: String,
        /// Why.
        message: String,
    },
    /// The change could not be saved.
    NotSaved(String),
}

/// The dashboard's state and its links to the judges, the alarm and the store.
pub struct Console {
    /// The points (hosts, series, ranges).
    source: Arc<dyn Source>,
    /// The judges, whose rules follow the console's.
    judges: Vec<JudgeHandle>,
    /// The alarm, whose silences follow the console's, and which the events go on to.
    alarm: Option<Arc<AlarmCore>>,
    /// Rules, silences and hosts.
    saved: Mutex<Saved>,
    /// Where they are kept; `None` keeps them in memory.
    path: Option<PathBuf>,
    /// The latest alert of each rule on each series.
    board: Mutex<BTreeMap<(RuleId, SeriesKey), Alert>>,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("judges", &self.judges.len())
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Console {
    /// A console over `source`, driving `judges` and `alarm`, keeping its state at `path`: read
    /// from there when the file exists, otherwise starting with `rules`. The judges and the alarm
    /// are given the console's rules and silences at once.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when the file cannot be read, [`Error::BadOption`] when it does not parse.
    pub fn open(
        source: Arc<dyn Source>,
        judges: Vec<JudgeHandle>,
        alarm: Option<Arc<AlarmCore>>,
        rules: Vec<Rule>,
        path: Option<&Path>,
    ) -> Result<Console, Error> {
        todo!(
            "stage 8: read the saved state from path when the file exists, else start from rules with next_silence 1; then push it to the judges and the alarm"
        )
    }

    /// The points.
    pub fn source(&self) -> &dyn Source {
        todo!("stage 8: the source")
    }

    /// The rules, by number.
    pub fn rules(&self) -> Vec<RuleSpec> {
        todo!("stage 8: the saved rules, in order of number")
    }

    /// The rule numbered `id`.
    pub fn rule(&self, id: RuleId) -> Option<RuleSpec> {
        todo!("stage 8: the saved rule of that number, if any")
    }

    /// Adds a rule (`replace`: or replaces the one of its number).
    ///
    /// # Errors
    ///
    /// [`Refusal::Invalid`] naming the field, [`Refusal::Exists`] for a number in use when not
    /// replacing, [`Refusal::NotFound`] for a number not in use when replacing.
    pub fn put_rule(&self, spec: RuleSpec, replace: bool) -> Result<RuleSpec, Refusal> {
        todo!(
            "stage 8: to_rule, Invalid naming the field; then change: Exists when adding a number in use, NotFound when replacing one not in use; answer the rule as it reads back"
        )
    }

    /// Deletes the rule numbered `id`; its alerts leave the board.
    ///
    /// # Errors
    ///
    /// [`Refusal::NotFound`].
    pub fn delete_rule(&self, id: RuleId) -> Result<(), Refusal> {
        todo!("stage 8: change: remove it or NotFound; then take its alerts off the board")
    }

    /// The silences.
    pub fn silences(&self) -> Vec<SilenceRecord> {
        todo!("stage 8: the saved silences, in order of number")
    }

    /// Adds a silence, numbering it.
    ///
    /// # Errors
    ///
    /// [`Refusal::Invalid`] for matchers that do not parse, or an end not after the start.
    pub fn add_silence(&self, record: SilenceRecord) -> Result<SilenceRecord, Refusal> {
        todo!(
            "stage 8: Invalid matchers when to_silence fails, Invalid ends unless after starts; then change: number it from next_silence, at least 1, and keep it"
        )
    }

    /// Deletes the silence numbered `id`.
    ///
    /// # Errors
    ///
    /// [`Refusal::NotFound`].
    pub fn delete_silence(&self, id: u64) -> Result<(), Refusal> {
        todo!("stage 8: change: remove it or NotFound")
    }

    /// The host records.
    pub fn hosts(&self) -> Vec<HostRecord> {
        todo!("stage 8: the saved host records, in order of name")
    }

    /// The record of `name`.
    pub fn host(&self, name: &str) -> Option<HostRecord> {
        todo!("stage 8: the saved record of that name, if any")
    }

    /// Registers a host, or replaces its record.
    ///
    /// # Errors
    ///
    /// [`Refusal::Invalid`] for an empty name.
    pub fn put_host(&self, record: HostRecord) -> Result<HostRecord, Refusal> {
        todo!("stage 8: Invalid name when blank; then change: keep it under its name")
    }

    /// Forgets the record of `name` (its points stay).
    ///
    /// # Errors
    ///
    /// [`Refusal::NotFound`].
    pub fn delete_host(&self, name: &str) -> Result<(), Refusal> {
        todo!("stage 8: change: remove it or NotFound")
    }

    /// The alerts not OK: PROBLEM and NODATA, the most urgent first, then the newest.
    pub fn firing(&self) -> Vec<Alert> {
        todo!("stage 8: the board's alerts not OK, by priority, then the newest first, then by series")
    }

    /// Applies `change` to the saved state, saves it and pushes rules and silences on.
    fn change(&self, change: impl FnOnce(&mut Saved) -> Result<(), Refusal>) -> Result<(), Refusal> {
        todo!(
            "stage 8: under the lock, change a copy, save the copy when there is a path, NotSaved on an error, then put it in place and push it outside the lock"
        )
    }

    /// Gives the judges the rules, and the alarm the silences.
    fn push(&self, saved: &Saved) {
        todo!("stage 8: the rules that parse to every judge, the silences that parse to the alarm, if any")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Saved> {
        todo!("stage 8: the saved state, a poisoned lock taken all the same")
    }
}

impl EventSink for Console {
    /// Puts each alert on the board, then hands the events to the alarm.
    fn deliver(&self, events: &[Event]) {
        todo!(
            "stage 8: each event's alert onto the board, under its rule and series; then the events to the alarm, if any"
        )
    }
}

/// Writes `saved` to `path` whole: a temporary file, synced, renamed over it.
fn save(path: &Path, saved: &Saved) -> Result<(), Error> {
    todo!(
        "stage 8: write a temporary file beside path, sync it and rename it over path, each error an Error::file naming its file"
    )
}
