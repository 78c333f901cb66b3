//! Streaming any number of inputs of any size through a [`Tally`] on every core.
//!
//! One thread (the caller) reads blocks and cuts each at its last line end, carrying the cut-off
//! start of the next line into the next block. Worker threads take whole blocks from a bounded
//! queue and count into their own tallies, merged at the end. Memory is bounded by the queue (a
//! few blocks per worker) plus what the tallies hold: distinct keys, never the size of the input.

use std::fs::File;
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{Config, Error, Input};

/// A computation over whole blocks of input that can run in pieces and be merged.
pub trait Tally: Send {
    /// Counts one block. A block holds whole units (lines, or for text, whole words), except the
    /// last block of an input, which ends wherever the input ends.
    fn add_block(&mut self, block: &[u8]);

    /// Adds a tally of other blocks to this one.
    fn merge(&mut self, other: Self);
}

/// Where a block may be cut so that no unit straddles two blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// Only after a newline.
    Lines,
    /// After a newline or, in a long line, after any ASCII byte that is not a letter or digit: never
    /// inside a word, and never inside a UTF-8 sequence (whose bytes are all above 127).
    Words,
}

/// What a scan produced besides its tally.
#[derive(Debug, Default)]
pub struct ScanEnd {
    /// Inputs that could not be opened or read.
    pub errors: Vec<Error>,
    /// Whether `stop` was raised before the end.
    pub interrupted: bool,
}

/// Reads every input of `config` (standard input when there are none) through tallies made by
/// `make`, one per thread, and returns their merge.
pub fn scan<T: Tally>(
    config: &Config,
    stdin: &mut dyn Read,
    stop: &AtomicBool,
    cut: Cut,
    make: impl Fn() -> T + Sync,
) -> (T, ScanEnd) {
    // ANCHOR: scan
    let threads = config.threads.max(1);
    if threads == 1 {
        let mut tally = make();
        let end = read_blocks(config, stdin, stop, cut, |block| {
            tally.add_block(&block);
            Some(block)
        });
        return (tally, end);
    }
    let (work_tx, work_rx) = mpsc::sync_channel::<Vec<u8>>(threads * 2);
    let (spare_tx, spare_rx) = mpsc::channel::<Vec<u8>>();
    let work_rx = Mutex::new(work_rx);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (work_rx, spare_tx, make) = (&work_rx, spare_tx.clone(), &make);
                scope.spawn(move || {
                    let mut tally = make();
                    // The lock is held only to take a block; a poisoned lock means another worker
                    // panicked, and the scope re-raises that panic.
                    while let Ok(block) = work_rx.lock().map_err(drop).and_then(|rx| rx.recv().map_err(drop))
                    {
                        tally.add_block(&block);
                        let _ = spare_tx.send(block);
                    }
                    tally
                })
            })
            .collect();
        drop(spare_tx);
        let end = read_blocks(config, stdin, stop, cut, |block| {
            work_tx.send(block).ok()?;
            Some(spare_rx.try_recv().unwrap_or_default())
        });
        drop(work_tx);
        let mut tallies = workers.into_iter().map(|worker| match worker.join() {
            Ok(tally) => tally,
            Err(panic) => std::panic::resume_unwind(panic),
        });
        // `threads >= 2`, so there is a first tally.
        let mut total = tallies.next().unwrap_or_else(&make);
        tallies.for_each(|tally| total.merge(tally));
        (total, end)
    })
    // ANCHOR_END: scan
}

