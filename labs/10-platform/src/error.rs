//! What can stop a run of `platform`, each error naming the option, file or record at fault.

use std::io;

use crate::records::RecordError;

/// What can stop a whole run of `platform`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An option is out of range. A usage error: exit 2.
    #[error("invalid option: {0}")]
    BadOption(String),
    /// The records could not be opened, read or written.
    #[error("{0}")]
    Records(#[from] RecordError),
    /// The control master could not start (a key that cannot be read, an address in use).
    #[error("control: {0}")]
    Control(String),
    /// Lab 08's monitoring pipeline could not start (a store that cannot be opened, an address
    /// in use).
    #[error("monitoring: {0}")]
    Monitor(String),
    /// A monitoring script could not be installed on this host.
    #[error("install: {0}")]
    Install(#[from] crate::scripts::InstallError),
    /// A release could not be deployed on this host (the steps done, and how it was left, are
    /// printed before).
    #[error("deploy: {0}")]
    Deploy(String),
    /// The lease could not be asked for (a lock file that cannot be opened, etcd out of reach).
    #[error("lease: {0}")]
    Lease(#[from] crate::availability::LeaseError),
    /// This server led, and lost the lease: it stopped, since another may lead now.
    #[error("the leadership (token {0}) was lost: stopped, so that the standby leads alone")]
    LeadershipLost(i64),
    /// A call failed (starting the runtime, binding a socket).
    #[error("{call}: {source}")]
    Sys {
        /// The call, as `bind 127.0.0.1:0`.
        call: String,
        /// What the operating system said.
        source: io::Error,
    },
    /// The results could not be written (a full disk, a closed pipe).
    #[error("cannot write output: {0}")]
    Write(#[source] io::Error),
}

impl Error {
    /// An [`Error::Sys`] for the call `call`, for `map_err`: `.map_err(Error::sys("bind"))?`.
    pub fn sys(call: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
        let call = call.into();
        move |source| Error::Sys { call, source }
    }

    /// The exit code for this error: 2 for usage errors (a URL of no known database among them),
    /// 1 for the rest.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::BadOption(_) | Error::Records(RecordError::BadUrl { .. }) => 2,
            _ => 1,
        }
    }

    /// Whether this is a write to a pipe whose reader has gone (`platform ... | head`): not a
    /// failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write(err) if err.kind() == io::ErrorKind::BrokenPipe)
    }
}
