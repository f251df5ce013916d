#!/usr/bin/env bash
# standby.sh: tenant reads on a streaming hot standby. Starts its own primary and
# a pg_basebackup standby (as the postgres OS user, sockets only in a private
# directory, both preloading pg_tenancy with the same keyring file, mode 0600),
# loads tests/cluster/fixture.sql on the primary and checks, as the application
# role on the standby: isolation, refusals, read-only errors for writes and
# management functions, a membership removed on the primary refused after
# replay, and a key added to both keyrings. Prints "ok standby:NAME" /
# "not ok standby:NAME" (also appended to $RESULTS); exits non-zero on a failure.
# Needs build/tenancy (TENANCY_CLI). TENANCY_STANDBY_PORT names the primary's
# port (default 5551; the standby takes the next one): only the socket file's
# name, in the private directory, so it cannot clash with another server.
set -uo pipefail
SUITE=standby
source "$(dirname "${BASH_SOURCE[0]}")/own_servers.sh"
primary_port=${TENANCY_STANDBY_PORT:-5551}
standby_port=$((primary_port + 1))
alice=aaaaaaaa-0000-4000-8000-000000000001
bob=bbbbbbbb-0000-4000-8000-000000000002
carol=cccccccc-0000-4000-8000-000000000003
olga=dddddddd-0000-4000-8000-000000000004
acme=0a000000-0000-4000-8000-00000000000a
globex=0b000000-0000-4000-8000-00000000000b
db=tenancy_standby

# Keys: the application signs, each node verifies with its own copy (mode 0600).
"$cli" keygen --alg HS256 --kid standby-hs --keyring "$dir/app.keyring" --server-keyring "$dir/server.keyring" >/dev/null &&
  "$cli" keygen --alg EdDSA --kid standby-ed --keyring "$dir/app.keyring" --server-keyring "$dir/server.keyring" >/dev/null ||
  { report keys 1 "tenancy keygen failed ($cli)"; exit 1; }
for node in primary standby; do
  install -o postgres -m 600 "$dir/server.keyring" "$dir/$node.keyring"
done
chown postgres: "$dir"
# Ten minutes: the tokens must outlive a slow run (the default is 60 s).
mint() { "$cli" token mint --keyring "$dir/app.keyring" --ttl 600 "$@"; }

as_postgres "$bindir/initdb" --no-sync -D "$dir/primary" -U postgres --auth=trust >"$dir/initdb.log" 2>&1 &&
  start_server primary "$primary_port"
report primary_started $? "$(cat "$dir/initdb.log")"
[ $failed -eq 0 ] || exit 1

