-- Stage 4: releases and their rollouts, host by host. MariaDB's dialect;
-- migrations/sqlite/0003_releases.sql says why each is there.

CREATE TABLE releases (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    version VARCHAR(255) NOT NULL,
    manifest TEXT NOT NULL,
    sha256 VARCHAR(64) NOT NULL,
    package LONGBLOB NOT NULL,
    uploaded_by VARCHAR(255) NOT NULL,
    uploaded BIGINT NOT NULL,
    UNIQUE KEY releases_by_version (name, version)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE deployments (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    release_id BIGINT NOT NULL,
    user_name VARCHAR(255) NOT NULL,
    target TEXT NOT NULL,
    strategy TEXT NOT NULL,
    state VARCHAR(16) NOT NULL CHECK (state IN ('running', 'paused', 'succeeded', 'failed', 'rolled_back')),
    batch BIGINT NOT NULL,
    detail TEXT NOT NULL,
    started BIGINT NOT NULL,
    ended BIGINT,
    KEY deployments_by_state (state),
    FOREIGN KEY (release_id) REFERENCES releases (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE deployment_hosts (
    deployment_id BIGINT NOT NULL,
    host VARCHAR(255) NOT NULL,
    batch BIGINT NOT NULL,
    position BIGINT NOT NULL,
    state VARCHAR(16) NOT NULL,
    step VARCHAR(16) NOT NULL,
    previous VARCHAR(255),
    output MEDIUMTEXT NOT NULL,
    updated BIGINT NOT NULL,
    PRIMARY KEY (deployment_id, host),
    FOREIGN KEY (deployment_id) REFERENCES deployments (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE deployment_runs (
    run_id BIGINT NOT NULL PRIMARY KEY,
    deployment_id BIGINT NOT NULL,
    batch BIGINT NOT NULL,
    purpose VARCHAR(16) NOT NULL CHECK (purpose IN ('deploy', 'rollback')),
    KEY deployment_runs_by_batch (deployment_id, batch),
    FOREIGN KEY (run_id) REFERENCES runs (id) ON DELETE CASCADE,
    FOREIGN KEY (deployment_id) REFERENCES deployments (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
