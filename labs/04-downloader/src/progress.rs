//! The progress counter the workers share, and the bar drawn from it on a terminal.

use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

/// Bytes received so far by every worker, and an optional bar showing them.
///
/// The counter is one atomic integer that every worker adds to: no lock, and no worker ever waits
/// for another to count. It orders nothing else, so `Relaxed` is enough (see the chapter).
#[derive(Debug)]
pub struct Progress {
    received: AtomicU64,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A counter starting at zero, with a bar on standard error when `draw` is set: the bar starts
    /// at `already` (what an earlier run fetched) of `total` bytes, or is a spinner when the total is
    /// unknown. Draw it only when standard error is a terminal.
    pub fn new(total: Option<u64>, already: u64, draw: bool) -> Progress {
        let bar = draw.then(|| {
            let bar = match total {
                Some(total) => ProgressBar::new(total).with_style(
                    ProgressStyle::with_template(
                        "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                ),
                None => ProgressBar::new_spinner(),
            };
            bar.set_position(already);
            bar
        });
        Progress { received: AtomicU64::new(0), bar }
    }

    /// Counts `bytes` more bytes received. Called by every worker after every read.
    pub fn add(&self, bytes: u64) {
        todo!("stage 2: count `bytes` more bytes, and move the bar if there is one")
    }

    /// The bytes received in this run so far.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
