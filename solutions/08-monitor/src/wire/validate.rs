//! Which points are worth storing: [`validate`] refuses one with a [`Reject`] naming the reason, and
//! [`Rejections`] counts the refusals by reason, for the relay's and the store's statistics.
//!
//! A batch that decodes can still carry points no store should keep: a NaN from a collector's
//! division by zero, a timestamp from a machine whose clock says 1970, a tag set that would make a
//! series per request. These are refused one by one and counted in the batch's ack; the rest of
//! the batch is kept. The sender checks its points with the same function before it spools them.

use crate::point::{Millis, Point};

/// How far before `now` a timestamp may be: 7 days, so a spool drained after a long outage is
/// still taken.
pub const MAX_PAST: Millis = 7 * 24 * 60 * 60 * 1000;

/// How far after `now` a timestamp may be: 10 minutes of clock skew between machines.
pub const MAX_FUTURE: Millis = 10 * 60 * 1000;

/// The most tags a point may have.
pub const MAX_TAGS: usize = 32;

/// The longest host, metric, tag name or tag value, in bytes.
pub const MAX_NAME_BYTES: usize = 255;

/// Why a point was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Reject {
    /// Its value is NaN or infinite.
    #[error("value is NaN or infinite")]
    NotFinite,
    /// Its timestamp is more than [`MAX_PAST`] before now.
    #[error("timestamp more than 7 days in the past")]
    TooOld,
    /// Its timestamp is more than [`MAX_FUTURE`] after now.
    #[error("timestamp more than 10 minutes in the future")]
    TooNew,
    /// It has more than [`MAX_TAGS`] tags.
    #[error("more than 32 tags")]
    TooManyTags,
    /// Its host, metric, a tag name or a tag value is longer than [`MAX_NAME_BYTES`].
    #[error("a name or tag value longer than 255 bytes")]
    TooLong,
    /// Its host, metric or a tag name is empty or has a character outside `A-Z a-z 0-9 _ . - :`,
    /// or a tag value is empty or has a control character or one of `, = { }`.
    #[error("an empty name, or a character not allowed in it")]
    BadName,
}

impl Reject {
    /// Every reason, in the order [`validate`] checks them.
    pub const ALL: [Reject; 6] = [
        Reject::NotFinite,
        Reject::TooOld,
        Reject::TooNew,
        Reject::TooManyTags,
        Reject::TooLong,
        Reject::BadName,
    ];

    /// A short name for statistics: `not_finite`, `too_old`, `too_new`, `too_many_tags`,
    /// `too_long`, `bad_name`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reject::NotFinite => "not_finite",
            Reject::TooOld => "too_old",
            Reject::TooNew => "too_new",
            Reject::TooManyTags => "too_many_tags",
            Reject::TooLong => "too_long",
            Reject::BadName => "bad_name",
        }
    }
}

/// Refused points, counted by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rejections {
    /// [`Reject::NotFinite`].
    pub not_finite: u64,
    /// [`Reject::TooOld`].
    pub too_old: u64,
    /// [`Reject::TooNew`].
    pub too_new: u64,
    /// [`Reject::TooManyTags`].
    pub too_many_tags: u64,
    /// [`Reject::TooLong`].
    pub too_long: u64,
    /// [`Reject::BadName`].
    pub bad_name: u64,
}

impl Rejections {
    /// Counts one refusal for `reject`.
    pub fn count(&mut self, reject: Reject) {
        *self.slot(reject) += 1;
    }

    /// How many refusals for `reject`.
    pub fn get(&self, reject: Reject) -> u64 {
        match reject {
            Reject::NotFinite => self.not_finite,
            Reject::TooOld => self.too_old,
            Reject::TooNew => self.too_new,
            Reject::TooManyTags => self.too_many_tags,
            Reject::TooLong => self.too_long,
            Reject::BadName => self.bad_name,
        }
    }

