#!/usr/bin/env bash
# subscriber.sh: tenant contexts on a logical replication subscriber. Starts its
# own publisher and subscriber (two clusters, so they share no memory; as the
# postgres OS user, sockets only in a private directory, both preloading
# pg_tenancy, wal_level = logical), loads tests/cluster/fixture.sql on both,
# subscribes the subscriber to the publisher's tenancy.users, organizations,
# roles and memberships (no initial copy: both start equal), and checks, as the
# application role on the subscriber, that replicated changes take effect on the
# next transaction of a session that has already entered (so its backend holds
# the membership and the prepared context in its caches): a removed member is
# refused (also when the removal arrives as a prepared transaction on a two-phase
# subscription), a role's changed permissions apply, a truncated membership
# table lets nobody in. The apply worker fires only row triggers and TRUNCATE triggers
# enabled ALWAYS, never INSERT, UPDATE or DELETE statement triggers.
# Prints "ok subscriber:NAME" / "not ok subscriber:NAME" (also appended to
# $RESULTS); exits non-zero on a failure. Needs build/tenancy (TENANCY_CLI).
# TENANCY_SUBSCRIBER_PORT names the publisher's port (default 5561; the
# subscriber takes the next one), only the socket file's name.
set -uo pipefail
SUITE=subscriber
source "$(dirname "${BASH_SOURCE[0]}")/own_servers.sh"
publisher_port=${TENANCY_SUBSCRIBER_PORT:-5561}
subscriber_port=$((publisher_port + 1))
alice=aaaaaaaa-0000-4000-8000-000000000001
carol=cccccccc-0000-4000-8000-000000000003
dave=dddddddd-0000-4000-8000-000000000005
acme=0a000000-0000-4000-8000-00000000000a
acme_member_role=1a000000-0000-4000-8000-00000000001a
db=tenancy_subscriber

"$cli" keygen --alg HS256 --kid subscriber-hs --keyring "$dir/app.keyring" --server-keyring "$dir/server.keyring" >/dev/null ||
  { report keys 1 "tenancy keygen failed ($cli)"; exit 1; }
install -o postgres -m 600 "$dir/server.keyring" "$dir/subscriber.keyring"
install -o postgres -m 600 "$dir/server.keyring" "$dir/publisher.keyring"
chown postgres: "$dir"
mint() { "$cli" token mint --keyring "$dir/app.keyring" --ttl 600 "$@"; }

start() { # start NODE PORT: a new cluster, ready for logical replication
  as_postgres "$bindir/initdb" --no-sync -D "$dir/$1" -U postgres --auth=trust >"$dir/$1.initdb.log" 2>&1 &&
    start_server "$1" "$2" "-c wal_level=logical -c max_prepared_transactions=10" ||
    { cat "$dir/$1.initdb.log" 2>/dev/null; return 1; }
}
start publisher "$publisher_port" && start subscriber "$subscriber_port"
report servers_started $?
[ $failed -eq 0 ] || exit 1

on() { psql -X -qAt -v ON_ERROR_STOP=1 -h "$dir" -p "$1" -U postgres -d "$db" "${@:2}"; }
publisher() { on "$publisher_port" "$@"; }
subscriber() { on "$subscriber_port" "$@"; }

for port in "$publisher_port" "$subscriber_port"; do
  createdb -h "$dir" -p "$port" -U postgres "$db" && on "$port" -f "$here/fixture.sql" >/dev/null &&
    on "$port" -c "ALTER ROLE check_app LOGIN" -c "GRANT EXECUTE ON FUNCTION tenancy.backend_cache_stats() TO check_app" ||
    { report fixtures 1; exit 1; }
done
publisher -c "CREATE PUBLICATION tenancy_model FOR TABLE tenancy.users, tenancy.organizations, tenancy.roles, tenancy.memberships" &&
  subscriber -c "CREATE SUBSCRIPTION tenancy_model CONNECTION 'host=$dir port=$publisher_port dbname=$db user=postgres' PUBLICATION tenancy_model WITH (copy_data = false, two_phase = true)"
