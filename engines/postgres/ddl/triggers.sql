-- Change capture on PostgreSQL (InstallTriggers renders and runs it).
-- Each "-- name:" line starts one statement, run whole: bodies may hold
-- semicolons. Other lines starting with "--" are dropped. Tokens:
-- {{events}} the schema-qualified trigger_events table, {{capture}} the
-- schema-qualified capture function, {{trigger}} the trigger's name,
-- {{table}} the watched table (quoted), {{name}} its configured name as a
-- string literal.

-- name: events
CREATE TABLE IF NOT EXISTS {{events}} (
    sequence_id BIGINT       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name  VARCHAR(127) NOT NULL,
    op          VARCHAR(6)   NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    data        JSONB        NOT NULL,
    created_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    delivered   BOOLEAN      NOT NULL DEFAULT FALSE
);

-- name: index
CREATE INDEX IF NOT EXISTS trigger_events_pending ON {{events}} (delivered, sequence_id);

-- One function serves every watched table: to_jsonb needs no column list.
-- It runs as its owner (dqm), so writers of watched tables need no rights
-- on trigger_events; search_path is pinned as SECURITY DEFINER requires.
-- The notification is only a wake-up: the row is the event.
-- name: function
CREATE OR REPLACE FUNCTION {{capture}}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tname text := coalesce(TG_ARGV[0], TG_TABLE_NAME);
    seq   bigint;
BEGIN
    INSERT INTO {{events}} (table_name, op, data)
    VALUES (tname, lower(TG_OP), CASE TG_OP
        WHEN 'INSERT' THEN jsonb_build_object('new', to_jsonb(NEW))
        WHEN 'UPDATE' THEN jsonb_build_object('new', to_jsonb(NEW), 'old', to_jsonb(OLD))
        ELSE jsonb_build_object('old', to_jsonb(OLD))
    END)
    RETURNING sequence_id INTO seq;
    PERFORM pg_notify('dqm_changes', json_build_object('seq', seq, 'table', tname)::text);
    RETURN NULL;
END
$$;

-- name: insert
CREATE TRIGGER {{trigger}} AFTER INSERT ON {{table}}
FOR EACH ROW EXECUTE FUNCTION {{capture}}({{name}});

-- name: update
CREATE TRIGGER {{trigger}} AFTER UPDATE ON {{table}}
FOR EACH ROW EXECUTE FUNCTION {{capture}}({{name}});

-- name: delete
CREATE TRIGGER {{trigger}} AFTER DELETE ON {{table}}
FOR EACH ROW EXECUTE FUNCTION {{capture}}({{name}});

-- name: drop
DROP TRIGGER IF EXISTS {{trigger}} ON {{table}};