// ANCHOR: read_blocks
/// Reads every input in blocks of whole units and hands each to `consume`, which returns an empty
/// buffer to reuse (or `None` to stop).
fn read_blocks(
    config: &Config,
    stdin: &mut dyn Read,
    stop: &AtomicBool,
    cut: Cut,
    mut consume: impl FnMut(Vec<u8>) -> Option<Vec<u8>>,
) -> ScanEnd {
    let stdin_only = [Input::Stdin];
    let inputs = if config.inputs.is_empty() { &stdin_only[..] } else { &config.inputs[..] };
    let progress = progress_bar(config, inputs);
    let block_size = config.block_size.max(1);
    let mut end = ScanEnd::default();
    let mut spare = Vec::new();
    for input in inputs {
        let mut file;
        let reader: &mut dyn Read = match input {
            Input::Stdin => &mut *stdin,
            Input::Path(path) => match File::open(path) {
                Ok(opened) => {
                    file = opened;
                    &mut file
                }
                Err(source) => {
                    end.errors.push(Error::File { path: path.clone(), source });
                    continue;
                }
            },
        };
        let mut block = std::mem::take(&mut spare);
        block.clear();
        loop {
            if stop.load(Ordering::Relaxed) {
                end.interrupted = true;
                progress.finish_and_clear();
                return end;
            }
            let (read, at_end) = match fill(reader, &mut block, block_size) {
                Ok(filled) => filled,
                Err(source) => {
                    end.errors.push(Error::File { path: input.name(), source });
                    (0, true)
                }
            };
            progress.inc(read as u64);
            if at_end {
                if !block.is_empty() {
                    match consume(block) {
                        Some(reused) => spare = reused,
                        None => return end,
                    }
                }
                break;
            }
            let Some(cut_at) = cut_point(&block, cut) else {
                // No place to cut yet (one very long line): read on into the same block.
                continue;
            };
            let mut next = match consume_head(&mut block, cut_at, &mut consume) {
                Some(next) => next,
                None => return end,
            };
            std::mem::swap(&mut block, &mut next);
        }
    }
    progress.finish_and_clear();
    end
}
// ANCHOR_END: read_blocks

/// Sends `block[..cut_at]` on and returns a buffer that starts with the rest.
fn consume_head(
    block: &mut Vec<u8>,
    cut_at: usize,
    consume: &mut impl FnMut(Vec<u8>) -> Option<Vec<u8>>,
) -> Option<Vec<u8>> {
    let rest = block.split_off(cut_at);
    let mut reused = consume(std::mem::take(block))?;
    reused.clear();
    reused.extend_from_slice(&rest);
    Some(reused)
}

/// Reads until `block` holds `block_size` more bytes or the input ends. Returns the bytes read and
/// whether the input ended.
fn fill(reader: &mut dyn Read, block: &mut Vec<u8>, block_size: usize) -> io::Result<(usize, bool)> {
    // read_to_end on a `Take` reads straight into the vector's spare capacity without zeroing it
    // first, and retries reads that were interrupted; stopping short of the limit means the end.
    block.reserve(block_size);
    let read = reader.take(block_size as u64).read_to_end(block)?;
    Ok((read, read < block_size))
}

// ANCHOR: cut_point
/// Where to cut `block` so that its head holds whole units, or `None` if it cannot be cut yet.
fn cut_point(block: &[u8], cut: Cut) -> Option<usize> {
    if let Some(newline) = memchr::memrchr(b'\n', block) {
        return Some(newline + 1);
    }
    match cut {
        Cut::Lines => None,
        Cut::Words => block.iter().rposition(|b| b.is_ascii() && !b.is_ascii_alphanumeric()).map(|at| at + 1),
    }
}
// ANCHOR_END: cut_point

/// A byte-counting bar on standard error, or a hidden one when `config.progress` is off.
fn progress_bar(config: &Config, inputs: &[Input]) -> ProgressBar {
    if !config.progress {
        return ProgressBar::hidden();
    }
    let sizes: Option<u64> = inputs
        .iter()
        .map(|input| match input {
            Input::Path(path) => std::fs::metadata(path).ok().map(|meta| meta.len()),
            Input::Stdin => None,
        })
        .sum();
    let bar = match sizes {
        Some(total) => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
    let template = match sizes {
        Some(_) => "{bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
        None => "{spinner} {binary_bytes} {binary_bytes_per_sec}",
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}
