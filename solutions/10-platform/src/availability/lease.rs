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
        if text == "embedded" {
            return Ok(LeaseConfig::Embedded { path: dir.join("leader.lock") });
        }
        let Some(rest) = text.strip_prefix("etcd://") else {
            return Err(format!("{text:?} is neither `embedded` nor etcd://HOST:PORT[/KEY][?ttl=SECONDS]"));
        };
        let (rest, ttl) = match rest.split_once("?ttl=") {
            Some((rest, seconds)) => {
                let seconds = seconds
                    .parse::<u64>()
                    .ok()
                    .filter(|seconds| (1..=3600).contains(seconds))
                    .ok_or_else(|| format!("ttl {seconds:?} is not 1 to 3600 seconds"))?;
                (rest, Duration::from_secs(seconds))
            }
            None => (rest, ETCD_TTL),
        };
        let (endpoint, key) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, ETCD_KEY),
        };
        let port_ok = endpoint
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|port| port > 0));
        if !port_ok || endpoint.contains(['?', '@', ' ']) {
            return Err(format!("{endpoint:?} is not HOST:PORT"));
        }
        if key.len() < 2 || key.contains(char::is_whitespace) {
            return Err(format!("{key:?} is not a key"));
        }
        Ok(LeaseConfig::Etcd { endpoint: endpoint.to_string(), key: key.to_string(), ttl })
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
        Leadership { token, node: node.to_string(), lost, hold }
    }

    /// Cancelled when the leadership is lost (its lease could not be kept): the leader must stop
    /// at once, since another may lead already.
    pub fn lost(&self) -> CancellationToken {
        self.lost.clone()
    }

    /// Gives the lease up now, so a standby takes over without waiting for it to expire.
    pub async fn resign(self) {
        match self.hold {
            Hold::File(file) => drop(file),
            Hold::Etcd(kept) => kept.revoke().await,
        }
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
    match config {
        LeaseConfig::Embedded { path } => {
            let (path, node) = (path.clone(), node.to_string());
            let file = path.display().to_string();
            tokio::task::spawn_blocking(move || embedded::try_lead(&path, &node)).await.unwrap_or_else(
                |err| Err(LeaseError::File { path: file, source: std::io::Error::other(err.to_string()) }),
            )
        }
        LeaseConfig::Etcd { endpoint, key, ttl } => etcd::try_lead(endpoint, key, *ttl, node).await,
    }
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
    let (mut waiting, mut last) = (waiting, None);
    loop {
        match try_lead(config, node).await? {
            Attempt::Led(leadership) => return Ok(Some(leadership)),
            Attempt::Held(holder) => {
                if last.as_deref() != Some(holder.as_str()) {
                    waiting(&holder);
                    last = Some(holder);
                }
            }
        }
        tokio::select! {
            () = stop.cancelled() => return Ok(None),
            () = tokio::time::sleep(POLL) => {}
        }
    }
}
