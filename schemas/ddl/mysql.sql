-- dqm's own tables on MySQL/MariaDB. Idempotent: run at every start.
CREATE TABLE IF NOT EXISTS {{queries}} (
    database_name VARCHAR(63)  NOT NULL DEFAULT '',
    ref           BIGINT       NOT NULL,
    name          VARCHAR(255) NOT NULL,
    description   TEXT         NOT NULL,
    sql_text      TEXT         NOT NULL,
    sql_postgres  TEXT,
    sql_mysql     TEXT,
    sql_sqlite    TEXT,
    sql_db2       TEXT,
    queue         VARCHAR(10)  NOT NULL DEFAULT 'medium',
    is_public     BOOLEAN      NOT NULL DEFAULT FALSE,
    timeout_ms    INT          NOT NULL DEFAULT 0,
    cache_ttl_s   INT          NOT NULL DEFAULT 0,
    tables_list   TEXT         NOT NULL,
    status        VARCHAR(10)  NOT NULL DEFAULT 'active',
    PRIMARY KEY (database_name, ref)
) DEFAULT CHARSET = utf8mb4;

-- Ids of writes already applied: a redelivered write (a worker died
-- between commit and ack) is answered without running twice. Pruned by age.
CREATE TABLE IF NOT EXISTS dqm_requests (
    request_id VARCHAR(128) NOT NULL PRIMARY KEY,
    ref        BIGINT       NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
