-- H: attacks on the signed context token. Crafted tokens that must pass the
-- signature check are signed with the real HS256 key (:hs_secret), so each
-- case reaches the check it targets; the expected reason proves it did.
\set hdr '{"alg":"HS256","kid":"test-hs","typ":"tenancy-context+jwt"}'

-- @case H01a alg none is refused
BEGIN;
SELECT sectest.enter_refused(sectest.b64url(convert_to('{"alg":"none","kid":"test-hs","typ":"tenancy-context+jwt"}', 'UTF8'))
                             || '.' || split_part(:'tok_alice_a', '.', 2) || '.', '%not a compact JWS%', 'alg none');
ROLLBACK;

-- @case H01b alg None (mixed case) with a valid signature is refused
BEGIN;
SELECT sectest.enter_refused(sectest.b64url(convert_to('{"alg":"None","kid":"test-hs","typ":"tenancy-context+jwt"}', 'UTF8'))
                             || '.' || split_part(:'tok_alice_a', '.', 2) || '.' || split_part(:'tok_alice_a', '.', 3),
                             '%algorithm%', 'alg None');
ROLLBACK;

-- @case H02a key confusion: HS256 signed with the Ed25519 public key is refused
BEGIN;
SELECT sectest.enter_refused(sectest.sign_hs256('{"alg":"HS256","kid":"test-ed","typ":"tenancy-context+jwt"}',
                             format('{"sub":"%s","org":"%s","iat":%s,"exp":%s,"jti":"h02"}', :'alice', :'org_a',
                                    :now, :now + 60), :'ed_public'),
                             '%algorithm does not match%', 'HS256 header on the Ed25519 key');
ROLLBACK;

-- @case H02b key confusion: EdDSA header on the HMAC key is refused
BEGIN;
SELECT sectest.enter_refused(sectest.b64url(convert_to('{"alg":"EdDSA","kid":"test-hs","typ":"tenancy-context+jwt"}', 'UTF8'))
                             || '.' || split_part(:'tok_alice_a', '.', 2) || '.' || split_part(:'tok_alice_a_ed', '.', 3),
                             '%algorithm does not match%', 'EdDSA header on the HMAC key');
ROLLBACK;

-- @case H03 embedded keys (jwk, jku) in the header are refused
BEGIN;
-- The attacker's own key, embedded as a JWK, signing the token.
SELECT sectest.enter_refused(sectest.sign_hs256('{"alg":"HS256","kid":"test-hs","typ":"tenancy-context+jwt","jwk":{"kty":"oct","k":"QUFB"}}',
                             format('{"sub":"%s","org":"%s","iat":%s,"exp":%s,"jti":"h03"}', :'alice', :'org_a',
                                    :now, :now + 60), 'QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE'),
                             '%not a flat JSON object%', 'jwk header signed with the attacker''s key');
-- A jku header on a token the real key signed: still refused, nothing is fetched.
SELECT sectest.enter_refused(sectest.sign_hs256('{"alg":"HS256","kid":"test-hs","typ":"tenancy-context+jwt","jku":"https://evil.example/keys"}',
                             format('{"sub":"%s","org":"%s","iat":%s,"exp":%s,"jti":"h03b"}', :'alice', :'org_a',
                                    :now, :now + 60), :'hs_secret'),
                             '%not a compact JWS with the expected header%', 'jku header');
ROLLBACK;

-- @case H04a kid path traversal is refused
BEGIN;
SELECT sectest.enter_refused(sectest.sign_hs256('{"alg":"HS256","kid":"../../../../dev/null","typ":"tenancy-context+jwt"}',
                             format('{"sub":"%s","org":"%s","iat":%s,"exp":%s,"jti":"h04"}', :'alice', :'org_a',
                                    :now, :now + 60), 'AAAA'), '%key id%', 'kid ../../dev/null');
ROLLBACK;

-- @case H04b kid SQL injection is refused
BEGIN;
SELECT sectest.enter_refused(sectest.sign_hs256('{"alg":"HS256","kid":"x'' UNION SELECT ''k''--","typ":"tenancy-context+jwt"}',
                             format('{"sub":"%s","org":"%s","iat":%s,"exp":%s,"jti":"h04b"}', :'alice', :'org_a',
                                    :now, :now + 60), 'AAAA'), '%key id%', 'kid SQL injection');
ROLLBACK;

-- @case H05a an expired token is refused
BEGIN;
SELECT sectest.enter_refused(:'tok_expired', '%expired%', 'expired');
ROLLBACK;

-- @case H05b a token issued in the future is refused
BEGIN;
SELECT sectest.enter_refused(:'tok_future', '%not valid yet%', 'issued in the future');
ROLLBACK;

