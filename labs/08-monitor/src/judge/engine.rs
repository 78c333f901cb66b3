//! The judge: every rule over every series it is given, sample by sample, and the silence check on
//! the judge's clock.

use std::collections::HashMap;
use std::time::Duration;

use super::alert::{AlertState, Change};
use super::event::{Alert, Event};
use super::function::evaluate;
use super::history::{History, Offer};
use super::rule::{Rule, RuleId};
use crate::point::{Millis, Point, SeriesKey};
use crate::query::Source;
use crate::store::RangeQuery;

/// How a judge runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgeConfig {
    /// How often the series are measured: times are aligned to it, and a gap of more than two
    /// steps starts a run of values again.
    pub step: Duration,
    /// Steps of silence after which a series is NODATA.
    pub nodata_steps: u32,
    /// The fewest series that, going silent at once, can be a pipeline down rather than each
    /// its own NODATA (when they are also more than a third of those watched).
    pub storm_min: usize,
    /// How far back a judge that starts reads the series' values from the store: the longest
    /// outage of the judge after which no alert is missed.
    pub rebuild: Duration,
}

impl JudgeConfig {
    /// A judge for series measured every `step`: NODATA after 3 steps of silence, a pipeline
    /// down when at least 3 series and more than a third of those watched go silent at once;
    /// values read back from the last hour at a start.
    pub fn new(step: Duration) -> JudgeConfig {
        todo!("stage 6: nodata_steps 3, storm_min 3, rebuild an hour")
    }
}

/// Every rule over every series: feed it points ([`Judge::observe`]) and the clock
/// ([`Judge::tick`]); it answers with the alerts' changes.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use monitor::judge::{Expr, Judge, JudgeConfig, Rule, Status};
/// use monitor::Sample;
///
/// let rule = Rule::new(1, Expr::parse("cpu.busy all(#3) > 90").unwrap());
/// let mut judge = Judge::new(JudgeConfig::new(Duration::from_secs(60)), vec![rule]);
/// let mut events = Vec::new();
/// for (minute, value) in [95.0, 96.0, 97.0].into_iter().enumerate() {
///     events.extend(judge.observe(Sample::gauge("cpu.busy", value).at("web1", minute as i64 * 60_000)));
/// }
/// assert_eq!(events.len(), 1);
/// assert_eq!(events[0].alert().unwrap().status, Status::Problem);
/// ```
#[derive(Debug)]
pub struct Judge {
    /// Its settings.
    config: JudgeConfig,
    /// The step, in milliseconds.
    step: Millis,
    /// The rules.
    rules: Vec<Rule>,
    /// The rules of each metric, as indices into `rules`.
    by_metric: HashMap<String, Vec<usize>>,
    /// Every series seen of a metric some rule names, and what is kept of it.
    series: HashMap<SeriesKey, Watched>,
    /// States left by an earlier run, for series not yet seen in this one.
    restored: HashMap<(RuleId, SeriesKey), AlertState>,
}

/// What the judge keeps of one series.
#[derive(Debug)]
struct Watched {
    /// Its newest values.
    history: History,
    /// The rules that watch it, as indices into the judge's rules, with their states.
    alerts: Vec<(usize, AlertState)>,
    /// Its last value.
    last_value: f64,
    /// Whether it was found silent and has not sent since.
    silent: bool,
}

impl Judge {
    /// A judge of `rules`, with no series yet.
    pub fn new(config: JudgeConfig, rules: Vec<Rule>) -> Judge {
        todo!("stage 6: the step in milliseconds (at least 1), then set_rules")
    }

    /// The rules.
    pub fn rules(&self) -> &[Rule] {
        todo!("stage 6: the rules")
    }

    /// Replaces the rules. A rule whose number and expression are unchanged keeps its alerts'
    /// states; the others start afresh (a changed rule's problems end silently).
    pub fn set_rules(&mut self, rules: Vec<Rule>) {
        todo!(
            "stage 6: take the states out of every series, keep those of rules whose id and expr are unchanged, index the rules by metric, then give each series its alerts_for and capacity_for, dropping series no rule watches"
        )
    }

    /// Takes the states an earlier run's `events` leave (the last event of each rule on each
    /// series counts), so that what it reported is not reported again: samples at or before an
    /// alert's last event change nothing. Call it before the first [`Judge::observe`].
    pub fn restore(&mut self, events: impl IntoIterator<Item = Event>) {
        todo!(
            "stage 6: an AlertState::restored for each alert's (rule, series); later events replace earlier ones"
        )
    }

    /// Rebuilds the series' recent values from `source` (the store), as of `now` and from
    /// [`JudgeConfig::rebuild`] before it, judging them as if they were arriving: the alerts an earlier run reported ([`Judge::restore`]) are not
    /// reported again, and one it missed (its sample reached the store, not the judge) is.
    pub fn rebuild(&mut self, source: &dyn Source, now: Millis) -> Vec<Event> {
        todo!(
            "stage 6: for each metric a rule names, each series a rule matches: its raw points from the rebuild window (at least the values needed, plus two steps) up to now, observed in order"
        )
    }

    /// Judges one point against the rules that watch its series: the alerts' changes, none for a
    /// point no rule watches or one at or before its series' newest.
    pub fn observe(&mut self, point: Point) -> Vec<Event> {
        todo!(
            "stage 6: find or start the series (no rule selects it: nothing), offer the value to its history, and when kept, evaluate each of its rules and judge the verdict"
        )
    }

    /// Checks for silence as of `now`: each watched series that has sent nothing for more than
    /// [`JudgeConfig::nodata_steps`] steps becomes NODATA, once. When more than a third of the
    /// watched series (and at least [`JudgeConfig::storm_min`]) fall silent in one check, that is
    /// the pipeline, not the hosts: one [`Event::PipelineDown`], and their NODATA notify no one.
    pub fn tick(&mut self, now: Millis) -> Vec<Event> {
        todo!(
            "stage 6: the series silent for more than nodata_steps steps and not yet marked; a storm is a PipelineDown first and NODATA that notify no one; each rule's silence()"
        )
    }

    /// How many series it watches.
    pub fn watched(&self) -> usize {
        todo!("stage 6: the number of series")
    }

    /// The rules that watch `key`, each with its state: kept from before, restored from an earlier
    /// run, or new.
    fn alerts_for(
        &mut self,
        key: &SeriesKey,
        kept: &mut HashMap<(RuleId, SeriesKey), AlertState>,
    ) -> Vec<(usize, AlertState)> {
        todo!(
            "stage 6: each rule of the key's metric that selects it, with its state: from kept, else restored, else the default"
        )
    }

    /// How many values to keep of a series these rules watch.
    fn capacity_for(&self, alerts: &[(usize, AlertState)]) -> usize {
        todo!("stage 6: the most values_needed of these rules, at least 1")
    }
}

/// The alert reporting `change` of `rule` on `series` at `at`.
fn alert(rule: &Rule, series: &SeriesKey, change: Change, at: Millis) -> Alert {
    todo!("stage 6: the rule's id, priority and expression as written, the series, and the change")
}
