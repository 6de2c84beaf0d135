-- Change capture on DB2 LUW 11.1.4.4+ (JSON_OBJECT). UNTESTED HERE: no DB2
-- server or driver on the build machine; written to the DB2 manuals.
-- Each "-- name:" line starts one statement, run whole. Other lines
-- starting with "--" are dropped. Tokens: {{events}} the trigger_events
-- table, {{trigger}} the trigger's name, {{table}} the watched table
-- (quoted, upper case), {{name}} its configured name as a string literal,
-- {{new}} and {{old}} the KEY ... VALUE list over the row's columns,
-- {{col}} one column of N (new row) or O (old row).
-- DB2 before 11.5 has no IF NOT EXISTS: Install ignores SQLSTATE 42710
-- (already exists) on events and index, and 42704 (undefined) on drop.

-- name: events
CREATE TABLE {{events}} (
    sequence_id BIGINT       NOT NULL GENERATED ALWAYS AS IDENTITY (START WITH 1 INCREMENT BY 1 NO CYCLE ORDER),
    table_name  VARCHAR(257) NOT NULL,
    op          VARCHAR(6)   NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    data        CLOB(2G)     NOT NULL,
    created_at  TIMESTAMP    NOT NULL DEFAULT CURRENT TIMESTAMP,
    delivered   SMALLINT     NOT NULL DEFAULT 0,
    PRIMARY KEY (sequence_id)
)

-- name: index
CREATE INDEX trigger_events_pending ON {{events}} (delivered, sequence_id)

-- name: value
{{col}}

-- Binary columns become "\x" and lowercase hex, as PostgreSQL writes bytea.
-- name: bytes
'\x' || LOWER(HEX({{col}}))

-- created_at is written in UTC (the column default is local time).
-- name: insert
CREATE OR REPLACE TRIGGER {{trigger}} AFTER INSERT ON {{table}}
REFERENCING NEW AS N FOR EACH ROW
INSERT INTO {{events}} (table_name, op, data, created_at)
VALUES ({{name}}, 'insert',
    JSON_OBJECT(KEY 'new' VALUE JSON_OBJECT({{new}} NULL ON NULL) FORMAT JSON RETURNING CLOB(2G)),
    CURRENT TIMESTAMP - CURRENT TIMEZONE)

-- name: update
CREATE OR REPLACE TRIGGER {{trigger}} AFTER UPDATE ON {{table}}
REFERENCING NEW AS N OLD AS O FOR EACH ROW
INSERT INTO {{events}} (table_name, op, data, created_at)
VALUES ({{name}}, 'update',
    JSON_OBJECT(KEY 'new' VALUE JSON_OBJECT({{new}} NULL ON NULL) FORMAT JSON,
                KEY 'old' VALUE JSON_OBJECT({{old}} NULL ON NULL) FORMAT JSON RETURNING CLOB(2G)),
    CURRENT TIMESTAMP - CURRENT TIMEZONE)

-- name: delete
CREATE OR REPLACE TRIGGER {{trigger}} AFTER DELETE ON {{table}}
REFERENCING OLD AS O FOR EACH ROW
INSERT INTO {{events}} (table_name, op, data, created_at)
VALUES ({{name}}, 'delete',
    JSON_OBJECT(KEY 'old' VALUE JSON_OBJECT({{old}} NULL ON NULL) FORMAT JSON RETURNING CLOB(2G)),
    CURRENT TIMESTAMP - CURRENT TIMEZONE)

-- name: drop
DROP TRIGGER {{trigger}}
