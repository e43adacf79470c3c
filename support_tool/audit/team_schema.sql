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
-- (INCLUDE seq, and the attempts' own index, let the chain check compare the two without
-- reading the table: index-only scans.)
DROP INDEX IF EXISTS support_tool.events_one_closing;
CREATE UNIQUE INDEX IF NOT EXISTS events_one_closing_seq
    ON support_tool.events (action) INCLUDE (seq) WHERE kind IN ('answer', 'unknown');
CREATE INDEX IF NOT EXISTS events_attempt_seq ON support_tool.events (seq) WHERE kind = 'attempt';
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
-- The planner takes no statistics from a partial index's expressions, so it would guess
-- that every value is rare (0.5%) and, for a rare outcome and a login together, read the
-- wrong index. Statistics on the expressions themselves (PostgreSQL 14 or newer) say how
-- common each login, operator, outcome... is.
DO $$
DECLARE
    key text;
BEGIN
    IF pg_catalog.current_setting('server_version_num')::int >= 140000 THEN
        FOREACH key IN ARRAY ARRAY['login', 'operator', 'workstation', 'profile', 'batch_id',
                                   'outcome'] LOOP
            EXECUTE pg_catalog.format(
                'CREATE STATISTICS IF NOT EXISTS support_tool.%I ON ((body::jsonb) ->> %L) '
                'FROM support_tool.events', 'events_' || key || '_stats', key);
        END LOOP;
    END IF;
END
$$;

-- step: seal function
-- docs/audit-trail.md's formula, in one place for the append function and the checks.
-- No SET search_path, so the planner inlines it into the chain check (a function with
-- settings of its own costs ~20 us a call: 40 s to verify 2,000,000 events). Instead every
-- name is qualified, operators and types too, so a caller's search_path cannot change what
-- it computes. STABLE, not IMMUTABLE, because convert_to and concat_ws are (an IMMUTABLE
-- wrapper would not be inlined). concat_ws builds the text in one buffer (a chain of ||
-- copies it twelve times); it would skip a NULL, but every argument is a NOT NULL column.
CREATE OR REPLACE FUNCTION support_tool.event_seal(
    previous bytea, seq bigint, kind text, action bigint, recorded_at text, origin text, body text
) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.sha256(previous OPERATOR(pg_catalog.||) pg_catalog.convert_to(
        pg_catalog.concat_ws(pg_catalog.chr(10), '', seq, kind, action, recorded_at, origin, body),
        'UTF8'))
$$;

