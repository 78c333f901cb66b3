//! The store (stage 4), `monitor store`: Open-Falcon's *graph*. It keeps every series it is sent,
//! compressed, answers range queries at any step, and acknowledges a point only once it is on
//! disk.
//!
//! ```text
//!  batch ─▶ StoreService ─▶ committer ─▶ Store::append ─▶ WAL record ─(group commit: one fsync
//!           (event loop)     thread          │              for many appends)─▶ ack
//!                                            ▼
//!                          head: recent points (out-of-order window) ─▶ open chunk (Gorilla)
//!                                            │                      └─▶ rollup buckets
//!                                            ▼ checkpoint
//!                       block files (sealed chunks, by level and window) + checkpoint file;
//!                       the log's old segments deleted
//! ```
//!
//! A point is acknowledged once its log record is fsynced; a restart reads the last checkpoint and
//! replays the log, cutting a torn or damaged tail at its last good record. A point with the series
//! and timestamp of a stored one replaces it, within the out-of-order window, so a batch sent again
//! after a lost ack, or replayed, is stored once; a point older than the window is refused as
//! late. Raw points and each rollup have their own retention; a query picks the coarsest level
//! whose step divides its own.
//!
//! # Layout
//!
//! - [`options`]: [`StoreOptions`], [`RollupLevel`].
//! - [`gorilla`]: the Gorilla codec, delta-of-delta timestamps and XOR values
//!   ([`gorilla::encode`], [`gorilla::decode`]); `bits` (private): the bit streams under it.
//! - `chunk`, `head`, `rollup` (private): open and sealed chunks; each series in memory (the
//!   out-of-order window, freezing, sealing); rollup buckets.
//! - `series` (private): the series ids.
//! - `wal` (private): the write-ahead log and its group commit; `encoding` (private): the record
//!   frame and fields the log and the checkpoint share.
//! - `block`, `checkpoint` (private): the block files, the checkpoint file; `compact`
//!   (private): how their chunks are encoded at rest (decimal conversion, the cheapest transform,
//!   zstd).
//! - [`query`]: [`RangeQuery`], [`Aggregate`], and choosing the level.
//! - `engine` (private): [`Store`]; `flush` and `retention` (private): its checkpoints
//!   ([`Store::flush`]) and [`Store::enforce_retention`].
//! - [`stats`]: [`AppendOutcome`], [`StoreStats`].
//! - [`service`]: the server on nbnet ([`StoreService`], [`serve`], [`StoreServer`]).

mod bits;
mod block;
mod checkpoint;
mod chunk;
mod compact;
mod encoding;
mod engine;
mod flush;
pub mod gorilla;
mod head;
pub mod options;
pub mod query;
mod retention;
mod rollup;
mod series;
pub mod service;
pub mod stats;
mod wal;

pub use engine::Store;
pub use gorilla::ChunkError;
pub use options::{RollupLevel, StoreOptions};
pub use query::{Aggregate, RangeQuery};
pub use service::{StoreServer, StoreService, serve};
pub use stats::{AppendOutcome, StoreStats};
