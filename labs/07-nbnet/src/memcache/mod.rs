//! A memcached text-protocol server on `nbnet`: the parser ([`protocol`]), the sharded LRU store
//! with expiry ([`store`], timed by a [`Clock`]), and the [`Service`](crate::Service) joining them
//! ([`MemcacheService`]).
//!
//! What is served is memcached 1.6's text protocol: `get`/`gets` of many keys,
//! `set`/`add`/`replace`/`append`/`prepend`/`cas`, `delete`, `incr`/`decr`, `touch`, `flush_all`,
//! `version`, `verbosity`, `stats` and `quit`, with `noreply`, and every error answered with the
//! line memcached answers it with.

pub mod clock;
pub mod protocol;
pub mod service;
pub mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use protocol::{Command, MemcacheCodec, Response, StoreMode};
pub use service::MemcacheService;
pub use store::{Delta, Item, Store, StoreConfig, StoreStats, StoreStatus};

/// The version `version` and `stats` report.
pub const VERSION: &str = concat!("1.6.18-memkv-", env!("CARGO_PKG_VERSION"));
