-- 11_audit: the audit and probe functions as an API: what they report on the
-- regression fixture, who may call them, and clear errors for bad input. The
-- rules themselves are exercised by the attack suite (tests/security).
\set VERBOSITY terse
-- The fixture is set up right: nothing critical or high.
SELECT rule, severity, object FROM tenancy.audit('tenancy_app') ORDER BY severity DESC, rule, object;
-- Without an application role, the roles holding grants on tenant tables are
-- audited, and T200 says which.
SELECT rule, severity, object, detail FROM tenancy.audit() WHERE rule = 'T200';
SELECT count(*) = (SELECT count(*) FROM tenancy.audit('tenancy_app')) AS same_as_explicit
  FROM tenancy.audit() WHERE rule <> 'T200';
SELECT rule, severity, object, detail FROM tenancy.probe('tenancy_app');

-- A mistake shows up with its rule, severity, detail and remedy, and goes away when fixed.
GRANT TRUNCATE ON app.tickets TO tenancy_app;
SELECT rule, severity, object, detail, remedy FROM tenancy.audit('tenancy_app') WHERE severity >= 'high';
REVOKE TRUNCATE ON app.tickets FROM tenancy_app;
SELECT count(*) AS high_or_worse FROM tenancy.audit('tenancy_app') WHERE severity >= 'high';

-- Bad input.
SELECT * FROM tenancy.audit('no_such_role');
SELECT * FROM tenancy.probe(NULL);
BEGIN;
SELECT tenancy.probe_enter(NULL, NULL);
ROLLBACK;
SELECT tenancy.probe_run(NULL, 'SELECT 1', NULL, false);
SELECT tenancy.probe_run('tenancy_app', NULL, NULL, false);
SELECT tenancy.probe_run(0::regrole, 'SELECT 1', NULL, false);
SELECT tenancy.probe_lookup('tenancy_app', NULL);
SELECT tenancy.probe_run('tenancy_app', 'SELECT 1; SELECT 2', NULL, false);
SELECT tenancy.probe_run('tenancy_app', 'COMMIT', NULL, false);
-- The sandbox never writes or reads as a superuser.
SELECT tenancy.probe_run(CURRENT_USER::regrole, 'SELECT 1', NULL, true);
SELECT tenancy.probe_lookup(CURRENT_USER::regrole, 'SELECT 1');
-- A statement run as the application role cannot switch back to the superuser.
SELECT tenancy.probe_run('tenancy_app', 'RESET ROLE', NULL, false);
SELECT tenancy.probe_run('tenancy_app', $$SELECT set_config('role', 'none', true)$$, NULL, false);

-- Only for DBAs: the application role can call none of it.
SET ROLE tenancy_app;
SELECT * FROM tenancy.audit();
SELECT * FROM tenancy.probe('tenancy_app');
SELECT tenancy.probe_enter(gen_random_uuid(), gen_random_uuid());
SELECT tenancy.probe_run('tenancy_app', 'SELECT 1', NULL, false);
SELECT tenancy.probe_lookup('tenancy_owner', 'SELECT 1');
RESET ROLE;
-- A non-superuser granted EXECUTE still cannot probe, nor enter a context without a token.
CREATE ROLE regress_probe_caller;
GRANT EXECUTE ON FUNCTION tenancy.probe(regrole), tenancy.probe_enter(uuid, uuid),
    tenancy.probe_run(regrole, text, uuid, boolean), tenancy.probe_lookup(regrole, text) TO regress_probe_caller;
SET ROLE regress_probe_caller;
SELECT * FROM tenancy.probe('tenancy_app');
SELECT tenancy.probe_run('tenancy_app', 'SELECT 1', NULL, false);
SELECT tenancy.probe_lookup('tenancy_owner', 'SELECT 1');
BEGIN;
SELECT tenancy.probe_enter(gen_random_uuid(), gen_random_uuid());
ROLLBACK;
RESET ROLE;
DROP OWNED BY regress_probe_caller;
DROP ROLE regress_probe_caller;

-- The probe leaves nothing behind.
SELECT count(*) AS probe_users FROM tenancy.users WHERE email LIKE '%@probe.invalid';
