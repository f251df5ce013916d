-- extension_catalog.sql: everything pg_tenancy puts in a database, one line per
-- fact, "kind<TAB>object<TAB>details", sorted, with no OIDs, so two databases
-- can be compared with diff. upgrade_matches_fresh.sh compares a fresh install
-- of the current version with every upgrade path; the comparison is the guard
-- that sql/src (the fresh install) and the upgrade deltas agree.
--
-- Covered: the extension's members; functions (body, library symbol, SET
-- clauses, security definer, volatility, leakproof, strict, parallel safety,
-- argument and result types, defaults, ACL, cost, rows); relations (kind, row
-- security flags, options, ACL), their columns (type, not null, default,
-- identity, generated, collation, column ACL), constraints, indexes, triggers,
-- policies (command, permissive, roles, USING and WITH CHECK) and view
-- definitions; sequences; types (composite attributes, enum labels in order,
-- domains); event triggers; comments on every member and column; the schema's
-- ACL; the initial privileges pg_dump restores (pg_init_privs); the
-- configuration tables pg_dump dumps; the rows the scripts insert.
-- Runs with -X and a pinned search_path, so no session setting changes it.
SET search_path = pg_catalog, pg_temp;
SET datestyle = 'ISO, YMD';
SET extra_float_digits = 1;

