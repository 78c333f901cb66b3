//! The few places where SQLite and MariaDB want different SQL, kept together so every other query
//! is written once. The schemas differ too, but each lives in its own migrations.

use super::Backend;

/// Statements run on every new connection.
///
/// SQLite keeps its settings per connection: foreign keys are off unless asked for, a write waits
/// for another's lock only as long as the busy timeout, and `synchronous = FULL` makes a commit in
/// WAL mode wait for its fsync (NORMAL would lose the last commits on a power cut). MariaDB's
/// defaults already do all of that (InnoDB flushes its log at every commit); its connections only
/// need to be told that text is UTF-8 in full, compared byte for byte with trailing spaces
/// counting (as SQLite compares), that bad values are errors, not warnings, and to read what is
/// committed when each statement starts (READ COMMITTED): InnoDB's default, REPEATABLE READ,
/// reads a snapshot from a transaction's first read and locks the gaps between rows, so two
/// enrolments of overlapping fleets deadlock on gaps nobody inserts into.
pub fn on_connect(backend: Backend) -> &'static [&'static str] {
    todo!(
        "stage 1: SQLite: WAL, synchronous FULL, foreign keys on, a busy timeout; MariaDB: utf8mb4 with the binary collation and a strict sql_mode"
    )
}

/// How a transaction that will write begins. SQLite's plain `BEGIN` takes the write lock only at
/// the first write, and a transaction that read before it may then find the database changed
/// under it and fail at once (SQLITE_BUSY, which no busy timeout waits out); `BEGIN IMMEDIATE`
/// takes the lock first, waiting for it. InnoDB locks row by row as it goes.
pub fn begin_write(backend: Backend) -> &'static str {
    todo!("stage 1: SQLite takes the write lock first with BEGIN IMMEDIATE; MariaDB begins plainly")
}

/// What ends a `SELECT` inside a writing transaction so that the rows it read cannot change
/// until the transaction ends, while other transactions may read them the same way: the fence
/// every leader's write reads ([`super::Records::lead`]). SQLite's writing transaction holds the
/// whole database already; InnoDB's plain read locks nothing.
pub fn lock_for_share(backend: Backend) -> &'static str {
    todo!("stage 5: nothing for SQLite, LOCK IN SHARE MODE (with a space before it) for MariaDB")
}

/// What ends a `SELECT` inside a writing transaction so that no other transaction may read the
/// rows with a lock, or change them, until it ends: a new leader's raising of the fence waits for
/// the writes that read the old one.
pub fn lock_for_update(backend: Backend) -> &'static str {
    todo!("stage 5: nothing for SQLite, FOR UPDATE (with a space before it) for MariaDB")
}

/// What ends an `INSERT` so that a row whose key exists already is left as it is and not counted,
/// while any other failure (a foreign key, a bad value) still fails the statement. (`INSERT OR
/// IGNORE` would also skip a row that breaks a NOT NULL or CHECK constraint, and MariaDB's `INSERT
/// IGNORE` one whose foreign key points nowhere, and would cut a long value short.) `key_column`
/// is one of the table's key columns.
pub fn keep_existing(backend: Backend, key_column: &str) -> String {
    todo!(
        "stage 1: SQLite: ON CONFLICT DO NOTHING; MariaDB: ON DUPLICATE KEY UPDATE with key_column set to itself"
    )
}

/// The most parameters one statement may bind: SQLite's default limit is 32,766, MariaDB's
/// 65,535. Batches are cut below the smaller.
pub const MAX_PARAMETERS: usize = 30_000;

/// The most bytes of values one statement may carry: MariaDB refuses a statement larger than its
/// `max_allowed_packet` (16 MiB by default) whole, so a batch of long outputs is cut well below.
pub const MAX_STATEMENT_BYTES: usize = 4 << 20;

/// `items` cut into consecutive batches for multi-row inserts: each binds at most
/// [`MAX_PARAMETERS`] values (`parameters` an item) and carries at most [`MAX_STATEMENT_BYTES`]
/// (`size` tells an item's bytes), and none is empty.
pub fn batches<T>(items: &[T], parameters: usize, size: impl Fn(&T) -> usize) -> Vec<&[T]> {
    todo!(
        "stage 1: consecutive slices, a new one whenever the next item would pass the parameter limit or MAX_STATEMENT_BYTES, never an empty one"
    )
}

/// Whether `err` says only that the transaction lost a race for a lock and may simply be run
/// again: InnoDB's deadlock (SQLSTATE 40001), or SQLite's busy or locked database (extended codes
/// 5, 6, 261, 517).
pub fn is_retryable(err: &sqlx::Error) -> bool {
    todo!("stage 1: a database error whose code is 40001 or one of SQLite's busy and locked codes")
}

/// Whether `err` is a unique or primary key violation.
pub fn is_conflict(err: &sqlx::Error) -> bool {
    todo!("stage 1: a database error that is a unique violation")
}

/// Whether `err` is a foreign key violation: a row names one that does not exist.
pub fn is_missing_reference(err: &sqlx::Error) -> bool {
    todo!("stage 1: a database error that is a foreign key violation")
}
