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
        JudgeConfig { step, nodata_steps: 3, storm_min: 3, rebuild: Duration::from_secs(3600) }
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
        let step = Millis::try_from(config.step.as_millis()).unwrap_or(Millis::MAX).max(1);
        let mut judge = Judge {
            config,
            step,
            rules: Vec::new(),
            by_metric: HashMap::new(),
            series: HashMap::new(),
            restored: HashMap::new(),
        };
        judge.set_rules(rules);
        judge
    }

    /// The rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Replaces the rules. A rule whose number and expression are unchanged keeps its alerts'
    /// states; the others start afresh (a changed rule's problems end silently).
    pub fn set_rules(&mut self, rules: Vec<Rule>) {
        let mut kept: HashMap<(RuleId, SeriesKey), AlertState> = HashMap::new();
        for (key, watched) in &mut self.series {
            for (index, state) in watched.alerts.drain(..) {
                kept.insert((self.rules[index].id, key.clone()), state);
            }
        }
        let unchanged =
            |rule: &Rule, old: &[Rule]| old.iter().any(|o| o.id == rule.id && o.expr == rule.expr);
        let old = std::mem::replace(&mut self.rules, rules);
        kept.retain(|(id, _), _| self.rules.iter().any(|rule| rule.id == *id && unchanged(rule, &old)));
        self.by_metric.clear();
        for (index, rule) in self.rules.iter().enumerate() {
            self.by_metric.entry(rule.expr.metric.clone()).or_default().push(index);
        }
        let series = std::mem::take(&mut self.series);
        for (key, mut watched) in series {
            watched.alerts = self.alerts_for(&key, &mut kept);
            let capacity = self.capacity_for(&watched.alerts);
            watched.history.set_capacity(capacity);
            if !watched.alerts.is_empty() {
                self.series.insert(key, watched);
            }
        }
    }

    /// Takes the states an earlier run's `events` leave (the last event of each rule on each
    /// series counts), so that what it reported is not reported again: samples at or before an
    /// alert's last event change nothing. Call it before the first [`Judge::observe`].
    pub fn restore(&mut self, events: impl IntoIterator<Item = Event>) {
        for event in events {
            if let Event::Alert(alert) = event {
                let state = AlertState::restored(alert.status, alert.count, alert.at);
                self.restored.insert((alert.rule, alert.series), state);
            }
        }
    }

    /// Rebuilds the series' recent values from `source` (the store), as of `now` and from
    /// [`JudgeConfig::rebuild`] before it, judging them as if they were arriving: the alerts an earlier run reported ([`Judge::restore`]) are not
    /// reported again, and one it missed (its sample reached the store, not the judge) is.
    pub fn rebuild(&mut self, source: &dyn Source, now: Millis) -> Vec<Event> {
        let mut events = Vec::new();
        let metrics: Vec<String> = self.by_metric.keys().cloned().collect();
        for metric in metrics {
            let indices = self.by_metric[&metric].clone();
            let needed =
                indices.iter().map(|&i| self.rules[i].expr.function.values_needed()).max().unwrap_or(1);
            let window = Millis::try_from(self.config.rebuild.as_millis()).unwrap_or(Millis::MAX);
            let from = now.saturating_sub(window.max(self.step.saturating_mul(needed as Millis + 2)));
            for key in source.series(None, Some(&metric)) {
                if !indices.iter().any(|&i| self.rules[i].expr.matches(&key)) {
                    continue;
                }
                for (timestamp, value) in source.query(&RangeQuery::raw(key.clone(), from, now)) {
                    let point = Point {
                        host: key.host.clone(),
                        metric: key.metric.clone(),
                        tags: key.tags.clone(),
                        timestamp,
                        value,
                        kind: crate::point::Kind::Gauge,
                    };
                    events.extend(self.observe(point));
                }
            }
        }
        events
    }

    /// Judges one point against the rules that watch its series: the alerts' changes, none for a
    /// point no rule watches or one at or before its series' newest.
    pub fn observe(&mut self, point: Point) -> Vec<Event> {
        if !self.by_metric.contains_key(&point.metric) {
            return Vec::new();
        }
        let Point { host, metric, tags, timestamp, value, .. } = point;
        let key = SeriesKey { host, metric, tags };
        if !self.series.contains_key(&key) {
            let alerts = self.alerts_for(&key, &mut HashMap::new());
            if alerts.is_empty() {
                return Vec::new();
            }
            let history = History::new(self.step, self.capacity_for(&alerts));
            self.series.insert(key.clone(), Watched { history, alerts, last_value: f64::NAN, silent: false });
        }
        let Some(watched) = self.series.get_mut(&key) else { return Vec::new() };
        let Offer::Kept(at) = watched.history.offer(timestamp, value) else { return Vec::new() };
        watched.last_value = value;
        watched.silent = false;
        let mut events = Vec::new();
        let values = watched.history.newest_first();
        for (index, state) in &mut watched.alerts {
            let rule = &self.rules[*index];
            let Some(verdict) = evaluate(rule.expr.function, rule.expr.op, rule.expr.threshold, values)
            else {
                continue;
            };
            if let Some(change) = state.judge(rule, verdict, at) {
                events.push(Event::Alert(alert(rule, &key, change, at)));
            }
        }
        events
    }

    /// Checks for silence as of `now`: each watched series that has sent nothing for more than
    /// [`JudgeConfig::nodata_steps`] steps becomes NODATA, once. When more than a third of the
    /// watched series (and at least [`JudgeConfig::storm_min`]) fall silent in one check, that is
    /// the pipeline, not the hosts: one [`Event::PipelineDown`], and their NODATA notify no one.
    pub fn tick(&mut self, now: Millis) -> Vec<Event> {
        let quiet = self.step.saturating_mul(Millis::from(self.config.nodata_steps));
        let watched = self.series.len();
        let silent: Vec<SeriesKey> = self
            .series
            .iter()
            .filter(|(_, w)| {
                !w.silent && w.history.newest().is_some_and(|newest| now.saturating_sub(newest) > quiet)
            })
            .map(|(key, _)| key.clone())
            .collect();
        if silent.is_empty() {
            return Vec::new();
        }
        let storm = silent.len() >= self.config.storm_min && silent.len() * 3 > watched;
        let mut events = Vec::new();
        if storm {
            events.push(Event::PipelineDown { silent: silent.len(), watched, at: now });
        }
        for key in silent {
            let Some(watched) = self.series.get_mut(&key) else { continue };
            watched.silent = true;
            for (index, state) in &mut watched.alerts {
                let rule = &self.rules[*index];
                if let Some(change) = state.silence(rule, !storm, watched.last_value, now) {
                    events.push(Event::Alert(alert(rule, &key, change, now)));
                }
            }
        }
        events
    }

    /// How many series it watches.
    pub fn watched(&self) -> usize {
        self.series.len()
    }

    /// The rules that watch `key`, each with its state: kept from before, restored from an earlier
    /// run, or new.
    fn alerts_for(
        &mut self,
        key: &SeriesKey,
        kept: &mut HashMap<(RuleId, SeriesKey), AlertState>,
    ) -> Vec<(usize, AlertState)> {
        let Some(indices) = self.by_metric.get(&key.metric) else { return Vec::new() };
        let mut alerts = Vec::new();
        for &index in indices {
            let rule = &self.rules[index];
            if rule.expr.selects(&key.host, &key.tags) {
                let id = (rule.id, key.clone());
                let state = kept.remove(&id).or_else(|| self.restored.remove(&id)).unwrap_or_default();
                alerts.push((index, state));
            }
        }
        alerts
    }

    /// How many values to keep of a series these rules watch.
    fn capacity_for(&self, alerts: &[(usize, AlertState)]) -> usize {
        alerts.iter().map(|(index, _)| self.rules[*index].expr.function.values_needed()).max().unwrap_or(1)
    }
}

/// The alert reporting `change` of `rule` on `series` at `at`.
fn alert(rule: &Rule, series: &SeriesKey, change: Change, at: Millis) -> Alert {
    Alert {
        rule: rule.id,
        priority: rule.priority,
        expr: rule.expr.to_string(),
        series: series.clone(),
        status: change.status,
        value: change.value,
        at,
        count: change.count,
        notify: change.notify,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_no_rule_selects_is_not_kept() {
        let rule = Rule::new(1, "cpu.busy{host=web1} all(#1) > 1".parse().unwrap());
        let mut judge = Judge::new(JudgeConfig::new(Duration::from_secs(60)), vec![rule]);
        judge.observe(crate::Sample::gauge("cpu.busy", 5.0).at("web2", 0));
        assert_eq!(judge.watched(), 0);
    }
}