WITH ext AS (
    SELECT oid, extconfig, extcondition FROM pg_extension WHERE extname = 'pg_tenancy'
), members AS (
    SELECT d.classid, d.objid FROM pg_depend AS d, ext
     WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
), procs AS (
    SELECT p.* FROM pg_proc AS p JOIN members AS m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
), rels AS (
    SELECT c.* FROM pg_class AS c
     WHERE c.oid IN (SELECT objid FROM members WHERE classid = 'pg_class'::regclass)
        OR c.reltype IN (SELECT objid FROM members WHERE classid = 'pg_type'::regclass)
), types AS (
    SELECT t.* FROM pg_type AS t JOIN members AS m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid
), facts(kind, object, details) AS (
    SELECT 'member', pg_describe_object(classid, objid, 0), '' FROM members
    UNION ALL
    SELECT 'function', p.oid::regprocedure::text,
           concat_ws(' | ', 'kind=' || p.prokind::text, 'lang=' || l.lanname,
                     'returns=' || CASE WHEN p.proretset THEN 'setof ' ELSE '' END || p.prorettype::regtype::text,
                     'args=' || pg_get_function_arguments(p.oid), 'result=' || pg_get_function_result(p.oid),
                     'volatile=' || p.provolatile::text, 'strict=' || p.proisstrict, 'secdef=' || p.prosecdef,
                     'leakproof=' || p.proleakproof, 'parallel=' || p.proparallel::text,
                     'config=' || coalesce(p.proconfig::text, '-'), 'cost=' || p.procost, 'rows=' || p.prorows,
                     'acl=' || coalesce(p.proacl::text, '-'), 'probin=' || coalesce(p.probin, '-'),
                     'src_md5=' || md5(p.prosrc), 'src_chars=' || length(p.prosrc))
      FROM procs AS p JOIN pg_language AS l ON l.oid = p.prolang
    UNION ALL
    SELECT 'relation', c.oid::regclass::text,
           concat_ws(' | ', 'kind=' || c.relkind::text, 'persistence=' || c.relpersistence::text,
                     'rowsecurity=' || c.relrowsecurity, 'forcerowsecurity=' || c.relforcerowsecurity,
                     'options=' || coalesce(c.reloptions::text, '-'), 'acl=' || coalesce(c.relacl::text, '-'),
                     'replident=' || c.relreplident::text)
      FROM rels AS c
    UNION ALL
    -- Columns by position among the live ones (an upgrade's dropped columns leave gaps in attnum).
    SELECT 'column', a.attrelid::regclass::text || '.' || a.attname,
           concat_ws(' | ', 'position=' || rank() OVER (PARTITION BY a.attrelid ORDER BY a.attnum),
                     'type=' || format_type(a.atttypid, a.atttypmod), 'notnull=' || a.attnotnull,
                     'default=' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '-'),
                     'identity=' || a.attidentity::text, 'generated=' || a.attgenerated::text,
                     'collation=' || coalesce(NULLIF(a.attcollation, 0)::regcollation::text, '-'),
                     'acl=' || coalesce(a.attacl::text, '-'))
      FROM pg_attribute AS a
      JOIN rels AS c ON c.oid = a.attrelid
      LEFT JOIN pg_attrdef AS ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
     WHERE a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'constraint', co.conrelid::regclass::text || ' ' || co.conname,
           concat_ws(' | ', 'type=' || co.contype::text, pg_get_constraintdef(co.oid, true),
                     'deferrable=' || co.condeferrable, 'deferred=' || co.condeferred, 'valid=' || co.convalidated)
      FROM pg_constraint AS co JOIN rels AS c ON c.oid = co.conrelid
    UNION ALL
    SELECT 'constraint', co.contypid::regtype::text || ' ' || co.conname,
           concat_ws(' | ', 'type=' || co.contype::text, pg_get_constraintdef(co.oid, true))
      FROM pg_constraint AS co JOIN types AS t ON t.oid = co.contypid
    UNION ALL
    SELECT 'index', i.indexrelid::regclass::text,
           pg_get_indexdef(i.indexrelid) || ' | acl=' || coalesce(c2.relacl::text, '-')
      FROM pg_index AS i JOIN rels AS c ON c.oid = i.indrelid JOIN pg_class AS c2 ON c2.oid = i.indexrelid
    UNION ALL
    SELECT 'trigger', t.tgrelid::regclass::text || ' ' || t.tgname,
           pg_get_triggerdef(t.oid, true) || ' | enabled=' || t.tgenabled::text
      FROM pg_trigger AS t JOIN rels AS c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal
    UNION ALL
    SELECT 'event trigger', e.evtname,
           concat_ws(' | ', 'event=' || e.evtevent, 'function=' || e.evtfoid::regprocedure::text,
                     'tags=' || coalesce(e.evttags::text, '-'), 'enabled=' || e.evtenabled::text)
      FROM pg_event_trigger AS e JOIN members AS m ON m.classid = 'pg_event_trigger'::regclass AND m.objid = e.oid
    UNION ALL
    SELECT 'policy', po.polrelid::regclass::text || ' ' || po.polname,
           concat_ws(' | ', 'command=' || po.polcmd::text, 'permissive=' || po.polpermissive,
                     'roles=' || (SELECT string_agg(CASE r WHEN 0 THEN 'public' ELSE r::regrole::text END, ',' ORDER BY 1)
                                    FROM unnest(po.polroles) AS r),
                     'using=' || coalesce(pg_get_expr(po.polqual, po.polrelid), '-'),
                     'check=' || coalesce(pg_get_expr(po.polwithcheck, po.polrelid), '-'))
      FROM pg_policy AS po JOIN rels AS c ON c.oid = po.polrelid
    UNION ALL
    SELECT 'view', c.oid::regclass::text, pg_get_viewdef(c.oid, true) FROM rels AS c WHERE c.relkind IN ('v', 'm')
    UNION ALL
    SELECT 'rule', r.ev_class::regclass::text || ' ' || r.rulename, pg_get_ruledef(r.oid, true)
      FROM pg_rewrite AS r JOIN rels AS c ON c.oid = r.ev_class WHERE r.rulename <> '_RETURN'
    UNION ALL
    SELECT 'sequence', s.seqrelid::regclass::text,
           concat_ws(' | ', 'type=' || s.seqtypid::regtype::text, 'start=' || s.seqstart, 'increment=' || s.seqincrement,
                     'max=' || s.seqmax, 'min=' || s.seqmin, 'cache=' || s.seqcache, 'cycle=' || s.seqcycle)
      FROM pg_sequence AS s JOIN rels AS c ON c.oid = s.seqrelid
    UNION ALL
    SELECT 'type', t.oid::regtype::text,
           concat_ws(' | ', 'kind=' || t.typtype::text, 'base=' || coalesce(NULLIF(t.typbasetype, 0)::regtype::text, '-'),
                     'notnull=' || t.typnotnull, 'default=' || coalesce(t.typdefault, '-'),
                     'acl=' || coalesce(t.typacl::text, '-'),
                     'labels=' || coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                                              FROM pg_enum AS e WHERE e.enumtypid = t.oid), '-'))
      FROM types AS t
    UNION ALL
    SELECT 'comment', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description
      FROM pg_description AS d
     WHERE (d.classoid, d.objoid) IN (SELECT classid, objid FROM members)
        OR (d.classoid = 'pg_class'::regclass AND d.objoid IN (SELECT oid FROM rels))
        OR (d.classoid = 'pg_constraint'::regclass AND d.objoid IN (SELECT co.oid FROM pg_constraint AS co JOIN rels AS c ON c.oid = co.conrelid))
        OR (d.classoid = 'pg_trigger'::regclass AND d.objoid IN (SELECT t.oid FROM pg_trigger AS t JOIN rels AS c ON c.oid = t.tgrelid))
        OR (d.classoid = 'pg_policy'::regclass AND d.objoid IN (SELECT po.oid FROM pg_policy AS po JOIN rels AS c ON c.oid = po.polrelid))
    UNION ALL
    SELECT 'schema', n.nspname, 'acl=' || coalesce(n.nspacl::text, '-')
      FROM pg_namespace AS n JOIN members AS m ON m.classid = 'pg_namespace'::regclass AND m.objid = n.oid
    UNION ALL
    SELECT 'default acl', coalesce(da.defaclnamespace::regnamespace::text, '-') || ' ' || da.defaclobjtype::text,
           da.defaclacl::text
      FROM pg_default_acl AS da
     WHERE da.defaclnamespace IN (SELECT objid FROM members WHERE classid = 'pg_namespace'::regclass)
    UNION ALL
    SELECT 'init privs', pg_describe_object(ip.classoid, ip.objoid, ip.objsubid),
           'type=' || ip.privtype::text || ' | ' || ip.initprivs::text
      FROM pg_init_privs AS ip
     WHERE (ip.classoid, ip.objoid) IN (SELECT classid, objid FROM members)
        OR (ip.classoid = 'pg_class'::regclass AND ip.objoid IN (SELECT oid FROM rels))
    UNION ALL
    SELECT 'config dump', cfg::regclass::text, coalesce(cond, '')
      FROM ext, unnest(ext.extconfig, ext.extcondition) AS x(cfg, cond)
    UNION ALL
    -- Rows a script inserts (the built-in permissions); tables start empty otherwise.
    -- Columns filled by a function (now(), gen_random_uuid()) or an identity differ
    -- from run to run and are left out.
    SELECT 'rows', c.oid::regclass::text,
           (xpath('/row/n/text()', query_to_xml(format(
               'SELECT count(*) || '' rows, md5 '' || coalesce(md5(string_agg(r, E''\n'' ORDER BY r)), ''-'') AS n
                  FROM (SELECT concat_ws(''|'', %s) AS r FROM %s) AS t',
               (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                  FROM pg_attribute AS a LEFT JOIN pg_attrdef AS ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity = ''
                   AND coalesce(pg_get_expr(ad.adbin, ad.adrelid), '') NOT LIKE '%(%'),
               c.oid::regclass), false, true, '')))[1]::text
      FROM rels AS c WHERE c.relkind IN ('r', 'p')
)
SELECT kind || E'\t' || object || E'\t' || replace(details, E'\n', '\n') FROM facts ORDER BY kind, object, details;
