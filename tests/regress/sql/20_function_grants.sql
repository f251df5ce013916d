-- 20_function_grants: who may EXECUTE each pg_tenancy function is stated in one
-- place, the table between the function-grants markers in docs/security.md. This
-- test compares that table with the catalog: a function added, removed, or
-- granted differently without updating the table fails here.
\set VERBOSITY terse
\set doc `awk -F'|' '/function-grants:begin/{on=1} /function-grants:end/{on=0} on && $2 ~ /tenancy\./ {gsub(/[ \140]/, "", $2); gsub(/ /, "", $3); printf "%s=%s;", $2, $3}' docs/security.md`
\set whys `awk -F'|' '/function-grants:begin/{on=1} /function-grants:end/{on=0} on && $2 ~ /tenancy\./ {gsub(/^ +| +$/, "", $4); printf "[%s]", $4}' docs/security.md`
CREATE TEMP TABLE documented AS
SELECT split_part(entry, '=', 1) AS function, split_part(entry, '=', 2) AS public_execute
  FROM unnest(string_to_array(rtrim(:'doc', ';'), ';')) AS entry;
CREATE TEMP TABLE granted AS
SELECT p.oid::regprocedure::text AS function,
       CASE WHEN EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) AS a
                          WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') THEN 'yes' ELSE 'no' END AS public_execute,
       (SELECT string_agg(a.grantee::regrole::text, ',') FROM aclexplode(p.proacl) AS a
         WHERE a.grantee NOT IN (0, p.proowner) AND a.grantee::regrole::text <> 'tenancy_auditor') AS other_grantees
  FROM pg_proc AS p
  JOIN pg_depend AS d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension AS e ON e.oid = d.refobjid AND e.extname = 'pg_tenancy';
SELECT count(*) >= 60 AS many_documented FROM documented;
-- Every difference between the table and the catalog (none expected).
SELECT coalesce(g.function, d.function) AS function, d.public_execute AS documented, g.public_execute AS actual
  FROM granted AS g FULL JOIN documented AS d USING (function)
 WHERE g.public_execute IS DISTINCT FROM d.public_execute
 ORDER BY 1;
-- pg_tenancy grants to nobody but PUBLIC and its audit role tenancy_auditor (audit functions).
SELECT function, other_grantees FROM granted WHERE other_grantees IS NOT NULL ORDER BY 1;
-- What the application role can call is exactly the "yes" rows.
SELECT g.function FROM granted AS g
 WHERE has_function_privilege('tenancy_app', g.function::regprocedure, 'EXECUTE') <> (g.public_execute = 'yes')
 ORDER BY 1;
-- Every row of the table says why.
SELECT (length(:'whys') - length(replace(:'whys', '[]', ''))) / 2 AS rows_without_why;
-- Trigger and event trigger functions fire without EXECUTE, so PUBLIC has it on
-- none but reject_org_change() (protect() runs CREATE TRIGGER as the table
-- owner, which needs it); calling it directly is refused by PostgreSQL.
SELECT p.oid::regprocedure AS trigger_function_for_public FROM pg_proc AS p
  JOIN pg_depend AS d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension AS e ON e.oid = d.refobjid AND e.extname = 'pg_tenancy'
 WHERE p.prorettype IN ('trigger'::regtype, 'event_trigger'::regtype)
   AND has_function_privilege('public', p.oid, 'EXECUTE')
 ORDER BY 1;
SET ROLE tenancy_app;
SELECT tenancy.reject_org_change();
RESET ROLE;
