-- 28_citus_absent: without Citus (issue 15), protect() does what it always did:
-- the row trigger, the column default and NOT NULL, each once however often it
-- runs (a different default is replaced); the Citus helpers answer "not
-- distributed", and the audit's cluster rules (T6xx) stay silent.
\set VERBOSITY terse
SET ROLE tenancy_owner;
SELECT tenancy.citus_installed();
CREATE TABLE app.citus_absent (id int, organization_id uuid DEFAULT gen_random_uuid());
SELECT tenancy.citus_distribution_column('app.citus_absent') IS NULL AS not_distributed;
SELECT tenancy.protect('app.citus_absent', 'organization_id', 'tickets.read', NULL);
SELECT tenancy.protect('app.citus_absent', 'organization_id', 'tickets.read', NULL);
SELECT tgname FROM pg_trigger WHERE tgrelid = 'app.citus_absent'::regclass AND NOT tgisinternal;
SELECT pg_get_expr(d.adbin, d.adrelid) AS org_default, a.attnotnull
  FROM pg_attribute AS a JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = 'app.citus_absent'::regclass AND a.attname = 'organization_id';
SELECT count(*) AS policies FROM pg_policy WHERE polrelid = 'app.citus_absent'::regclass;
-- The protection is read from the trigger, and from the registry once the trigger is gone.
SELECT * FROM tenancy.protection_of('app.citus_absent');
DROP TRIGGER tenancy_org_immutable ON app.citus_absent;
SELECT * FROM tenancy.protection_of('app.citus_absent');
SELECT tenancy.protect('app.citus_absent', 'organization_id', 'tickets.read', NULL);
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'app.citus_absent'::regclass AND NOT tgisinternal;
RESET ROLE;
SELECT count(*) AS cluster_findings FROM tenancy.audit_cluster('{}');
SELECT count(*) AS t6xx_findings FROM tenancy.audit() WHERE rule LIKE 'T6%';
SELECT tenancy.unprotect('app.citus_absent');
DROP TABLE app.citus_absent;
