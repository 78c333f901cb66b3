-- The platform's records, MariaDB's dialect: the same schema as migrations/sqlite/0001_records.sql.
-- What differs: InnoDB for transactions and foreign keys; text compared byte for byte, trailing
-- spaces included (utf8mb4_nopad_bin), so "Web1", "web1" and "web1 " are three values as in
-- SQLite; VARCHAR for every indexed text, since an index takes a bounded length; AUTO_INCREMENT for
-- generated ids; MEDIUMBLOB and MEDIUMTEXT where 64 KiB is not enough. Times are milliseconds since
-- the Unix epoch.

CREATE TABLE hosts (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    added BIGINT NOT NULL,
    UNIQUE KEY hosts_by_name (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE host_tags (
    host_id BIGINT NOT NULL,
    tag_key VARCHAR(255) NOT NULL,
    tag_value VARCHAR(255) NOT NULL,
    PRIMARY KEY (host_id, tag_key),
    KEY host_tags_by_tag (tag_key, tag_value),
    FOREIGN KEY (host_id) REFERENCES hosts (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE roles (
    name VARCHAR(255) NOT NULL PRIMARY KEY,
    commands TEXT NOT NULL,
    targets TEXT NOT NULL,
    admin BIGINT NOT NULL CHECK (admin IN (0, 1))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE users (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    role VARCHAR(255) NOT NULL,
    password_hash TEXT NOT NULL,
    created BIGINT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    UNIQUE KEY users_by_name (name),
    FOREIGN KEY (role) REFERENCES roles (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE rules (
    id BIGINT NOT NULL PRIMARY KEY,
    expr TEXT NOT NULL,
    priority BIGINT NOT NULL,
    note TEXT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE scripts (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    active_version BIGINT,
    UNIQUE KEY scripts_by_name (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE script_versions (
    script_id BIGINT NOT NULL,
    version BIGINT NOT NULL,
    manifest TEXT NOT NULL,
    sha256 VARCHAR(64) NOT NULL,
    body MEDIUMBLOB NOT NULL,
    uploaded_by VARCHAR(255) NOT NULL,
    uploaded BIGINT NOT NULL,
    PRIMARY KEY (script_id, version),
    FOREIGN KEY (script_id) REFERENCES scripts (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE runs (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_name VARCHAR(255) NOT NULL,
    target TEXT NOT NULL,
    command TEXT NOT NULL,
    started BIGINT NOT NULL,
    ended BIGINT,
    state VARCHAR(16) NOT NULL CHECK (state IN ('running', 'complete', 'incomplete')),
    host_count BIGINT NOT NULL,
    KEY runs_by_state (state)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE run_hosts (
    run_id BIGINT NOT NULL,
    host VARCHAR(255) NOT NULL,
    PRIMARY KEY (run_id, host),
    FOREIGN KEY (run_id) REFERENCES runs (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE run_results (
    run_id BIGINT NOT NULL,
    host VARCHAR(255) NOT NULL,
    status VARCHAR(255) NOT NULL,
    exit_code BIGINT,
    output MEDIUMTEXT NOT NULL,
    ended BIGINT NOT NULL,
    PRIMARY KEY (run_id, host),
    FOREIGN KEY (run_id, host) REFERENCES run_hosts (run_id, host) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE audit (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    at BIGINT NOT NULL,
    user_name VARCHAR(255) NOT NULL,
    action VARCHAR(255) NOT NULL,
    target TEXT NOT NULL,
    outcome VARCHAR(255) NOT NULL,
    detail TEXT NOT NULL,
    KEY audit_by_time (at),
    KEY audit_by_user (user_name, at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