-- step: text search
-- The History view's "contains" filter over login, game and description. The attempt holds
-- login and game, its closing event the description, so each event's own text is kept,
-- lower-cased, in a generated column (computed by the server on insert: nobody can set
-- it, and no search parses JSON again) with a trigram index, and a search finds the
-- actions whose events match. event_text has no SET search_path, so every name in it is
-- qualified (operators and types too) and a caller's search_path cannot change it.
CREATE OR REPLACE FUNCTION support_tool.event_text(body text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.lower(
        coalesce((body::pg_catalog.jsonb) OPERATOR(pg_catalog.->>) 'login', '')
        OPERATOR(pg_catalog.||) pg_catalog.chr(10) OPERATOR(pg_catalog.||)
        coalesce((body::pg_catalog.jsonb) OPERATOR(pg_catalog.->>) 'game_id', '')
        OPERATOR(pg_catalog.||) pg_catalog.chr(10) OPERATOR(pg_catalog.||)
        coalesce((body::pg_catalog.jsonb) OPERATOR(pg_catalog.->>) 'description', ''))
$$;
ALTER TABLE support_tool.events ADD COLUMN IF NOT EXISTS search_text text
    GENERATED ALWAYS AS (support_tool.event_text(body)) STORED;
DROP INDEX IF EXISTS support_tool.events_text;
DO $$
DECLARE
    trgm_schema name;
BEGIN
    SELECT n.nspname INTO trgm_schema
        FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm';
    EXECUTE pg_catalog.format(
        'CREATE INDEX IF NOT EXISTS events_search_text ON support_tool.events '
        'USING gin (search_text %I.gin_trgm_ops)', trgm_schema);
END
$$;

-- step: open attempts
-- The attempts that have no closing event yet, kept by append_event (a row added with an
-- attempt, removed with its answer or unknown) so the History's "In progress" filter and
-- a desk's recovery read a handful of rows instead of anti-joining every attempt. It is
-- derived, not evidence: verification never reads it, and it can always be rebuilt from
-- the events. Created (and, for a store that already has events, filled from them) once.
DO $$
BEGIN
    IF pg_catalog.to_regclass('support_tool.open_attempts') IS NULL THEN
        CREATE TABLE support_tool.open_attempts (seq bigint PRIMARY KEY);
        COMMENT ON TABLE support_tool.open_attempts IS
            'support-tool: attempts without a closing event (derived from support_tool.events by append_event; not evidence).';
        INSERT INTO support_tool.open_attempts (seq)
            SELECT a.seq FROM support_tool.events a
            WHERE a.kind = 'attempt' AND NOT EXISTS (
                SELECT 1 FROM support_tool.events c
                WHERE c.action = a.seq AND c.kind IN ('answer', 'unknown'));
    END IF;
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
    IF append_event.kind = 'attempt' THEN
        INSERT INTO support_tool.open_attempts (seq) VALUES (new_seq);
    ELSIF append_event.kind IN ('answer', 'unknown') THEN
        DELETE FROM support_tool.open_attempts o WHERE o.seq = new_act;
    END IF;
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
-- The open attempts follow the events: rows come and go only inside append_event.
CREATE OR REPLACE FUNCTION support_tool.open_attempts_through_append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stack text;
BEGIN
    GET DIAGNOSTICS stack = PG_CONTEXT;
    IF pg_catalog.strpos(stack, 'function support_tool.append_event(text,bigint,text)') > 0 THEN
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RAISE EXCEPTION 'support-tool: the audit trail is append-only; its open attempts change only through support_tool.append_event (% refused)',
        TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
REVOKE ALL ON FUNCTION support_tool.open_attempts_through_append_only() FROM PUBLIC;
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
DROP TRIGGER IF EXISTS open_attempts_through_append ON support_tool.open_attempts;
CREATE TRIGGER open_attempts_through_append
    BEFORE INSERT OR DELETE ON support_tool.open_attempts
    FOR EACH ROW EXECUTE FUNCTION support_tool.open_attempts_through_append_only();
DROP TRIGGER IF EXISTS open_attempts_no_update ON support_tool.open_attempts;
CREATE TRIGGER open_attempts_no_update
    BEFORE UPDATE ON support_tool.open_attempts
    FOR EACH ROW EXECUTE FUNCTION support_tool.refuse_change();
DROP TRIGGER IF EXISTS open_attempts_no_truncate ON support_tool.open_attempts;
CREATE TRIGGER open_attempts_no_truncate
    BEFORE TRUNCATE ON support_tool.open_attempts
    FOR EACH STATEMENT EXECUTE FUNCTION support_tool.refuse_change();
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
    -- An imported action shows when it happened on its desk (the body's imported
    -- recorded_at), not when it was imported; the event's own recorded_at, which the seal
    -- covers, stays the import time.
    coalesce(ab.imported ->> 'recorded_at', a.recorded_at) AS started_at,
    CASE WHEN a.kind = 'refused' THEN coalesce(ab.imported ->> 'recorded_at', a.recorded_at)
         ELSE coalesce(r.imported ->> 'recorded_at', c.recorded_at) END AS finished_at,
    coalesce(ab.operator, '')                      AS operator,
    coalesce(ab.workstation, '')                   AS workstation,
    coalesce(ab.profile, '')                       AS profile,
    coalesce(ab.api_host, '')                      AS api_host,
    coalesce(ab.login, '')                         AS login,
    coalesce(ab.game_id, '')                       AS game_id,
    coalesce(ab.clear_history, false)              AS clear_history,
    coalesce(ab.reason, '')                        AS reason,
    ab.batch_id                                    AS batch_id,
    coalesce(r.outcome, 'pending')                 AS outcome,
    r.error_code                                   AS error_code,
    coalesce(r.description, '')                    AS description,
    r.http_status                                  AS http_status,
    r.elapsed_ms                                   AS elapsed_ms,
    coalesce(r.attempts, 0)                        AS attempts,
    ab.pid                                         AS pid,
    ab.retry_of                                    AS retry_of,
    a.origin                                       AS origin
FROM support_tool.events a
LEFT JOIN support_tool.events c
    ON c.action = a.seq AND c.kind IN ('answer', 'unknown') AND a.kind = 'attempt'
-- Each body is parsed once per row into typed fields (reading body::jsonb ->> key per
-- column parsed it once per column: ~100 us a row, 25 ms for one page of the History).
LEFT JOIN LATERAL json_to_record(a.body::json) AS ab (
    operator text, workstation text, profile text, api_host text, login text, game_id text,
    clear_history boolean, reason text, batch_id text, pid bigint, retry_of text,
    imported json
) ON true
LEFT JOIN LATERAL json_to_record(
    (CASE WHEN a.kind = 'refused' THEN a.body ELSE c.body END)::json
) AS r (
    outcome text, error_code bigint, description text, http_status integer,
    elapsed_ms bigint, attempts integer, imported json
) ON true
WHERE a.kind IN ('attempt', 'refused');

-- step: chain check
-- docs/audit-trail.md's checks 1-4, from the stored rows: one line per problem, none when
-- the trail holds. One pass in seq order checks numbering, seals (each against the stored
-- seal before it, event_seal inlined) and self-links; closing events' links are one
-- anti-join over the primary key; the head is compared with the newest event.
CREATE OR REPLACE FUNCTION support_tool.chain_problems()
RETURNS TABLE (seq bigint, problem text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off  -- compiling the pass costs more (~1 s) than it saves
AS $$
    WITH checked AS (
        SELECT e.seq, e.kind, e.action,
               lag(e.seq, 1, 0::bigint) OVER w AS prev_seq,
               e.seal IS DISTINCT FROM support_tool.event_seal(
                   lag(e.seal, 1, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea) OVER w,
                   e.seq, e.kind, e.action, e.recorded_at, e.origin, e.body) AS bad_seal
        FROM support_tool.events e
        WINDOW w AS (ORDER BY e.seq)
    ), newest AS (
        SELECT e.seq, e.seal FROM support_tool.events e ORDER BY e.seq DESC LIMIT 1
    )
    SELECT c.seq, p.problem
        FROM checked c CROSS JOIN LATERAL (VALUES
            (CASE WHEN c.seq <> c.prev_seq + 1 THEN
                'event ' || c.seq || ' follows ' || c.prev_seq
                || ': events are missing or numbered out of order' END),
            (CASE WHEN c.bad_seal THEN
                'event ' || c.seq || ' does not match its seal: it was altered, moved or inserted'
             END),
            (CASE WHEN (c.kind IN ('attempt', 'refused', 'migrated')) <> (c.action = c.seq)
                        OR c.action > c.seq THEN
                'event ' || c.seq || ' (' || c.kind || ') points at ' || c.action
                || ', which is not an earlier attempt' END)
        ) AS p (problem)
        WHERE (c.seq <> c.prev_seq + 1 OR c.bad_seal
               OR (c.kind IN ('attempt', 'refused', 'migrated')) <> (c.action = c.seq)
               OR c.action > c.seq)
          AND p.problem IS NOT NULL
    UNION ALL
    -- A closing event names an earlier event (above); is that one an attempt? Both sides
    -- come from index-only scans, so this costs no second read of the table.
    SELECT c.seq, 'event ' || c.seq || ' ('
                  || (SELECT k.kind FROM support_tool.events k WHERE k.seq = c.seq)
                  || ') points at ' || c.action || ', which is not an earlier attempt'
        FROM support_tool.events c
        WHERE c.kind IN ('answer', 'unknown') AND c.action < c.seq AND NOT EXISTS (
            SELECT 1 FROM support_tool.events t WHERE t.seq = c.action AND t.kind = 'attempt')
    UNION ALL
    SELECT h.seq, 'the head says event ' || h.seq || ' but the newest event is '
                  || coalesce((SELECT newest.seq FROM newest), 0)
                  || ' or has another seal: the newest events were removed or changed'
        FROM support_tool.head h
        WHERE h.seq IS DISTINCT FROM coalesce((SELECT newest.seq FROM newest), 0)
           OR h.seal IS DISTINCT FROM coalesce(
                (SELECT newest.seal FROM newest),
                '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
    ORDER BY 1
$$;
REVOKE ALL ON FUNCTION support_tool.chain_problems() FROM PUBLIC;
