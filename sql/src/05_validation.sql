-- ---------------------------------------------------------------------------
-- Validation shared with the C code (one implementation: the C functions).
-- ---------------------------------------------------------------------------

CREATE FUNCTION tenancy.is_valid_permission(permission text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'tenancy_is_valid_permission'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tenancy.is_valid_permission(text) IS
    'True for "*", "resource.*" or "resource.action" (lower-case [a-z0-9_] segments, at most 100 bytes)';

CREATE FUNCTION tenancy.is_valid_role_code(code text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'tenancy_is_valid_role_code'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tenancy.is_valid_role_code(text) IS
    'True for a role code: a lower-case letter, then up to 62 of [a-z0-9_-]';

CREATE FUNCTION tenancy.permission_array(permissions jsonb) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN ARRAY(SELECT pg_catalog.jsonb_array_elements_text(permissions));
COMMENT ON FUNCTION tenancy.permission_array(jsonb) IS 'A role''s permissions as text[] (for tenancy.permissions_cover())';

CREATE FUNCTION tenancy.valid_permissions(permissions jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN pg_catalog.jsonb_typeof(permissions) OPERATOR(pg_catalog.=) 'array'
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(permissions) AS e(value)
                        WHERE pg_catalog.jsonb_typeof(e.value) OPERATOR(pg_catalog.<>) 'string'
                           OR NOT tenancy.is_valid_permission(e.value OPERATOR(pg_catalog.#>>) '{}'))
       AND (SELECT pg_catalog.count(DISTINCT e.value) OPERATOR(pg_catalog.=) pg_catalog.count(*)
              FROM pg_catalog.jsonb_array_elements(permissions) AS e(value));
COMMENT ON FUNCTION tenancy.valid_permissions(jsonb) IS
    'True for a JSON array of distinct valid permission strings';

CREATE FUNCTION tenancy.is_valid_email(email text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN pg_catalog.length(email) OPERATOR(pg_catalog.<=) 320
       AND email OPERATOR(pg_catalog.~) '^[^@[:space:]]+@[^@[:space:]]+$';
COMMENT ON FUNCTION tenancy.is_valid_email(text) IS 'True for name@domain, at most 320 characters';
