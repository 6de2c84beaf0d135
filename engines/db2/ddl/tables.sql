-- dqm's own tables on DB2. Run once; DB2 has no CREATE TABLE IF NOT EXISTS
-- before 11.5, so dqm ignores SQLSTATE 42710 (already exists).
CREATE TABLE {{queries}} (
    database_name VARCHAR(63)  NOT NULL DEFAULT '',
    ref           BIGINT       NOT NULL,
    name          VARCHAR(255) NOT NULL,
    description   CLOB         NOT NULL DEFAULT '',
    sql_text      CLOB         NOT NULL DEFAULT '',
    sql_postgres  CLOB,
    sql_mysql     CLOB,
    sql_sqlite    CLOB,
    sql_db2       CLOB,
    queue         VARCHAR(10)  NOT NULL DEFAULT 'medium',
    is_public     BOOLEAN      NOT NULL DEFAULT FALSE,
    is_direct     BOOLEAN      NOT NULL DEFAULT FALSE,
    timeout_ms    INTEGER      NOT NULL DEFAULT 0,
    cache_ttl_s   INTEGER      NOT NULL DEFAULT 0,
    tables_list   VARCHAR(1000) NOT NULL DEFAULT '',
    param_types   VARCHAR(1000),
    status        VARCHAR(10)  NOT NULL DEFAULT 'active',
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
CREATE TABLE dqm_requests (
    request_id VARCHAR(128) NOT NULL PRIMARY KEY,
    ref        BIGINT       NOT NULL,
    body_hash  VARCHAR(64),
    outcome    CLOB,
    created_at TIMESTAMP    NOT NULL DEFAULT CURRENT TIMESTAMP
);
