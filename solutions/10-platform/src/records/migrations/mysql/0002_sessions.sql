-- Stage 2: who is logged in, and which job of the control master each run is. MariaDB's dialect;
-- migrations/sqlite/0002_sessions.sql says why each is there.

CREATE TABLE sessions (
    token_hash VARCHAR(64) NOT NULL PRIMARY KEY,
    user_name VARCHAR(255) NOT NULL,
    csrf VARCHAR(64) NOT NULL,
    created BIGINT NOT NULL,
    expires BIGINT NOT NULL,
    KEY sessions_by_user (user_name),
    KEY sessions_by_expiry (expires),
    FOREIGN KEY (user_name) REFERENCES users (name) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;

CREATE TABLE run_jobs (
    run_id BIGINT NOT NULL PRIMARY KEY,
    job VARCHAR(32) NOT NULL,
    FOREIGN KEY (run_id) REFERENCES runs (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
