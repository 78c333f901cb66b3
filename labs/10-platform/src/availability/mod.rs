//! Two platform servers, one leading and one standing by: leadership is a lease, each leadership
//! has a fencing token, and the records refuse a deposed leader's writes.
//!
//! A server that starts first campaigns for the lease ([`campaign`]). The one that wins raises
//! the records' fence to its token ([`crate::records::Records::lead`]) and starts every part; the
//! other waits, asking again every [`POLL`], and starts the moment the lease is free: when the
//! leader stops (it gives the lease up), dies (a lock file's lease is let go by the kernel at
//! once; etcd's expires after its time to live) or loses it (it stops at once, before its lease
//! could have run out). Both share the data directory and the database: the new leader takes up
//! what the old one left, as a restarted server would.
//!
//! - [`lease`]: what a lease is configured as ([`LeaseConfig`]), a leadership ([`Leadership`]),
//!   campaigning.
//! - [`embedded`]: the lease on one machine, a lock on a file.
//! - [`etcd`]: the lease in etcd; [`gateway`]: etcd's JSON gateway over HTTP.

pub mod embedded;
pub mod etcd;
pub mod gateway;
pub mod lease;

pub use lease::{Attempt, Leadership, LeaseConfig, LeaseError, POLL, campaign, try_lead};
