#!/usr/bin/env bash
# checks.sh: cluster-level checks that pg_regress cannot express (connection
# options, statistics views, pg_dump/pg_restore, keyring files). Runs inside
# pg_virtualenv; appends "ok NAME" / "not ok NAME" lines to $TENANCY_WORK/results.
set -uo pipefail
results="$TENANCY_WORK/results"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
alice=aaaaaaaa-0000-4000-8000-000000000001
bob=bbbbbbbb-0000-4000-8000-000000000002
acme=0a000000-0000-4000-8000-00000000000a
globex=0b000000-0000-4000-8000-00000000000b
db=tenancy_checks

mint() { "$TENANCY_CLI" token mint --keyring "$TENANCY_KEYRING" "$@"; }
q() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" "$@"; }
# As the application role, in one transaction: enter with $1, then run $2.
as_tenant() { q -c "SET ROLE check_app" -c "BEGIN" -c "SELECT tenancy.enter('$1')" -c "$2" -c "COMMIT" 2>&1 | sed '/^$/d'; }
report() { # report NAME CONDITION-EXIT-STATUS [DETAIL]
  if [ "$2" -eq 0 ]; then echo "ok cluster:$1" | tee -a "$results"
  else echo "not ok cluster:$1 ${3:-}" | tee -a "$results"; fi
}

dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q -f "$here/fixture.sql" >/dev/null

tok_a=$(mint --user "$alice" --org "$acme")
tok_b=$(mint --user "$bob" --org "$globex" --kid test-ed)

# 1. Isolation holds over a plain connection, both algorithms.
out=$(as_tenant "$tok_a" "SELECT string_agg(title, ',' ORDER BY title) FROM tickets")
[ "$(echo "$out" | tail -1)" = "acme-1,acme-2" ]; report isolation_hs256 $? "$out"
out=$(as_tenant "$tok_b" "SELECT string_agg(title, ',' ORDER BY title) FROM tickets")
[ "$(echo "$out" | tail -1)" = "globex-1" ]; report isolation_eddsa $? "$out"

# 2. PGOPTIONS (startup packet) is case F03d of tests/security.

# 3. A token passed as a bind parameter never appears in pg_stat_activity or
#    pg_stat_statements (pgbench -M extended sends :tok as $1).
q -c "SELECT pg_stat_statements_reset()" >/dev/null
cat >"$TENANCY_WORK/enter.pgbench" <<'SQL'
SET ROLE check_app;
BEGIN;
SELECT tenancy.enter(:tok);
SELECT count(*) FROM tickets;
\sleep 2 s
COMMIT;
SQL
pgbench -n -M extended -t 1 -D tok="$tok_a" -f "$TENANCY_WORK/enter.pgbench" "$db" >"$TENANCY_WORK/pgbench.log" 2>&1 &
bench=$!
sleep 1
activity=$(q -c "SELECT query FROM pg_stat_activity WHERE datname = '$db' AND state = 'idle in transaction'")
wait $bench; bench_status=$?
report pgbench_enter_with_bind_parameter $bench_status "$(cat "$TENANCY_WORK/pgbench.log")"
echo "$activity" | grep -q 'count' && ! echo "$activity" | grep -q 'eyJ'; report token_not_in_pg_stat_activity $? "$activity"
statements=$(q -c "SELECT query FROM pg_stat_statements WHERE query LIKE '%tenancy.enter%'")
echo "$statements" | grep -qF 'SELECT tenancy.enter($1)' && ! echo "$statements" | grep -q 'eyJ'
report token_not_in_pg_stat_statements $? "$statements"

# 4. pg_dump / pg_restore keeps the tenancy data and the protection.
pg_dump -Fc -f "$TENANCY_WORK/dump" "$db" && dropdb --if-exists "${db}_restored" >/dev/null 2>&1 \
  && createdb "${db}_restored" && pg_restore -d "${db}_restored" "$TENANCY_WORK/dump" >"$TENANCY_WORK/restore.log" 2>&1