report subscription_created $?

# wait_until CONDITION: polls the subscriber (as postgres) until it holds,
# then a moment more: the apply worker's commit is visible a little before its
# commit callback has moved the generation.
wait_until() {
  for _ in $(seq 300); do
    [ "$(subscriber -c "SELECT $1" 2>/dev/null)" = t ] && sleep 0.3 && return 0
    sleep 0.1
  done
  return 1
}
# Two-phase decoding is on once the subscription's tables are ready.
wait_until "(SELECT subtwophasestate = 'e' FROM pg_subscription WHERE subname = 'tenancy_model')"
report subscription_two_phase $?

# Carol joins Acme on the publisher; the membership's id is the publisher's,
# so its removal replicates by primary key.
publisher -c "INSERT INTO tenancy.users (id, code, email) VALUES ('$carol', 'carol', 'carol@acme.example'), ('$dave', 'dave', 'dave@acme.example')" \
  -c "INSERT INTO tenancy.memberships (organization_id, user_id, role_id) VALUES ('$acme', '$carol', '$acme_member_role'), ('$acme', '$dave', '$acme_member_role')"
wait_until "(SELECT count(*) = 2 FROM tenancy.memberships WHERE user_id IN ('$carol', '$dave'))"
report membership_replicated $?

tok_alice=$(mint --user "$alice" --org "$acme")
tok_carol=$(mint --user "$carol" --org "$acme")
tok_dave=$(mint --user "$dave" --org "$acme")

# One application session on the subscriber, fed through a pipe so it stays open
# across the publisher's changes. Each step's tenant transaction prints a
# labelled line only if enter() succeeded (a refused enter() aborts it).
mkfifo "$dir/session.in"
psql -X -qAt -v VERBOSITY=verbose -h "$dir" -p "$subscriber_port" -U check_app -d "$db" \
  <"$dir/session.in" >"$dir/session.out" 2>&1 &
session=$!
exec 3>"$dir/session.in"
step=0
# in_session TOKEN LABEL QUERY: one tenant transaction in the session, waited for.
in_session() {
  step=$((step + 1))
  (printf '%s\n' "BEGIN;" "SELECT tenancy.enter('$1');" "SELECT '$2:' || ($3);" "COMMIT;" \
    "\\! touch $dir/step$step" >&3)
  for _ in $(seq 300); do [ -e "$dir/step$step" ] && return 0; sleep 0.1; done
  return 1
}
seen() { grep -qx "$1" "$dir/session.out"; }

# Three times each, so the backend holds the membership and, from the second
# enter(), the token's prepared context.
for i in 1 2 3; do
  in_session "$tok_carol" "carol_before_$i" "SELECT count(*) FROM tickets"
  in_session "$tok_alice" "alice_before_$i" "SELECT tenancy.has_permission('tickets.read')"
  in_session "$tok_dave" "dave_before_$i" "SELECT count(*) FROM tickets"
done
seen carol_before_3:2 && seen alice_before_3:true && seen dave_before_3:2; report members_enter_on_subscriber $? "$(cat "$dir/session.out")"
# ...from its caches: on, and answering (else the checks below prove nothing;
# the shared one is on, never asked: this one session's own cache answers).
cache_stats() { # cache_stats LABEL
  step=$((step + 1))
  (printf '%s\n' "SELECT '$1:' || string_agg(cache || '=' || enabled || '/' || (hits > 0), ',' ORDER BY cache) FROM tenancy.backend_cache_stats();" \
    "\\! touch $dir/step$step" >&3)
  for _ in $(seq 300); do [ -e "$dir/step$step" ] && return 0; sleep 0.1; done
  return 1
}
cache_stats stats_before
seen "stats_before:membership=true/true,prepared_context=true/true,shared_membership=true/false,verified_token=true/true"
report caches_on_and_used $? "$(grep stats_before "$dir/session.out")"

