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
REVOKE ALL ON FUNCTION tenancy.permission_array(jsonb) FROM PUBLIC;
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
REVOKE ALL ON FUNCTION tenancy.valid_permissions(jsonb) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.valid_permissions(jsonb) IS
    'True for a JSON array of distinct valid permission strings';

CREATE FUNCTION tenancy.is_valid_email(email text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN pg_catalog.length(email) OPERATOR(pg_catalog.<=) 320
       AND email OPERATOR(pg_catalog.~) '^[^@[:space:]]+@[^@[:space:]]+$';
COMMENT ON FUNCTION tenancy.is_valid_email(text) IS 'True for name@domain, at most 320 characters';

-- One normalization for email identity, used wherever addresses are compared
-- (registration's unique index, invitations, acceptance, revocation): Unicode
-- NFKC (compatibility forms fold: the KELVIN SIGN U+212A becomes "K"), then
-- lower case under the ICU root locale, then NFKC again (lower-casing can leave
-- a string that is not NFKC). Stored addresses keep the spelling they were given.
-- Outside UTF-8 databases (no Unicode normalization) only the lower-casing applies.
CREATE FUNCTION tenancy.normalize_email(email text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN CASE WHEN pg_catalog.getdatabaseencoding() OPERATOR(pg_catalog.=) 'UTF8'
                THEN pg_catalog.normalize(pg_catalog.lower(pg_catalog.normalize(email, 'NFKC') COLLATE "und-x-icu"), 'NFKC')
                ELSE pg_catalog.lower(email) END;
REVOKE ALL ON FUNCTION tenancy.normalize_email(text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.normalize_email(text) IS
    'The form in which email addresses are compared: NFKC, lower case (ICU root locale), NFKC';

-- Every error that quotes caller input quotes it through this: at most 64
-- characters (then an ellipsis), control characters shown as "?", so a 100 kB
-- argument never lands whole in an error or in the server log. Executable by
-- PUBLIC: invoker-rights callers such as protect() quote through it too.
CREATE FUNCTION tenancy.echo_safe(input text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN CASE WHEN input IS NULL THEN '(null)'
                ELSE pg_catalog.regexp_replace(pg_catalog.left(input, 64), '[[:cntrl:]]', '?', 'g')
                     OPERATOR(pg_catalog.||) CASE WHEN pg_catalog.length(input) OPERATOR(pg_catalog.>) 64
                                                  THEN '...' ELSE '' END END;
COMMENT ON FUNCTION tenancy.echo_safe(text) IS
    'Caller input as quoted in error messages: at most 64 characters, then an ellipsis';
