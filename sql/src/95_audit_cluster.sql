-- ---------------------------------------------------------------------------
-- Rules T6xx: a Citus cluster, seen from its coordinator (issue 15). Shards and
-- the workers' copies of protected tables carry their own policies (Citus
-- re-creates the restrictive guards as PERMISSIVE on them), and every node has
-- its own settings and keyring. Nothing here runs without Citus: every call into
-- it is dynamic, and on a worker or a plain server this returns no rows.
-- ---------------------------------------------------------------------------

-- What one shard or copy of a table looks like, as one line: how many of
-- pg_tenancy's guards it has, how many of them are permissive, RLS enabled, RLS
-- forced, and a digest of pg_tenancy's policies (names, commands, expressions;
-- not their kind). %1$L is the relation, filled in by format() (as
-- run_command_on_shards does); it runs on the workers' pg_tenancy.
CREATE FUNCTION tenancy.cluster_policy_state_query() RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN 'SELECT pg_catalog.concat_ws(''|'', '
           '(SELECT pg_catalog.count(*) FROM pg_catalog.pg_policy AS p WHERE p.polrelid = c.oid '
           'AND p.polname = ANY (tenancy.guard_names())), '
           '(SELECT pg_catalog.count(*) FROM pg_catalog.pg_policy AS p WHERE p.polrelid = c.oid '
           'AND p.polname = ANY (tenancy.guard_names()) AND p.polpermissive), '
           'c.relrowsecurity, c.relforcerowsecurity, '
           'pg_catalog.md5(coalesce((SELECT pg_catalog.string_agg(pg_catalog.concat_ws('':'', p.polname, p.polcmd, '
           'pg_catalog.pg_get_expr(p.polqual, p.polrelid), pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)), '
           ''';'' ORDER BY p.polname) FROM pg_catalog.pg_policy AS p WHERE p.polrelid = c.oid '
           'AND p.polname = ANY (tenancy.policy_names())), ''''))) '
           'FROM pg_catalog.pg_class AS c WHERE c.oid = %1$L::pg_catalog.regclass';
REVOKE ALL ON FUNCTION tenancy.cluster_policy_state_query() FROM PUBLIC;

CREATE FUNCTION tenancy.audit_cluster(apps pg_catalog.oid[]) RETURNS SETOF tenancy.finding
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    is_coordinator boolean := false;
    tbl pg_catalog.regclass;
    expected text;
    others boolean;
    forwarding text := pg_catalog.current_setting('tenancy.forward_context_to_workers', true);
    propagation text := tenancy.server_setting('citus.propagate_set_commands');
    fingerprint_fn pg_catalog.regprocedure := pg_catalog.to_regprocedure('tenancy.keyring_fingerprint()');
