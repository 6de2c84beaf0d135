-- dqm's own tables on PostgreSQL. Idempotent: run at every start.
CREATE TABLE IF NOT EXISTS {{queries}} (
    database_name VARCHAR(63)  NOT NULL DEFAULT '',
    ref           BIGINT       NOT NULL,
    name          VARCHAR(255) NOT NULL,
    description   TEXT         NOT NULL DEFAULT '',
    sql_text      TEXT         NOT NULL DEFAULT '',
    sql_postgres  TEXT,
    sql_mysql     TEXT,
    sql_sqlite    TEXT,
    sql_db2       TEXT,
    queue         VARCHAR(10)  NOT NULL DEFAULT 'medium',
    is_public     BOOLEAN      NOT NULL DEFAULT FALSE,
    timeout_ms    INTEGER      NOT NULL DEFAULT 0,
    cache_ttl_s   INTEGER      NOT NULL DEFAULT 0,
    tables_list   TEXT         NOT NULL DEFAULT '',
    status        VARCHAR(10)  NOT NULL DEFAULT 'active',
    PRIMARY KEY (database_name, ref)
);

-- Ids of writes already applied: a redelivered write (a worker died
-- between commit and ack) is answered without running twice. Pruned by age.
CREATE TABLE IF NOT EXISTS dqm_requests (
    request_id VARCHAR(128) NOT NULL PRIMARY KEY,
    ref        BIGINT       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