report dump_and_restore $? "$(cat "$TENANCY_WORK/restore.log")"
out=$(psql -X -qAt -d "${db}_restored" -c "SELECT (SELECT count(*) FROM tenancy.memberships) || ',' ||
  (SELECT count(*) FROM pg_policy WHERE polrelid = 'tickets'::regclass) || ',' ||
  (SELECT relforcerowsecurity FROM pg_class WHERE oid = 'tickets'::regclass)" 2>&1)
[ "$out" = "2,2,true" ]; report restore_keeps_protection $? "$out"
out=$(psql -X -qAt -v ON_ERROR_STOP=1 -d "${db}_restored" -c "SET ROLE check_app" -c "BEGIN" \
  -c "SELECT tenancy.enter('$tok_b')" -c "SELECT string_agg(title, ',') FROM tickets" -c "COMMIT" 2>&1 | sed '/^$/d')
[ "$(echo "$out" | tail -1)" = "globex-1" ]; report restore_keeps_isolation $? "$out"
out=$(psql -X -qAt -d "${db}_restored" -c "SET ROLE check_app" -c "SELECT count(*) FROM tickets" 2>&1)
echo "$out" | grep -q "no tenant context is active"; report restore_still_fails_closed $? "$out"
dropdb "${db}_restored"

# 5. Key rotation without restart: a new key is picked up on the next enter();
#    a removed key stops working.
"$TENANCY_CLI" keygen --alg HS256 --kid rotated --keyring "$TENANCY_WORK/rotated.keyring" \
  --server-keyring "$TENANCY_WORK/rotated.server" >/dev/null
tok_new=$("$TENANCY_CLI" token mint --keyring "$TENANCY_WORK/rotated.keyring" --user "$alice" --org "$acme")
out=$(as_tenant "$tok_new" "SELECT 1")
echo "$out" | grep -q "key id is not in the keyring"; report rotation_unknown_key_refused $? "$out"
cp "$TENANCY_SERVER_KEYRING" "$TENANCY_WORK/server.keyring.orig"
grep -v '^#' "$TENANCY_WORK/rotated.server" >>"$TENANCY_SERVER_KEYRING"
out=$(as_tenant "$tok_new" "SELECT count(*) FROM tickets")
[ "$(echo "$out" | tail -1)" = "2" ]; report rotation_new_key_accepted $? "$out"
grep -v '^test-hs ' "$TENANCY_SERVER_KEYRING" >"$TENANCY_WORK/k" && cat "$TENANCY_WORK/k" >"$TENANCY_SERVER_KEYRING"
out=$(as_tenant "$tok_a" "SELECT 1")
echo "$out" | grep -q "key id is not in the keyring"; report rotation_removed_key_refused $? "$out"
cat "$TENANCY_WORK/server.keyring.orig" >"$TENANCY_SERVER_KEYRING"
# The same in one session: a backend remembers the tokens it verified, and a
# key removed from the keyring must still stop them within a second.
tok_cached=$(mint --user "$alice" --org "$acme")
out=$(q -c "SET ROLE check_app" -c "BEGIN" -c "SELECT tenancy.enter('$tok_cached')" -c "SELECT count(*) FROM tickets" \
  -c "COMMIT" -c "\\! grep -v '^test-hs ' '$TENANCY_SERVER_KEYRING' >'$TENANCY_WORK/k' && cat '$TENANCY_WORK/k' >'$TENANCY_SERVER_KEYRING'" \
  -c "SELECT pg_sleep(1.2)" -c "BEGIN" -c "SELECT tenancy.enter('$tok_cached')" 2>&1 | sed '/^$/d')
cat "$TENANCY_WORK/server.keyring.orig" >"$TENANCY_SERVER_KEYRING"
echo "$out" | grep -q "^2$" && echo "$out" | grep -q "key id is not in the keyring"
report rotation_removed_key_refused_for_a_token_verified_before $? "$out"
# ... and a remembered token still expires (its times are checked at every use),
# and is then dropped from the backend's cache (refused again after that).
tok_short=$(mint --user "$alice" --org "$acme" --ttl 1)
skew=$(q -c "SHOW tenancy.clock_skew" | tr -dc 0-9)
out=$(q -v ON_ERROR_STOP=0 -c "SET ROLE check_app" -c "BEGIN" -c "SELECT tenancy.enter('$tok_short')" \
  -c "SELECT count(*) FROM tickets" -c "COMMIT" -c "SELECT pg_sleep($skew + 2.5)" -c "BEGIN" \
  -c "SELECT tenancy.enter('$tok_short')" -c "ROLLBACK" \
  -c "BEGIN" -c "SELECT tenancy.enter('$tok_short')" -c "ROLLBACK" -c "RESET ROLE" \
  -c "SELECT 'tokens_cached:' || entries FROM tenancy.backend_cache_stats() WHERE cache = 'verified_token'" 2>&1 |
  sed '/^$/d')
echo "$out" | grep -q "^2$" && [ "$(echo "$out" | grep -c "Token has expired")" = 2 ] && echo "$out" | grep -qx "tokens_cached:0"
report expired_token_refused_after_it_was_verified $? "$out"

# 6. A keyring others can read is refused, with a hint and no key material.
chmod 644 "$TENANCY_SERVER_KEYRING"
out=$(as_tenant "$tok_a" "SELECT 1")
echo "$out" | grep -q "keyring is not usable"; report keyring_permissions_enforced $? "$out"
chmod 600 "$TENANCY_SERVER_KEYRING"
out=$(as_tenant "$tok_a" "SELECT count(*) FROM tickets")
[ "$(echo "$out" | tail -1)" = "2" ]; report keyring_usable_again $? "$out"

# 7. Citus worker mode, simulated without Citus: a worker accepts only the
#    forwarding context a coordinator's enter() signs (tests/token/
#    mint_forward_context signs one the same way), and only inside the Citus
#    distributed transaction it was minted for. Citus's
#    pg_catalog.get_current_transaction_id() is played by a stand-in that reads
#    pgt_test.dtx (Citus assigns the id after replaying the SET, as here).
mint_fwd() { # DTX [TTL] [PERMISSIONS]
  "$(dirname "$TENANCY_CLI")/mint_forward_context" "$TENANCY_SERVER_KEYRING" "$alice" "$acme" \
    1a000000-0000-4000-8000-00000000001a agent "${3:-tickets.read}" "$1" "${2:-30}"
}
dtx=7:42:1000
fwd=$(mint_fwd "$dtx")
as_worker() { # SQL...: as the application role, in one transaction
  local args=(-c "SET ROLE check_app" -c "BEGIN")
  for sql in "$@"; do args+=(-c "$sql"); done
  q "${args[@]}" -c "COMMIT" 2>&1 | sed '/^$/d'
}
q -c "CREATE FUNCTION pg_catalog.get_current_transaction_id(OUT database_id oid, OUT process_id int,
        OUT initiator_node_identifier int4, OUT transaction_number int8, OUT transaction_stamp timestamptz)
      LANGUAGE sql AS \$\$
        SELECT 0::oid, pg_backend_pid(), split_part(d, ':', 1)::int4, split_part(d, ':', 2)::int8,
               '2000-01-01 00:00:00+00'::timestamptz + split_part(d, ':', 3)::int8 * interval '1 microsecond'
          FROM (SELECT nullif(current_setting('pgt_test.dtx', true), '') AS d) AS s WHERE d IS NOT NULL
        UNION ALL SELECT 0::oid, pg_backend_pid(), 0, 0, NULL WHERE nullif(current_setting('pgt_test.dtx', true), '') IS NULL
      \$\$" >/dev/null
