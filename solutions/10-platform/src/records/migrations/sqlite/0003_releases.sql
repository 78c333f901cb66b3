-- Stage 4: releases and their rollouts, host by host. SQLite's dialect;
-- migrations/mysql/0003_releases.sql is the same in MariaDB's.

-- A release: a service's version, its package kept whole as it was checked (the hosts fetch it
-- from here) with its manifest and SHA-256.
CREATE TABLE releases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    manifest TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    package BLOB NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded INTEGER NOT NULL,
    UNIQUE (name, version)
);

-- A rollout of a release: its strategy, where it stands (the batch in hand, written before the
-- batch starts, so a restarted platform takes it up there), and why it ended as it did.
CREATE TABLE deployments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    release_id INTEGER NOT NULL REFERENCES releases (id),
    user_name TEXT NOT NULL,
    target TEXT NOT NULL,
    strategy TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'succeeded', 'failed', 'rolled_back')),
    batch INTEGER NOT NULL,
    detail TEXT NOT NULL,
    started INTEGER NOT NULL,
    ended INTEGER
);
CREATE INDEX deployments_by_state ON deployments (state);

-- Each host of a rollout: its batch, where it stands, the last step it reached, the version it
-- ran before (what a rollback puts back) and what its deploy printed.
CREATE TABLE deployment_hosts (
    deployment_id INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    host TEXT NOT NULL,
    batch INTEGER NOT NULL,
    position INTEGER NOT NULL,
    state TEXT NOT NULL,
    step TEXT NOT NULL,
    previous TEXT,
    output TEXT NOT NULL,
    updated INTEGER NOT NULL,
    PRIMARY KEY (deployment_id, host)
);

-- The runs a rollout started, each for a batch, to deploy or to roll back: written before the
-- command is sent, so a restarted platform follows the run rather than sending it again.
CREATE TABLE deployment_runs (
    run_id INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    deployment_id INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    batch INTEGER NOT NULL,
    purpose TEXT NOT NULL CHECK (purpose IN ('deploy', 'rollback'))
);
CREATE INDEX deployment_runs_by_batch ON deployment_runs (deployment_id, batch);
