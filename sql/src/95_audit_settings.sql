-- ---------------------------------------------------------------------------
-- Rules T5xx: server settings.
-- ---------------------------------------------------------------------------

-- The server's own value of a setting, not the auditor's session's: the last
-- applied line of the configuration files, or the value given on the server's
-- command line, or the built-in default. (A command-line value that the
-- auditor's own session overrides is not seen.)
CREATE FUNCTION tenancy.server_setting(setting_name text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    value text;
BEGIN
    SELECT CASE WHEN s.source IN ('default', 'configuration file', 'command line', 'environment variable',
                                  'override')
                THEN s.setting END
      INTO value FROM pg_catalog.pg_settings AS s WHERE s.name = setting_name;
    IF value IS NULL THEN
        BEGIN
            SELECT f.setting INTO value FROM pg_catalog.pg_file_settings AS f
             WHERE f.name = setting_name AND f.applied ORDER BY f.seqno DESC LIMIT 1;
        EXCEPTION WHEN insufficient_privilege THEN
            NULL; -- pg_file_settings is for superusers: fall back to the default
        END;
    END IF;
    RETURN coalesce(value, (SELECT s.boot_val FROM pg_catalog.pg_settings AS s WHERE s.name = setting_name));
END
$$;
REVOKE ALL ON FUNCTION tenancy.server_setting(text) FROM PUBLIC;

-- A stored time setting in milliseconds ('1ms', '5s', '2min', '250' in the
-- setting's unit, milliseconds for the timeouts), or NULL if it does not parse.
CREATE FUNCTION tenancy.setting_ms(value text) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.substring(value, '^\s*([0-9]+(?:\.[0-9]+)?)')::numeric
           * CASE pg_catalog.substring(value, '^\s*[0-9.]+\s*(us|ms|s|min|h|d)\s*$')
                  WHEN 'us' THEN 0.001 WHEN 's' THEN 1000 WHEN 'min' THEN 60000 WHEN 'h' THEN 3600000
                  WHEN 'd' THEN 86400000 ELSE 1 END
     WHERE value ~ '^\s*[0-9]+(\.[0-9]+)?\s*(us|ms|s|min|h|d)?\s*$'
$$;
REVOKE ALL ON FUNCTION tenancy.setting_ms(text) FROM PUBLIC;

CREATE FUNCTION tenancy.audit_settings(apps pg_catalog.oid[]) RETURNS SETOF tenancy.finding
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    -- What a new session of each audited role starts with (app 0: any role):
    -- role-in-database, role, then database defaults over the server's value.
    -- Values keep their units ('1s', '64kB'), so they are compared as text.
    WITH setting_for AS (
        SELECT app, s.name, coalesce(
                   (SELECT pg_catalog.substr(c, pg_catalog.length(s.name) + 2)
                      FROM pg_catalog.pg_db_role_setting AS d, pg_catalog.unnest(d.setconfig) AS c
                     WHERE c LIKE s.name || '=%'
                       AND (d.setrole = app OR d.setrole = 0)
                       AND d.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database
                                                  WHERE datname = pg_catalog.current_database()))
                     ORDER BY d.setrole = app DESC, d.setdatabase <> 0 DESC LIMIT 1),
                   tenancy.server_setting(s.name)) AS value
          FROM pg_catalog.unnest(apps || ARRAY[0::pg_catalog.oid]) AS app, pg_catalog.pg_settings AS s
         WHERE s.name IN ('log_statement', 'log_min_duration_statement', 'log_min_duration_sample',
                          'log_parameter_max_length', 'log_parameter_max_length_on_error')
    ),
    logging AS (
        SELECT app, statement, duration, sample, param_len, error_len,
               pg_catalog.lower(statement) = 'all' OR duration !~ '^\s*-' OR sample !~ '^\s*-' AS logs_statements,
               param_len !~ '^\s*0+\s*[A-Za-z]*\s*$' AS logs_parameters,
               error_len !~ '^\s*0+\s*[A-Za-z]*\s*$' AS logs_parameters_on_error
          FROM (SELECT app,
                       pg_catalog.max(value) FILTER (WHERE name = 'log_statement') AS statement,
                       pg_catalog.max(value) FILTER (WHERE name = 'log_min_duration_statement') AS duration,
                       pg_catalog.max(value) FILTER (WHERE name = 'log_min_duration_sample') AS sample,
                       pg_catalog.max(value) FILTER (WHERE name = 'log_parameter_max_length') AS param_len,
                       pg_catalog.max(value) FILTER (WHERE name = 'log_parameter_max_length_on_error') AS error_len
                  FROM setting_for GROUP BY app) AS v
    ),
    version AS (
        SELECT pg_catalog.current_setting('server_version_num')::integer AS num,
               CASE pg_catalog.current_setting('server_version_num')::integer / 10000
                    WHEN 15 THEN 150014 WHEN 16 THEN 160010 WHEN 17 THEN 170006 ELSE 0 END AS minimum
    )
    SELECT 'T501', 'critical'::tenancy.severity, 'shared_preload_libraries',
           'pg_tenancy is not preloaded: until a session loads it, tenancy.* settings are unchecked placeholders',
           'ALTER SYSTEM SET shared_preload_libraries = ''pg_tenancy''; -- append to the existing list, then restart'
     WHERE NOT 'pg_tenancy' = ANY (pg_catalog.string_to_array(
                   pg_catalog.replace(pg_catalog.current_setting('shared_preload_libraries'), ' ', ''), ','))
    UNION ALL
    SELECT 'T502', 'critical'::tenancy.severity,
           CASE WHEN d.setrole = 0 AND d.setdatabase = 0 THEN 'all roles'
                WHEN d.setrole = 0 THEN pg_catalog.format('database %I', db.datname)
                WHEN d.setdatabase = 0 THEN pg_catalog.format('role %s', d.setrole::pg_catalog.regrole)
                ELSE pg_catalog.format('role %s in database %I', d.setrole::pg_catalog.regrole, db.datname) END,
           pg_catalog.format('a stored default sets %s for every new session',
                             pg_catalog.split_part(c, '=', 1)),
           CASE WHEN d.setrole = 0 AND d.setdatabase = 0
                THEN pg_catalog.format('ALTER ROLE ALL RESET %s;', pg_catalog.split_part(c, '=', 1))
                WHEN d.setrole = 0
                THEN pg_catalog.format('ALTER DATABASE %I RESET %s;', db.datname, pg_catalog.split_part(c, '=', 1))
                ELSE pg_catalog.format('ALTER ROLE %s%s RESET %s;', d.setrole::pg_catalog.regrole,
                                       CASE WHEN d.setdatabase = 0 THEN ''
                                            ELSE pg_catalog.format(' IN DATABASE %I', db.datname) END,
                                       pg_catalog.split_part(c, '=', 1)) END
      FROM pg_catalog.pg_db_role_setting AS d
      CROSS JOIN LATERAL pg_catalog.unnest(d.setconfig) AS c
      LEFT JOIN pg_catalog.pg_database AS db ON db.oid = d.setdatabase
     WHERE c LIKE 'tenancy.%'
    UNION ALL
    SELECT 'T503', 'high'::tenancy.severity, pg_catalog.format('parameter %s', pa.parname),
           pg_catalog.format('%s was granted %s on a pg_tenancy parameter',
                             CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::pg_catalog.regrole::text END,
                             a.privilege_type),
           pg_catalog.format('REVOKE %s ON PARAMETER %s FROM %s;', a.privilege_type, pa.parname,
                             CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::pg_catalog.regrole::text END)
      FROM pg_catalog.pg_parameter_acl AS pa, pg_catalog.aclexplode(pa.paracl) AS a
     WHERE pa.parname LIKE 'tenancy.%'
       AND (a.grantee = 0 OR NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.oid = a.grantee))
    UNION ALL
    SELECT 'T504', CASE WHEN v.num < v.minimum - 5 THEN 'critical' ELSE 'high' END::tenancy.severity, 'server_version',
           pg_catalog.format('PostgreSQL %s lacks fixes for row-level security and statistics leaks '
                             '(CVE-2023-39418, CVE-2024-10976, CVE-2025-8713); the first fixed minor release is %s.%s',
                             pg_catalog.current_setting('server_version'), v.minimum / 10000, v.minimum % 100),
           'Upgrade to the latest minor release of your major version.'
      FROM version AS v WHERE v.num < v.minimum
    UNION ALL
    SELECT 'T505', 'high'::tenancy.severity,
           CASE WHEN l.app = 0 THEN 'server logging' ELSE pg_catalog.format('logging for role %s', l.app::pg_catalog.regrole) END,
           pg_catalog.format('%s and log_parameter_max_length = %s: the server log records bind parameters, '
                             'so every context token passed to tenancy.enter($1)',
                             CASE WHEN pg_catalog.lower(l.statement) = 'all' THEN 'log_statement = all'
                                  WHEN l.duration !~ '^\s*-' THEN 'log_min_duration_statement = ' || l.duration
                                  ELSE 'log_min_duration_sample = ' || l.sample END, l.param_len),
           CASE WHEN l.app = 0 THEN 'ALTER SYSTEM SET log_parameter_max_length = 0; SELECT pg_reload_conf();'
                ELSE pg_catalog.format('ALTER ROLE %s SET log_parameter_max_length = 0;', l.app::pg_catalog.regrole) END
      FROM logging AS l
     WHERE l.logs_statements AND l.logs_parameters
       AND (l.app = 0 OR NOT EXISTS (SELECT 1 FROM logging AS g
                                      WHERE g.app = 0 AND g.logs_statements AND g.logs_parameters))
    UNION ALL
    SELECT 'T505', 'high'::tenancy.severity,
           CASE WHEN l.app = 0 THEN 'server logging' ELSE pg_catalog.format('logging for role %s', l.app::pg_catalog.regrole) END,
           pg_catalog.format('log_parameter_max_length_on_error = %s: a failing statement logs its bind '
                             'parameters, context tokens included', l.error_len),
           CASE WHEN l.app = 0 THEN 'ALTER SYSTEM SET log_parameter_max_length_on_error = 0; SELECT pg_reload_conf();'
                ELSE pg_catalog.format('ALTER ROLE %s SET log_parameter_max_length_on_error = 0;',
                                       l.app::pg_catalog.regrole) END
      FROM logging AS l
     WHERE l.logs_parameters_on_error
       AND (l.app = 0 OR NOT EXISTS (SELECT 1 FROM logging AS g WHERE g.app = 0 AND g.logs_parameters_on_error))
    UNION ALL
    -- the server's value, not the auditor's session's (stored values: T509)
    SELECT 'T506', 'high'::tenancy.severity, 'lo_compat_privileges',
           'lo_compat_privileges is on: any role can read and write every large object, whoever stored it',
           'ALTER SYSTEM SET lo_compat_privileges = off; SELECT pg_reload_conf();'
     WHERE tenancy.server_setting('lo_compat_privileges')::boolean
    UNION ALL
    SELECT 'T507', 'medium'::tenancy.severity, 'tenancy.accept_forwarded_context',
           'forwarded contexts are accepted (meant for Citus workers only): a session holding a forwarding context '
           'signed with a use:forward key gets it here, within tenancy.forwarding_lifetime and its distributed '
           'transaction, without a membership check on this node',
           'on nodes that are not Citus workers: ALTER SYSTEM SET tenancy.accept_forwarded_context = off; '
           'SELECT pg_reload_conf();'
     WHERE pg_catalog.current_setting('tenancy.accept_forwarded_context', true) = 'on'
    UNION ALL
    -- T509: every setting stored for an audited role or for this database (ALTER
    -- ROLE ... [IN DATABASE ...] SET, ALTER DATABASE ... SET): each new session of
    -- the application starts with it. Any role may store settings for itself.
    -- tenancy.* settings are T502.
    SELECT 'T509', st.severity, st.object,
           pg_catalog.format('stored setting %s = %s applies to every new session%s', st.name, st.value, st.why),
           st.remedy
      FROM (SELECT v.*,
                   CASE WHEN v.name IN ('statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout',
                                        'idle_session_timeout')
                             AND coalesce(tenancy.setting_ms(v.value) BETWEEN 0.0001 AND 999.9999, true)
                        THEN 'high'
                        WHEN v.name IN ('session_replication_role', 'role', 'session_authorization',
                                        'lo_compat_privileges', 'default_transaction_read_only')
                        THEN 'high'
                        WHEN v.name IN ('search_path', 'row_security', 'default_transaction_isolation',
                                        'temp_tablespaces', 'default_tablespace')
                        THEN 'medium'
                        ELSE 'info' END::tenancy.severity AS severity,
                   CASE WHEN v.name IN ('statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout',
                                        'idle_session_timeout')
                        THEN ': a tiny timeout makes every tenant''s statements or sessions fail (availability)'
                        WHEN v.name = 'session_replication_role'
                        THEN ': as replica, ordinary triggers (tenancy_org_immutable among them) stop firing'
                        WHEN v.name = 'lo_compat_privileges'
                        THEN ': every large object is readable and writable, whoever stored it'
                        WHEN v.name = 'search_path'
                        THEN ': it decides what unqualified names in the application''s SQL resolve to'
                        ELSE '' END AS why
              FROM (SELECT pg_catalog.split_part(c, '=', 1) AS name,
                           pg_catalog.substr(c, pg_catalog.strpos(c, '=') + 1) AS value,
                           CASE WHEN d.setrole = 0 AND d.setdatabase = 0 THEN 'all roles'
                                WHEN d.setrole = 0 THEN pg_catalog.format('database %I', db.datname)
                                WHEN d.setdatabase = 0 THEN pg_catalog.format('role %s', d.setrole::pg_catalog.regrole)
                                ELSE pg_catalog.format('role %s in database %I', d.setrole::pg_catalog.regrole,
                                                       db.datname) END AS object,
                           CASE WHEN d.setrole = 0 AND d.setdatabase = 0
                                THEN pg_catalog.format('ALTER ROLE ALL RESET %s;', pg_catalog.split_part(c, '=', 1))
                                WHEN d.setrole = 0
                                THEN pg_catalog.format('ALTER DATABASE %I RESET %s;', db.datname,
                                                       pg_catalog.split_part(c, '=', 1))
                                ELSE pg_catalog.format('ALTER ROLE %s%s RESET %s;', d.setrole::pg_catalog.regrole,
                                                       CASE WHEN d.setdatabase = 0 THEN ''
                                                            ELSE pg_catalog.format(' IN DATABASE %I', db.datname)
                                                       END, pg_catalog.split_part(c, '=', 1)) END AS remedy
                      FROM pg_catalog.pg_db_role_setting AS d
                      CROSS JOIN LATERAL pg_catalog.unnest(d.setconfig) AS c
                      LEFT JOIN pg_catalog.pg_database AS db ON db.oid = d.setdatabase
                     WHERE (d.setrole = 0 OR d.setrole = ANY (apps))
                       AND (d.setdatabase = 0 OR db.datname = pg_catalog.current_database())
                       AND c NOT LIKE 'tenancy.%') AS v) AS st