-- @case H05c a lifetime above tenancy.max_token_lifetime is refused
BEGIN;
SELECT sectest.enter_refused(:'tok_too_long', '%lifetime%', '24-hour token');
ROLLBACK;

-- @case H05d exp as a string is refused
BEGIN;
SELECT sectest.enter_refused(sectest.sign_hs256(:'hdr', format('{"sub":"%s","org":"%s","iat":%s,"exp":"%s","jti":"h05d"}',
                             :'alice', :'org_a', :now, :now + 60), :'hs_secret'), '%invalid or unexpected claim%',
                             'exp as a string');
ROLLBACK;

-- @case H05e exp as a fraction is refused
BEGIN;
SELECT sectest.enter_refused(sectest.sign_hs256(:'hdr', format('{"sub":"%s","org":"%s","iat":%s,"exp":%s.5,"jti":"h05e"}',
                             :'alice', :'org_a', :now, :now + 60), :'hs_secret'), '%not a flat JSON object%',
                             'exp with a fraction');
ROLLBACK;

-- @case H05f exp as 1e309 and near INT64_MAX are refused
BEGIN;
SELECT sectest.enter_refused(sectest.sign_hs256(:'hdr', format('{"sub":"%s","org":"%s","iat":%s,"exp":1e309,"jti":"h05f"}',
                             :'alice', :'org_a', :now), :'hs_secret'), '%not a flat JSON object%', 'exp 1e309');
ROLLBACK;
BEGIN;
SELECT sectest.enter_refused(sectest.sign_hs256(:'hdr', format('{"sub":"%s","org":"%s","iat":%s,"exp":9223372036854775807,"jti":"h05g"}',
                             :'alice', :'org_a', :now), :'hs_secret'), '%lifetime%', 'exp at INT64_MAX');
ROLLBACK;

-- @case H05g a token without exp is refused
BEGIN;
SELECT sectest.enter_refused(sectest.sign_hs256(:'hdr', format('{"sub":"%s","org":"%s","iat":%s,"jti":"h05h"}',
                             :'alice', :'org_a', :now), :'hs_secret'), '%lacks a required claim%', 'no exp');
ROLLBACK;

-- @case H05h nbf in the future is refused
BEGIN;
SELECT sectest.enter_refused(sectest.sign_hs256(:'hdr', format('{"sub":"%s","org":"%s","iat":%s,"nbf":%s,"exp":%s,"jti":"h05i"}',
                             :'alice', :'org_a', :now, :now + 600, :now + 900), :'hs_secret'), '%not valid yet%',
                             'nbf in the future');
ROLLBACK;

-- @case H06a an invitation token is not a context token
BEGIN;
SELECT sectest.enter_refused('tinv_' || repeat('A', 43), '%not a compact JWS%', 'an invitation token');
ROLLBACK;

-- @case H06b a JWT of another type (typ JWT) is refused
BEGIN;
SELECT sectest.enter_refused(sectest.sign_hs256('{"alg":"HS256","kid":"test-hs","typ":"JWT"}',
                             format('{"sub":"%s","org":"%s","iat":%s,"exp":%s,"jti":"h06b"}', :'alice', :'org_a',
                                    :now, :now + 60), :'hs_secret'), '%not a tenancy context token%', 'typ JWT');
ROLLBACK;

-- @case H06c a context token is not an invitation
BEGIN;
SELECT tenancy.enter(:'tok_alice');
SELECT sectest.refused(format('SELECT tenancy.accept_invitation(%L)', :'tok_alice_a'), '22T01',
                       'a context token passed to accept_invitation');
ROLLBACK;

-- @case H07a an oversized token is refused before parsing
BEGIN;
SELECT sectest.enter_refused(:'tok_alice_a' || repeat('A', 5000), '%larger than 4096%', '9 KB token');
ROLLBACK;

-- @case H07b padded base64 is refused
BEGIN;
SELECT sectest.enter_refused(split_part(:'tok_alice_a', '.', 1) || '=.' || split_part(:'tok_alice_a', '.', 2) || '.'
                             || split_part(:'tok_alice_a', '.', 3), '%base64url%', 'padding');
ROLLBACK;

-- @case H07c a duplicated org claim (properly signed) is refused
BEGIN;
SELECT sectest.enter_refused(sectest.sign_hs256(:'hdr', format('{"sub":"%s","org":"%s","org":"%s","iat":%s,"exp":%s,"jti":"h07c"}',
                             :'alice', :'org_a', :'org_b', :now, :now + 60), :'hs_secret'), '%repeat a member%',
                             'org twice');
