//! What the monitoring system carries: a [`Sample`] is one value a collector read, a [`Point`] is a
//! sample stamped with its host and time, on its way to the store.
//!
//! A *series* is everything that names a value but the value and the time: host, metric and tags
//! ([`SeriesKey`]). The store keeps one compressed column per series, the relay routes by it, and
//! the judge (next part of the lab) keeps one window per series, so the number of distinct series,
//! the *cardinality*, is what costs memory everywhere.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, UTC: Prometheus's unit, so points forward unchanged.
pub type Millis = i64;

/// Now, in milliseconds since the Unix epoch: what a point is stamped with and checked against
/// (0 on a clock set before 1970).
pub fn now_millis() -> Millis {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Millis::try_from(since.as_millis()).unwrap_or(Millis::MAX)
}

/// Tags (Prometheus calls them labels): `name=value` pairs that tell series of one metric apart,
/// as `cpu=3` or `device=sda`. A `BTreeMap`, so two equal tag sets are equal whatever order they
/// were written in, and print in one order.
pub type Tags = BTreeMap<String, String>;

/// How a value is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A reading that goes up and down: a temperature, bytes free, a percentage.
    Gauge,
    /// A total that only goes up (bytes sent since boot), until its source restarts and it starts
    /// again from 0. Rates are computed from two readings.
    Counter,
}

impl Kind {
    /// `"gauge"` or `"counter"`: the word Prometheus's `# TYPE` lines use.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
        }
    }
}

/// One value from a collector, not yet stamped: the scheduler adds the host and the time.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The metric's name, dotted as Open-Falcon's are: `cpu.busy`, `net.if.in.bytes`.
    pub metric: String,
    /// What tells this series apart from the metric's others.
    pub tags: Tags,
    /// The value.
    pub value: f64,
    /// How to read it.
    pub kind: Kind,
}

impl Sample {
    /// A gauge with no tags.
    pub fn gauge(metric: impl Into<String>, value: f64) -> Sample {
        Sample { metric: metric.into(), tags: Tags::new(), value, kind: Kind::Gauge }
    }

    /// A counter with no tags.
    pub fn counter(metric: impl Into<String>, value: f64) -> Sample {
        Sample { metric: metric.into(), tags: Tags::new(), value, kind: Kind::Counter }
    }

    /// This sample with the tag `name=value` added (replacing one of that name).
    #[must_use]
    pub fn tag(mut self, name: impl Into<String>, value: impl Into<String>) -> Sample {
        self.tags.insert(name.into(), value.into());
        self
    }

    /// This sample as a point of `host` at `timestamp`.
    pub fn at(self, host: &str, timestamp: Millis) -> Point {
        Point {
            host: host.to_owned(),
            metric: self.metric,
            tags: self.tags,
            timestamp,
            value: self.value,
            kind: self.kind,
        }
    }
}

/// One value of one series at one time: what the agent sends, the relay routes and the store
/// keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The machine it was measured on.
    pub host: String,
    /// The metric's name.
    pub metric: String,
    /// The series' tags.
    pub tags: Tags,
    /// When, in milliseconds since the epoch.
    pub timestamp: Millis,
    /// The value.
    pub value: f64,
    /// How to read it.
    pub kind: Kind,
}

impl Point {
    /// The series this point belongs to.
    pub fn series(&self) -> SeriesKey {
        SeriesKey { host: self.host.clone(), metric: self.metric.clone(), tags: self.tags.clone() }
    }
}

impl fmt::Display for Point {
    /// `host metric{tag=value,...} timestamp value kind`, one line, as `monitor agent` prints
    /// points when it has no relay to send them to.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.host, self.metric)?;
        write_tags(f, &self.tags)?;
        write!(f, " {} {} {}", self.timestamp, self.value, self.kind.as_str())
    }
}

/// What names a series: host, metric and tags.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct SeriesKey {
    /// The machine.
    pub host: String,
    /// The metric.
    pub metric: String,
    /// The tags.
    pub tags: Tags,
}

impl fmt::Display for SeriesKey {
    /// `host metric{tag=value,...}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.host, self.metric)?;
        write_tags(f, &self.tags)
    }
}

/// `{a=1,b=2}`, or nothing for no tags.
fn write_tags(f: &mut fmt::Formatter<'_>, tags: &Tags) -> fmt::Result {
    if tags.is_empty() {
        return Ok(());
    }
    f.write_str("{")?;
    for (i, (name, value)) in tags.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{name}={value}")?;
    }
    f.write_str("}")
}
