//! "At most N messages in 60 s", exactly: a sliding log of the times of the messages sent, over
//! the window (t − 60 s, t].
//!
//! A fixed window (a counter reset every minute) lets 2N through around the boundary, N at the end
//! of one minute and N at the start of the next; an approximate sliding window (two counters,
//! weighted) lets a little more or less through than N. A log of N times is exact and costs N
//! numbers a receiver, which for N in the tens is nothing.

use std::collections::VecDeque;

use crate::point::Millis;

/// At most `max` sends in any window of `window` milliseconds, (t − window, t].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlidingLimit {
    /// The most sends in a window.
    max: usize,
    /// The window, in milliseconds.
    window: Millis,
    /// The times of the sends still in the window, oldest first; at most `max`.
    sent: VecDeque<Millis>,
}

impl SlidingLimit {
    /// A limit of `max` sends in any `window` milliseconds.
    pub fn new(max: usize, window: Millis) -> SlidingLimit {
        // The log grows to `max` only when that many come in a window: no reservation up front, so
        // a limit of usize::MAX ("no limit") costs nothing.
        SlidingLimit { max, window, sent: VecDeque::new() }
    }

    /// Whether a send at `now` is within the limit; if it is, it is counted. Times must not go
    /// backwards (one earlier than the last send is taken as the last send's).
    pub fn try_send(&mut self, now: Millis) -> bool {
        let now = self.sent.back().map_or(now, |&last| now.max(last));
        while self.sent.front().is_some_and(|&oldest| oldest <= now - self.window) {
            self.sent.pop_front();
        }
        if self.sent.len() >= self.max {
            return false;
        }
        self.sent.push_back(now);
        true
    }

    /// The most sends in a window.
    pub fn max(&self) -> usize {
        self.max
    }
}
