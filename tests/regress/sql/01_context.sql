-- 01_context: entering, reading and leaving the tenant context, as the
-- unprivileged application role.
\set VERBOSITY terse
\i tests/regress/include/setup_vars.psql
\set tok_a `:mint --user :alice --org :org_a`
\set tok_carol `:mint --user :carol --org :org_a`
\set tok_user `:mint --user :alice`
SET ROLE tenancy_app;
SELECT current_user, pg_has_role('tenancy_app', 'tenancy_owner', 'MEMBER') AS is_owner;

-- No context: the readers fail closed, naming tenancy.enter.
SELECT tenancy.current_org();
SELECT tenancy.current_user_id();
SELECT tenancy.context() IS NULL AS no_context;
SELECT tenancy.has_permission('tickets.read') AS has_read;
SELECT * FROM app.tickets;

-- enter() only inside a transaction block.
SELECT tenancy.enter(:'tok_a');
SELECT tenancy.enter(NULL);

BEGIN;
SELECT tenancy.enter(:'tok_a');
SELECT tenancy.current_org() = :'org_a' AS org_is_acme,
       tenancy.current_user_id() = :'alice' AS user_is_alice;
SELECT jsonb_object_keys(tenancy.context()) AS context_keys ORDER BY 1;
SELECT tenancy.context()->'role'->>'code' AS role_code,
       tenancy.context()->'permissions' AS permissions,
       tenancy.context()->>'source' AS source,
       (tenancy.context()->>'expires_at')::timestamptz > now() AS expires_later;
-- The context JSON never carries the token.
SELECT position('eyJ' in tenancy.context()::text) = 0 AS token_not_shown;
SELECT tenancy.has_permission('tickets.read'), tenancy.has_permission('anything.at_all');
-- One context per transaction: no switching organizations mid-transaction.
SELECT tenancy.enter(:'tok_a');
COMMIT;

-- After COMMIT the context is gone.
SELECT tenancy.context() IS NULL AS gone_after_commit;
SELECT tenancy.current_org();

-- After ROLLBACK too.
BEGIN;
SELECT tenancy.enter(:'tok_a');
ROLLBACK;
SELECT tenancy.context() IS NULL AS gone_after_rollback;

-- A failed transaction leaves nothing behind either.
BEGIN;
SELECT tenancy.enter(:'tok_a');
SELECT 1 / 0;
ROLLBACK;
SELECT tenancy.context() IS NULL AS gone_after_error;

-- Savepoints: entering inside a rolled-back savepoint is undone with it...
BEGIN;
SAVEPOINT s1;
SELECT tenancy.enter(:'tok_a');
ROLLBACK TO SAVEPOINT s1;
SELECT tenancy.context() IS NULL AS undone_with_savepoint;
ROLLBACK;
-- ...and leave() inside one comes back when that savepoint is rolled back.
BEGIN;
SELECT tenancy.enter(:'tok_a');
SAVEPOINT s1;
SELECT tenancy.leave();
SELECT tenancy.context() IS NULL AS left_in_savepoint;
ROLLBACK TO SAVEPOINT s1;
SELECT tenancy.current_org() = :'org_a' AS restored;
COMMIT;

-- leave() ends the context for the rest of the transaction; a second enter is refused.
BEGIN;
SELECT tenancy.enter(:'tok_a');
SELECT count(*) AS acme_rows FROM app.tickets;
SELECT tenancy.leave();
SELECT count(*) FROM app.tickets;
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'tok_a');
SELECT tenancy.leave();
SELECT tenancy.enter(:'tok_a');
ROLLBACK;
-- leave() outside a transaction block is a harmless no-op.
SELECT tenancy.leave();

-- A member with a custom role gets that role's permissions, wildcards included.
BEGIN;
SELECT tenancy.enter(:'tok_carol');
SELECT tenancy.context()->'role'->>'code' AS role_code, tenancy.context()->'permissions' AS permissions;
SELECT tenancy.has_permission('tickets.read') AS read,
       tenancy.has_permission('tickets.delete') AS delete,
       tenancy.has_permission('comments.edit') AS comments_edit,
       tenancy.has_permission('comments') AS bare_resource,
       tenancy.has_permission('commentsx.edit') AS prefix_only,
       tenancy.has_permission('') AS empty;
SELECT tenancy.has_permission(NULL) IS NULL AS null_is_null;
COMMIT;

-- A user-only context (no organization), used before joining an organization.
BEGIN;
SELECT tenancy.enter(:'tok_user');
SELECT tenancy.current_user_id() = :'alice' AS user_is_alice,
       tenancy.context()->'org' = 'null'::jsonb AS no_org,
       tenancy.context()->'role' = 'null'::jsonb AS no_role;
SELECT tenancy.current_org();
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'tok_user');
SELECT * FROM app.tickets;
ROLLBACK;

-- missing_context = 'empty' (set by a superuser): zero rows, writes rejected,
-- and still never another tenant's rows.
RESET ROLE;
SET tenancy.missing_context = 'empty';
SET ROLE tenancy_app;
SELECT tenancy.current_org() IS NULL AS org_is_null;
SELECT count(*) AS visible FROM app.tickets;
INSERT INTO app.tickets (title) VALUES ('no context');
INSERT INTO app.tickets (organization_id, title) VALUES (:'org_a', 'no context');
UPDATE app.tickets SET title = 'x';
DELETE FROM app.tickets;
RESET ROLE;
RESET tenancy.missing_context;
SELECT count(*) AS all_rows_intact FROM app.tickets;
