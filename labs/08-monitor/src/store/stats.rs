//! What an append did ([`AppendOutcome`]) and what a store holds and has done ([`StoreStats`]).

use crate::wire::Rejections;

/// What became of the points of one [`Store::append`](super::Store::append).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Points kept: new ones, and ones that took the place of the point with their series and
    /// timestamp.
    pub accepted: u64,
    /// Of those, the ones that took a point's place (a batch sent again).
    pub replaced: u64,
    /// Points refused for coming later than the out-of-order window allows.
    pub late: u64,
    /// Points refused as invalid, by reason: not finite, too many tags, a name too long or not
    /// allowed.
    pub rejected: Rejections,
}

impl AppendOutcome {
    /// Points refused, late or invalid.
    pub fn refused(&self) -> u64 {
        self.late + self.rejected.total()
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &AppendOutcome) {
        self.accepted += other.accepted;
        self.replaced += other.replaced;
        self.late += other.late;
        self.rejected.add(&other.rejected);
    }
}

/// A store's counters: what it holds, and what it has done since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StoreStats {
    /// Series known.
    pub series: u64,
    /// Raw points held, in memory and in block files (rollup buckets not counted).
    pub points: u64,
    /// Raw points in block files.
    pub block_points: u64,
    /// Bytes of the raw levels' block files.
    pub block_bytes: u64,
    /// Bytes of the rollups' block files.
    pub rollup_bytes: u64,
    /// Bytes of the last checkpoint file.
    pub checkpoint_bytes: u64,
    /// Bytes of the write-ahead log's current segment.
    pub wal_bytes: u64,
    /// Appends that wrote to the log.
    pub appends: u64,
    /// Fsyncs of the log: with group commit, far fewer than appends under concurrency.
    pub wal_syncs: u64,
    /// Checkpoints done.
    pub checkpoints: u64,
    /// What every append since opening did, summed.
    pub outcome: AppendOutcome,
}

impl StoreStats {
    /// Bytes of block file a raw point in one takes, index and headers included; 0 before any.
    pub fn bytes_per_point(&self) -> f64 {
        if self.block_points == 0 { 0.0 } else { self.block_bytes as f64 / self.block_points as f64 }
    }
}
