-- The team audit store: docs/audit-trail.md's sealed events, on PostgreSQL.
--
-- Run by `support-tool audit init-db` as the database owner, one step at a time (each step
-- starts with a "-- step:" line), in one transaction. PostgreSQL 11 or newer (sha256()). Every statement is idempotent: run
-- again, it changes nothing. Roles and grants are applied by support_tool/audit/team_admin.py,
-- because their names are chosen by IT.
--
-- Desks never write a table: they call support_tool.append_event, which runs as the owner
-- (SECURITY DEFINER), assigns seq and recorded_at on the server, takes origin from
-- session_user and computes the seal. Triggers refuse UPDATE, DELETE and TRUNCATE even to
-- the owner; only a superuser (who can drop the triggers) can change history, and the seals
-- show where.

-- step: schema
CREATE SCHEMA IF NOT EXISTS support_tool;
REVOKE ALL ON SCHEMA support_tool FROM PUBLIC;

-- step: events table
CREATE TABLE IF NOT EXISTS support_tool.events (
    seq         bigint PRIMARY KEY CHECK (seq >= 1),
    kind        text   NOT NULL
                CHECK (kind IN ('attempt', 'answer', 'unknown', 'refused', 'migrated')),
    action      bigint NOT NULL CHECK (action >= 1 AND action <= seq),
    recorded_at text   NOT NULL,
    origin      text   NOT NULL,
    body        text   NOT NULL,
    seal        bytea  NOT NULL CHECK (octet_length(seal) = 32)
);
COMMENT ON TABLE support_tool.events IS
    'support-tool audit trail: sealed events (docs/audit-trail.md). Append only, through support_tool.append_event.';

-- step: head pointer
-- One row: the newest event's seq and seal (0 and 32 zero bytes while the trail is empty).
CREATE TABLE IF NOT EXISTS support_tool.head (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq  bigint  NOT NULL CHECK (seq >= 0),
    seal bytea   NOT NULL CHECK (octet_length(seal) = 32)
);
-- (Only when the table is empty: once the triggers exist, they refuse any other insert.)
INSERT INTO support_tool.head (one, seq, seal)
    SELECT true, 0, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
    WHERE NOT EXISTS (SELECT 1 FROM support_tool.head);

-- step: indexes
-- Joining an attempt to its closing event, and at most one closing event per attempt.
CREATE INDEX IF NOT EXISTS events_action ON support_tool.events (action);
CREATE UNIQUE INDEX IF NOT EXISTS events_one_closing
    ON support_tool.events (action) WHERE kind IN ('answer', 'unknown');
-- The History view's exact filters, each on (value, seq): a filter reads one page of its
-- index backwards from the page's keyset bound (support_tool/audit/team_reads.py spells the
-- same expressions, or the planner would not use them). Outcomes live in the closing (or
-- refused) event, indexed by the action they close.
DROP INDEX IF EXISTS support_tool.events_login;
DROP INDEX IF EXISTS support_tool.events_batch;
CREATE INDEX IF NOT EXISTS events_login_seq
    ON support_tool.events (((body::jsonb) ->> 'login'), seq) WHERE kind IN ('attempt', 'refused');
CREATE INDEX IF NOT EXISTS events_operator_seq
    ON support_tool.events (((body::jsonb) ->> 'operator'), seq)
    WHERE kind IN ('attempt', 'refused');
CREATE INDEX IF NOT EXISTS events_workstation_seq
    ON support_tool.events (((body::jsonb) ->> 'workstation'), seq)
    WHERE kind IN ('attempt', 'refused');
CREATE INDEX IF NOT EXISTS events_profile_seq
    ON support_tool.events (((body::jsonb) ->> 'profile'), seq)
    WHERE kind IN ('attempt', 'refused');
CREATE INDEX IF NOT EXISTS events_batch_seq
    ON support_tool.events (((body::jsonb) ->> 'batch_id'), seq)
    WHERE kind IN ('attempt', 'refused') AND (body::jsonb) ->> 'batch_id' IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_outcome_action
    ON support_tool.events (((body::jsonb) ->> 'outcome'), action)
    WHERE kind IN ('answer', 'unknown', 'refused');