ROLLBACK;

-- @case H07d a nested claim value is refused
BEGIN;
SELECT sectest.enter_refused(sectest.sign_hs256(:'hdr', format('{"sub":"%s","org":{"id":"%s"},"iat":%s,"exp":%s,"jti":"h07d"}',
                             :'alice', :'org_b', :now, :now + 60), :'hs_secret'), '%flat JSON%', 'org as an object');
ROLLBACK;

-- @case H07e a deeply nested claims document is refused without a crash
BEGIN;
SELECT sectest.enter_refused(sectest.sign_hs256(:'hdr', '{"x":' || repeat('[', 1000) || repeat(']', 1000) || '}',
                             :'hs_secret'), '%not a flat JSON object%', '1000-deep nesting');
ROLLBACK;

-- @case H07f a NUL escape inside a claim is refused
BEGIN;
SELECT sectest.enter_refused(sectest.sign_hs256(:'hdr', format('{"sub":"%s\u0000","org":"%s","iat":%s,"exp":%s,"jti":"h07f"}',
                             :'alice', :'org_a', :now, :now + 60), :'hs_secret'), '%invalid or unexpected claim%', 'NUL in sub');
ROLLBACK;

-- @case H07g an unknown claim is refused
BEGIN;
SELECT sectest.enter_refused(sectest.sign_hs256(:'hdr', format('{"sub":"%s","org":"%s","iat":%s,"exp":%s,"jti":"h07g","role":"owner"}',
                             :'alice', :'org_a', :now, :now + 60), :'hs_secret'), '%invalid or unexpected claim%',
                             'an extra role claim');
ROLLBACK;

-- @case H08 a malleated Ed25519 signature (S + L) is refused
CREATE FUNCTION pg_temp.add_l(sig bytea) RETURNS bytea LANGUAGE plpgsql AS $$
DECLARE
    -- L, the order of the Ed25519 group, little-endian (RFC 8032 section 5.1)
    l bytea := '\xedd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010'::bytea;
    carry int := 0;
    v int;
BEGIN
    FOR i IN 0..31 LOOP
        v := get_byte(sig, 32 + i) + get_byte(l, i) + carry;
        sig := set_byte(sig, 32 + i, v % 256);
        carry := v / 256;
    END LOOP;
    RETURN sig;
END $$;
BEGIN;
SELECT sectest.enter_refused(split_part(:'tok_alice_a_ed', '.', 1) || '.' || split_part(:'tok_alice_a_ed', '.', 2) || '.'
                             || sectest.b64url(pg_temp.add_l(decode(rpad(translate(split_part(:'tok_alice_a_ed', '.', 3), '-_', '+/'), 88, '='), 'base64'))),
                             '%signature does not verify%', 'S + L');
ROLLBACK;

-- @case H10 no refusal echoes the token
BEGIN;
-- One character of the signature changed (keeping it canonical base64url).
SELECT sectest.enter_refused(overlay(:'tok_alice_a' placing
                                     CASE substr(:'tok_alice_a', length(:'tok_alice_a') - 10, 1) WHEN 'A' THEN 'B' ELSE 'A' END
                                     from length(:'tok_alice_a') - 10 for 1),
                             '%signature does not verify%', 'tampered signature');
ROLLBACK;

-- @case H11 non-member, unknown organization and unknown user get one identical answer
CREATE FUNCTION pg_temp.answer(token text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tenancy.enter(token);
    RETURN 'entered';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
\set tok_no_org `"$TENANCY_CLI" token mint --keyring "$TENANCY_KEYRING" --ttl 600 --user a1000000-0000-4000-8000-000000000001 --org 0c000000-0000-4000-8000-00000000000c`
\set tok_no_user `"$TENANCY_CLI" token mint --keyring "$TENANCY_KEYRING" --ttl 600 --user e5000000-0000-4000-8000-000000000005 --org 0b000000-0000-4000-8000-00000000000b`
BEGIN; SELECT pg_temp.answer(:'tok_alice_b') AS not_member \gset
ROLLBACK;
BEGIN; SELECT pg_temp.answer(:'tok_no_org') AS no_org \gset
ROLLBACK;
BEGIN; SELECT pg_temp.answer(:'tok_no_user') AS no_user \gset
ROLLBACK;
BEGIN; SELECT pg_temp.answer(:'tok_dave_a') AS never_member \gset
ROLLBACK;
SELECT sectest.expect(:'not_member' = :'no_org' AND :'no_org' = :'no_user' AND :'no_user' = :'never_member'
                      AND :'no_org' LIKE '42T01%', 'one answer for all four');
