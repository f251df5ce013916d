-- dataset.sql: the benchmark database. Variables (psql -v): orgs, big_orgs,
-- big_rows, small_rows. Builds one ticket table per arm with identical data,
-- each with the same indexes, and bench_ctx, which pgbench scripts read to
-- pick an organization and enter its context.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_tenancy;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
SELECT tenancy.register_permission('tickets.read', 'Read tickets');

DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_app') THEN
    CREATE ROLE bench_app LOGIN PASSWORD 'bench_app' NOSUPERUSER NOBYPASSRLS;
  END IF;
END $$;

-- Organizations 1..big_orgs are large (big_rows tickets each), the rest small.
CREATE TABLE bench_orgs AS
SELECT i AS idx, gen_random_uuid() AS org_id, gen_random_uuid() AS user_id,
       CASE WHEN i <= :big_orgs THEN :big_rows ELSE :small_rows END AS tickets
  FROM generate_series(1, :orgs) AS i;
INSERT INTO tenancy.users (id, code, email) SELECT user_id, 'u' || idx, 'u' || idx || '@bench.example' FROM bench_orgs;
INSERT INTO tenancy.organizations (id, name, created_by) SELECT org_id, 'org ' || idx, user_id FROM bench_orgs;
INSERT INTO tenancy.roles (organization_id, code, name, permissions)
SELECT org_id, 'member', 'Member', '["tickets.read"]' FROM bench_orgs;
INSERT INTO tenancy.memberships (organization_id, user_id, role_id)
SELECT o.org_id, o.user_id, r.id FROM bench_orgs o JOIN tenancy.roles r ON r.organization_id = o.org_id;
-- The membership table the Supabase-style and naive policies join (readable by the app).
CREATE TABLE bench_memberships AS SELECT organization_id, user_id FROM tenancy.memberships;
CREATE INDEX ON bench_memberships (user_id, organization_id);
CREATE INDEX ON bench_memberships (organization_id, user_id);

-- One table per arm; rows of one organization are contiguous ids (the natural
-- arm in bench/inside.sh computes them: organization i's first id is 1 + the
-- tickets of organizations 1..i-1).
CREATE TABLE t_limit (
    id bigint PRIMARY KEY, organization_id uuid NOT NULL, title text NOT NULL,
    status text NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO t_limit
SELECT row_number() OVER (ORDER BY o.idx, g), o.org_id, 'ticket ' || g, (ARRAY['open', 'closed'])[1 + g % 2],
       timestamptz '2026-01-01' + (g || ' minutes')::interval
  FROM bench_orgs o, generate_series(1, o.tickets) AS g;
CREATE INDEX ON t_limit (organization_id, created_at);
CREATE SEQUENCE bench_ticket_ids START 100000000;

CREATE TABLE bench_ctx AS
SELECT o.idx, o.org_id, o.user_id, min(t.id) AS min_id, max(t.id) AS max_id, ''::text AS token_hs, ''::text AS token_ed
  FROM bench_orgs o JOIN t_limit t ON t.organization_id = o.org_id GROUP BY o.idx, o.org_id, o.user_id;
CREATE UNIQUE INDEX ON bench_ctx (idx);

DO $$
DECLARE
    arm text;
BEGIN
    FOREACH arm IN ARRAY ARRAY['t_natural', 't_tenancy', 't_guc', 't_guc_wrapped', 't_supabase', 't_naive'] LOOP
        EXECUTE format('CREATE TABLE %I (LIKE t_limit INCLUDING ALL)', arm);
        EXECUTE format('INSERT INTO %I SELECT * FROM t_limit', arm);
    END LOOP;
    -- bench/inside.sh vacuums every arm table between repetitions instead, so
    -- autovacuum cannot slow one arm's run and not another's.
    FOREACH arm IN ARRAY ARRAY['t_limit', 't_natural', 't_tenancy', 't_guc', 't_guc_wrapped', 't_supabase', 't_naive'] LOOP
        EXECUTE format('ALTER TABLE %I SET (autovacuum_enabled = off)', arm);
    END LOOP;
END $$;

-- The arms' policies.
SELECT tenancy.protect('t_tenancy');  -- its index on (organization_id, created_at) already leads with the column
CREATE FUNCTION bench_auth_uid() RETURNS uuid LANGUAGE sql STABLE
    RETURN nullif(current_setting('app.user', true), '')::uuid;
ALTER TABLE t_guc ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_guc ON t_guc USING (organization_id = current_setting('app.org')::uuid);
ALTER TABLE t_guc_wrapped ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_guc ON t_guc_wrapped USING (organization_id = (SELECT current_setting('app.org')::uuid));
ALTER TABLE t_supabase ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_membership ON t_supabase USING (organization_id IN (
    SELECT m.organization_id FROM bench_memberships m WHERE m.user_id = (SELECT bench_auth_uid())));
ALTER TABLE t_naive ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_membership ON t_naive USING (EXISTS (
    SELECT 1 FROM bench_memberships m WHERE m.organization_id = t_naive.organization_id
       AND m.user_id = bench_auth_uid()));

GRANT SELECT, INSERT, UPDATE ON t_limit, t_natural, t_tenancy, t_guc, t_guc_wrapped, t_supabase, t_naive TO bench_app;
GRANT SELECT ON bench_ctx, bench_memberships TO bench_app;
GRANT USAGE ON SEQUENCE bench_ticket_ids TO bench_app;
