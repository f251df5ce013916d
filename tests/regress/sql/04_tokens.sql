-- 04_tokens: tenancy.enter() rejects every malformed, forged, expired or
-- misdirected token with a clear error, and never echoes the token.
\set VERBOSITY terse
\i tests/regress/include/setup_vars.psql
\set good `:mint --user :alice --org :org_a`
\set good_ed `:mint --user :alice --org :org_a --kid test-ed`
\set expired `:mint --user :alice --org :org_a --issued-offset -120 --ttl 60`
\set future `:mint --user :alice --org :org_a --issued-offset 300 --ttl 60`
\set too_long `:mint --user :alice --org :org_a --ttl 7200`
\set in_leeway `:mint --user :alice --org :org_a --issued-offset -63 --ttl 60`
\set not_member `:mint --user :carol --org :org_b`
\set no_such_org `:mint --user :alice --org 00000000-0000-4000-8000-000000000000`
\set no_such_user `:mint --user 00000000-0000-4000-8000-000000000001`
\set no_such_user_org `:mint --user 00000000-0000-4000-8000-000000000001 --org :org_a`
SET ROLE tenancy_app;

-- Helpers to craft tokens in SQL: base64url of a text, and a token from parts.
CREATE TEMP TABLE parts AS
SELECT split_part(:'good', '.', 1) AS header, split_part(:'good', '.', 2) AS payload,
       split_part(:'good', '.', 3) AS signature;
CREATE FUNCTION pg_temp.b64url(t text) RETURNS text LANGUAGE sql AS
$$ SELECT rtrim(translate(encode(convert_to(t, 'UTF8'), 'base64'), E'+/\n', '-_'), '=') $$;
CREATE FUNCTION pg_temp.try_enter(token text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    PERFORM tenancy.enter(token);
    RETURN 'entered';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' (' || nullif(detail, '') || ')', '');
END $$;

BEGIN;
SELECT pg_temp.try_enter(:'good') AS hs256;
ROLLBACK;
BEGIN;
SELECT pg_temp.try_enter(:'good_ed') AS eddsa;
ROLLBACK;
BEGIN;
SELECT pg_temp.try_enter(:'in_leeway') AS expired_within_leeway;
ROLLBACK;

