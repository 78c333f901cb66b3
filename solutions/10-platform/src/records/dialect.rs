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
    match backend {
        Backend::Sqlite => &[
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = FULL",
            "PRAGMA foreign_keys = ON",
            "PRAGMA busy_timeout = 10000",
        ],
        Backend::MariaDb => &[
            "SET NAMES utf8mb4 COLLATE utf8mb4_nopad_bin",
            "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE'",
            "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
        ],
    }
}

/// How a transaction that will write begins. SQLite's plain `BEGIN` takes the write lock only at
/// the first write, and a transaction that read before it may then find the database changed
/// under it and fail at once (SQLITE_BUSY, which no busy timeout waits out); `BEGIN IMMEDIATE`
/// takes the lock first, waiting for it. InnoDB locks row by row as it goes.
pub fn begin_write(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::MariaDb => "BEGIN",
    }
}

/// What ends a `SELECT` inside a writing transaction so that the rows it read cannot change
/// until the transaction ends, while other transactions may read them the same way: the fence
/// every leader's write reads ([`super::Records::lead`]). SQLite's writing transaction holds the
/// whole database already; InnoDB's plain read locks nothing.
pub fn lock_for_share(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::MariaDb => " LOCK IN SHARE MODE",
    }
}

/// What ends a `SELECT` inside a writing transaction so that no other transaction may read the
/// rows with a lock, or change them, until it ends: a new leader's raising of the fence waits for
/// the writes that read the old one.
pub fn lock_for_update(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::MariaDb => " FOR UPDATE",
    }
}

/// What ends an `INSERT` so that a row whose key exists already is left as it is and not counted,
/// while any other failure (a foreign key, a bad value) still fails the statement. (`INSERT OR
/// IGNORE` would also skip a row that breaks a NOT NULL or CHECK constraint, and MariaDB's `INSERT
/// IGNORE` one whose foreign key points nowhere, and would cut a long value short.) `key_column`
/// is one of the table's key columns.
pub fn keep_existing(backend: Backend, key_column: &str) -> String {
    match backend {
        Backend::Sqlite => " ON CONFLICT DO NOTHING".to_string(),
        // Setting a key column to itself changes nothing, and MariaDB counts no row for it.
        Backend::MariaDb => format!(" ON DUPLICATE KEY UPDATE {key_column} = {key_column}"),
    }
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
    let most = (MAX_PARAMETERS / parameters.max(1)).max(1);
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, item) in items.iter().enumerate() {
        let item_bytes = size(item);
        if i > start && (i - start == most || bytes + item_bytes > MAX_STATEMENT_BYTES) {
            batches.push(&items[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += item_bytes;
    }
    if start < items.len() {
        batches.push(&items[start..]);
    }
    batches
}

/// Whether `err` says only that the transaction lost a race for a lock and may simply be run
/// again: InnoDB's deadlock (SQLSTATE 40001), or SQLite's busy or locked database (extended codes
/// 5, 6, 261, 517).
pub fn is_retryable(err: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = err else { return false };
    matches!(db.code().as_deref(), Some("40001" | "5" | "6" | "261" | "517"))
}

/// Whether `err` is a unique or primary key violation.
pub fn is_conflict(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => db.is_unique_violation(),
        _ => false,
    }
}

/// Whether `err` is a foreign key violation: a row names one that does not exist.
pub fn is_missing_reference(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => db.is_foreign_key_violation(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_both_limits() {
        let items: Vec<usize> = vec![1; 25_000];
        let cut = batches(&items, 2, |_| 1);
        assert_eq!(cut.iter().map(|b| b.len()).collect::<Vec<_>>(), [15_000, 10_000]);
        let big: Vec<usize> = vec![3 << 20; 3];
        assert_eq!(batches(&big, 1, |n| *n).len(), 3);
        let huge = vec![9 << 20];
        assert_eq!(batches(&huge, 1, |n| *n), [&huge[..]]);
        assert!(batches(&Vec::<usize>::new(), 1, |n| *n).is_empty());
    }
}
