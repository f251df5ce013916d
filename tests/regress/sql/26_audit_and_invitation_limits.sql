-- 26_audit_and_invitation_limits: audit log ids reveal nothing across
-- organizations (random uuids, ordered by created_at, id), and an invitation's
-- lifetime is checked as the timestamps it gives, not by interval parts.
\set VERBOSITY terse
\i tests/regress/include/setup_vars.psql
SELECT pg_typeof(id) AS audit_id_type, count(DISTINCT id) = count(*) AS distinct_ids
  FROM tenancy.audit_log GROUP BY 1;
SELECT count(*) AS audit_sequences FROM pg_depend AS d JOIN pg_class AS c ON c.oid = d.objid
 WHERE d.refobjid = 'tenancy.audit_log'::regclass AND c.relkind = 'S';
\set alice_a `:mint --user :alice --org :org_a`
SET ROLE tenancy_app;
\set ON_ERROR_ROLLBACK on
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT tenancy.invite('ttl@acme.example', 'agent', '1000 years -359970 days');
SELECT tenancy.invite('ttl@acme.example', 'agent', '720 hours 1 second');
SELECT tenancy.invite('ttl@acme.example', 'agent', '30 days 1 second');
SELECT tenancy.invite('ttl@acme.example', 'agent', '-1 day');
SELECT tenancy.invite('ttl@acme.example', 'agent', '59 seconds');
SELECT tenancy.invite('ttl@acme.example', 'agent', '100000000 years');
SELECT tenancy.invite('ttl@acme.example', 'agent', NULL);
SELECT tenancy.invite('ttl@acme.example', 'agent', '30 days') LIKE 'tinv_%' AS thirty_days;
SELECT tenancy.invite('ttl@acme.example', 'agent', '1 minute') LIKE 'tinv_%' AS one_minute;
SELECT date_trunc('minute', expires_at - created_at) AS lifetime FROM tenancy.list_invitations() WHERE email = 'ttl@acme.example' ORDER BY 1;
ROLLBACK;
RESET ROLE;