-- Each case in its own transaction, reporting SQLSTATE and message.
CREATE TEMP TABLE cases (name text, token text);
INSERT INTO cases
SELECT 'empty string', '' UNION ALL
SELECT 'garbage', 'not a token' UNION ALL
SELECT 'two parts', header || '.' || payload FROM parts UNION ALL
SELECT 'four parts', :'good' || '.x' UNION ALL
SELECT 'empty signature', header || '.' || payload || '.' FROM parts UNION ALL
SELECT 'truncated signature', left(:'good', length(:'good') - 3) UNION ALL
SELECT 'tampered payload', header || '.' || pg_temp.b64url(replace(convert_from(decode(rpad(translate(payload, '-_', '+/'), (length(payload) + 3) / 4 * 4, '='), 'base64'), 'UTF8'), :'org_a', :'org_b')) || '.' || signature FROM parts UNION ALL
SELECT 'padded base64', header || '=.' || payload || '.' || signature FROM parts UNION ALL
SELECT 'standard base64 alphabet', header || '.' || payload || '.' || translate(signature, '-_', '+/') || '+' FROM parts UNION ALL
SELECT 'alg none', pg_temp.b64url('{"alg":"none","kid":"test-hs","typ":"tenancy-context+jwt"}') || '.' || payload || '.' FROM parts UNION ALL
SELECT 'alg none with signature', pg_temp.b64url('{"alg":"none","kid":"test-hs","typ":"tenancy-context+jwt"}') || '.' || payload || '.' || signature FROM parts UNION ALL
SELECT 'alg HS512', pg_temp.b64url('{"alg":"HS512","kid":"test-hs","typ":"tenancy-context+jwt"}') || '.' || payload || '.' || signature FROM parts UNION ALL
SELECT 'alg RS256', pg_temp.b64url('{"alg":"RS256","kid":"test-hs","typ":"tenancy-context+jwt"}') || '.' || payload || '.' || signature FROM parts UNION ALL
SELECT 'key confusion: EdDSA header on HMAC key', pg_temp.b64url('{"alg":"EdDSA","kid":"test-hs","typ":"tenancy-context+jwt"}') || '.' || payload || '.' || signature FROM parts UNION ALL
SELECT 'key confusion: HS256 header on Ed25519 key', pg_temp.b64url('{"alg":"HS256","kid":"test-ed","typ":"tenancy-context+jwt"}') || '.' || payload || '.' || signature FROM parts UNION ALL
SELECT 'unknown kid', pg_temp.b64url('{"alg":"HS256","kid":"other","typ":"tenancy-context+jwt"}') || '.' || payload || '.' || signature FROM parts UNION ALL
SELECT 'kid path injection', pg_temp.b64url('{"alg":"HS256","kid":"../../../../dev/null","typ":"tenancy-context+jwt"}') || '.' || payload || '.' || signature FROM parts UNION ALL
SELECT 'kid SQL injection', pg_temp.b64url('{"alg":"HS256","kid":"x'' OR ''1''=''1","typ":"tenancy-context+jwt"}') || '.' || payload || '.' || signature FROM parts UNION ALL
SELECT 'embedded jwk header', pg_temp.b64url('{"alg":"HS256","kid":"test-hs","typ":"tenancy-context+jwt","jwk":"x"}') || '.' || payload || '.' || signature FROM parts UNION ALL
SELECT 'jku header', pg_temp.b64url('{"alg":"HS256","kid":"test-hs","typ":"tenancy-context+jwt","jku":"https://evil.example/keys"}') || '.' || payload || '.' || signature FROM parts UNION ALL
SELECT 'wrong typ', pg_temp.b64url('{"alg":"HS256","kid":"test-hs","typ":"JWT"}') || '.' || payload || '.' || signature FROM parts UNION ALL
SELECT 'duplicate alg', pg_temp.b64url('{"alg":"HS256","alg":"none","kid":"test-hs","typ":"tenancy-context+jwt"}') || '.' || payload || '.' || signature FROM parts UNION ALL
SELECT 'header not JSON', pg_temp.b64url('alg=HS256') || '.' || payload || '.' || signature FROM parts UNION ALL
SELECT 'oversized (> 4 KiB)', header || '.' || repeat('A', 4200) || '.' || signature FROM parts UNION ALL
SELECT 'expired', :'expired' UNION ALL
SELECT 'issued in the future', :'future' UNION ALL
SELECT 'lifetime above tenancy.max_token_lifetime', :'too_long' UNION ALL
SELECT 'user not a member of the org', :'not_member' UNION ALL
SELECT 'organization does not exist', :'no_such_org' UNION ALL
SELECT 'user does not exist (user-only token)', :'no_such_user' UNION ALL
SELECT 'user does not exist (org token)', :'no_such_user_org';

SELECT name, pg_temp.try_enter(token) AS outcome FROM cases ORDER BY name;

-- Not a member and no such organization are indistinguishable.
SELECT count(DISTINCT pg_temp.try_enter(token)) AS distinct_messages
  FROM cases WHERE name IN ('user not a member of the org', 'organization does not exist',
                            'user does not exist (org token)');
-- No error message ever contains token material.
SELECT count(*) AS messages_with_token_text
  FROM cases WHERE position(split_part(token, '.', 3) IN pg_temp.try_enter(token)) > 0
               AND split_part(token, '.', 3) <> '';

-- A member removed from the organization is refused at the next enter, although
-- the token in hand is still unexpired.
\set tok_carol `:mint --user :carol --org :org_a`
BEGIN;
SELECT pg_temp.try_enter(:'tok_carol') AS before_removal;
ROLLBACK;
RESET ROLE;
DELETE FROM tenancy.memberships WHERE user_id = :'carol';
SET ROLE tenancy_app;
BEGIN;
SELECT pg_temp.try_enter(:'tok_carol') AS after_removal;
ROLLBACK;
RESET ROLE;
INSERT INTO tenancy.memberships (organization_id, user_id, role_id)
SELECT :'org_a', :'carol', id FROM tenancy.roles WHERE organization_id = :'org_a' AND code = 'agent';
