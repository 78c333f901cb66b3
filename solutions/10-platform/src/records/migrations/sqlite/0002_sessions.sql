-- Stage 2: who is logged in, and which job of the control master each run is. SQLite's dialect;
-- migrations/mysql/0002_sessions.sql is the same in MariaDB's.

-- A session: the SHA-256 of the token in the user's cookie (a copy of this table opens no
-- session), the token their forms must echo against cross-site requests, and when it ends.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_name);
CREATE INDEX sessions_by_expiry ON sessions (expires);

-- The control master's job a run is: written before the command is sent, so a restarted platform
-- can follow the job on the restarted master and record the results it missed. A table of its own
-- rather than a column of runs: records written before this version have none.
CREATE TABLE run_jobs (
    run_id INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    job TEXT NOT NULL
);
