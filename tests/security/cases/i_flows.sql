-- I: organizations, memberships, roles and invitations. Cases that need two
-- transactions commit, and undo what they did before they end.

-- @case I01 another organization's row by id is invisible and untouchable
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.expect(sectest.row_count('SELECT * FROM app.tickets WHERE id IN (3, 4)') = 0, 'GET Globex''s tickets');
SELECT sectest.expect(sectest.row_count($$UPDATE app.tickets SET title = 'x' WHERE id IN (3, 4)$$) = 0, 'PUT');
SELECT sectest.expect(sectest.row_count('DELETE FROM app.tickets WHERE id IN (3, 4)') = 0, 'DELETE');
SELECT sectest.expect(sectest.row_count('SELECT * FROM app.comments WHERE ticket_id IN (3, 4)') = 0, 'nested route');
ROLLBACK;

-- @case I02 asking for an organization one does not belong to is refused
BEGIN;
SELECT sectest.refused(format('SELECT tenancy.enter(%L)', :'tok_alice_b'), '42T01', 'alice asking for Globex');
ROLLBACK;

-- @case I04 an invitation works once; reusing it is refused
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT tenancy.invite('dave@nowhere.example', 'viewer', '1 hour') AS invitation \gset
COMMIT;
SELECT sectest.expect(:'invitation' ~ '^tinv_[A-Za-z0-9_-]{43}$', '256-bit random token');
BEGIN;
SELECT tenancy.enter(:'tok_dave');
SELECT sectest.expect(tenancy.accept_invitation(:'invitation') = :'org_a', 'first use joins Acme');
COMMIT;
BEGIN;
SELECT tenancy.enter(:'tok_dave');
SELECT sectest.refused(format('SELECT tenancy.accept_invitation(%L)', :'invitation'), '22T01', 'second use');
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT tenancy.remove_member(:'dave');
COMMIT;

-- @case I05 invitation tokens are stored only as hashes
-- @as admin
SELECT sectest.expect(count(*) = 0, 'no plaintext token column') FROM pg_attribute
 WHERE attrelid = 'tenancy.invitations'::regclass AND atttypid = 'text'::regtype AND attname LIKE '%token%';

-- @case I06 an invitation cannot be accepted by someone else
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT tenancy.invite('dave@nowhere.example', 'viewer', '1 hour') AS invitation \gset
COMMIT;
BEGIN;
SELECT tenancy.enter(:'tok_bob');
SELECT sectest.refused(format('SELECT tenancy.accept_invitation(%L)', :'invitation'), '22T01', 'bob accepting dave''s');
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT tenancy.revoke_invitation(id) FROM tenancy.list_invitations()
 WHERE email = 'dave@nowhere.example' AND status = 'pending';
COMMIT;

-- @case I08a a member without members.invite cannot invite
BEGIN;
SELECT tenancy.enter(:'tok_carol_a');
SELECT sectest.refused($$SELECT tenancy.invite('mallory@evil.example', 'agent')$$, '42T03', 'carol inviting');
ROLLBACK;

-- @case I08b a member cannot create a role richer than their own
BEGIN;
SELECT tenancy.enter(:'tok_carol_a');
SELECT sectest.refused($$SELECT tenancy.create_role('boss', 'Boss', '["*"]')$$, '42T03', 'carol creating a * role');
ROLLBACK;

-- @case I11 the last owner cannot leave or be demoted
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.refused('SELECT tenancy.leave_organization()', '23514|42501', 'alice leaving');
SELECT sectest.refused(format($$SELECT tenancy.set_member_role(%L, 'viewer')$$, :'alice'), '23514|42501',
                       'alice demoting herself');
ROLLBACK;

-- @case I12 the owner role cannot be changed
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.refused($$SELECT tenancy.update_role('owner', NULL, '["tickets.read"]')$$, '42501', 'shrink owner');
SELECT sectest.refused($$SELECT tenancy.delete_role('owner')$$, '42501', 'delete owner');
ROLLBACK;

-- @case I13 managing another organization's member looks like managing nobody
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
CREATE TEMP TABLE answers ON COMMIT DROP AS
SELECT sectest.sqlstate_of(format('SELECT tenancy.remove_member(%L)', :'bob')) AS bob,
       sectest.sqlstate_of(format('SELECT tenancy.remove_member(%L)', 'e5000000-0000-4000-8000-000000000005')) AS nobody,
       sectest.sqlstate_of(format($$SELECT tenancy.set_member_role(%L, 'viewer')$$, :'bob')) AS bob_role;
SELECT sectest.expect(bob = nobody AND bob = bob_role AND bob <> '00000', 'same refusal for bob and for nobody')
  FROM answers;
ROLLBACK;

-- @case I14 bad input to the member and role functions: missing input, nothing changed, nothing echoed
CREATE FUNCTION pg_temp.message_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'succeeded';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
CREATE TEMP TABLE before ON COMMIT DROP AS SELECT * FROM tenancy.list_members();
SELECT sectest.refused($$SELECT tenancy.set_member_role(NULL, 'viewer')$$, '22004', 'set_member_role(NULL)');
SELECT sectest.refused(format('SELECT tenancy.set_member_role(%L, NULL)', :'carol'), '22004', 'set_member_role(.., NULL)');
SELECT sectest.refused('SELECT tenancy.remove_member(NULL)', '22004', 'remove_member(NULL)');
SELECT sectest.refused('SELECT tenancy.update_role(NULL)', '22004', 'update_role(NULL)');
SELECT sectest.refused('SELECT tenancy.delete_role(NULL)', '22004', 'delete_role(NULL)');
SELECT sectest.refused($$SELECT tenancy.invite('dave@nowhere.example', NULL)$$, '22004', 'invite without a role');
SELECT sectest.expect(length(pg_temp.message_of(format('SELECT tenancy.update_role(%L)', repeat('x', 100000)))) < 200,
                      'a 100 kB role code is not echoed back');
SELECT sectest.expect(NOT EXISTS (SELECT * FROM before EXCEPT SELECT * FROM tenancy.list_members())
                      AND NOT EXISTS (SELECT * FROM tenancy.list_members() EXCEPT SELECT * FROM before),
                      'members unchanged');
ROLLBACK;