# Carol is removed on the publisher: refused on the subscriber's next transaction.
publisher -c "DELETE FROM tenancy.memberships WHERE user_id = '$carol'" &&
  wait_until "NOT EXISTS (SELECT FROM tenancy.memberships WHERE user_id = '$carol')"
report removal_replicated $?
in_session "$tok_carol" carol_after_removal "SELECT count(*) FROM tickets"
! seen 'carol_after_removal:.*' && grep -q "ERROR:  42T01" "$dir/session.out"
report removed_member_refused_same_session $? "$(cat "$dir/session.out")"

# Dave's caches again (the removal above moved the generation): two enter()s,
# so the second sets a prepared context read after that removal.
for i in 1 2; do in_session "$tok_dave" "dave_again_$i" "SELECT count(*) FROM tickets"; done
seen dave_again_2:2; report member_enters_again $? "$(cat "$dir/session.out")"
# Dave is removed in a prepared transaction (a superuser's, with ordinary
# triggers off: pg_tenancy's NOTIFY triggers make PREPARE refuse otherwise). The
# subscriber applies PREPARE and COMMIT PREPARED as two steps, the second past
# the utility hook.
publisher -c "SET session_replication_role = replica" -c "BEGIN" \
  -c "DELETE FROM tenancy.memberships WHERE user_id = '$dave'" -c "PREPARE TRANSACTION 'remove_dave'" \
  -c "COMMIT PREPARED 'remove_dave'" &&
  wait_until "NOT EXISTS (SELECT FROM tenancy.memberships WHERE user_id = '$dave')"
report prepared_removal_replicated $?
in_session "$tok_dave" dave_after_removal "SELECT count(*) FROM tickets"
! seen 'dave_after_removal:.*' && [ "$(grep -c "ERROR:  42T01" "$dir/session.out")" = 2 ]
report removed_member_refused_same_session_two_phase $? "$(cat "$dir/session.out")"

# Acme's member role loses its permissions on the publisher: alice's next
# transaction on the subscriber has none.
publisher -c "UPDATE tenancy.roles SET permissions = '[]' WHERE id = '$acme_member_role'" &&
  wait_until "(SELECT permissions = '[]' FROM tenancy.roles WHERE id = '$acme_member_role')"
report role_change_replicated $?
in_session "$tok_alice" alice_after_role_change "SELECT tenancy.has_permission('tickets.read')"
seen alice_after_role_change:false; report changed_permissions_apply_same_session $? "$(cat "$dir/session.out")"

# TRUNCATE replicates too (its statement trigger fires in the apply worker).
publisher -c "TRUNCATE tenancy.memberships" && wait_until "NOT EXISTS (SELECT FROM tenancy.memberships)"
report truncate_replicated $?
in_session "$tok_alice" alice_after_truncate "SELECT count(*) FROM tickets"
! seen 'alice_after_truncate:.*' && [ "$(grep -c "ERROR:  42T01" "$dir/session.out")" = 3 ]
report truncated_memberships_refused_same_session $? "$(cat "$dir/session.out")"

# The caches stay on: the changes above were taken in, not worked around.
cache_stats stats_after
seen "stats_after:membership=true/true,prepared_context=true/true,shared_membership=true/false,verified_token=true/true"
report caches_still_on $? "$(grep stats_after "$dir/session.out")"
exec 3>&-
wait $session

# A new session agrees (its backend had no cache to keep).
out=$(psql -X -qAt -v VERBOSITY=verbose -h "$dir" -p "$subscriber_port" -U check_app -d "$db" \
  -c "BEGIN" -c "SELECT tenancy.enter('$tok_alice')" -c "COMMIT" 2>&1)
echo "$out" | grep -q "ERROR:  42T01"; report truncated_memberships_refused_new_session $? "$out"

if [ $failed -ne 0 ]; then
  echo "--- session"; cat "$dir/session.out"
  echo "--- publisher log"; tail -20 "$dir/publisher.log"
  echo "--- subscriber log"; tail -20 "$dir/subscriber.log"
fi
exit $failed
