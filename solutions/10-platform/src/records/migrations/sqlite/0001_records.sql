-- The platform's records, SQLite's dialect. migrations/mysql/0001_records.sql is the same schema
-- in MariaDB's; the chapter explains each choice. Times are milliseconds since the Unix epoch.

-- A host's name is its key for people; the integer id is the key for other rows, so a rename
-- touches one row.
CREATE TABLE hosts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    added INTEGER NOT NULL
);

-- One row a tag: "which hosts have dc=bj" is an index lookup, not a scan of every host's tags.
CREATE TABLE host_tags (
    host_id INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (host_id, tag_key)
);
CREATE INDEX host_tags_by_tag ON host_tags (tag_key, tag_value);

-- What a role may do: the programs it may run (a JSON list of globs), on which hosts (a target
-- expression), and whether it manages the platform (users, rules, scripts).
CREATE TABLE roles (
    name TEXT PRIMARY KEY,
    commands TEXT NOT NULL,
    targets TEXT NOT NULL,
    admin INTEGER NOT NULL CHECK (admin IN (0, 1))
);

-- A role in use cannot be deleted: the foreign key refuses it.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL REFERENCES roles (name),
    password_hash TEXT NOT NULL,
    created INTEGER NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
);

-- Alert rules, as lab 08's judges take them; the id is the rule's own.
CREATE TABLE rules (
    id INTEGER PRIMARY KEY,
    expr TEXT NOT NULL,
    priority INTEGER NOT NULL,
    note TEXT NOT NULL
);

-- A monitoring script, and which of its versions the hosts run.
CREATE TABLE scripts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    active_version INTEGER
);

-- Every version ever uploaded, never changed: rolling back is pointing active_version at an
-- older one.
CREATE TABLE script_versions (
    script_id INTEGER NOT NULL REFERENCES scripts (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    manifest TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    body BLOB NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded INTEGER NOT NULL,
    PRIMARY KEY (script_id, version)
);

-- A command run: who ran what on which target, when, and how it ended (running, complete, or
-- incomplete: some host's result never came).
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_name TEXT NOT NULL,
    target TEXT NOT NULL,
    command TEXT NOT NULL,
    started INTEGER NOT NULL,
    ended INTEGER,
    state TEXT NOT NULL CHECK (state IN ('running', 'complete', 'incomplete')),
    host_count INTEGER NOT NULL
);
CREATE INDEX runs_by_state ON runs (state);

-- The hosts a run was sent to, written with the run: a host with no result is listed, never lost.
CREATE TABLE run_hosts (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    host TEXT NOT NULL,
    PRIMARY KEY (run_id, host)
);

-- Each host's result, once: a result told twice (after a restart) keeps the first.
CREATE TABLE run_results (
    run_id INTEGER NOT NULL,
    host TEXT NOT NULL,
    status TEXT NOT NULL,
    exit_code INTEGER,
    output TEXT NOT NULL,
    ended INTEGER NOT NULL,
    PRIMARY KEY (run_id, host),
    FOREIGN KEY (run_id, host) REFERENCES run_hosts (run_id, host) ON DELETE CASCADE
);

-- Who did what, allowed or refused. Only ever inserted.
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    user_name TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit (at);
CREATE INDEX audit_by_user ON audit (user_name, at);
