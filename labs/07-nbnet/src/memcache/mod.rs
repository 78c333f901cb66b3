//! A memcached text-protocol server on `nbnet`: the parser ([`protocol`]), the sharded LRU store
//! with expiry ([`store`], timed by a [`Clock`]), and the [`Service`](crate::Service) joining them
//! ([`MemcacheService`]).
//!
//! What is served is memcached 1.6's text protocol: `get`/`gets` of many keys, `gat`/`gats`,
//! `set`/`add`/`replace`/`append`/`prepend`/`cas`, `delete`, `incr`/`decr`, `touch`, `flush_all`,
//! `version`, `verbosity`, `cache_memlimit`, `stats` with the groups clients ask for (`settings`,
//! `items`, `slabs`, `sizes`, `reset`, `detail`, `cachedump`) and `quit`, with `noreply`, and
//! every error answered with the line memcached answers it with (`shutdown` is refused, as
//! memcached refuses it unless started with `-A`). Not served, and answered `ERROR`: the meta
//! commands (`mg`, `ms`, `md`, `ma`, `mn`, `me`), which neither pymemcache 3.5 nor libmemcached
//! 1.1 sends, and memcached's operator commands (`lru_crawler`, `slabs`, `watch`, `stats conns`).

pub mod clock;
pub mod protocol;
pub mod service;
pub mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use protocol::{Command, MemcacheCodec, Response, StatsGroup, StoreMode};
pub use service::MemcacheService;
pub use store::{Delta, Item, Store, StoreConfig, StoreStats, StoreStatus};

/// The version `version` and `stats` report.
pub const VERSION: &str = concat!("1.6.18-memkv-", env!("CARGO_PKG_VERSION"));
