#!/usr/bin/env bash
# run.sh: pg_tenancy on a Citus cluster (issue 15): a coordinator and two
# workers started here (initdb as the postgres OS user, under a temporary
# directory, on 127.0.0.1), each preloading citus and pg_tenancy with the same
# keyring; the scenario runs as a non-superuser application role. Prints one
# "ok citus:NAME" / "not ok citus:NAME" line per check; without Citus installed,
# one "ok citus:skipped # SKIP ..." line. Stops its servers on exit.
#
# Environment: TENANCY_CLI (default build/tenancy), TENANCY_CITUS_PORT (the
# coordinator's port, default 5541; the workers use the next two).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ ! -f "$(pg_config --pkglibdir)/citus.so" ]; then
  echo "ok citus:skipped # SKIP Citus is not installed ($(pg_config --pkglibdir)/citus.so absent)"
  exit 0
fi
cli=${TENANCY_CLI:-$root/build/tenancy}
[ -x "$cli" ] || { echo "not ok citus:setup (no tenancy CLI at $cli: build it first)"; exit 1; }
bindir=$(pg_config --bindir)
base=${TENANCY_CITUS_PORT:-5541}
ports=("$base" $((base + 1)) $((base + 2)))
names=(coordinator worker1 worker2)
db=tenancy_citus
work=$(mktemp -d /tmp/pg_tenancy_citus.XXXXXX)
chmod 755 "$work"
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
stop_all() {
  for n in "${names[@]}"; do
    [ -f "$work/$n/postmaster.pid" ] && as_postgres "$bindir/pg_ctl" -D "$work/$n" -m immediate stop >/dev/null 2>&1
  done
  rm -rf "$work"
}
trap stop_all EXIT
[ "$(id -u)" = 0 ] && chown postgres: "$work"

report() { # NAME STATUS [DETAIL]
  if [ "$2" -eq 0 ]; then echo "ok citus:$1"; else echo "not ok citus:$1 $(echo "${3:-}" | tr '\n' ' ' | cut -c1-400)"; fi
}
# psql on node N (0 coordinator) as USER: node N USER psql-args...
node() { local n=$1 user=$2; shift 2; psql -X -qAt -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${ports[$n]}" -U "$user" -d "$db" "$@"; }
su_q() { node 0 postgres -c "$1"; }
# As the application role on the coordinator, in one transaction: enter TOKEN, then each SQL.
as_tenant() {
  local tok=$1; shift
  local args=(-c "BEGIN" -c "SELECT tenancy.enter('$tok')")
  for s in "$@"; do args+=(-c "$s"); done
  node 0 citus_app "${args[@]}" -c "COMMIT" 2>&1 | sed '/^$/d'
}

# ---- keys: user-token keys and the server-to-server forwarding key, the same file on every node.
"$cli" keygen --alg HS256 --kid test-hs --keyring "$work/app.keyring" --server-keyring "$work/server.keyring" >/dev/null
"$cli" keygen --forward --kid citus-forward --keyring "$work/forward.keyring" >/dev/null 2>&1
forward_line=$(grep -E '^citus-forward HS256 secret:[A-Za-z0-9_-]+ use:forward$' "$work/forward.keyring" 2>/dev/null)
if [ -n "$forward_line" ]; then echo "$forward_line" >>"$work/server.keyring"; fi
[ -n "$forward_line" ]; report forward_key_generated $? "tenancy keygen --forward did not write a use:forward line"

# ---- three servers.
for i in 0 1 2; do
  n=${names[$i]}
  as_postgres "$bindir/initdb" -D "$work/$n" -U postgres --auth=trust -E UTF8 >"$work/initdb-$n.log" 2>&1 ||
    { report "initdb_$n" 1 "$(tail -5 "$work/initdb-$n.log")"; exit 1; }
  install -m 0600 "$work/server.keyring" "$work/$n.keyring"
  [ "$(id -u)" = 0 ] && chown postgres: "$work/$n.keyring"
  {
    echo "port = ${ports[$i]}"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$work'"
    echo "shared_preload_libraries = 'citus,pg_tenancy'"
    echo "tenancy.keyring_file = '$work/$n.keyring'"
    echo "max_prepared_transactions = 20"
    echo "citus.shard_count = 8"
    echo "log_statement = 'all'"
    if [ "$i" = 0 ]; then echo "tenancy.forward_context_to_workers = on"
    else echo "tenancy.accept_forwarded_context = on"; fi
  } >>"$work/$n/postgresql.conf"
  as_postgres "$bindir/pg_ctl" -D "$work/$n" -l "$work/$n.log" -w -t 60 start >/dev/null 2>&1 ||
    { report "start_$n" 1 "$(tail -5 "$work/$n.log")"; exit 1; }
done
for i in 0 1 2; do
  psql -X -qAt -h 127.0.0.1 -p "${ports[$i]}" -U postgres -d postgres -c "CREATE DATABASE $db" >/dev/null &&
    node "$i" postgres -c "CREATE EXTENSION citus" -c "CREATE EXTENSION pg_tenancy" >/dev/null ||
    { report "extensions_on_${names[$i]}" 1; exit 1; }
done
out=$(su_q "SELECT citus_set_coordinator_host('127.0.0.1', ${ports[0]})" 2>&1 &&
  su_q "SELECT citus_add_node('127.0.0.1', ${ports[1]})" 2>&1 &&
  su_q "SELECT citus_add_node('127.0.0.1', ${ports[2]})" 2>&1 &&
  su_q "SELECT count(*) FROM pg_dist_node WHERE isactive AND groupid <> 0" 2>&1)
[ "$(echo "$out" | tail -1)" = 2 ]; report cluster_of_coordinator_and_two_workers $? "$out"

# ---- the fixture, as the superuser on the coordinator.
alice=aaaaaaaa-0000-4000-8000-000000000001 # acme member (tickets.*)
bob=bbbbbbbb-0000-4000-8000-000000000002   # globex member (tickets.*)
carol=cccccccc-0000-4000-8000-000000000003 # acme member whose role lacks tickets.read
dave=dddddddd-0000-4000-8000-000000000004  # no membership
erin=eeeeeeee-0000-4000-8000-000000000005  # acme member, removed below
acme=0a000000-0000-4000-8000-00000000000a
su_q "CREATE ROLE citus_app LOGIN NOSUPERUSER NOBYPASSRLS" >/dev/null
su_q "SELECT tenancy.register_permission('tickets.read', 'Read tickets'),
             tenancy.register_permission('tickets.write', 'Write tickets')" >/dev/null

# protect() before create_distributed_table, then again after it; never enable_unsafe_triggers.
su_q "CREATE TABLE tickets (id bigserial, organization_id uuid NOT NULL, title text NOT NULL,
                            PRIMARY KEY (organization_id, id))" >/dev/null
