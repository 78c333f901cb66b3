//! Logged-in accounts, from utmp (`/var/run/utmp`): the file `login`, `sshd` and terminal emulators
//! add a record to when a session starts and mark dead when it ends, and that `who` reads.
//!
//! utmp is binary: an array of glibc's `struct utmp`, 384 bytes each on x86_64 (and on aarch64,
//! whose layout is the same), little-endian. The fields read here:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 2 | `ut_type`: 7 is `USER_PROCESS`, a login session |
//! | 4 | 4 | `ut_pid`: the session's process |
//! | 8 | 32 | `ut_line`: its terminal, `pts/0` |
//! | 44 | 32 | `ut_user`: the account |
//! | 76 | 256 | `ut_host`: where it came from |
//!
//! Strings are NUL-padded, and not NUL-terminated when they fill their field. A machine with no
//! utmp (a container, a minimal image) has no sessions.

use std::collections::BTreeSet;

use crate::Sample;

/// The size of one glibc x86_64 utmp record.
pub const UTMP_RECORD_SIZE: usize = 384;

/// `ut_type` of a login session.
pub const USER_PROCESS: i16 = 7;

/// One login session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The account.
    pub user: String,
    /// The terminal: `pts/0`, `tty1`.
    pub line: String,
    /// Where it came from: an address or host name, or empty for a local login.
    pub host: String,
    /// The session's process.
    pub pid: i32,
}

/// The login sessions in a utmp file's bytes: the `USER_PROCESS` records with a user name. A
/// truncated last record (the file being written) is ignored.
pub fn parse_utmp(bytes: &[u8]) -> Vec<Session> {
    todo!(
        "stage 1: 384-byte records (chunks_exact); ut_type 7 with a non-empty user; read the fields at their offsets, little-endian"
    )
}

/// A NUL-padded field as text.
fn text(field: &[u8]) -> String {
    todo!("stage 1: the bytes up to the first NUL, as lossy UTF-8")
}

/// `users.sessions` (the sessions) and `users.accounts` (the distinct accounts holding them).
pub fn session_samples(sessions: &[Session]) -> Vec<Sample> {
    todo!("stage 1: users.sessions and users.accounts (distinct users)")
}
