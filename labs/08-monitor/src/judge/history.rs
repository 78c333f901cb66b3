//! A series' newest values as the judge keeps them: aligned to the step, in time order, none
//! twice, and only an unbroken run of them.

use crate::point::Millis;

/// What became of a value offered to a [`History`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// It was kept, as the newest value, at this (aligned) time.
    Kept(Millis),
    /// Its aligned time is at or before the newest one kept: a resend, or a point late past its
    /// turn. It was dropped.
    Stale,
}

/// The newest values of one series, newest first, at most `capacity` of them.
///
/// Times are aligned down to a multiple of the step, so that an agent's jitter does not make two
/// values of one step; a value at or before the newest time is dropped; and when the gap since
/// the newest value is more than two steps, the run starts again from the new value, so that
/// `all(#3)` never joins values from either side of an outage.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// The step, in milliseconds.
    step: Millis,
    /// The most values kept.
    capacity: usize,
    /// The values, newest first.
    values: Vec<f64>,
    /// The aligned time of `values[0]`; `None` before the first value.
    newest: Option<Millis>,
}

impl History {
    /// An empty history for a series measured every `step` milliseconds (at least 1), keeping at
    /// most `capacity` values (at least 1).
    pub fn new(step: Millis, capacity: usize) -> History {
        todo!("stage 6: no values yet; step and capacity at least 1")
    }

    /// Offers the value measured at `timestamp`.
    pub fn offer(&mut self, timestamp: Millis, value: f64) -> Offer {
        todo!(
            "stage 6: align down to the step (rem_euclid); Stale at or before the newest; clear after a gap of more than two steps; push at the front, dropping the oldest when full"
        )
    }

    /// The values kept, newest first.
    pub fn newest_first(&self) -> &[f64] {
        todo!("stage 6: the values")
    }

    /// The aligned time of the newest value, if any.
    pub fn newest(&self) -> Option<Millis> {
        todo!("stage 6: the newest aligned time")
    }

    /// Keeps at most `capacity` values from now on (the newest, when there are more).
    pub fn set_capacity(&mut self, capacity: usize) {
        todo!("stage 6: the new capacity (at least 1), the values truncated to it")
    }

    /// The most values kept.
    pub fn capacity(&self) -> usize {
        todo!("stage 6: the capacity")
    }
}
