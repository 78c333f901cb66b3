//! Request rates from an nginx access log: requests, bytes sent and status classes per second,
//! counted from the lines written since the last tick.
//!
//! The log is followed with lab 01's [`logstat::Follower`], which keeps reading across both kinds of
//! rotation (renamed away and re-created, or copied and truncated in place), and each line is
//! parsed with its [`logstat::parse_line`] (the `combined` format). A line that is not `combined`
//! is counted in `nginx.log.unparsed`, not dropped silently: a changed `log_format` shows up there.

use std::path::PathBuf;
use std::time::Duration;

use logstat::{Follower, StartAt};

use super::{CollectError, Collector, seconds_between};
use crate::{Millis, Sample};

/// What the lines of one interval add up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogTally {
    /// Lines in the `combined` format.
    pub requests: u64,
    /// Their `$body_bytes_sent`, added up.
    pub bytes: u64,
    /// Requests by status class: `[1xx, 2xx, 3xx, 4xx, 5xx]`.
    pub classes: [u64; 5],
    /// Lines that are not.
    pub unparsed: u64,
}

impl LogTally {
    /// Counts one line (without its newline).
    pub fn add(&mut self, line: &[u8]) {
        match logstat::parse_line(line) {
            Ok(record) => {
                self.requests += 1;
                self.bytes = self.bytes.saturating_add(record.bytes);
                // The parser accepts any three digits; 000 and 600 to 999 belong to no class.
                if let Some(class) =
                    (record.status / 100).checked_sub(1).and_then(|i| self.classes.get_mut(usize::from(i)))
                {
                    *class += 1;
                }
            }
            Err(_) => self.unparsed += 1,
        }
    }

    /// `nginx.log.requests`, `nginx.log.bytes`, `nginx.log.unparsed` and `nginx.log.status` tagged
    /// `class=1xx` … `class=5xx` (every class, 0 included), all per second over `seconds`.
    pub fn samples(&self, seconds: f64) -> Vec<Sample> {
        let rate = |count: u64| count as f64 / seconds;
        let mut samples = vec![
            Sample::gauge("nginx.log.requests", rate(self.requests)),
            Sample::gauge("nginx.log.bytes", rate(self.bytes)),
            Sample::gauge("nginx.log.unparsed", rate(self.unparsed)),
        ];
        for (class, count) in self.classes.iter().enumerate() {
            samples.push(
                Sample::gauge("nginx.log.status", rate(*count)).tag("class", format!("{}xx", class + 1)),
            );
        }
        samples
    }
}

/// Follows an nginx access log and reports its rates at each tick.
///
/// The first call starts following at the log's end (what was written before the agent started is
/// not this interval's) and returns no samples; each later call counts the lines written since.
#[derive(Debug)]
pub struct AccessLogCollector {
    path: PathBuf,
    interval: Duration,
    /// The follower and the time of the last reading, from the first call on.
    follower: Option<(Follower, Millis)>,
}

impl AccessLogCollector {
    /// A collector following the log at `path` (which need not exist yet) every `interval`.
    pub fn new(path: impl Into<PathBuf>, interval: Duration) -> AccessLogCollector {
        AccessLogCollector { path: path.into(), interval, follower: None }
    }
}

impl Collector for AccessLogCollector {
    fn name(&self) -> &str {
        "access_log"
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    fn collect(&mut self, now: Millis) -> Result<Vec<Sample>, CollectError> {
        let file_error = |source| CollectError::File { path: self.path.clone(), source };
        let Some((follower, last)) = self.follower.as_mut() else {
            let follower = Follower::open(&self.path, StartAt::End).map_err(file_error)?;
            self.follower = Some((follower, now));
            return Ok(Vec::new());
        };
        let lines = follower.poll().map_err(file_error)?;
        let mut tally = LogTally::default();
        for line in &lines {
            tally.add(line);
        }
        let seconds = seconds_between(*last, now);
        *last = now;
        Ok(seconds.map(|seconds| tally.samples(seconds)).unwrap_or_default())
    }
}
