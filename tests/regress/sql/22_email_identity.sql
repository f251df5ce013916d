-- 22_email_identity: one normalization of email addresses (NFKC, lower case,
-- NFKC: tenancy.normalize_email()) decides identity at registration, at
-- acceptance and when a leaving member's invitations are revoked.
\set VERBOSITY terse
\i tests/regress/include/setup_vars.psql
SELECT tenancy.normalize_email(U&'\212Aate@Acme.example') AS kelvin_sign,
       tenancy.normalize_email(U&'\FF4Bate@acme.example') AS fullwidth_k,
       tenancy.normalize_email('KATE@ACME.EXAMPLE') AS upper_case;
-- A second account for the same normalized address is refused, whichever
-- spelling came first.
SELECT tenancy.register_user('kate', 'kate@acme.example') IS NOT NULL AS kate_registered;
SELECT tenancy.register_user('kelvin', U&'\212Aate@acme.example');
SELECT tenancy.register_user('fullwidth', U&'\FF4Bate@ACME.example');
SELECT tenancy.register_user('upper', 'Kate@Acme.Example');
SELECT count(*) AS kate_accounts FROM tenancy.users WHERE tenancy.normalize_email(email) = 'kate@acme.example';
SELECT tenancy.register_user('kelvin2', U&'\212Aen@acme.example') IS NOT NULL AS kelvin_first;
SELECT tenancy.register_user('ken', 'ken@acme.example');
-- An invitation to one spelling is accepted by the account of another spelling
-- of the same address (they are one identity), and only by it.
SELECT id AS kelvin2 FROM tenancy.users WHERE code = 'kelvin2' \gset
SELECT id AS kate FROM tenancy.users WHERE code = 'kate' \gset
\set alice_a `:mint --user :alice --org :org_a`
\set kelvin2_u `:mint --user :kelvin2`
\set kate_u `:mint --user :kate`
SET ROLE tenancy_app;
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT tenancy.invite('KEN@acme.example', 'agent') AS ken_token \gset
SELECT tenancy.invite('ken@acme.example', 'agent') AS ken_token2 \gset
COMMIT;
BEGIN;
SELECT tenancy.enter(:'kate_u');
\set ON_ERROR_ROLLBACK on
SELECT tenancy.accept_invitation(:'ken_token');
\set ON_ERROR_ROLLBACK off
COMMIT;
BEGIN;
SELECT tenancy.enter(:'kelvin2_u');
SELECT tenancy.accept_invitation(:'ken_token') = :'org_a' AS joined;
COMMIT;
-- Leaving revokes the other pending invitation to the same address.
\set kelvin2_a `:mint --user :kelvin2 --org :org_a`
BEGIN;
SELECT tenancy.enter(:'kelvin2_a');
SELECT tenancy.leave_organization();
COMMIT;
RESET ROLE;
SELECT email, accepted_at IS NOT NULL AS accepted, revoked_at IS NOT NULL AS revoked
  FROM tenancy.invitations WHERE tenancy.normalize_email(email) = 'ken@acme.example' ORDER BY email COLLATE "C";
DELETE FROM tenancy.invitations WHERE tenancy.normalize_email(email) = 'ken@acme.example';
DELETE FROM tenancy.users WHERE code IN ('kate', 'kelvin2');