-- step: seal function
-- docs/audit-trail.md's formula, in one place for the append function and the checks.
CREATE OR REPLACE FUNCTION support_tool.event_seal(
    previous bytea, seq bigint, kind text, action bigint, recorded_at text, origin text, body text
) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.sha256(previous || pg_catalog.convert_to(
        pg_catalog.chr(10) || seq || pg_catalog.chr(10) || kind || pg_catalog.chr(10) || action
        || pg_catalog.chr(10) || recorded_at || pg_catalog.chr(10) || origin
        || pg_catalog.chr(10) || body, 'UTF8'))
$$;

-- step: text search
-- The History view's "contains" filter over login, game and description. The attempt holds
-- login and game, its closing event the description, so each event's own text is indexed
-- and a search finds the actions whose events match.
CREATE OR REPLACE FUNCTION support_tool.event_text(body text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.lower(
        coalesce((body::jsonb) ->> 'login', '') || pg_catalog.chr(10)
        || coalesce((body::jsonb) ->> 'game_id', '') || pg_catalog.chr(10)
        || coalesce((body::jsonb) ->> 'description', ''))
$$;
DO $$
DECLARE
    trgm_schema name;
BEGIN
    SELECT n.nspname INTO trgm_schema
        FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm';
    EXECUTE pg_catalog.format(
        'CREATE INDEX IF NOT EXISTS events_text ON support_tool.events '
        'USING gin (support_tool.event_text(body) %I.gin_trgm_ops)', trgm_schema);
END
$$;

-- step: append function
-- The only way in. kind 'attempt', 'refused' or 'migrated' belongs to itself: the desk
-- passes action NULL (it cannot know its seq beforehand); the same seq is also accepted.
-- 'answer' and 'unknown' name an existing attempt that has no closing event yet.
-- The head row's lock serialises appenders, so seq runs 1..N without gaps: a transaction
-- that rolls back takes its events and its head move with it.
CREATE OR REPLACE FUNCTION support_tool.append_event(
    kind text, action bigint, body text,
    OUT seq bigint, OUT recorded_at text, OUT seal bytea
)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    previous  support_tool.head%ROWTYPE;
    new_seq   bigint;
    new_at    text;
    new_act   bigint;
    who       text := session_user;
    new_seal  bytea;
BEGIN
    IF kind IS NULL OR kind NOT IN ('attempt', 'answer', 'unknown', 'refused', 'migrated') THEN
        RAISE EXCEPTION 'support-tool: unknown event kind %', pg_catalog.quote_nullable(kind)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF body IS NULL OR pg_catalog.octet_length(body) > 65536 OR body !~ '^[\x20-\x7e]*$' THEN
        RAISE EXCEPTION 'support-tool: an event body is canonical JSON: printable ASCII, at most 64 KiB'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    BEGIN
        IF pg_catalog.jsonb_typeof(body::jsonb) <> 'object' THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_text_representation';
        END IF;
    EXCEPTION WHEN invalid_text_representation THEN
        RAISE EXCEPTION 'support-tool: an event body is one JSON object'
            USING ERRCODE = 'invalid_parameter_value';
    END;
    IF who ~ '[\n\r]' THEN
        RAISE EXCEPTION 'support-tool: a role name with a line break cannot sign events'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    SELECT * INTO STRICT previous FROM support_tool.head h FOR UPDATE;
    new_seq := previous.seq + 1;
    IF kind IN ('attempt', 'refused', 'migrated') THEN
        IF action IS NOT NULL AND action <> new_seq THEN
            RAISE EXCEPTION 'support-tool: % event % must belong to itself (action NULL), not %',
                kind, new_seq, action USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF kind = 'migrated' AND new_seq <> 1 THEN
            RAISE EXCEPTION 'support-tool: a migrated event comes first, once'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        new_act := new_seq;
    ELSE
        PERFORM 1 FROM support_tool.events e
            WHERE e.seq = append_event.action AND e.kind = 'attempt';
        IF NOT FOUND THEN
            RAISE EXCEPTION 'support-tool: % names attempt %, which does not exist',
                kind, coalesce(action::text, 'NULL') USING ERRCODE = 'foreign_key_violation';
        END IF;
        PERFORM 1 FROM support_tool.events e
            WHERE e.action = append_event.action AND e.kind IN ('answer', 'unknown');
        IF FOUND THEN
            RAISE EXCEPTION 'support-tool: attempt % already has its closing event', action
                USING ERRCODE = 'unique_violation';
        END IF;
        new_act := action;
    END IF;

    new_at := pg_catalog.to_char(pg_catalog.clock_timestamp() AT TIME ZONE 'UTC',
                                 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
    new_seal := support_tool.event_seal(
        previous.seal, new_seq, append_event.kind, new_act, new_at, who, append_event.body);
    INSERT INTO support_tool.events AS e (seq, kind, action, recorded_at, origin, body, seal)
        VALUES (new_seq, append_event.kind, new_act, new_at, who, append_event.body, new_seal);
    UPDATE support_tool.head h SET seq = new_seq, seal = new_seal;
    seq := new_seq;
    recorded_at := new_at;
    seal := new_seal;
END
$$;
REVOKE ALL ON FUNCTION support_tool.append_event(text, bigint, text) FROM PUBLIC;

-- step: append-only triggers
-- Defence in depth behind the grants: not even the owner inserts, updates or deletes an
-- event except through append_event, and the head only moves forward onto the event just
-- appended. (The owner can still drop these triggers, and a superuser can skip them; the
-- seals and the head then show what changed.)
CREATE OR REPLACE FUNCTION support_tool.refuse_change() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'support-tool: the audit trail is append-only (% on %.% refused)',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE OR REPLACE FUNCTION support_tool.head_forward_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.seq = OLD.seq + 1 AND EXISTS (
        SELECT 1 FROM support_tool.events e WHERE e.seq = NEW.seq AND e.seal = NEW.seal
    ) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'support-tool: the head only moves onto the event just appended'
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- Rows are inserted only by append_event: the trigger reads the call stack, so even the
-- owner's direct INSERT (which could pick its own seq, time and origin) is refused.
CREATE OR REPLACE FUNCTION support_tool.insert_through_append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stack text;
BEGIN
    GET DIAGNOSTICS stack = PG_CONTEXT;
    IF pg_catalog.strpos(stack, 'function support_tool.append_event(text,bigint,text)') > 0 THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'support-tool: events are appended only through support_tool.append_event'
        USING ERRCODE = 'insufficient_privilege';
END
$$;
REVOKE ALL ON FUNCTION support_tool.insert_through_append_only() FROM PUBLIC;
REVOKE ALL ON FUNCTION support_tool.refuse_change() FROM PUBLIC;
REVOKE ALL ON FUNCTION support_tool.head_forward_only() FROM PUBLIC;
DROP TRIGGER IF EXISTS events_no_update_delete ON support_tool.events;
CREATE TRIGGER events_no_update_delete
    BEFORE UPDATE OR DELETE ON support_tool.events
    FOR EACH ROW EXECUTE FUNCTION support_tool.refuse_change();
DROP TRIGGER IF EXISTS events_insert_through_append ON support_tool.events;
CREATE TRIGGER events_insert_through_append
    BEFORE INSERT ON support_tool.events
    FOR EACH ROW EXECUTE FUNCTION support_tool.insert_through_append_only();
DROP TRIGGER IF EXISTS head_no_insert ON support_tool.head;
CREATE TRIGGER head_no_insert
    BEFORE INSERT ON support_tool.head
    FOR EACH ROW EXECUTE FUNCTION support_tool.refuse_change();
DROP TRIGGER IF EXISTS events_no_truncate ON support_tool.events;
CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON support_tool.events
    FOR EACH STATEMENT EXECUTE FUNCTION support_tool.refuse_change();
DROP TRIGGER IF EXISTS head_forward_only ON support_tool.head;
CREATE TRIGGER head_forward_only
    BEFORE UPDATE ON support_tool.head
    FOR EACH ROW EXECUTE FUNCTION support_tool.head_forward_only();
DROP TRIGGER IF EXISTS head_no_delete ON support_tool.head;
CREATE TRIGGER head_no_delete
    BEFORE DELETE ON support_tool.head
    FOR EACH ROW EXECUTE FUNCTION support_tool.refuse_change();
DROP TRIGGER IF EXISTS head_no_truncate ON support_tool.head;
CREATE TRIGGER head_no_truncate
    BEFORE TRUNCATE ON support_tool.head
    FOR EACH STATEMENT EXECUTE FUNCTION support_tool.refuse_change();

-- step: actions view
-- One line per action, as the History view and exports show it: an attempt joined to its
-- closing event (none yet: pending), or a refused event on its own. Same columns as the
-- embedded store's records, plus pid, retry_of and origin (who appended the attempt).
CREATE OR REPLACE VIEW support_tool.actions AS
SELECT
    a.seq                                          AS id,
    a.recorded_at                                  AS started_at,
    CASE WHEN a.kind = 'refused' THEN a.recorded_at ELSE c.recorded_at END AS finished_at,
    coalesce(ab ->> 'operator', '')                AS operator,
    coalesce(ab ->> 'workstation', '')             AS workstation,
    coalesce(ab ->> 'profile', '')                 AS profile,
    coalesce(ab ->> 'api_host', '')                AS api_host,
    coalesce(ab ->> 'login', '')                   AS login,
    coalesce(ab ->> 'game_id', '')                 AS game_id,
    coalesce((ab ->> 'clear_history')::boolean, false) AS clear_history,
    coalesce(ab ->> 'reason', '')                  AS reason,
    ab ->> 'batch_id'                              AS batch_id,
    coalesce(r ->> 'outcome', 'pending')           AS outcome,
    (r ->> 'error_code')::bigint                   AS error_code,
    coalesce(r ->> 'description', '')              AS description,
    (r ->> 'http_status')::integer                 AS http_status,
    (r ->> 'elapsed_ms')::bigint                   AS elapsed_ms,
    coalesce((r ->> 'attempts')::integer, 0)       AS attempts,
    (ab ->> 'pid')::bigint                         AS pid,
    ab ->> 'retry_of'                              AS retry_of,
    a.origin                                       AS origin
FROM support_tool.events a
LEFT JOIN support_tool.events c
    ON c.action = a.seq AND c.kind IN ('answer', 'unknown') AND a.kind = 'attempt'
CROSS JOIN LATERAL (SELECT a.body::jsonb AS ab) attempt_body
CROSS JOIN LATERAL (
    SELECT CASE WHEN a.kind = 'refused' THEN ab ELSE c.body::jsonb END AS r
) result_body
WHERE a.kind IN ('attempt', 'refused');

-- step: chain check
-- docs/audit-trail.md's checks 1-4, from the stored rows: one line per problem, none when
-- the trail holds. Each seal is checked against the stored seal before it.
CREATE OR REPLACE FUNCTION support_tool.chain_problems()
RETURNS TABLE (seq bigint, problem text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH ordered AS (
        SELECT e.*,
               lag(e.seq) OVER w AS prev_seq,
               coalesce(lag(e.seal) OVER w, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea) AS prev_seal
        FROM support_tool.events e
        WINDOW w AS (ORDER BY e.seq)
    ), head AS (
        SELECT h.seq, h.seal FROM support_tool.head h
    ), newest AS (
        SELECT e.seq, e.seal FROM support_tool.events e ORDER BY e.seq DESC LIMIT 1
    )
    SELECT o.seq, 'event ' || o.seq || ' follows ' || coalesce(o.prev_seq, 0)
                  || ': events are missing or numbered out of order'
        FROM ordered o WHERE o.seq <> coalesce(o.prev_seq, 0) + 1
    UNION ALL
    SELECT o.seq, 'event ' || o.seq || ' does not match its seal: it was altered, moved or inserted'
        FROM ordered o
        WHERE o.seal IS DISTINCT FROM support_tool.event_seal(
            o.prev_seal, o.seq, o.kind, o.action, o.recorded_at, o.origin, o.body)
    UNION ALL
    SELECT o.seq, 'event ' || o.seq || ' (' || o.kind || ') points at ' || o.action
                  || ', which is not an earlier attempt'
        FROM ordered o
        WHERE (o.kind IN ('attempt', 'refused', 'migrated') AND o.action <> o.seq)
           OR (o.kind IN ('answer', 'unknown') AND NOT EXISTS (
                SELECT 1 FROM support_tool.events t
                WHERE t.seq = o.action AND t.kind = 'attempt' AND t.seq < o.seq))
    UNION ALL
    SELECT head.seq, 'the head says event ' || head.seq || ' but the newest event is '
                     || coalesce((SELECT newest.seq FROM newest), 0)
                     || ' or has another seal: the newest events were removed or changed'
        FROM head
        WHERE head.seq IS DISTINCT FROM coalesce((SELECT newest.seq FROM newest), 0)
           OR head.seal IS DISTINCT FROM coalesce(
                (SELECT newest.seal FROM newest),
                '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
    ORDER BY 1
$$;
REVOKE ALL ON FUNCTION support_tool.chain_problems() FROM PUBLIC;
