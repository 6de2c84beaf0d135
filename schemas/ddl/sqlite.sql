-- dqm's own tables on SQLite. Idempotent: run at every start.
CREATE TABLE IF NOT EXISTS {{queries}} (
    database_name TEXT    NOT NULL DEFAULT '',
    ref           INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    sql_text      TEXT    NOT NULL DEFAULT '',
    sql_postgres  TEXT,
    sql_mysql     TEXT,
    sql_sqlite    TEXT,
    sql_db2       TEXT,
    queue         TEXT    NOT NULL DEFAULT 'medium',
    is_public     BOOLEAN NOT NULL DEFAULT 0,
    timeout_ms    INTEGER NOT NULL DEFAULT 0,
    cache_ttl_s   INTEGER NOT NULL DEFAULT 0,
    tables_list   TEXT    NOT NULL DEFAULT '',
    status        TEXT    NOT NULL DEFAULT 'active',
    PRIMARY KEY (database_name, ref)
);

-- Ids of writes already applied: a redelivered write (a worker died
-- between commit and ack) is answered without running twice. Pruned by age.
CREATE TABLE IF NOT EXISTS dqm_requests (
    request_id VARCHAR(128) NOT NULL PRIMARY KEY,
    ref        BIGINT       NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
