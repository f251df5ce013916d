-- fixture.sql: the clean database the attack suite runs against, set up the way
-- docs/security.md recommends. Run once, as a superuser, into an empty database.
--
--   sec_owner   owns the tenant tables (the migration role; never used at runtime)
--   sec_app     the application role the attacks run as: LOGIN, no SUPERUSER,
--               no BYPASSRLS, owns nothing, no TRUNCATE/REFERENCES/TRIGGER,
--               no CREATE on any schema
--   Acme (org A): alice (owner), carol (agent); Globex (org B): bob (owner)
-- Fixed ids, so the runner can mint tokens without asking the database.
\set ON_ERROR_STOP 1
\set VERBOSITY terse
SET client_min_messages = warning;
CREATE EXTENSION pg_tenancy;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;

DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sec_owner') THEN
    CREATE ROLE sec_owner NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sec_app') THEN
    CREATE ROLE sec_app LOGIN PASSWORD 'sec_app' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
  -- A role that bypasses RLS, which sec_app must not be able to reach.
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sec_reporting') THEN
    CREATE ROLE sec_reporting NOLOGIN BYPASSRLS;
  END IF;
END $$;

-- PostgreSQL 15 already keeps PUBLIC from creating in schema public; restored or
-- upgraded databases may not, so say it.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA app AUTHORIZATION sec_owner;
GRANT USAGE ON SCHEMA app TO sec_app;
GRANT CONNECT ON DATABASE :"DBNAME" TO sec_app;

SELECT tenancy.register_permission('tickets.read', 'Read tickets');
SELECT tenancy.register_permission('tickets.write', 'Create and edit tickets');

INSERT INTO tenancy.users (id, code, email) VALUES
  ('a1000000-0000-4000-8000-000000000001', 'alice', 'alice@acme.example'),
  ('b2000000-0000-4000-8000-000000000002', 'bob', 'bob@globex.example'),
  ('c3000000-0000-4000-8000-000000000003', 'carol', 'carol@acme.example'),
  ('d4000000-0000-4000-8000-000000000004', 'dave', 'dave@nowhere.example');
INSERT INTO tenancy.organizations (id, name, created_by) VALUES
  ('0a000000-0000-4000-8000-00000000000a', 'Acme', 'a1000000-0000-4000-8000-000000000001'),
  ('0b000000-0000-4000-8000-00000000000b', 'Globex', 'b2000000-0000-4000-8000-000000000002');
INSERT INTO tenancy.roles (id, organization_id, code, name, permissions, is_system) VALUES
  ('1a000000-0000-4000-8000-00000000001a', '0a000000-0000-4000-8000-00000000000a', 'owner', 'Owner', '["*"]', true),
  ('1b000000-0000-4000-8000-00000000001b', '0b000000-0000-4000-8000-00000000000b', 'owner', 'Owner', '["*"]', true),
  ('2a000000-0000-4000-8000-00000000002a', '0a000000-0000-4000-8000-00000000000a', 'agent', 'Agent',
   '["tickets.read", "tickets.write", "members.read"]', false),
  ('3a000000-0000-4000-8000-00000000003a', '0a000000-0000-4000-8000-00000000000a', 'viewer', 'Viewer',
   '["tickets.read"]', false);
INSERT INTO tenancy.memberships (organization_id, user_id, role_id) VALUES
  ('0a000000-0000-4000-8000-00000000000a', 'a1000000-0000-4000-8000-000000000001', '1a000000-0000-4000-8000-00000000001a'),
  ('0b000000-0000-4000-8000-00000000000b', 'b2000000-0000-4000-8000-000000000002', '1b000000-0000-4000-8000-00000000001b'),
  ('0a000000-0000-4000-8000-00000000000a', 'c3000000-0000-4000-8000-000000000003', '2a000000-0000-4000-8000-00000000002a');

SET ROLE sec_owner;
-- Keys that include the organization: no unique value or foreign key tells one
-- tenant anything about another.
CREATE TABLE app.tickets (
    organization_id uuid NOT NULL,
    id              bigint GENERATED ALWAYS AS IDENTITY,
    title           text NOT NULL,
    secret          text,
    PRIMARY KEY (organization_id, id)
);
SELECT tenancy.protect('app.tickets', 'organization_id', 'tickets.read', 'tickets.write');