$$;
REVOKE ALL ON FUNCTION tenancy.audit_settings(pg_catalog.oid[]) FROM PUBLIC;

-- T508: tokens recorded in pg_stat_statements (needs the view; skipped without it).
CREATE FUNCTION tenancy.audit_statement_texts() RETURNS SETOF tenancy.finding
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    view_name pg_catalog.regclass;
    hits bigint;
BEGIN
    -- Only the view the extension itself installed: a look-up by name could find
    -- a look-alike in a schema (or another session's temporary schema) that a
    -- less privileged role controls, and this runs as the auditor.
    SELECT c.oid INTO view_name
      FROM pg_catalog.pg_extension AS e
      JOIN pg_catalog.pg_depend AS d ON d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
       AND d.refobjid = e.oid AND d.deptype = 'e' AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
      JOIN pg_catalog.pg_class AS c ON c.oid = d.objid AND c.relname = 'pg_stat_statements' AND c.relkind = 'v'
     WHERE e.extname = 'pg_stat_statements';
    IF view_name IS NULL THEN
        RETURN;
    END IF;
    BEGIN
        -- A JWS header always starts with eyJ ({" in base64url).
        EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %s WHERE query ~ ''eyJ[A-Za-z0-9_-]{10,}\.'' '
                                  'AND dbid = (SELECT oid FROM pg_catalog.pg_database '
                                  'WHERE datname = pg_catalog.current_database())', view_name) INTO hits;
    EXCEPTION WHEN OTHERS THEN
        RETURN; -- not loaded in shared_preload_libraries, or not readable
    END;
    IF hits > 0 THEN
        RETURN QUERY SELECT 'T508', 'high'::tenancy.severity, view_name::text,
            pg_catalog.format('%s statement(s) recorded for this database contain a token-like literal: a token '
                              'was written into SQL text instead of being bound as a parameter', hits),
            'Pass tokens as bind parameters (SELECT tenancy.enter($1)), then SELECT pg_stat_statements_reset();';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy.audit_statement_texts() FROM PUBLIC;
