-- Change capture on MySQL/MariaDB (InstallTriggers renders and runs it).
-- Each "-- name:" line starts one statement, run whole. Other lines
-- starting with "--" are dropped. Tokens: {{events}} the
-- database-qualified trigger_events table, {{trigger}} the trigger's
-- name, {{table}} the watched table (quoted), {{name}} its configured name
-- as a string literal, {{new}} and {{old}} the key/value list of
-- JSON_OBJECT over the row's columns, {{col}} one column of NEW or OLD.
-- Trigger bodies are one statement, so no BEGIN ... END (and no DELIMITER)
-- is needed.

-- name: events
CREATE TABLE IF NOT EXISTS {{events}} (
    sequence_id BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    table_name  VARCHAR(129) NOT NULL,
    op          VARCHAR(6)   NOT NULL,
    data        LONGTEXT     NOT NULL,
    created_at  TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    delivered   BOOLEAN      NOT NULL DEFAULT FALSE,
    KEY trigger_events_pending (delivered, sequence_id)
) DEFAULT CHARSET = utf8mb4;

-- Every column but binary ones goes into JSON_OBJECT as it is.
-- name: value
{{col}}

-- Binary columns become "\x" and lowercase hex, as PostgreSQL writes
-- bytea. CHAR(92) is the backslash whatever NO_BACKSLASH_ESCAPES says.
-- name: bytes
CONCAT(CHAR(92 USING utf8mb4), 'x', LOWER(HEX({{col}})))

-- name: insert
CREATE TRIGGER {{trigger}} AFTER INSERT ON {{table}} FOR EACH ROW
INSERT INTO {{events}} (table_name, op, data)
VALUES ({{name}}, 'insert', JSON_OBJECT('new', JSON_OBJECT({{new}})))

-- name: update
CREATE TRIGGER {{trigger}} AFTER UPDATE ON {{table}} FOR EACH ROW
INSERT INTO {{events}} (table_name, op, data)
VALUES ({{name}}, 'update', JSON_OBJECT('new', JSON_OBJECT({{new}}), 'old', JSON_OBJECT({{old}})))

-- name: delete
CREATE TRIGGER {{trigger}} AFTER DELETE ON {{table}} FOR EACH ROW
INSERT INTO {{events}} (table_name, op, data)
VALUES ({{name}}, 'delete', JSON_OBJECT('old', JSON_OBJECT({{old}})))

-- name: drop
DROP TRIGGER IF EXISTS {{trigger}}