CREATE TABLE app.comments (
    organization_id uuid NOT NULL,
    id              uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    ticket_id       bigint NOT NULL,
    body            text NOT NULL,
    FOREIGN KEY (organization_id, ticket_id) REFERENCES app.tickets (organization_id, id)
);
SELECT tenancy.protect('app.comments');

CREATE TABLE app.accounts (
    organization_id uuid NOT NULL,
    email           text NOT NULL,
    UNIQUE (organization_id, email)
);
SELECT tenancy.protect('app.accounts');

CREATE TABLE app.events (
    organization_id uuid NOT NULL,
    at              date NOT NULL,
    what            text NOT NULL
) PARTITION BY RANGE (at);
CREATE TABLE app.events_2025 PARTITION OF app.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE app.events_2026 PARTITION OF app.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT tenancy.protect('app.events');

CREATE TABLE app.notes (organization_id uuid NOT NULL, body text NOT NULL);
CREATE TABLE app.notes_archive (archived_at date NOT NULL DEFAULT current_date) INHERITS (app.notes);
SELECT tenancy.protect('app.notes');

CREATE VIEW app.open_tickets WITH (security_invoker = true) AS
    SELECT organization_id, id, title FROM app.tickets;

GRANT SELECT, INSERT, UPDATE, DELETE ON app.tickets, app.comments, app.accounts, app.events, app.notes
    TO sec_app;
GRANT SELECT ON app.open_tickets TO sec_app;
-- Partitions and children may be granted directly: they carry the same policies.
GRANT SELECT, INSERT ON app.events_2025 TO sec_app;
GRANT SELECT ON app.notes_archive TO sec_app;
RESET ROLE;

-- Rows for both organizations, written by the superuser (which bypasses RLS).
INSERT INTO app.tickets (organization_id, title, secret) VALUES
  ('0a000000-0000-4000-8000-00000000000a', 'acme-1', 'acme secret 1'),
  ('0a000000-0000-4000-8000-00000000000a', 'acme-2', 'acme secret 2'),
  ('0b000000-0000-4000-8000-00000000000b', 'globex-1', 'globex secret 1'),
  ('0b000000-0000-4000-8000-00000000000b', 'globex-2', 'globex secret 2');
INSERT INTO app.comments (organization_id, ticket_id, body)
SELECT organization_id, id, 'comment on ' || title FROM app.tickets;
INSERT INTO app.accounts VALUES
  ('0a000000-0000-4000-8000-00000000000a', 'ceo@acme.example'),
  ('0b000000-0000-4000-8000-00000000000b', 'ceo@globex.example');
INSERT INTO app.events VALUES
  ('0a000000-0000-4000-8000-00000000000a', '2025-06-01', 'acme event'),
  ('0b000000-0000-4000-8000-00000000000b', '2025-06-01', 'globex event'),
  ('0b000000-0000-4000-8000-00000000000b', '2026-06-01', 'globex event 2026');
INSERT INTO app.notes VALUES ('0a000000-0000-4000-8000-00000000000a', 'acme note'),
                             ('0b000000-0000-4000-8000-00000000000b', 'globex note');
INSERT INTO app.notes_archive (organization_id, body) VALUES
  ('0b000000-0000-4000-8000-00000000000b', 'globex archived note');

-- Statistics exist, so C06 proves pg_stats hides them rather than finding none.
ANALYZE app.tickets, app.comments, app.accounts, app.events, app.notes;

-- A large object of the superuser's, which sec_app must not read.
SELECT lo_from_bytea(424242, 'globex secret') IS NOT NULL AS large_object_created;

-- Assertion helpers for the cases (see tests/security/README.md). They run as
-- the caller, so they prove nothing by themselves: each only compares.
CREATE SCHEMA sectest;
GRANT USAGE ON SCHEMA sectest TO PUBLIC;
-- After a statement that must fail: psql's ERROR and LAST_ERROR_SQLSTATE.
CREATE FUNCTION sectest.expect_error(failed boolean, sqlstate text, expected text, what text) RETURNS text
    LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    IF NOT failed THEN
        RAISE EXCEPTION 'CASE-FAIL: % succeeded, expected SQLSTATE %', what, expected;
    END IF;
    IF sqlstate <> ALL (string_to_array(expected, '|')) THEN
        RAISE EXCEPTION 'CASE-FAIL: % failed with SQLSTATE %, expected %', what, sqlstate, expected;
    END IF;
    RAISE NOTICE 'EXPECTED-ERROR-OK %', what;
    RETURN 'refused as expected: ' || what;
