-- ---------------------------------------------------------------------------
-- Rules T6xx: a Citus cluster, seen from its coordinator (issue 15). Shards and
-- the workers' copies of protected tables carry their own policies (Citus
-- re-creates the restrictive guard as PERMISSIVE on them), and every node has
-- its own settings and keyring. Nothing here runs without Citus: every call into
-- it is dynamic, and on a worker or a plain server this returns no rows.
-- ---------------------------------------------------------------------------

-- What one shard or copy of a table looks like, as one line: the guard
-- (restrictive, permissive or missing), RLS enabled, RLS forced, and a digest
-- of pg_tenancy's policies (names, commands, expressions; not the guard's kind).
-- %1$L is the relation, filled in by format() (run_command_on_shards does that).
CREATE FUNCTION tenancy.cluster_policy_state_query() RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN 'SELECT pg_catalog.concat_ws(''|'', '
           'coalesce((SELECT CASE WHEN p.polpermissive THEN ''permissive'' ELSE ''restrictive'' END '
           'FROM pg_catalog.pg_policy AS p WHERE p.polrelid = %1$L::pg_catalog.regclass '
           'AND p.polname = ''tenancy_guard''), ''missing''), c.relrowsecurity, c.relforcerowsecurity, '
           'pg_catalog.md5(coalesce((SELECT pg_catalog.string_agg(pg_catalog.concat_ws('':'', p.polname, p.polcmd, '
           'pg_catalog.pg_get_expr(p.polqual, p.polrelid), pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)), '
           ''';'' ORDER BY p.polname) FROM pg_catalog.pg_policy AS p WHERE p.polrelid = c.oid '
           'AND p.polname IN (''tenancy_isolation'', ''tenancy_guard'', ''tenancy_read'', ''tenancy_insert'', '
           '''tenancy_update'', ''tenancy_delete'')), ''''))) '
           'FROM pg_catalog.pg_class AS c WHERE c.oid = %1$L::pg_catalog.regclass';
REVOKE ALL ON FUNCTION tenancy.cluster_policy_state_query() FROM PUBLIC;

CREATE FUNCTION tenancy.audit_cluster() RETURNS SETOF tenancy.finding
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    is_coordinator boolean := false;
    tbl pg_catalog.regclass;
    expected text;
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
        -- A worker without a copy of the table (no metadata synced) answers with an error: skipped.
        RETURN QUERY EXECUTE
            'WITH s AS MATERIALIZED ('
            '    SELECT ''shard '' || s.shardid AS place, s.success, s.result AS state '
            '      FROM pg_catalog.run_command_on_shards($1, $2) AS s '
            '    UNION ALL '
            '    SELECT pg_catalog.format(''%s:%s'', w.nodename, w.nodeport), w.success, w.result '
            '      FROM pg_catalog.run_command_on_workers($3) AS w), '
            'n AS (SELECT pg_catalog.count(*) AS total FROM s) '
            'SELECT f.rule, f.severity::tenancy.severity, $1::text, '
            '       pg_catalog.format(''%s on %s of %s shards and worker copies: %s%s'', f.what, pg_catalog.count(*), '
            '                         pg_catalog.max(n.total), pg_catalog.array_to_string((pg_catalog.array_agg('
            '                         s.place ORDER BY s.place))[1:4], '', ''), '
            '                         CASE WHEN pg_catalog.count(*) > 4 THEN '', ...'' ELSE '''' END), f.remedy '
            '  FROM s CROSS JOIN n CROSS JOIN LATERAL (VALUES '
            '       (''T601'', ''critical'', s.success AND pg_catalog.split_part(s.state, ''|'', 1) <> ''restrictive'', '
            '        ''pg_tenancy''''s guard tenancy_guard is '' || pg_catalog.split_part(s.state, ''|'', 1) '
            '        || '' (Citus re-creates policies as PERMISSIVE)'', '
            '        ''Do not rely on the guard on shards: every permissive policy must carry the tenant condition '
            '(docs/security.md, Scaling out).''), '
            '       (''T601'', ''critical'', s.success AND pg_catalog.split_part(s.state, ''|'', 2) <> ''t'', '
            '        ''row-level security is disabled'', '
            '        pg_catalog.format(''ALTER TABLE %s ENABLE ROW LEVEL SECURITY;'', $1)), '
            '       (''T602'', ''high'', s.success AND pg_catalog.split_part(s.state, ''|'', 3) <> ''t'', '
            '        ''row-level security is not forced'', '
            '        pg_catalog.format(''ALTER TABLE %s FORCE ROW LEVEL SECURITY;'', $1)), '
            '       (''T603'', ''medium'', s.success AND pg_catalog.split_part(s.state, ''|'', 4) '
            '        <> pg_catalog.split_part($4, ''|'', 4), '
            '        ''pg_tenancy''''s policies differ from the coordinator''''s (missing or changed)'', '
            '        pg_catalog.format(''SELECT tenancy.protect(%L);'', $1)), '
            '       (''T603'', ''medium'', NOT s.success AND s.place LIKE ''shard %'', '
            '        ''the policies could not be inspected'', ''Check that every worker is reachable.'') '
            '       ) AS f(rule, severity, bad, what, remedy) '
            ' WHERE f.bad GROUP BY f.rule, f.severity, f.what, f.remedy'
            USING tbl, tenancy.cluster_policy_state_query(),
                  pg_catalog.format(tenancy.cluster_policy_state_query(), tbl), expected;
    END LOOP;

    -- T604-T606: how a context reaches the workers (settings of every node).
    IF forwarding IS DISTINCT FROM 'on' THEN
        RETURN QUERY SELECT 'T604', 'high'::tenancy.severity, 'tenancy.forward_context_to_workers'::text,
            CASE WHEN propagation = 'local'
                 THEN 'the coordinator does not forward contexts, and citus.propagate_set_commands = local: a '
                      'context reaches the workers only as the application''s raw token in SET LOCAL text, '
                      'visible in the workers'' pg_stat_activity, unchecked for membership, and replayable'
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
COMMENT ON FUNCTION tenancy.audit_cluster() IS
    'Internal to tenancy.audit(): on a Citus coordinator, the shards'' and workers'' policies, the forwarding '
    'settings of every node and their keyrings (rules T6xx)';
REVOKE ALL ON FUNCTION tenancy.audit_cluster() FROM PUBLIC;
