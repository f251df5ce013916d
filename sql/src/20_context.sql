-- ---------------------------------------------------------------------------
-- The tenant context.
-- ---------------------------------------------------------------------------

-- enter() runs once per tenant transaction, so it is kept cheap: like the
-- readers below it is neither SECURITY DEFINER nor has a SET clause (each makes
-- every call save and restore the settings). It needs neither: it reads
-- pg_tenancy's tables through their indexes in C, which checks no privileges,
-- and resolves no name through search_path.
CREATE FUNCTION tenancy.enter(token text) RETURNS void
    AS 'MODULE_PATHNAME', 'tenancy_enter'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION tenancy.enter(text) IS
    'Verify a signed context token and the membership it names, then set the tenant context for the current '
    'transaction. Pass the token as a bind parameter: SELECT tenancy.enter($1)';

CREATE FUNCTION tenancy.leave() RETURNS void
    AS 'MODULE_PATHNAME', 'tenancy_leave'
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tenancy.leave() IS
    'Clear the tenant context for the rest of the transaction (a new one cannot be entered before COMMIT)';

CREATE FUNCTION tenancy.current_org() RETURNS uuid
    AS 'MODULE_PATHNAME', 'tenancy_current_org'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION tenancy.current_org() IS
    'Organization of the current context; errors (or NULL if tenancy.missing_context = empty) without one';

CREATE FUNCTION tenancy.current_user_id() RETURNS uuid
    AS 'MODULE_PATHNAME', 'tenancy_current_user_id'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION tenancy.current_user_id() IS
    'User of the current context; errors (or NULL if tenancy.missing_context = empty) without one';

CREATE FUNCTION tenancy.has_permission(permission text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'tenancy_has_permission'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION tenancy.has_permission(text) IS
    'Does the current context''s role grant this permission ("*" and "resource.*" grants count)?';

CREATE FUNCTION tenancy.context() RETURNS jsonb
    AS 'MODULE_PATHNAME', 'tenancy_context'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION tenancy.context() IS
    'The current context (user, org, role, permissions, times) as JSON, or NULL; never the token';

-- For the cluster audit: equal on two nodes exactly when their keyrings hold
-- the same keys (a SHA-256 over the key set; no key can be derived from it).
CREATE FUNCTION tenancy.keyring_fingerprint() RETURNS text
    AS 'MODULE_PATHNAME', 'tenancy_keyring_fingerprint'
    LANGUAGE C VOLATILE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION tenancy.keyring_fingerprint() FROM PUBLIC;
COMMENT ON FUNCTION tenancy.keyring_fingerprint() IS
    'SHA-256 (hex) of this node''s keyring key set, to compare keyrings across nodes; NULL if it is unusable';

-- What this backend's caches behind enter() hold and how they served it
-- (extension/src/cache_statistics.cpp; docs/performance.md says what to read
-- in it). Only the calling backend's: ask on the pooled connection itself.
CREATE FUNCTION tenancy.backend_cache_stats(
        OUT cache text, OUT enabled boolean, OUT entries bigint, OUT capacity bigint, OUT hits bigint,
        OUT misses bigint, OUT evictions bigint, OUT bytes bigint, OUT byte_limit bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'tenancy_backend_cache_stats'
    LANGUAGE C VOLATILE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION tenancy.backend_cache_stats() FROM PUBLIC;
COMMENT ON FUNCTION tenancy.backend_cache_stats() IS
    'This backend''s caches behind tenancy.enter() (membership, verified_token, prepared_context): whether each may '
    'answer now, what it holds, its hits, misses and evictions since the backend started';
