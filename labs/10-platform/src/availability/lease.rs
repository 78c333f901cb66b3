//! A lease, as configured, and the leadership it gives: its fencing token and how its loss is
//! told. Two kinds: a lock on a file ([`super::embedded`], the default, for two servers on one
//! machine) and a key in etcd ([`super::etcd`], for servers on several).

use std::path::Path;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{embedded, etcd};

/// How often a standby asks for the lease again.
pub const POLL: Duration = Duration::from_millis(100);

/// The key etcd keeps the leadership under, unless told otherwise.
pub const ETCD_KEY: &str = "/platform/leader";

/// How long etcd keeps a lease its leader stopped renewing, unless told otherwise.
pub const ETCD_TTL: Duration = Duration::from_secs(2);

/// Where the lease is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseConfig {
    /// A lock on this file: the servers must share the machine.
    Embedded {
        /// The lock file (it keeps the last token and its holder).
        path: std::path::PathBuf,
    },
    /// A key in etcd, through its JSON gateway (v3 API over HTTP).
    Etcd {
        /// The gateway's `host:port`.
        endpoint: String,
        /// The key.
        key: String,
        /// The lease's time to live: how long a dead leader holds it.
        ttl: Duration,
    },
}

impl LeaseConfig {
    /// The lease `text` names: `embedded` (a lock file in `dir`) or
    /// `etcd://HOST:PORT[/KEY][?ttl=SECONDS]`.
    ///
    /// # Errors
    ///
    /// What is wrong with `text`, in words.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use platform::availability::LeaseConfig;
    ///
    /// let etcd = LeaseConfig::parse("etcd://127.0.0.1:2379/ha/leader?ttl=3", "data".as_ref()).unwrap();
    /// assert_eq!(
    ///     etcd,
    ///     LeaseConfig::Etcd {
    ///         endpoint: "127.0.0.1:2379".into(),
    ///         key: "/ha/leader".into(),
    ///         ttl: Duration::from_secs(3),
    ///     }
    /// );
    /// assert!(LeaseConfig::parse("zookeeper://h:2181", "data".as_ref()).is_err());
    /// ```
    pub fn parse(text: &str, dir: &Path) -> Result<LeaseConfig, String> {
        todo!(
            "stage 5: `embedded` is the file leader.lock in dir; etcd://HOST:PORT, then an optional /KEY (ETCD_KEY when none), then an optional ?ttl=SECONDS from 1 to 3600 (ETCD_TTL when none); anything else an error in words"
        )
    }
}

/// Why the lease could not be asked for.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// The lock file could not be opened, read or written.
    #[error("lease file {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// etcd could not be reached, or answered what was not expected.
    #[error("etcd at {endpoint}: {reason}")]
    Etcd {
        /// Its gateway.
        endpoint: String,
        /// What went wrong.
        reason: String,
    },
}

/// A leadership won: hold it. Dropping it gives the lease up: a lock file's at once, an etcd
/// lease when its time to live runs out (use [`Leadership::resign`] to end that at once too).
pub struct Leadership {
    /// Its fencing token, greater than every earlier leadership's.
    pub token: i64,
    /// The server that holds it, as it named itself.
    pub node: String,
    lost: CancellationToken,
    hold: Hold,
}

impl std::fmt::Debug for Leadership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leadership")
            .field("token", &self.token)
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

/// What keeps a lease held.
pub(crate) enum Hold {
    /// The locked file: the lock goes with it (or with the process).
    File(std::fs::File),
    /// The etcd lease, kept alive by a task until it is revoked.
    Etcd(etcd::Kept),
}

impl Leadership {
    pub(crate) fn new(token: i64, node: &str, lost: CancellationToken, hold: Hold) -> Leadership {
        todo!("stage 5: the fields as given")
    }

    /// Cancelled when the leadership is lost (its lease could not be kept): the leader must stop
    /// at once, since another may lead already.
    pub fn lost(&self) -> CancellationToken {
        todo!("stage 5: a clone of the token the keeper cancels")
    }

    /// Gives the lease up now, so a standby takes over without waiting for it to expire.
    pub async fn resign(self) {
        todo!("stage 5: drop the locked file, or revoke the etcd lease")
    }
}

/// What one try for the lease came to.
#[derive(Debug)]
pub enum Attempt {
    /// Won.
    Led(Leadership),
    /// Another holds it: this server, as it named itself (empty when it cannot be told).
    Held(String),
}

/// Asks for the lease `config` names once, for the server called `node`.
///
/// # Errors
///
/// [`LeaseError`] when the lease cannot be asked for at all.
pub async fn try_lead(config: &LeaseConfig, node: &str) -> Result<Attempt, LeaseError> {
    todo!("stage 5: the lock file's try on a blocking thread (spawn_blocking), or etcd's try")
}

/// Asks for the lease every [`POLL`] until this server, `node`, holds it (`Some`) or `stop` is
/// cancelled (`None`). `waiting` is told who holds it, each time that changes.
///
/// # Errors
///
/// [`LeaseError`] when the lease cannot be asked for: a standby that cannot reach etcd tells,
/// rather than waiting for ever.
pub async fn campaign(
    config: &LeaseConfig,
    node: &str,
    stop: &CancellationToken,
    waiting: impl FnMut(&str),
) -> Result<Option<Leadership>, LeaseError> {
    todo!(
        "stage 5: try_lead, then wait POLL (or return None at stop) and try again until Led; tell waiting the holder each time it changes"
    )
}
