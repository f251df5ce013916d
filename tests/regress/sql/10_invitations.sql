-- 10_invitations: invitation tokens are random, shown once, stored hashed,
-- bound to organization, role and email, single-use, re-validated at
-- acceptance, and every failure looks the same. Each attack from the seed
-- design (expired, reused, predictable, role changed in transit) has a case.
\set VERBOSITY terse
\i tests/regress/include/setup_vars.psql
SELECT tenancy.register_user('dave', 'dave@acme.example') AS dave \gset
SELECT tenancy.register_user('frank', 'frank@acme.example') AS frank \gset
SELECT tenancy.register_user('gina', 'gina@acme.example') AS gina \gset
\set alice_a `:mint --user :alice --org :org_a`
\set carol_a `:mint --user :carol --org :org_a`
\set dave_u `:mint --user :dave`
\set dave_a `:mint --user :dave --org :org_a`
\set frank_u `:mint --user :frank`
\set gina_u `:mint --user :gina`
\set bob_b `:mint --user :bob --org :org_b`
SET ROLE tenancy_app;
\set ON_ERROR_ROLLBACK on

CREATE FUNCTION pg_temp.try_accept(token text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN 'joined ' || (tenancy.accept_invitation(token) IS NOT NULL)::text;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- Alice (owner) invites Dave as an agent; the token is returned once.
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT tenancy.invite('Dave@Acme.example', 'agent') AS dave_token \gset
SELECT :'dave_token' ~ '^tinv_[A-Za-z0-9_-]{43}$' AS has_256_random_bits;
-- Bad input.
SELECT tenancy.invite('not-an-email', 'agent');
SELECT tenancy.invite('x@acme.example', 'no-such-role');
SELECT tenancy.invite('x@acme.example', 'agent', '0 seconds');
SELECT tenancy.invite('x@acme.example', 'agent', '31 days');
SELECT tenancy.invite(NULL, 'agent');
SELECT email, role_code, status FROM tenancy.list_invitations();
-- The listing has no token and no hash.
SELECT string_agg(column_name, ', ') AS listed_columns
  FROM (SELECT unnest(proargnames[1:]) AS column_name FROM pg_proc
         WHERE oid = 'tenancy.list_invitations'::regproc) AS c;
COMMIT;
RESET ROLE;
SELECT count(*) AS stored_as_sha256 FROM tenancy.invitations
 WHERE token_hash = sha256(convert_to(:'dave_token', 'UTF8'));
SELECT count(*) AS stored_in_clear FROM tenancy.invitations i
 WHERE position(:'dave_token' in i::text) > 0;
SET ROLE tenancy_app;

-- Accepting needs a user-only context.
SELECT pg_temp.try_accept(:'dave_token') AS without_context;
-- Not yours: Frank has the token but not the email.
BEGIN;
SELECT tenancy.enter(:'frank_u');
SELECT pg_temp.try_accept(:'dave_token') AS not_yours;
ROLLBACK;
-- Dave accepts (email matched case-insensitively).
BEGIN;
SELECT tenancy.enter(:'dave_u');
SELECT pg_temp.try_accept(:'dave_token') AS dave_accepts;
COMMIT;
BEGIN;
SELECT tenancy.enter(:'dave_a');
SELECT tenancy.context()->'role'->>'code' AS dave_role;
COMMIT;
-- Reused: a second acceptance fails, by anyone.
BEGIN;
SELECT tenancy.enter(:'dave_u');
SELECT pg_temp.try_accept(:'dave_token') AS reused;
ROLLBACK;

-- Every failure gives the same answer.
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT tenancy.invite('frank@acme.example', 'helper', '1 minute') AS expiring_token \gset
SELECT tenancy.invite('frank@acme.example', 'helper') AS revoked_token \gset
COMMIT;
RESET ROLE;
SELECT id AS revoked_id FROM tenancy.invitations WHERE token_hash = sha256(convert_to(:'revoked_token', 'UTF8')) \gset
SET ROLE tenancy_app;
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT tenancy.revoke_invitation(:'revoked_id');
SELECT tenancy.revoke_invitation(:'revoked_id');
SELECT tenancy.revoke_invitation('00000000-0000-4000-8000-000000000000');
COMMIT;
RESET ROLE;
-- Let the first one expire.
UPDATE tenancy.invitations SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 hour'
 WHERE token_hash = sha256(convert_to(:'expiring_token', 'UTF8'));
SET ROLE tenancy_app;
BEGIN;
SELECT tenancy.enter(:'frank_u');
SELECT 'expired' AS attack, pg_temp.try_accept(:'expiring_token') AS outcome
UNION ALL SELECT 'revoked', pg_temp.try_accept(:'revoked_token')
UNION ALL SELECT 'unknown', pg_temp.try_accept('tinv_' || repeat('A', 43))
UNION ALL SELECT 'predictable (sequential guess)', pg_temp.try_accept('tinv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB')
UNION ALL SELECT 'truncated', pg_temp.try_accept(left(:'dave_token', 20))
UNION ALL SELECT 'empty', pg_temp.try_accept('')
UNION ALL SELECT 'null', pg_temp.try_accept(NULL)
UNION ALL SELECT 'a context token instead', pg_temp.try_accept(:'alice_a')
UNION ALL SELECT 'someone else''s (used)', pg_temp.try_accept(:'dave_token');
ROLLBACK;
-- And an invitation token is not a context token.
BEGIN;
SELECT tenancy.enter(:'dave_token');
ROLLBACK;

-- Escalation: Carol (lead: tickets.read, members.*) cannot invite with more
-- than she holds, nor as owner.
BEGIN;
SELECT tenancy.enter(:'carol_a');
SELECT tenancy.invite('gina@acme.example', 'agent');
SELECT tenancy.invite('gina@acme.example', 'owner');
SELECT tenancy.invite('GINA@acme.example', 'helper') AS gina_token \gset
COMMIT;

-- Role changed in transit: Carol loses tickets.read before Gina accepts; the
-- invitation is re-validated and refused.
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT tenancy.update_role('lead', permissions => '["roles.read", "members.read", "members.invite", "members.manage"]');
COMMIT;
BEGIN;
SELECT tenancy.enter(:'gina_u');
SELECT pg_temp.try_accept(:'gina_token') AS role_changed_in_transit;
ROLLBACK;
-- Restored, it works (the token was not consumed by the failed attempt).
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT tenancy.update_role('lead', permissions =>
       '["roles.read", "roles.manage", "members.read", "members.invite", "members.manage", "tickets.read"]');
COMMIT;
BEGIN;
SELECT tenancy.enter(:'gina_u');
SELECT pg_temp.try_accept(:'gina_token') AS accepted_after_restore;
SELECT name, role_code FROM tenancy.my_organizations();
COMMIT;

-- Inviter removed before acceptance: refused.
BEGIN;
SELECT tenancy.enter(:'carol_a');
SELECT tenancy.invite('frank@acme.example', 'helper') AS frank_token \gset
COMMIT;
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT tenancy.remove_member(:'carol');
COMMIT;
BEGIN;
SELECT tenancy.enter(:'frank_u');
SELECT pg_temp.try_accept(:'frank_token') AS inviter_gone;
ROLLBACK;

-- Removed members cannot walk back in on an older pending invitation.
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT tenancy.invite('dave@acme.example', 'helper') AS dave_second_token \gset
SELECT tenancy.remove_member(:'dave');
SELECT status FROM tenancy.list_invitations() WHERE lower(email) = 'dave@acme.example' ORDER BY status;
COMMIT;
BEGIN;
SELECT tenancy.enter(:'dave_u');
SELECT pg_temp.try_accept(:'dave_second_token') AS rejoin_after_removal;
ROLLBACK;
-- An inviter who can no longer invite cannot have their invitations accepted.
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT tenancy.invite('dave@acme.example', 'helper') AS dave_third_token \gset
COMMIT;
RESET ROLE;
UPDATE tenancy.invitations SET invited_by = :'carol'
 WHERE token_hash = sha256(convert_to(:'dave_third_token', 'UTF8'));
INSERT INTO tenancy.memberships (organization_id, user_id, role_id)
SELECT :'org_a', :'carol', id FROM tenancy.roles WHERE organization_id = :'org_a' AND code = 'helper';
SET ROLE tenancy_app;
BEGIN;
SELECT tenancy.enter(:'dave_u');
SELECT pg_temp.try_accept(:'dave_third_token') AS inviter_lost_members_invite;
ROLLBACK;
RESET ROLE;
DELETE FROM tenancy.memberships WHERE user_id = :'carol';
SET ROLE tenancy_app;

-- Invitations are scoped to their organization.
BEGIN;
SELECT tenancy.enter(:'bob_b');
SELECT count(*) AS globex_sees_acme_invitations FROM tenancy.list_invitations();
SELECT tenancy.revoke_invitation(id) FROM (SELECT id FROM tenancy.invitations LIMIT 1) AS i;
COMMIT;
-- Without members.read or members.invite: nothing.
BEGIN;
SELECT tenancy.enter(:'dave_a');
SELECT tenancy.list_invitations();
SELECT tenancy.invite('x@acme.example', 'agent');
COMMIT;

BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT email, role_code, status FROM tenancy.list_invitations() ORDER BY email, status;
SELECT action, count(*) FROM tenancy.audit_log WHERE action LIKE 'invitation.%' OR action = 'member.added'
 GROUP BY action ORDER BY action;
COMMIT;
RESET ROLE;
-- Put Carol back for the tests that follow.
INSERT INTO tenancy.memberships (organization_id, user_id, role_id)
SELECT :'org_a', :'carol', id FROM tenancy.roles WHERE organization_id = :'org_a' AND code = 'agent';
