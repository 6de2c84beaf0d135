-- Change capture on SQLite (InstallTriggers renders and runs it). Each
-- "-- name:" line starts one statement, run whole: trigger bodies hold
-- semicolons. Other lines starting with "--" are dropped. Tokens:
-- {{trigger}} the trigger's name, {{table}} the watched table (quoted),
-- {{name}} its configured name as a string literal, {{new}} and {{old}}
-- the key/value list of json_object over the row's columns, {{col}} one
-- column of NEW or OLD.

-- AUTOINCREMENT: an id is never reused after Prune deletes the newest
-- rows, so a re-published sequence id is always the same event.
-- name: events
CREATE TABLE IF NOT EXISTS trigger_events (
    sequence_id INTEGER PRIMARY KEY AUTOINCREMENT,
    table_name  TEXT    NOT NULL,
    op          TEXT    NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    data        TEXT    NOT NULL,
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    delivered   INTEGER NOT NULL DEFAULT 0
);

-- name: index
CREATE INDEX IF NOT EXISTS trigger_events_pending ON trigger_events (delivered, sequence_id);

-- Any column may hold a BLOB, which json_object refuses (failing the
-- writer's statement): BLOBs become "\x" and lowercase hex, as PostgreSQL
-- writes bytea.
-- name: value
CASE WHEN typeof({{col}}) = 'blob' THEN '\x' || lower(hex({{col}})) ELSE {{col}} END

-- name: insert
CREATE TRIGGER {{trigger}} AFTER INSERT ON {{table}} FOR EACH ROW BEGIN
    INSERT INTO trigger_events (table_name, op, data)
    VALUES ({{name}}, 'insert', json_object('new', json_object({{new}})));
END

-- name: update
CREATE TRIGGER {{trigger}} AFTER UPDATE ON {{table}} FOR EACH ROW BEGIN
    INSERT INTO trigger_events (table_name, op, data)
    VALUES ({{name}}, 'update', json_object('new', json_object({{new}}), 'old', json_object({{old}})));
END

-- name: delete
CREATE TRIGGER {{trigger}} AFTER DELETE ON {{table}} FOR EACH ROW BEGIN
    INSERT INTO trigger_events (table_name, op, data)
    VALUES ({{name}}, 'delete', json_object('old', json_object({{old}})));
END

-- name: drop
DROP TRIGGER IF EXISTS {{trigger}}
