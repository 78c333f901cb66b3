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
        let selectors = parse_selectors(&self.matchers).map_err(|err| err.to_string())?;
        Ok(Silence {
            id: self.id,
            selectors,
            starts: self.starts,
            ends: self.ends,
            comment: self.comment.clone(),
        })
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
        let saved = match path {
            Some(path) if path.exists() => {
                let text = fs::read_to_string(path).map_err(Error::file(path))?;
                serde_json::from_str(&text)
                    .map_err(|err| Error::BadOption(format!("{}: {err}", path.display())))?
            }
            _ => Saved {
                rules: rules.iter().map(|rule| (rule.id, RuleSpec::of(rule))).collect(),
                next_silence: 1,
                ..Saved::default()
            },
        };
        let console = Console {
            source,
            judges,
            alarm,
            saved: Mutex::new(saved),
            path: path.map(Path::to_owned),
            board: Mutex::new(BTreeMap::new()),
        };
        let saved = console.lock().clone();
        console.push(&saved);
        Ok(console)
    }

    /// The points.
    pub fn source(&self) -> &dyn Source {
        self.source.as_ref()
    }

    /// The rules, by number.
    pub fn rules(&self) -> Vec<RuleSpec> {
        self.lock().rules.values().cloned().collect()
    }

    /// The rule numbered `id`.
    pub fn rule(&self, id: RuleId) -> Option<RuleSpec> {
        self.lock().rules.get(&id).cloned()
    }

    /// Adds a rule (`replace`: or replaces the one of its number).
    ///
    /// # Errors
    ///
    /// [`Refusal::Invalid`] naming the field, [`Refusal::Exists`] for a number in use when not
    /// replacing, [`Refusal::NotFound`] for a number not in use when replacing.
    pub fn put_rule(&self, spec: RuleSpec, replace: bool) -> Result<RuleSpec, Refusal> {
        let rule = spec
            .to_rule()
            .map_err(|err| Refusal::Invalid { field: err.field.to_owned(), message: err.message })?;
        let spec = RuleSpec::of(&rule);
        self.change(|saved| {
            match (saved.rules.contains_key(&rule.id), replace) {
                (true, false) => return Err(Refusal::Exists(format!("rule {} exists", rule.id))),
                (false, true) => return Err(Refusal::NotFound(format!("no rule {}", rule.id))),
                _ => {}
            }
            saved.rules.insert(rule.id, spec.clone());
            Ok(())
        })?;
        Ok(spec)
    }

    /// Deletes the rule numbered `id`; its alerts leave the board.
    ///
    /// # Errors
    ///
    /// [`Refusal::NotFound`].
    pub fn delete_rule(&self, id: RuleId) -> Result<(), Refusal> {
        self.change(|saved| {
            saved.rules.remove(&id).map(|_| ()).ok_or_else(|| Refusal::NotFound(format!("no rule {id}")))
        })?;
        self.board.lock().unwrap_or_else(PoisonError::into_inner).retain(|(rule, _), _| *rule != id);
        Ok(())
    }

    /// The silences.
    pub fn silences(&self) -> Vec<SilenceRecord> {
        self.lock().silences.values().cloned().collect()
    }

    /// Adds a silence, numbering it.
    ///
    /// # Errors
    ///
    /// [`Refusal::Invalid`] for matchers that do not parse, or an end not after the start.
    pub fn add_silence(&self, mut record: SilenceRecord) -> Result<SilenceRecord, Refusal> {
        if let Err(message) = record.to_silence() {
            return Err(Refusal::Invalid { field: "matchers".to_owned(), message });
        }
        if record.ends <= record.starts {
            return Err(Refusal::Invalid {
                field: "ends".to_owned(),
                message: "must be after starts".to_owned(),
            });
        }
        self.change(|saved| {
            record.id = saved.next_silence.max(1);
            saved.next_silence = record.id + 1;
            saved.silences.insert(record.id, record.clone());
            Ok(())
        })?;
        Ok(record)
    }

    /// Deletes the silence numbered `id`.
    ///
    /// # Errors
    ///
    /// [`Refusal::NotFound`].
    pub fn delete_silence(&self, id: u64) -> Result<(), Refusal> {
        self.change(|saved| {
            saved
                .silences
                .remove(&id)
                .map(|_| ())
                .ok_or_else(|| Refusal::NotFound(format!("no silence {id}")))
        })
    }

    /// The host records.
    pub fn hosts(&self) -> Vec<HostRecord> {
        self.lock().hosts.values().cloned().collect()
    }

    /// The record of `name`.
    pub fn host(&self, name: &str) -> Option<HostRecord> {
        self.lock().hosts.get(name).cloned()
    }

    /// Registers a host, or replaces its record.
    ///
    /// # Errors
    ///
    /// [`Refusal::Invalid`] for an empty name.
    pub fn put_host(&self, record: HostRecord) -> Result<HostRecord, Refusal> {
        if record.name.trim().is_empty() {
            return Err(Refusal::Invalid {
                field: "name".to_owned(),
                message: "must not be empty".to_owned(),
            });
        }
        self.change(|saved| {
            saved.hosts.insert(record.name.clone(), record.clone());
            Ok(())
        })?;
        Ok(record)
    }

    /// Forgets the record of `name` (its points stay).
    ///
    /// # Errors
    ///
    /// [`Refusal::NotFound`].
    pub fn delete_host(&self, name: &str) -> Result<(), Refusal> {
        self.change(|saved| {
            saved.hosts.remove(name).map(|_| ()).ok_or_else(|| Refusal::NotFound(format!("no host {name}")))
        })
    }

    /// The alerts not OK: PROBLEM and NODATA, the most urgent first, then the newest.
    pub fn firing(&self) -> Vec<Alert> {
        let board = self.board.lock().unwrap_or_else(PoisonError::into_inner);
        let mut firing: Vec<Alert> =
            board.values().filter(|alert| alert.status != Status::Ok).cloned().collect();
        firing
            .sort_by(|a, b| a.priority.cmp(&b.priority).then(b.at.cmp(&a.at)).then(a.series.cmp(&b.series)));
        firing
    }

    /// Applies `change` to the saved state, saves it and pushes rules and silences on.
    fn change(&self, change: impl FnOnce(&mut Saved) -> Result<(), Refusal>) -> Result<(), Refusal> {
        let mut saved = self.lock();
        let mut next = saved.clone();
        change(&mut next)?;
        if let Some(path) = &self.path {
            save(path, &next).map_err(|err| Refusal::NotSaved(err.to_string()))?;
        }
        *saved = next.clone();
        drop(saved);
        self.push(&next);
        Ok(())
    }

    /// Gives the judges the rules, and the alarm the silences.
    fn push(&self, saved: &Saved) {
        let rules: Vec<Rule> = saved.rules.values().filter_map(|spec| spec.to_rule().ok()).collect();
        for judge in &self.judges {
            judge.set_rules(rules.clone());
        }
        if let Some(alarm) = &self.alarm {
            let silences: Vec<Silence> =
                saved.silences.values().filter_map(|record| record.to_silence().ok()).collect();
            alarm.with_alarm(|alarm| alarm.set_silences(silences));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Saved> {
        self.saved.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl EventSink for Console {
    /// Puts each alert on the board, then hands the events to the alarm.
    fn deliver(&self, events: &[Event]) {
        {
            let mut board = self.board.lock().unwrap_or_else(PoisonError::into_inner);
            for alert in events.iter().filter_map(Event::alert) {
                board.insert((alert.rule, alert.series.clone()), alert.clone());
            }
        }
        if let Some(alarm) = &self.alarm {
            alarm.deliver(events);
        }
    }
}

/// Writes `saved` to `path` whole: a temporary file, synced, renamed over it.
fn save(path: &Path, saved: &Saved) -> Result<(), Error> {
    let fresh = path.with_extension("saving");
    let mut file = File::create(&fresh).map_err(Error::file(&fresh))?;
    // Saved has string keys (numbers are written as strings) and plain values: it serializes.
    let text = serde_json::to_vec_pretty(saved).expect("the console's state serializes");
    file.write_all(&text).and_then(|()| file.sync_all()).map_err(Error::file(&fresh))?;
    fs::rename(&fresh, path).map_err(Error::file(path))
}