out=$(as_worker "SET LOCAL tenancy.context = '$fwd'")
echo "$out" | grep -q "can only be set by tenancy.enter"; report forwarded_context_off_by_default $? "$out"
q -c "ALTER SYSTEM SET tenancy.accept_forwarded_context = on" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
out=$(as_worker "SET LOCAL tenancy.context = '$fwd'" "SET LOCAL pgt_test.dtx = '$dtx'" \
  "SELECT tenancy.context()->>'source', tenancy.context()->'role'->>'code', tenancy.has_permission('tickets.read'),
          tenancy.has_permission('tickets.write'), count(*) FROM tickets GROUP BY 1, 2, 3, 4")
[ "$(echo "$out" | tail -1)" = "forwarded|agent|t|f|2" ]; report forwarded_context_carries_role_and_permissions $? "$out"
# What Citus sends (one query string) shows in pg_stat_activity without the
# token, seen from another session while it runs.
PGAPPNAME=forwarded_check q -c "SET ROLE check_app" -c "BEGIN" \
  -c "SET LOCAL tenancy.context = '$fwd'; SET LOCAL pgt_test.dtx = '$dtx'; SELECT pg_sleep(3)" -c "COMMIT" >/dev/null 2>&1 &
sleeper=$!
out=""
for _ in $(seq 1 25); do
  sleep 0.1
  out=$(q -c "SELECT position('$fwd' in query) = 0 AND query LIKE '%tenancy.context = ''(hidden)''%'
                FROM pg_stat_activity WHERE application_name = 'forwarded_check' AND query LIKE '%pg_sleep%'" 2>&1)
  [ -n "$out" ] && break
done
wait "$sleeper"
[ "$out" = "t" ]; report forwarded_context_hidden_from_pg_stat_activity $? "$out"
out=$(as_worker "SET LOCAL tenancy.context = '$fwd'" "SET LOCAL pgt_test.dtx = '7:43:1000'" "SELECT count(*) FROM tickets")
echo "$out" | grep -q "no tenant context"; report forwarded_context_useless_in_other_distributed_transaction $? "$out"
out=$(as_worker "SET LOCAL tenancy.context = '$fwd'" "SELECT count(*) FROM tickets")
echo "$out" | grep -q "no tenant context"; report forwarded_context_needs_distributed_transaction $? "$out"
out=$(as_worker "SET LOCAL tenancy.context = '$tok_a'")
echo "$out" | grep -q "only a forwarding context minted by the coordinator"; report forwarded_context_refuses_user_tokens $? "$out"
out=$(as_worker "SET LOCAL tenancy.context = '$(mint_fwd "$dtx" 600)'")
echo "$out" | grep -q "lives longer than tenancy.forwarding_lifetime"; report forwarded_context_lifetime_bounded $? "$out"
for bad in "$fwd~1a000000-0000-4000-8000-00000000001a~owner~*" "${fwd}x" "forged"; do
  out=$(as_worker "SET LOCAL tenancy.context = '$bad'")
  echo "$out" | grep -q "can only be set by tenancy.enter" || break
done
echo "$out" | grep -q "can only be set by tenancy.enter"; report forwarded_context_rejects_invalid_values $? "$out"
# ...and a forwarded context never outlives its transaction or lands anywhere
# else: a plain SET is refused at once; set_config(..., false) (which no hook
# can tell from SET LOCAL) fails for the application role, which may not read
# the setting back, and is refused at COMMIT for a superuser (the transaction
# rolls back), so no value is left in the session.
out=$(q -c "SET ROLE check_app" -c "BEGIN" -c "SET tenancy.context = '$fwd'" 2>&1)
echo "$out" | grep -q "accepted only with SET LOCAL"; report forwarded_context_plain_set_refused $? "$out"
out=$(q -c "SET ROLE check_app" -c "BEGIN" -c "SELECT set_config('tenancy.context', '$fwd', false) IS NOT NULL" \
  -c "COMMIT" 2>&1)
echo "$out" | grep -q "ERROR"; report forwarded_context_session_set_config_refused_to_app $? "$out"
out=$(q -c "BEGIN" -c "SELECT set_config('tenancy.context', '$fwd', false) IS NOT NULL" -c "COMMIT" 2>&1)
echo "$out" | grep -q "set at session level cannot be committed"; report forwarded_context_session_set_config_refused_at_commit $? "$out"
out=$(q -v ON_ERROR_STOP=0 -c "BEGIN" -c "SELECT set_config('tenancy.context', '$fwd', false) IS NOT NULL" -c "COMMIT" \
  -c "SELECT tenancy.context() IS NULL, NOT ('setting tenancy.context' = ANY (tenancy.session_leftovers()))" 2>&1)
[ "$(echo "$out" | tail -1)" = "t|t" ]; report forwarded_context_ends_with_transaction $? "$out"
out=$(q -c "SET ROLE check_app" -c "SET tenancy.context = '$fwd'" 2>&1)
echo "$out" | grep -q "only by SET LOCAL inside a transaction block\|accepted only with SET LOCAL"; report forwarded_context_needs_transaction $? "$out"
out=$(q -c "ALTER ROLE check_app SET tenancy.context = '$fwd'" 2>&1)
echo "$out" | grep -q "can only be set by tenancy.enter"; report forwarded_context_not_a_role_default $? "$out"
out=$(as_worker "SELECT tenancy.enter('$tok_a')" "SET LOCAL tenancy.context = '$fwd'")
echo "$out" | grep -q "already has a tenant context"; report forwarded_context_cannot_replace_entered $? "$out"
# ...parallel workers get the forwarded context of their leader's distributed
# transaction (the leader not scanning, so the rows come from the workers)...
parallel=(-c "SET parallel_setup_cost = 0" -c "SET parallel_tuple_cost = 0" -c "SET min_parallel_table_scan_size = 0"
  -c "SET force_parallel_mode = regress" -c "SET parallel_leader_participation = off")
out=$(q -v ON_ERROR_STOP=0 "${parallel[@]}" -c "SET ROLE check_app" -c "BEGIN" -c "SET LOCAL tenancy.context = '$fwd'" \
  -c "SET LOCAL pgt_test.dtx = '$dtx'" -c "SELECT count(*) FROM tickets" -c "COMMIT" 2>&1)
[ "$(echo "$out" | tail -1)" = "2" ]; report forwarded_context_reaches_parallel_workers $? "$out"
# ...but a session-level SET left from an earlier transaction never does, in
# the "empty" mode where a leak would show as rows...
out=$(q -v ON_ERROR_STOP=0 -c "SET tenancy.missing_context = empty" "${parallel[@]}" \
  -c "BEGIN" -c "SET LOCAL pgt_test.dtx = '$dtx'" -c "SELECT set_config('tenancy.context', '$fwd', false) IS NOT NULL" \
  -c "COMMIT" -c "SET ROLE check_app" -c "SELECT count(*) FROM tickets" 2>&1)
[ "$(echo "$out" | tail -1)" = "0" ]; report forwarded_leftover_not_used_by_parallel_workers $? "$out"
# ...and a transaction with a forwarded context cannot enter a second one.
out=$(as_worker "SET LOCAL tenancy.context = '$fwd'" "SELECT tenancy.enter('$tok_a')")
echo "$out" | grep -q "already entered in this transaction"; report forwarded_context_then_enter_refused $? "$out"
q -c "ALTER SYSTEM RESET tenancy.accept_forwarded_context" -c "SELECT pg_reload_conf()" >/dev/null
# The coordinator side needs Citus: without it, enter() says so instead of
# setting a context the workers would never see.
q -c "ALTER SYSTEM SET tenancy.forward_context_to_workers = on" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
out=$(as_worker "SELECT tenancy.enter('$tok_a')")
echo "$out" | grep -q "Citus is not loaded"; report forward_context_to_workers_needs_citus $? "$out"
q -c "ALTER SYSTEM RESET tenancy.forward_context_to_workers" -c "SELECT pg_reload_conf()" \
  -c "DROP FUNCTION pg_catalog.get_current_transaction_id()" >/dev/null
out=$(q -c "SELECT tenancy.keyring_fingerprint() ~ '^[0-9a-f]{64}$'" -c "SET ROLE check_app" \
  -c "SELECT tenancy.keyring_fingerprint()" 2>&1)
head -1 <<<"$out" | grep -qx t && grep -q "permission denied" <<<"$out"; report keyring_fingerprint_for_auditors_only $? "$out"
sleep 1

# Databases of their own for the shared-cache checks below: the fixture in a
# new database, the dblink connection string to one, and an enter() there as
# the application role (t, or the error).
fixture_database() {
  dropdb --if-exists "$1" >/dev/null 2>&1
  createdb "$1"
  psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" -f "$here/fixture.sql" >/dev/null
}
link_to() {
  echo "format('dbname=%s port=%s host=%s user=%s', '$1', current_setting('port'),
    split_part(current_setting('unix_socket_directories'), ',', 1), current_user)"
}
enter_in() { # enter_in DATABASE TOKEN
  psql -X -qAt -d "$1" -c "SET ROLE check_app" -c "BEGIN" -c "SELECT tenancy.enter('$2') IS NOT NULL" -c "COMMIT" 2>&1
}

# 7a. The shared membership cache answers only the database its entry was read
#     in: a second database holds the same ids, but alice is no member of Acme
#     there. Her membership, read (and shared) in the first database after
#     that removal, must not admit her in the second.
other=${db}_other
dropdb --if-exists "$other" >/dev/null 2>&1
createdb "$other"
# (bob enters there first: a database's first enter() moves the generation,
# which would retire the entry without looking at its database.)
psql -X -qAt -v ON_ERROR_STOP=1 -d "$other" -f "$here/fixture.sql" -c "SET ROLE check_app" -c "BEGIN" \
  -c "SELECT tenancy.enter('$tok_b')" -c "COMMIT" -c "RESET ROLE" \
  -c "DELETE FROM tenancy.memberships WHERE user_id = '$alice' AND organization_id = '$acme'" >/dev/null
first=$(as_tenant "$tok_a" "SELECT count(*) FROM tickets")
second=$(enter_in "$other" "$tok_a")
[ "$(echo "$first" | tail -1)" = "2" ] && echo "$second" | grep -q "not a member of the requested organization"
report shared_membership_cache_per_database $? "$first / $second"
dropdb "$other"

# 7a'. A database nobody has entered a context in yet has no record of its
#     tables, so no backend's invalidation moves the generation for it. The
#     owner's transaction there (trigger disabled, alice removed, trigger
#     enabled) is still open when the database's first enter() records the
#     tables and reads alice as a member; a backend started after the owner
#     commits must not find her shared. The sessions are opened through dblink
#     from this database, whose backend takes in none of the other's
#     invalidations.
fresh=${db}_fresh
fixture_database "$fresh"
link=$(link_to "$fresh")
out=$(q -c "CREATE EXTENSION IF NOT EXISTS dblink" \
  -c "SELECT dblink_connect('owner', $link)" -c "SELECT dblink_connect('reader', $link)" \
  -c "SELECT dblink_exec('owner', 'BEGIN')" \
  -c "SELECT dblink_exec('owner', 'ALTER TABLE tenancy.memberships DISABLE TRIGGER memberships_note_change')" \
  -c "SELECT dblink_exec('owner', 'DELETE FROM tenancy.memberships WHERE user_id = ''$alice''')" \
  -c "SELECT dblink_exec('owner', 'ALTER TABLE tenancy.memberships ENABLE ALWAYS TRIGGER memberships_note_change')" \
  -c "SELECT dblink_exec('reader', 'SET ROLE check_app')" -c "SELECT dblink_exec('reader', 'BEGIN')" \
  -c "SELECT * FROM dblink('reader', 'SELECT tenancy.enter(''$tok_a'') IS NOT NULL') AS t(entered boolean)" \
  -c "SELECT dblink_exec('reader', 'COMMIT')" -c "SELECT dblink_disconnect('reader')" \
  -c "SELECT dblink_exec('owner', 'COMMIT')" -c "SELECT dblink_disconnect('owner')" 2>&1)
after=$(enter_in "$fresh" "$tok_a")
echo "$out" | grep -qx t && echo "$after" | grep -q "not a member of the requested organization"
report shared_membership_cache_new_database_owner_transaction $? "$out / $after"
dropdb "$fresh"

# 7a''. The extension dropped and created again in one transaction, with the
#     same users, organizations and roles but alice no longer a member, the
#     change triggers off while the rows go in: no change trigger fires at
#     all, so only the catalog invalidations of the dropped tables and the new
#     record of their successors can retire what was read through the old
#     ones. A backend that read alice before (kept
#     open through dblink) and a new backend must both refuse her; bob, a
#     member of the new install, is admitted by both (so a refusal is not just
#     every enter() failing).
reinstalled=${db}_reinstalled
fixture_database "$reinstalled"
link=$(link_to "$reinstalled")
link_enter=() # the reader's enter() with each token: t, or the error's message
for token in "$tok_a" "$tok_b"; do
  link_enter+=(-c "SELECT dblink_exec('reader', 'BEGIN')"
    -c "SELECT coalesce((SELECT entered::text FROM dblink('reader', 'SELECT tenancy.enter(''$token'') IS NOT NULL', false) AS t(entered boolean)), dblink_error_message('reader'))"
    -c "SELECT dblink_exec('reader', 'ROLLBACK')")
done
reinstall="BEGIN;
DROP EXTENSION pg_tenancy CASCADE;
CREATE EXTENSION pg_tenancy;
SELECT tenancy.register_permission('tickets.read', 'Read tickets');
ALTER TABLE tenancy.users DISABLE TRIGGER users_note_change;
ALTER TABLE tenancy.roles DISABLE TRIGGER roles_note_change;
ALTER TABLE tenancy.memberships DISABLE TRIGGER memberships_note_change;
INSERT INTO tenancy.users (id, code, email) VALUES ('$alice', 'alice', 'alice@acme.example'), ('$bob', 'bob', 'bob@globex.example');
INSERT INTO tenancy.organizations (id, name, created_by) VALUES ('$acme', 'Acme', '$alice'), ('$globex', 'Globex', '$bob');
INSERT INTO tenancy.roles (id, organization_id, code, name, permissions) VALUES
  ('1a000000-0000-4000-8000-00000000001a', '$acme', 'member', 'Member', '[\"tickets.*\"]'),
  ('1b000000-0000-4000-8000-00000000001b', '$globex', 'member', 'Member', '[\"tickets.*\"]');
INSERT INTO tenancy.memberships (organization_id, user_id, role_id) VALUES ('$globex', '$bob', '1b000000-0000-4000-8000-00000000001b');
ALTER TABLE tenancy.users ENABLE ALWAYS TRIGGER users_note_change;
ALTER TABLE tenancy.roles ENABLE ALWAYS TRIGGER roles_note_change;
ALTER TABLE tenancy.memberships ENABLE ALWAYS TRIGGER memberships_note_change;
COMMIT;"
reinstall_quoted=${reinstall//"'"/"''"}
# One session throughout: dblink's named connections live in it. The reader
# reads alice (and shares her), the owner reinstalls, the reader tries again.
through_link=$(q -c "SELECT dblink_connect('reader', $link)" -c "SELECT dblink_connect('owner', $link)" \
  -c "SELECT dblink_exec('reader', 'SET ROLE check_app')" -c "SELECT dblink_exec('reader', 'BEGIN')" \
  -c "SELECT 'before ' || entered FROM dblink('reader', 'SELECT tenancy.enter(''$tok_a'') IS NOT NULL') AS t(entered boolean)" \
  -c "SELECT dblink_exec('reader', 'COMMIT')" \
  -c "SELECT dblink_exec('owner', '$reinstall_quoted')" -c "SELECT dblink_disconnect('owner')" \
  "${link_enter[@]}" -c "SELECT dblink_disconnect('reader')" 2>&1)
new_alice=$(enter_in "$reinstalled" "$tok_a")
new_bob=$(enter_in "$reinstalled" "$tok_b")
echo "$through_link" | grep -qx "before true" && echo "$through_link" | grep -qx COMMIT &&
  echo "$through_link" | grep -q "^ERROR:  the token's user is not a member of the requested organization" &&
  echo "$through_link" | grep -qx true &&
  echo "$new_alice" | grep -q "not a member of the requested organization" && echo "$new_bob" | grep -qx t
report shared_membership_cache_extension_recreated_in_one_transaction $? \
  "$through_link / $new_alice / $new_bob"
q -c "DROP EXTENSION dblink" >/dev/null
dropdb "$reinstalled"

# 7b. tenancy.enter()'s per-backend caches past their capacity.
source "$here/backend_caches.sh"

dropdb "$db"

# 8. Upgrade: every released version upgraded to the current one has exactly the
#    catalog of a fresh install (the guard that sql/src and the upgrade scripts agree).
bash "$here/upgrade_matches_fresh.sh"
