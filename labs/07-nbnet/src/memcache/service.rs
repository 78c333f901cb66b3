//! The memcached [`Service`]: each [`Command`] applied to the shared [`Store`] and answered with
//! memcached's exact [`Response`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

use crate::memcache::VERSION;
use crate::memcache::protocol::{Command, MemcacheCodec, Response};
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

// TODO(stage 5): apply each command to the store and answer with memcached's exact line.
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
        todo!("stage 5: run the command on the store; answer as memcached does, or not at all for noreply")
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