BEGIN
    IF NOT tenancy.citus_installed() THEN
        RETURN;
    END IF;
    BEGIN
        EXECUTE 'SELECT pg_catalog.citus_is_coordinator()' INTO is_coordinator;
    EXCEPTION WHEN OTHERS THEN
        is_coordinator := false; -- an older Citus, or its metadata unreadable: not audited from here
    END;
    IF NOT coalesce(is_coordinator, false) THEN
        RETURN;
    END IF;

    -- T601-T603: the shards and the workers' copies of every protected Citus table.
    FOR tbl IN EXECUTE 'SELECT t.rel FROM tenancy.tenant_relations() AS t '
                       'JOIN pg_catalog.pg_dist_partition AS d ON d.logicalrelid = t.rel '
                       'WHERE t.relkind IN (''r'', ''p'') AND ((t.protection).org_column IS NOT NULL OR EXISTS ('
                       'SELECT 1 FROM pg_catalog.pg_policy AS p WHERE p.polrelid IN (t.rel, t.root) '
                       'AND p.polname = ANY (tenancy.policy_names()))) ORDER BY 1' LOOP
        EXECUTE pg_catalog.format(tenancy.cluster_policy_state_query(), tbl) INTO expected;
        -- Guards that restrict nothing matter most where another permissive policy
        -- (the owner's) would otherwise be confined by them.
        others := EXISTS (SELECT 1 FROM pg_catalog.pg_policy AS p WHERE p.polrelid = tbl AND p.polpermissive
                             AND p.polname <> ALL (tenancy.policy_names()));
        -- A worker without a copy of the table (no metadata synced) answers with an error: skipped.
        RETURN QUERY EXECUTE
            'WITH s AS MATERIALIZED ('
            '    SELECT ''shard '' || s.shardid AS place, s.success, s.result AS state '
            '      FROM pg_catalog.run_command_on_shards($1, $2) AS s '
            '    UNION ALL '
            '    SELECT pg_catalog.format(''%s:%s'', w.nodename, w.nodeport), w.success, w.result '
            '      FROM pg_catalog.run_command_on_workers($3) AS w), '
            'n AS (SELECT pg_catalog.count(*) AS total FROM s), '
            'v AS (SELECT s.place, s.success, '
            '             CASE WHEN s.success THEN pg_catalog.string_to_array(s.state, ''|'') END AS f, '
            '             pg_catalog.string_to_array($4, ''|'') AS e FROM s) '
            'SELECT f.rule, f.severity::tenancy.severity, $1::text, '
            '       pg_catalog.format(''%s on %s of %s shards and worker copies: %s%s'', f.what, pg_catalog.count(*), '
            '                         pg_catalog.max(n.total), pg_catalog.array_to_string((pg_catalog.array_agg('
            '                         v.place ORDER BY v.place))[1:4], '', ''), '
            '                         CASE WHEN pg_catalog.count(*) > 4 THEN '', ...'' ELSE '''' END), f.remedy '
            '  FROM v CROSS JOIN n CROSS JOIN LATERAL (VALUES '
            '       (''T601'', CASE WHEN $5 THEN ''critical'' ELSE ''high'' END, '
            '        v.f[2]::integer > 0 OR v.f[1]::integer < v.e[1]::integer, '
            '        pg_catalog.format(''only %s of pg_tenancy''''s %s guard(s) are restrictive (Citus re-creates '
            'policies as PERMISSIVE): they confine no other permissive policy there%s'', '
            '                          v.f[1]::integer - v.f[2]::integer, v.e[1], '
            '                          CASE WHEN $5 THEN '', and this table has one'' ELSE '''' END), '
            '        ''Keep every permissive policy of your own confined by itself (AND organization_id = '
            'tenancy.current_org()); see docs/scaling-out.md.''), '
            '       (''T601'', ''critical'', v.f[3] <> ''t'', ''row-level security is disabled'', '
            '        pg_catalog.format(''ALTER TABLE %s ENABLE ROW LEVEL SECURITY;'', $1)), '
            '       (''T602'', ''high'', v.f[4] <> ''t'', ''row-level security is not forced'', '
            '        pg_catalog.format(''ALTER TABLE %s FORCE ROW LEVEL SECURITY;'', $1)), '
            '       (''T603'', ''medium'', v.f[5] <> v.e[5], '
            '        ''pg_tenancy''''s policies differ from the coordinator''''s (missing or changed)'', '
            '        pg_catalog.format(''SELECT tenancy.protect(%L);'', $1)), '
            '       (''T603'', ''medium'', NOT v.success AND v.place LIKE ''shard %'', '
            '        ''the policies could not be inspected'', ''Check that every worker is reachable.'') '
            '       ) AS f(rule, severity, bad, what, remedy) '
            ' WHERE f.bad GROUP BY f.rule, f.severity, f.what, f.remedy'
            USING tbl, tenancy.cluster_policy_state_query(),
                  pg_catalog.format(tenancy.cluster_policy_state_query(), tbl), expected, others;
    END LOOP;

    -- T604-T606: how a context reaches the workers (settings of every node).
    IF forwarding IS DISTINCT FROM 'on' THEN
        RETURN QUERY SELECT 'T604', 'high'::tenancy.severity, 'tenancy.forward_context_to_workers'::text,
            CASE WHEN propagation = 'local'
                 THEN 'the coordinator does not forward contexts, and citus.propagate_set_commands = local: '
                      'the only context the workers could get is a SET LOCAL tenancy.context the application '
                      'sends itself, which pg_tenancy workers refuse unless it is a forwarding context, so '
                      'queries on distributed tables fail there'
                 ELSE pg_catalog.format('the coordinator does not forward contexts (tenancy.forward_context_to_'
                                        'workers is %s) and citus.propagate_set_commands = %s: a context entered '
                                        'here never reaches the workers, so queries on distributed tables fail '
                                        'there (or return nothing)', coalesce(forwarding, 'unknown to this build'),
                                        coalesce(propagation, 'unset')) END,
            'ALTER SYSTEM SET tenancy.forward_context_to_workers = on; SELECT pg_reload_conf();';
    END IF;
    RETURN QUERY EXECUTE
        'SELECT ''T605'', ''high''::tenancy.severity, pg_catalog.format(''%s:%s'', w.nodename, w.nodeport), '
        '       ''worker does not accept forwarded contexts (tenancy.accept_forwarded_context = '' '
        '       || coalesce(NULLIF(w.result, ''''), ''unknown'') || ''): queries on distributed tables fail there'', '
        '       ''On that worker: ALTER SYSTEM SET tenancy.accept_forwarded_context = on; SELECT pg_reload_conf();'' '
        '  FROM pg_catalog.run_command_on_workers(''SELECT pg_catalog.current_setting('
        '''''tenancy.accept_forwarded_context'''', true)'') AS w '
        ' WHERE NOT w.success OR w.result IS DISTINCT FROM ''on''';

    -- T607: Citus's command runners let a role run any SQL on the workers, where
    -- a forwarding context it saw could be replayed (docs/scaling-out.md, step 5).
    RETURN QUERY
    SELECT 'T607', 'high'::tenancy.severity, p.oid::pg_catalog.regprocedure::text,
           pg_catalog.format('%s may execute this Citus command runner: it runs any SQL on the workers directly, '
                             'where a forwarding context it saw could be replayed', app::pg_catalog.regrole),
           pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC, %s;', p.oid::pg_catalog.regprocedure,
                             app::pg_catalog.regrole)
      FROM pg_catalog.pg_proc AS p, pg_catalog.unnest(apps) AS app
     WHERE p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace
       AND p.proname IN ('run_command_on_workers', 'run_command_on_shards', 'run_command_on_placements',
                         'run_command_on_colocated_placements', 'run_command_on_all_nodes',
                         'run_command_on_coordinator', 'master_run_on_worker', 'citus_run_local_command')
       AND pg_catalog.has_function_privilege(app, p.oid, 'EXECUTE')
     ORDER BY 3, 4;

    -- T606: keyrings that differ between nodes (tenancy.keyring_fingerprint()).
    IF fingerprint_fn IS NULL THEN
        RETURN QUERY SELECT 'T606', 'medium'::tenancy.severity, 'keyrings'::text,
            'this build of pg_tenancy has no tenancy.keyring_fingerprint(), so the nodes'' keyrings were not compared',
            'Install the same pg_tenancy release on every node.';
        RETURN;
    END IF;
    RETURN QUERY EXECUTE
        'WITH prints AS (SELECT pg_catalog.format(''%s:%s'', n.nodename, n.nodeport) AS node, a.success, a.result '
        '                  FROM pg_catalog.run_command_on_all_nodes(''SELECT tenancy.keyring_fingerprint()'') AS a '
        '                  JOIN pg_catalog.pg_dist_node AS n ON n.nodeid = a.nodeid), '
        '     mine AS (SELECT tenancy.keyring_fingerprint() AS print) '
        'SELECT ''T606'', ''high''::tenancy.severity, p.node, '
        '       CASE WHEN NOT p.success THEN ''the node''''s keyring could not be read: '' || p.result '
        '            WHEN NULLIF(p.result, '''') IS NULL THEN ''the node''''s keyring is unusable'' '
        '            ELSE ''the node''''s keyring differs from the coordinator''''s: contexts signed on one node '
        '                  fail, or a key removed on one node is still accepted on another'' END, '
        '       ''Install the same keyring file on every node (tenancy.keyring_file), mode 0600.'' '
        '  FROM prints AS p, mine '
        ' WHERE NOT p.success OR NULLIF(p.result, '''') IS NULL OR p.result IS DISTINCT FROM mine.print';
END
$$;
COMMENT ON FUNCTION tenancy.audit_cluster(pg_catalog.oid[]) IS
    'Internal to tenancy.audit(): on a Citus coordinator, the shards'' and workers'' policies, the forwarding '
    'settings of every node, their keyrings, and Citus''s command runners the application may call (rules T6xx)';
REVOKE ALL ON FUNCTION tenancy.audit_cluster(pg_catalog.oid[]) FROM PUBLIC;
