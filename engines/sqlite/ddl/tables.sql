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
    is_direct     BOOLEAN NOT NULL DEFAULT 0,
    timeout_ms    INTEGER NOT NULL DEFAULT 0,
    cache_ttl_s   INTEGER NOT NULL DEFAULT 0,
    tables_list   TEXT    NOT NULL DEFAULT '',
    param_types   TEXT,
    status        TEXT    NOT NULL DEFAULT 'active',
    PRIMARY KEY (database_name, ref)
);

-- Ids of writes already applied, recorded in the write's own transaction:
-- a redelivered or retried write (a worker died between commit and ack, a
-- client retried with the same id or Idempotency-Key) is answered with the
-- first attempt's outcome without running twice. body_hash identifies the
-- request's ref and canonical params (a retry with another body is refused,
-- 422 idempotency_mismatch); outcome is the first reply's JSON body. Pruned
-- by age (databases.<name>.idempotency_window_s). A table made before the
-- two columns existed gets them at start (ALTER TABLE ... ADD COLUMN).
CREATE TABLE IF NOT EXISTS dqm_requests (
    request_id VARCHAR(128) NOT NULL PRIMARY KEY,
    ref        BIGINT       NOT NULL,
    body_hash  VARCHAR(64),
    outcome    TEXT,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
