//! The memcached [`Service`]: each [`Command`] applied to the shared [`Store`] and answered with
//! memcached's exact [`Response`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

use crate::memcache::VERSION;
use crate::memcache::protocol::{Command, ITEM_SIZE_MAX, MemcacheCodec, Response, StatsGroup};
use crate::memcache::store::{Delta, Store, StoreStatus};
use crate::service::{Context, Service};

/// Counters of the rarer commands, for `stats` (the store counts gets and sets under its locks).
#[derive(Debug, Default)]
struct Counters {
    cmd_touch: AtomicU64,
    /// The level `verbosity` last set, for `stats settings`.
    verbosity: AtomicU32,
}

/// memcached on a [`Store`] shared by every worker.
#[derive(Debug)]
pub struct MemcacheService {
    store: Arc<Store>,
    threads: usize,
    counters: Counters,
}

impl MemcacheService {
    /// A service on `store`; `threads` is reported by `stats`.
    pub fn new(store: Arc<Store>, threads: usize) -> Self {
        MemcacheService { store, threads, counters: Counters::default() }
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The answer to `command`, or `None` for `noreply`, `quit` and swallowed data.
    pub fn apply(&self, command: Command) -> Option<Response> {
        let (response, noreply) = match command {
            Command::Get { keys, cas } => {
                let mut items = Vec::with_capacity(keys.len());
                for key in keys {
                    if let Some(item) = self.store.get(&key) {
                        items.push((key, item));
                    }
                }
                (Response::Values { items, cas }, false)
            }
            Command::GetAndTouch { exptime, keys, cas } => {
                let mut items = Vec::with_capacity(keys.len());
                for key in keys {
                    self.counters.cmd_touch.fetch_add(1, Relaxed);
                    if let Some(item) = self.store.get_and_touch(&key, exptime) {
                        items.push((key, item));
                    }
                }
                (Response::Values { items, cas }, false)
            }
            Command::Store { mode, key, flags, exptime, data, cas, noreply } => {
                let line = match self.store.store(mode, &key, flags, exptime, data, cas) {
                    StoreStatus::Stored => "STORED",
                    StoreStatus::NotStored => "NOT_STORED",
                    StoreStatus::Exists => "EXISTS",
                    StoreStatus::NotFound => "NOT_FOUND",
                    StoreStatus::TooLarge => "SERVER_ERROR object too large for cache",
                    StoreStatus::OutOfMemory => "SERVER_ERROR out of memory storing object",
                };
                (Response::Line(line), noreply)
            }
            Command::Delete { key, noreply } => {
                let line = if self.store.delete(&key) { "DELETED" } else { "NOT_FOUND" };
                (Response::Line(line), noreply)
            }
            Command::Arith { key, delta, incr, noreply } => {
                let response = match self.store.delta(&key, delta, incr) {
                    Delta::Value(n) => Response::Number(n),
                    Delta::NotFound => Response::Line("NOT_FOUND"),
                    Delta::NonNumeric => {
                        Response::Line("CLIENT_ERROR cannot increment or decrement non-numeric value")
                    }
                };
                (response, noreply)
            }
            Command::Touch { key, exptime, noreply } => {
                self.counters.cmd_touch.fetch_add(1, Relaxed);
                let line = if self.store.touch(&key, exptime) { "TOUCHED" } else { "NOT_FOUND" };
                (Response::Line(line), noreply)
            }
            Command::FlushAll { delay, noreply } => {
                self.store.flush_all(delay);
                (Response::Line("OK"), noreply)
            }
            Command::Version => (Response::Text(format!("VERSION {VERSION}")), false),
            Command::Stats => (Response::Stats(self.stats()), false),
            Command::StatsGroup(group) => (self.stats_group(group), false),
            Command::Verbosity { level, noreply } => {
                self.counters.verbosity.store(level, Relaxed);
                (Response::Line("OK"), noreply)
            }
            Command::CacheMemlimit { megabytes, noreply } => {
                self.store.set_memory_limit(megabytes as usize * (1 << 20));
                (Response::Line("OK"), noreply)
            }
            Command::BadDataChunk { noreply } => (Response::Line("CLIENT_ERROR bad data chunk"), noreply),
            Command::TooLarge { noreply } => {
                (Response::Line("SERVER_ERROR object too large for cache"), noreply)
            }
            Command::Error { reply, noreply } => (Response::Line(reply), noreply),
            Command::Quit | Command::Swallowed => return None,
        };
        (!noreply).then_some(response)
    }

    /// The answer to `stats GROUP`.
    fn stats_group(&self, group: StatsGroup) -> Response {
        let store = self.store.stats();
        match group {
            StatsGroup::Settings => Response::Stats(vec![
                ("maxbytes", store.limit.to_string()),
                ("verbosity", self.counters.verbosity.load(Relaxed).to_string()),
                ("evictions", "on".to_string()),
                ("num_threads", self.threads.to_string()),
                ("cas_enabled", "yes".to_string()),
                ("item_size_max", ITEM_SIZE_MAX.to_string()),
            ]),
            StatsGroup::Items if store.items == 0 => Response::Stats(Vec::new()),
            StatsGroup::Items => Response::Stats(vec![
                ("items:1:number", store.items.to_string()),
                ("items:1:evicted", store.evictions.to_string()),
            ]),
            StatsGroup::Slabs => Response::Stats(vec![
                ("active_slabs", u64::from(store.items > 0).to_string()),
                ("total_malloced", store.bytes.to_string()),
            ]),
            StatsGroup::Sizes => Response::Stats(vec![("sizes_status", "disabled".to_string())]),
            StatsGroup::Reset => {
                self.store.reset_stats();
                self.counters.cmd_touch.store(0, Relaxed);
                Response::Line("RESET")
            }
            StatsGroup::Detail(_) => Response::Line("OK"),
            StatsGroup::DetailDump => Response::Line("END"),
            // Every item is in class 1.
            StatsGroup::CacheDump { class: 1, limit } => Response::Dump(self.store.dump(limit as usize)),
            StatsGroup::CacheDump { .. } => Response::Dump(Vec::new()),
        }
    }

    /// The `STAT` lines.
    fn stats(&self) -> Vec<(&'static str, String)> {
        let store = self.store.stats();
        let now = self.store.now();
        let counter = |c: &AtomicU64| c.load(Relaxed).to_string();
        vec![
            ("pid", std::process::id().to_string()),
            ("uptime", now.saturating_sub(self.store.started()).to_string()),
            ("time", now.to_string()),
            ("version", VERSION.to_string()),
            ("pointer_size", (usize::BITS).to_string()),
            ("threads", self.threads.to_string()),
            ("cmd_get", (store.get_hits + store.get_misses).to_string()),
            ("cmd_set", store.cmd_set.to_string()),
            ("cmd_touch", counter(&self.counters.cmd_touch)),
            ("get_hits", store.get_hits.to_string()),
            ("get_misses", store.get_misses.to_string()),
            ("limit_maxbytes", store.limit.to_string()),
            ("bytes", store.bytes.to_string()),
            ("curr_items", store.items.to_string()),
            ("total_items", store.total_items.to_string()),
            ("evictions", store.evictions.to_string()),
        ]
    }
}

impl Service for MemcacheService {
    type Codec = MemcacheCodec;

    fn codec(&self) -> MemcacheCodec {
        MemcacheCodec::default()
    }

    fn call(&self, command: Command, cx: &mut Context<'_>) -> Option<Response> {
        if command == Command::Quit {
            cx.close();
        }
        self.apply(command)
    }

    fn refusal(&self) -> &[u8] {
        b"ERROR Too many open connections\r\n"
    }
}