END $$;
CREATE FUNCTION sectest.expect(ok boolean, what text) RETURNS text
    LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'CASE-FAIL: %', what;
    END IF;
    RETURN 'ok: ' || what;
END $$;
-- Runs an attack in a subtransaction, so the case's transaction survives it, and
-- fails the case unless it was refused with one of the expected SQLSTATEs. No
-- SET search_path here: the attack must see the caller's search_path.
CREATE FUNCTION sectest.refused(statement text, expected text, what text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        EXECUTE statement;
    EXCEPTION WHEN OTHERS THEN
        IF SQLSTATE OPERATOR(pg_catalog.<>) ALL (pg_catalog.string_to_array(expected, '|')) THEN
            RAISE EXCEPTION 'CASE-FAIL: % failed with SQLSTATE % (%), expected %', what, SQLSTATE, SQLERRM, expected;
        END IF;
        RETURN 'refused as expected: ' OPERATOR(pg_catalog.||) what;
    END;
    RAISE EXCEPTION 'CASE-FAIL: % succeeded, expected SQLSTATE %', what, expected;
END $$;
-- The SQLSTATE a statement ends with ('00000' when it succeeds), run as the caller.
CREATE FUNCTION sectest.sqlstate_of(statement text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN '00000';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
-- The number of rows a statement returns or changes, run as the caller.
CREATE FUNCTION sectest.row_count(statement text) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE statement;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
-- Calls tenancy.enter(token) in a subtransaction and fails the case unless it is
-- refused with SQLSTATE 28T01 and a detail matching `reason` (so a crafted token
-- is known to be refused for the intended reason, not a lucky other one).
CREATE FUNCTION sectest.enter_refused(token text, reason text, what text) RETURNS text
    LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
    detail text;
BEGIN
    BEGIN
        PERFORM tenancy.enter(token);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
        IF SQLSTATE <> '28T01' OR detail NOT LIKE reason THEN
            RAISE EXCEPTION 'CASE-FAIL: % refused with % (% / %), expected 28T01 / %', what, SQLSTATE, SQLERRM,
                            detail, reason;
        END IF;
        IF strpos(SQLERRM || coalesce(detail, ''), split_part(token, '.', 3)) > 0 AND split_part(token, '.', 3) <> '' THEN
            RAISE EXCEPTION 'CASE-FAIL: % error message echoes the token', what;
        END IF;
        RETURN 'refused as expected: ' || what;
    END;
    RAISE EXCEPTION 'CASE-FAIL: % was accepted', what;
END $$;
-- base64url without padding, and an HS256-signed compact JWS from raw JSON
-- texts, so cases can craft tokens with exactly the claims they want.
CREATE EXTENSION pgcrypto SCHEMA sectest;
CREATE FUNCTION sectest.b64url(data bytea) RETURNS text
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
    SELECT rtrim(translate(encode(data, 'base64'), E'+/\n', '-_'), '=')
$$;
CREATE FUNCTION sectest.sign_hs256(header text, claims text, secret_b64url text) RETURNS text
    LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
    WITH parts AS (SELECT sectest.b64url(convert_to(header, 'UTF8')) || '.' ||
                          sectest.b64url(convert_to(claims, 'UTF8')) AS signing_input)
    SELECT signing_input || '.' ||
           sectest.b64url(sectest.hmac(convert_to(signing_input, 'UTF8'),
                                       decode(rpad(translate(secret_b64url, '-_', '+/'),
                                                   (length(secret_b64url) + 3) / 4 * 4, '='), 'base64'),
                                       'sha256'))
      FROM parts
$$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA sectest TO PUBLIC;
-- The audit, for cases that assert a misconfiguration is reported (run as superuser).
CREATE FUNCTION sectest.reported(rule text, object_like text) RETURNS boolean
    LANGUAGE sql SET search_path = pg_catalog AS $$
    SELECT EXISTS (SELECT 1 FROM tenancy.audit('sec_app') AS f WHERE f.rule = $1 AND f.object LIKE $2)
$$;
REVOKE ALL ON FUNCTION sectest.reported(text, text) FROM PUBLIC;