primary() { psql -X -qAt -v ON_ERROR_STOP=1 -h "$dir" -p "$primary_port" -U postgres -d "$db" "$@"; }
# As the application role (NOSUPERUSER NOBYPASSRLS, logging in itself), errors
# with their SQLSTATE, one transaction per call unless the commands end it.
app_on() { psql -X -qAt -v VERBOSITY=verbose -h "$dir" -p "$1" -U check_app -d "$db" "${@:2}" 2>&1 | sed '/^$/d'; }
standby() { app_on "$standby_port" "$@"; }
# In one transaction on the standby: enter with $1, then run $2.
standby_tenant() { standby -c "BEGIN" -c "SELECT tenancy.enter('$1')" -c "$2" -c "COMMIT"; }
wait_for_replay() { # until the standby has replayed everything the primary wrote so far
  local lsn
  lsn=$(primary -c "SELECT pg_current_wal_lsn()")
  for _ in $(seq 300); do
    [ "$(psql -X -qAt -h "$dir" -p "$standby_port" -U postgres -d "$db" \
      -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && return 0
    sleep 0.1
  done
  return 1
}

# The primary: the cluster checks' fixture (users alice and bob, organizations
# Acme and Globex, a protected table tickets), plus Acme's owner olga and a
# member carol who will be removed.
createdb -h "$dir" -p "$primary_port" -U postgres "$db" && primary -f "$here/fixture.sql" >/dev/null && primary <<SQL
ALTER ROLE check_app LOGIN;
CREATE ROLE standby_admin LOGIN NOSUPERUSER NOBYPASSRLS;
GRANT EXECUTE ON FUNCTION tenancy.lookup_membership(uuid, uuid) TO standby_admin;
INSERT INTO tenancy.users (id, code, email) VALUES
  ('$carol', 'carol', 'carol@acme.example'), ('$olga', 'olga', 'olga@acme.example');
INSERT INTO tenancy.roles (id, organization_id, code, name, permissions, is_system) VALUES
  ('1c000000-0000-4000-8000-00000000001c', '$acme', 'owner', 'Owner', '["*"]', true);
INSERT INTO tenancy.memberships (organization_id, user_id, role_id) VALUES
  ('$acme', '$olga', '1c000000-0000-4000-8000-00000000001c'),
  ('$acme', '$carol', '1a000000-0000-4000-8000-00000000001a');
SQL
report primary_fixture $?

as_postgres "$bindir/pg_basebackup" -h "$dir" -p "$primary_port" -U postgres -D "$dir/standby" -R -X stream -c fast --no-sync \
  >"$dir/basebackup.log" 2>&1 && chmod 700 "$dir/standby" && start_server standby "$standby_port"
report standby_started $? "$(cat "$dir/basebackup.log")"
[ $failed -eq 0 ] || exit 1
out=$(psql -X -qAt -h "$dir" -p "$standby_port" -U postgres -d "$db" \
  -c "SELECT pg_is_in_recovery(), (SELECT status FROM pg_stat_wal_receiver)" 2>&1)
[ "$out" = "t|streaming" ]; report standby_is_streaming_hot_standby $? "$out"

# The application role on the standby is what the application would use: a
# superuser or BYPASSRLS role would see every row whatever pg_tenancy does.
out=$(standby -c "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
[ "$out" = "check_app|f|f" ]; report app_role_not_superuser $? "$out"

tok_alice=$(mint --user "$alice" --org "$acme")
tok_bob=$(mint --user "$bob" --org "$globex" --kid standby-ed)
tok_carol=$(mint --user "$carol" --org "$acme")
tok_olga=$(mint --user "$olga" --org "$acme")

# Isolation: exactly the organization's rows, with a forgotten WHERE, both algorithms.
out=$(standby_tenant "$tok_alice" "SELECT string_agg(title, ',' ORDER BY title) FROM tickets")
[ "$out" = "acme-1,acme-2" ]; report enter_sees_only_own_rows_hs256 $? "$out"
out=$(standby_tenant "$tok_bob" "SELECT string_agg(title, ',' ORDER BY title) FROM tickets")
[ "$out" = "globex-1" ]; report enter_sees_only_own_rows_eddsa $? "$out"
out=$(standby_tenant "$tok_alice" "SELECT count(*) FROM tickets WHERE organization_id = '$globex'")
[ "$out" = "0" ]; report other_organization_rows_invisible $? "$out"
out=$(standby -c "SELECT count(*) FROM tickets")
echo "$out" | grep -q "ERROR:  42T02"; report no_context_fails_closed $? "$out"

# Refusals: a valid token of a non-member (42T01, kNotAMember), an altered one (28T01).
out=$(standby_tenant "$(mint --user "$bob" --org "$acme")" "SELECT count(*) FROM tickets")
echo "$out" | grep -q "ERROR:  42T01: the token's user is not a member" && ! echo "$out" | grep -qx '[0-9]*'
report non_member_refused $? "$out"
out=$(standby_tenant "${tok_alice%?}x" "SELECT count(*) FROM tickets")
echo "$out" | grep -q "ERROR:  28T01"; report altered_token_refused $? "$out"

# Writes and management functions belong to the primary: read-only errors (25006).
out=$(standby_tenant "$tok_alice" "INSERT INTO tickets (title) VALUES ('on the standby')")
echo "$out" | grep -q "ERROR:  25006: cannot execute INSERT in a read-only transaction"
report write_refused_read_only $? "$out"
out=$(standby_tenant "$tok_olga" "SELECT tenancy.remove_member('$carol')")
echo "$out" | grep -q "ERROR:  25006: .*read-only transaction"; report management_function_refused_read_only $? "$out"
out=$(standby_tenant "$(mint --user "$olga")" "SELECT tenancy.create_organization('Initech')")
echo "$out" | grep -q "ERROR:  25006: .*read-only transaction"; report create_organization_refused_read_only $? "$out"
# ...while management functions that only read work there (and user-only contexts).
out=$(standby_tenant "$tok_olga" "SELECT string_agg(code, ',' ORDER BY code) FROM tenancy.list_members()")
[ "$out" = "alice,carol,olga" ]; report list_members_reads_on_standby $? "$out"
out=$(standby_tenant "$(mint --user "$carol")" "SELECT string_agg(name, ',') FROM tenancy.my_organizations()")
[ "$out" = "Acme" ]; report user_only_context_on_standby $? "$out"

# The engine's whole read path (membership look-up, enter(), the clean-up after
# COMMIT) through `tenancy exec`, with both connections on the standby.
out=$("$cli" exec --keyring "$dir/app.keyring" --conninfo "host=$dir port=$standby_port dbname=$db user=check_app" \
  --admin-conninfo "host=$dir port=$standby_port dbname=$db user=standby_admin" --user "$bob" --org "$globex" \
  -c "SELECT string_agg(title, ',') AS titles FROM tickets" 2>&1)
echo "$out" | grep -qx ' globex-1' && echo "$out" | grep -q '(1 row)'; report engine_exec_on_standby $? "$out"

# Revocation: olga removes carol on the primary (as the application role). A
# standby session that entered with carol's token before, and a new session,
# are refused once the standby has replayed the removal. The first session reads
# its commands from a pipe, so it stays open across the removal.
mkfifo "$dir/session.in"
standby <"$dir/session.in" >"$dir/session.out" &
session=$!
exec 3>"$dir/session.in"
# (A subshell writes, so a session that died cannot end this script by SIGPIPE.)
(printf '%s\n' "BEGIN;" "SELECT tenancy.enter('$tok_carol');" "SELECT count(*) FROM tickets;" "COMMIT;" \
  "\\! touch $dir/entered" >&3)
for _ in $(seq 300); do [ -e "$dir/entered" ] && break; sleep 0.1; done
out=$(app_on "$primary_port" -v ON_ERROR_STOP=1 -c "BEGIN" -c "SELECT tenancy.enter('$tok_olga')" \
  -c "SELECT tenancy.remove_member('$carol')" -c "COMMIT")
report remove_member_on_primary $? "$out"
wait_for_replay; report standby_replayed_removal $?
(printf '%s\n' "BEGIN;" "SELECT tenancy.enter('$tok_carol');" "SELECT count(*) FROM tickets;" "COMMIT;" >&3)
exec 3>&-
wait $session
out=$(cat "$dir/session.out")
[ "$(echo "$out" | head -1)" = "2" ] && echo "$out" | grep -q "ERROR:  42T01" && [ "$(echo "$out" | grep -cx '[0-9]*')" = 1 ]
report removed_member_refused_after_replay_same_session $? "$out"
out=$(standby_tenant "$tok_carol" "SELECT count(*) FROM tickets")
echo "$out" | grep -q "ERROR:  42T01" && ! echo "$out" | grep -qx '[0-9]*'
report removed_member_refused_after_replay_new_session $? "$out"
out=$(standby_tenant "$tok_alice" "SELECT count(*) FROM tickets")
[ "$out" = "2" ]; report other_members_unaffected $? "$out"

# A key added to both keyrings: unknown on the standby before, usable after.
"$cli" keygen --alg EdDSA --kid standby-added --keyring "$dir/added.keyring" --server-keyring "$dir/added.server" >/dev/null
tok_added=$("$cli" token mint --keyring "$dir/added.keyring" --ttl 600 --user "$alice" --org "$acme")
out=$(standby_tenant "$tok_added" "SELECT count(*) FROM tickets")
echo "$out" | grep -q "ERROR:  28T01: invalid tenancy context token" && echo "$out" | grep -q "key id is not in the keyring"
report added_key_unknown_before $? "$out"
# Each backend re-reads a changed keyring file by itself; the reload is what an
# operator runs anyway (and what a changed tenancy.keyring_file would need).
for node in primary standby; do grep -v '^#' "$dir/added.server" >>"$dir/$node.keyring"; done
psql -X -qAt -h "$dir" -p "$primary_port" -U postgres -d "$db" -c "SELECT pg_reload_conf()" >/dev/null
psql -X -qAt -h "$dir" -p "$standby_port" -U postgres -d "$db" -c "SELECT pg_reload_conf()" >/dev/null
out=$(standby_tenant "$tok_added" "SELECT count(*) FROM tickets")
[ "$out" = "2" ]; report added_key_works_on_standby $? "$out"

if [ $failed -ne 0 ]; then
  echo "--- primary log"; tail -20 "$dir/primary.log"
  echo "--- standby log"; tail -20 "$dir/standby.log"
fi
exit $failed