out=$(su_q "SELECT tenancy.protect('tickets', 'organization_id', 'tickets.read', 'tickets.write')" 2>&1 &&
  su_q "SELECT create_distributed_table('tickets', 'organization_id')" 2>&1)
report protect_then_distribute $? "$out"
out=$(su_q "SELECT tenancy.protect('tickets', 'organization_id', 'tickets.read', 'tickets.write')" 2>&1 &&
  su_q "SELECT tenancy.protect('tickets', 'organization_id', 'tickets.read', 'tickets.write')" 2>&1 &&
  su_q "SELECT (SELECT count(*) FROM pg_policy WHERE polrelid = 'tickets'::regclass) || ',' ||
               (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'tickets'::regclass AND NOT tgisinternal)" 2>&1)
[ "$(echo "$out" | tail -1)" = "8,0" ]; report protect_distributed_table_twice $? "$out"
# create_distributed_table first, then protect() twice.
su_q "CREATE TABLE notes (id bigserial, organization_id uuid NOT NULL, body text NOT NULL,
                          PRIMARY KEY (organization_id, id))" >/dev/null
out=$(su_q "SELECT create_distributed_table('notes', 'organization_id', colocate_with => 'tickets')" 2>&1 &&
  su_q "SELECT tenancy.protect('notes')" 2>&1 && su_q "SELECT tenancy.protect('notes')" 2>&1 &&
  su_q "SELECT (SELECT count(*) FROM pg_policy WHERE polrelid = 'notes'::regclass) || ',' ||
               (SELECT relforcerowsecurity FROM pg_class WHERE oid = 'notes'::regclass) || ',' ||
               (SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'notes'::regclass AND adnum = 2)" 2>&1)
[ "$(echo "$out" | tail -1)" = "2,true,tenancy.current_org()" ]; report distribute_then_protect_twice $? "$out"
out=$(su_q "SHOW citus.enable_unsafe_triggers" 2>&1)
[ "$out" = off ]; report no_unsafe_triggers_setting $? "$out"
su_q "GRANT SELECT, INSERT, UPDATE, DELETE ON tickets, notes TO citus_app;
      GRANT USAGE ON SEQUENCE tickets_id_seq, notes_id_seq TO citus_app" >/dev/null

# A second organization whose shard is on the other worker than Acme's.
globex=$(su_q "SELECT o FROM (VALUES ('0b000000-0000-4000-8000-00000000000b'::uuid), ('0c000000-0000-4000-8000-00000000000c'),
                ('0d000000-0000-4000-8000-00000000000d'), ('0e000000-0000-4000-8000-00000000000e'),
                ('0f000000-0000-4000-8000-00000000000f'), ('10000000-0000-4000-8000-000000000010')) AS v(o)
               WHERE (SELECT nodeport FROM pg_dist_shard_placement
                       WHERE shardid = get_shard_id_for_distribution_column('tickets', o))
                  <> (SELECT nodeport FROM pg_dist_shard_placement
                       WHERE shardid = get_shard_id_for_distribution_column('tickets', '$acme'::uuid))
               LIMIT 1")
[ -n "$globex" ]; report organizations_on_both_workers $? "no candidate organization id on the other worker"
su_q "INSERT INTO tenancy.users (id, code, email) VALUES
        ('$alice', 'alice', 'alice@acme.example'), ('$bob', 'bob', 'bob@globex.example'),
        ('$carol', 'carol', 'carol@acme.example'), ('$dave', 'dave', 'dave@nowhere.example'),
        ('$erin', 'erin', 'erin@acme.example');
      INSERT INTO tenancy.organizations (id, name, created_by) VALUES
        ('$acme', 'Acme', '$alice'), ('$globex', 'Globex', '$bob');
      INSERT INTO tenancy.roles (id, organization_id, code, name, permissions) VALUES
        ('1a000000-0000-4000-8000-00000000001a', '$acme', 'member', 'Member', '[\"tickets.*\"]'),
        ('2a000000-0000-4000-8000-00000000002a', '$acme', 'outsider', 'No tickets', '[]'),
        ('1b000000-0000-4000-8000-00000000001b', '$globex', 'member', 'Member', '[\"tickets.*\"]');
      INSERT INTO tenancy.memberships (organization_id, user_id, role_id) VALUES
        ('$acme', '$alice', '1a000000-0000-4000-8000-00000000001a'),
        ('$acme', '$carol', '2a000000-0000-4000-8000-00000000002a'),
        ('$acme', '$erin', '1a000000-0000-4000-8000-00000000001a'),
        ('$globex', '$bob', '1b000000-0000-4000-8000-00000000001b');
      INSERT INTO tickets (organization_id, title) VALUES
        ('$acme', 'acme-1'), ('$acme', 'acme-2'), ('$globex', 'globex-1');
      INSERT INTO notes (organization_id, body) VALUES ('$acme', 'acme-note'), ('$globex', 'globex-note')" >/dev/null
mint() { "$cli" token mint --keyring "$work/app.keyring" --ttl 600 --user "$1" --org "$2"; }
tok_alice=$(mint "$alice" "$acme") tok_bob=$(mint "$bob" "$globex") tok_carol=$(mint "$carol" "$acme")
tok_dave=$(mint "$dave" "$acme") tok_erin=$(mint "$erin" "$acme")
su_q "DELETE FROM tenancy.memberships WHERE user_id = '$erin'" >/dev/null

# ---- isolation through enter() on the coordinator.
out=$(as_tenant "$tok_alice" "SELECT count(*) FROM tickets WHERE organization_id = '$acme'" \
  "SELECT count(*) FROM tickets WHERE organization_id = '$globex'")
[ "$(echo "$out" | tail -2 | tr '\n' ,)" = "2,0," ]; report router_select $? "$out"
out=$(as_tenant "$tok_alice" "SELECT string_agg(title, ',' ORDER BY title) FROM tickets")
[ "$(echo "$out" | tail -1)" = "acme-1,acme-2" ]; report multi_shard_select_acme $? "$out"
out=$(as_tenant "$tok_bob" "SELECT string_agg(title, ',' ORDER BY title) FROM tickets")
[ "$(echo "$out" | tail -1)" = "globex-1" ]; report multi_shard_select_globex $? "$out"
out=$(as_tenant "$tok_alice" "INSERT INTO tickets (title) VALUES ('acme-3')" "INSERT INTO notes (body) VALUES ('acme-note-2')")
rows=$(su_q "SELECT (SELECT string_agg(organization_id::text, ',') FROM tickets WHERE title = 'acme-3') || ';' ||
                    (SELECT string_agg(organization_id::text, ',') FROM notes WHERE body = 'acme-note-2')" 2>&1)
[ "$rows" = "$acme;$acme" ]; report insert_takes_current_organization $? "$out $rows"
out=$(as_tenant "$tok_alice" "INSERT INTO tickets (organization_id, title) VALUES ('$globex', 'planted')")
echo "$out" | grep -q "row-level security" && [ "$(su_q "SELECT count(*) FROM tickets WHERE title = 'planted'")" = 0 ]
report insert_into_other_organization_refused $? "$out"
out=$(as_tenant "$tok_alice" "UPDATE tickets SET title = title || '!' RETURNING organization_id" 2>&1)
rows=$(su_q "SELECT string_agg(title, ',' ORDER BY title) FROM tickets")
[ "$(echo "$out" | grep -c "$acme")" = 3 ] && ! echo "$out" | grep -q "$globex" &&
  [ "$rows" = "acme-1!,acme-2!,acme-3!,globex-1" ]; report update_touches_only_the_organization $? "$out / $rows"
out=$(as_tenant "$tok_alice" "UPDATE tickets SET organization_id = '$globex' WHERE title = 'acme-1!'" 2>&1)
[ "$(su_q "SELECT count(*) FROM tickets WHERE organization_id = '$globex'")" = 1 ]
report row_cannot_move_organization $? "$out"
out=$(as_tenant "$tok_alice" "DELETE FROM tickets WHERE title = 'acme-3!' RETURNING title" "DELETE FROM notes RETURNING body")
rows=$(su_q "SELECT (SELECT string_agg(title, ',' ORDER BY title) FROM tickets) || ';' ||
                    (SELECT string_agg(body, ',' ORDER BY body) FROM notes)")
[ "$rows" = "acme-1!,acme-2!,globex-1;globex-note" ]; report delete_touches_only_the_organization $? "$out / $rows"

# ---- who is refused.
out=$(as_tenant "$tok_dave" "SELECT count(*) FROM tickets")
echo "$out" | grep -q "not a member"; report non_member_refused $? "$out"
out=$(as_tenant "$tok_erin" "SELECT count(*) FROM tickets")
echo "$out" | grep -q "not a member"; report removed_member_refused $? "$out"
out=$(as_tenant "$tok_carol" "SELECT count(*) FROM tickets" "SELECT count(*) FROM tickets WHERE organization_id = '$acme'")
[ "$(echo "$out" | tail -2 | tr '\n' ,)" = "0,0," ]; report member_without_read_permission_reads_nothing $? "$out"
out=$(as_tenant "$tok_carol" "UPDATE tickets SET title = 'x' RETURNING id")
[ "$(su_q "SELECT count(*) FROM tickets WHERE title = 'x'")" = 0 ]; report member_without_write_permission_writes_nothing $? "$out"

# ---- what the workers see: no user token; a forwarding context copied from them is useless.
node 0 citus_app -c "BEGIN" -c "SELECT tenancy.enter('$tok_alice')" -c "SELECT count(*) FROM tickets" \
  -c "SELECT pg_sleep(3)" -c "COMMIT" >"$work/held.log" 2>&1 &
held=$!
sleep 1.5
activity=""
for i in 1 2; do activity+=$(node "$i" postgres -c "SELECT query FROM pg_stat_activity WHERE datname = '$db'" 2>&1)$'\n'; done
wait $held
logs=$(cat "$work/worker1.log" "$work/worker2.log")
! echo "$activity$logs" | grep -qF "$tok_alice" && ! echo "$activity$logs" | grep -qF "$tok_bob"
report no_user_token_on_workers $? "a user token is in a worker's pg_stat_activity or log"
copied=$(echo "$activity" | grep -o "tenancy.context *= *'[^']*'" | head -1)
source="pg_stat_activity"
[ -n "$copied" ] || { copied=$(echo "$logs" | grep -o "tenancy.context *= *'[^']*'" | tail -1); source="log"; }
if [ -z "$copied" ]; then
  report forwarded_context_reaches_workers 1 "no SET tenancy.context seen on any worker"
  report copied_forwarding_context_is_useless 1 "nothing to copy"
else
  report forwarded_context_reaches_workers 0
  shard=$(su_q "SELECT shard_name('tickets', get_shard_id_for_distribution_column('tickets', '$acme'::uuid)) || ' ' ||
                       (SELECT nodeport FROM pg_dist_shard_placement
                         WHERE shardid = get_shard_id_for_distribution_column('tickets', '$acme'::uuid))")
  for i in 1 2; do [ "${ports[$i]}" = "${shard#* }" ] && on=$i; done
  out=$(node "$on" citus_app -c "BEGIN" -c "SET LOCAL $copied" -c "SELECT count(*) FROM ${shard% *}" -c "COMMIT" 2>&1)
  ! echo "$out" | grep -qx '[1-9][0-9]*'; report copied_forwarding_context_is_useless $? "(from the $source) $out"
  echo "# the forwarding context was copied from a worker's $source"
fi

# ---- leave(): nothing visible afterwards, on any node.
out=$(as_tenant "$tok_alice" "SELECT count(*) FROM tickets WHERE organization_id = '$acme'" "SELECT tenancy.leave()" \
  "SELECT count(*) FROM tickets WHERE organization_id = '$acme'" 2>&1)
head -1 <<<"$out" | grep -qx 2 && ! sed -n '2,$p' <<<"$out" | grep -qx '[1-9][0-9]*'
report nothing_visible_after_leave_router $? "$out"
out=$(as_tenant "$tok_alice" "SELECT count(*) FROM tickets" "SELECT tenancy.leave()" "SELECT count(*) FROM tickets" 2>&1)
head -1 <<<"$out" | grep -qx 2 && ! sed -n '2,$p' <<<"$out" | grep -qx '[1-9][0-9]*'
report nothing_visible_after_leave_multi_shard $? "$out"
out=$(node 0 citus_app -c "SELECT count(*) FROM tickets" 2>&1)
! echo "$out" | grep -qx '[1-9][0-9]*'; report nothing_visible_without_context $? "$out"

# ---- the coordinator's audit sees the cluster.
audit() { su_q "SELECT rule || ' ' || object || ' ' || detail FROM tenancy.audit() WHERE rule LIKE 'T6%'" 2>&1; }
out=$(audit)
echo "$out" | sed 's/^/# audit: /'
echo "$out" | grep -q "^T601 public.tickets only 0 of pg_tenancy's 4 guard(s) are restrictive"; report audit_reports_downgraded_guard $? "$out"
echo "$out" | grep -q "^T605"; [ $? -ne 0 ]; report audit_workers_accept_forwarded_contexts $? "$out"
runners=$(su_q "SELECT count(*) FROM tenancy.audit('citus_app') WHERE rule = 'T607'" 2>&1)
[ "$runners" -gt 0 ] 2>/dev/null; report audit_reports_command_runners_open_to_the_application $? "$runners"
out107=$(su_q "SELECT count(*) FROM tenancy.audit() WHERE rule = 'T107'" 2>&1)
[ "$out107" = 0 ]; report audit_no_missing_trigger_finding_for_distributed_tables $? "$out107"
echo "$out" | grep -q "^T606"; [ $? -ne 0 ]; report audit_keyrings_match $? "$(echo "$out" | grep "^T606")"
su_q "ALTER SYSTEM SET tenancy.forward_context_to_workers = off" >/dev/null 2>&1
su_q "SELECT pg_reload_conf()" >/dev/null; sleep 0.5
out=$(audit)
echo "$out" | grep -q "^T604 .*citus.propagate_set_commands = none"; report audit_reports_missing_propagate_set_commands $? "$out"
su_q "ALTER SYSTEM RESET tenancy.forward_context_to_workers" >/dev/null 2>&1
node 2 postgres -c "ALTER SYSTEM SET tenancy.accept_forwarded_context = off" -c "SELECT pg_reload_conf()" >/dev/null
"$cli" keygen --alg HS256 --kid extra --keyring "$work/extra.keyring" --server-keyring "$work/extra.server" >/dev/null
cat "$work/extra.server" >>"$work/worker2.keyring"
su_q "SELECT pg_reload_conf()" >/dev/null; sleep 0.5
out=$(audit)
echo "$out" | grep -q "^T605 127.0.0.1:${ports[2]}"; report audit_reports_worker_not_accepting $? "$out"
echo "$out" | grep -q "^T606 127.0.0.1:${ports[2]} .*differs"; report audit_reports_differing_keyring $? "$(echo "$out" | grep "^T606")"
exit 0
