-- Stage 5: who leads. MariaDB's dialect; migrations/sqlite/0004_leadership.sql says why it is
-- there.

CREATE TABLE leadership (
    id INT NOT NULL PRIMARY KEY CHECK (id = 1),
    token BIGINT NOT NULL,
    holder VARCHAR(255) NOT NULL,
    since BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