    /// All refusals, whatever the reason.
    pub fn total(&self) -> u64 {
        Reject::ALL.iter().map(|&reject| self.get(reject)).sum()
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &Rejections) {
        for reject in Reject::ALL {
            *self.slot(reject) += other.get(reject);
        }
    }

    /// The counter for `reject`.
    fn slot(&mut self, reject: Reject) -> &mut u64 {
        match reject {
            Reject::NotFinite => &mut self.not_finite,
            Reject::TooOld => &mut self.too_old,
            Reject::TooNew => &mut self.too_new,
            Reject::TooManyTags => &mut self.too_many_tags,
            Reject::TooLong => &mut self.too_long,
            Reject::BadName => &mut self.bad_name,
        }
    }
}

/// Whether `point` is worth storing at `now` (milliseconds since the epoch); the first reason it is
/// not, in the order of [`Reject::ALL`].
///
/// # Errors
///
/// The [`Reject`] naming why the point is refused.
///
/// # Examples
///
/// ```
/// use monitor::Sample;
/// use monitor::wire::{Reject, validate};
/// let now = 1_700_000_000_000;
/// let point = Sample::gauge("cpu.busy", 12.5).tag("cpu", "0").at("web-01", now);
/// assert_eq!(validate(&point, now), Ok(()));
/// let nan = Sample::gauge("cpu.busy", f64::NAN).at("web-01", now);
/// assert_eq!(validate(&nan, now), Err(Reject::NotFinite));
/// ```
pub fn validate(point: &Point, now: Millis) -> Result<(), Reject> {
    validate_sample(point.timestamp, point.value, now)?;
    let tags = point.tags.iter().map(|(name, value)| (name.as_str(), value.as_str()));
    validate_series(&point.host, &point.metric, tags)
}

/// The checks of [`validate`] on a point's timestamp and value, which come first.
pub(crate) fn validate_sample(timestamp: Millis, value: f64, now: Millis) -> Result<(), Reject> {
    if !value.is_finite() {
        return Err(Reject::NotFinite);
    }
    if timestamp < now.saturating_sub(MAX_PAST) {
        return Err(Reject::TooOld);
    }
    if timestamp > now.saturating_add(MAX_FUTURE) {
        return Err(Reject::TooNew);
    }
    Ok(())
}

/// The checks of [`validate`] on a point's series, which come after [`validate_sample`]'s: a
/// batch's series need them once, not once a point.
pub(crate) fn validate_series<'a>(
    host: &'a str,
    metric: &'a str,
    tags: impl Iterator<Item = (&'a str, &'a str)> + Clone,
) -> Result<(), Reject> {
    if tags.clone().count() > MAX_TAGS {
        return Err(Reject::TooManyTags);
    }
    let texts = [host, metric].into_iter();
    if texts
        .chain(tags.clone().flat_map(|(name, value)| [name, value]))
        .any(|text| text.len() > MAX_NAME_BYTES)
    {
        return Err(Reject::TooLong);
    }
    let names_good = [host, metric].into_iter().chain(tags.clone().map(|(name, _)| name)).all(is_name);
    if !names_good || !tags.map(|(_, value)| value).all(is_tag_value) {
        return Err(Reject::BadName);
    }
    Ok(())
}

/// Keeps the points of `points` that [`validate`] passes at `now`, in order, counting the others
/// in `rejections`; returns how many were dropped.
pub fn keep_valid(points: &mut Vec<Point>, now: Millis, rejections: &mut Rejections) -> usize {
    let before = points.len();
    points.retain(|point| match validate(point, now) {
        Ok(()) => true,
        Err(reject) => {
            rejections.count(reject);
            false
        }
    });
    before - points.len()
}

/// A host, metric or tag name: not empty, and only `A-Z a-z 0-9 _ . - :`.
fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b':'))
}

/// A tag value: not empty, no control character, and none of the characters that delimit tags
/// when a series is written out (`, = { }`).
fn is_tag_value(value: &str) -> bool {
    !value.is_empty() && !value.chars().any(|c| c.is_control() || matches!(c, ',' | '=' | '{' | '}'))
}
