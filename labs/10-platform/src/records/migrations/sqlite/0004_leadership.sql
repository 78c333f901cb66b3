-- Stage 5: who leads. SQLite's dialect; migrations/mysql/0004_leadership.sql is the same in
-- MariaDB's.

-- One row at most (id 1): the fencing token of the newest leader, who holds it and since when.
-- A leader writes its token here when it takes over, only if no higher one is there; every write
-- of a leader's records first reads this row, in the same transaction, and is refused when the
-- token is not its own: a leader deposed while it was busy cannot write over its successor.
CREATE TABLE leadership (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    token INTEGER NOT NULL,
    holder TEXT NOT NULL,
    since INTEGER NOT NULL
);
