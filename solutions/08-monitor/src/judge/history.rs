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
        let capacity = capacity.max(1);
        History { step: step.max(1), capacity, values: Vec::with_capacity(capacity), newest: None }
    }

    /// Offers the value measured at `timestamp`.
    pub fn offer(&mut self, timestamp: Millis, value: f64) -> Offer {
        let aligned = timestamp - timestamp.rem_euclid(self.step);
        if let Some(newest) = self.newest {
            if aligned <= newest {
                return Offer::Stale;
            }
            if aligned - newest > 2 * self.step {
                self.values.clear();
            }
        }
        if self.values.len() == self.capacity {
            self.values.pop();
        }
        self.values.insert(0, value);
        self.newest = Some(aligned);
        Offer::Kept(aligned)
    }

    /// The values kept, newest first.
    pub fn newest_first(&self) -> &[f64] {
        &self.values
    }

    /// The aligned time of the newest value, if any.
    pub fn newest(&self) -> Option<Millis> {
        self.newest
    }

    /// Keeps at most `capacity` values from now on (the newest, when there are more).
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
        self.values.truncate(self.capacity);
    }

    /// The most values kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}
