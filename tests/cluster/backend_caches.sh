#!/usr/bin/env bash
# backend_caches.sh: tenancy.enter()'s per-backend caches (verified tokens and
# memberships, 2048 entries each) stay exact past their capacity. One backend
# enters 2,100 contexts of one user in 2,100 organizations (each with its own
# role and permissions) three times over: in order (every entry is evicted
# before its next use), in order again (all misses), then backwards (the first
# 2,048 of that pass are hits, the last 52 misses that evict 2100..2049), then
# 1..300 once more (hits that find the context their enter() in the backward
# pass prepared, and set it without reading the membership). Every
# enter() must succeed and land in its own organization with its own role and
# permissions. Then memberships are removed in another session, one
# whose entries were evicted and one still cached (with a prepared context),
# and the same backend's next enter() of each is refused while a third,
# untouched, still enters.
# Called by checks.sh, in its environment (q, report, $db, $TENANCY_WORK).
set -uo pipefail
n=2100
carol=cccccccc-0000-4000-8000-000000000003
org_of() { printf '0c%06d-0000-4000-8000-%012d' "$1" "$1"; }

q -c "INSERT INTO tenancy.users (id, code, email) VALUES ('$carol', 'cache_carol', 'carol@cache.example')" \
  -c "SELECT tenancy.register_permission('cache.r' || i, 'cache check') FROM generate_series(1, 3) AS i" \
  -c "CREATE TEMP TABLE cache_orgs AS
        SELECT i, format('0c%s-0000-4000-8000-%s', lpad(i::text, 6, '0'), lpad(i::text, 12, '0'))::uuid AS id
          FROM generate_series(1, $n) AS i;
      INSERT INTO tenancy.organizations (id, name, created_by) SELECT id, 'cache org ' || i, '$carol' FROM cache_orgs;
      INSERT INTO tenancy.roles (organization_id, code, name, permissions)
        SELECT id, 'r' || i, 'Role ' || i, jsonb_build_array('cache.r' || (1 + i % 3)) FROM cache_orgs;
      INSERT INTO tenancy.memberships (organization_id, user_id, role_id)
        SELECT o.id, '$carol', r.id FROM cache_orgs o JOIN tenancy.roles r ON r.organization_id = o.id" \
  -c "ANALYZE tenancy.users, tenancy.organizations, tenancy.roles, tenancy.memberships" >/dev/null
# (ANALYZE now, so autovacuum does not analyze these tables during the passes:
# its invalidation would empty the membership cache midway.)
for i in $(seq "$n"); do echo "$carol $(org_of "$i")"; done |
  "$(dirname "$TENANCY_CLI")/mint_context_tokens" "$TENANCY_KEYRING" 600 >"$TENANCY_WORK/cache_tokens"
mapfile -t tokens <"$TENANCY_WORK/cache_tokens"
[ "${#tokens[@]}" = "$n" ]; report cache_tokens_minted $? "${#tokens[@]} tokens"
# Without every token the passes cannot run (and set -u would end checks.sh).
if [ "${#tokens[@]}" = "$n" ]; then
enter_and_check() { # I...: psql lines that enter organization I's context and print a line unless it is exact
  local i org
  for i in "$@"; do
    printf -v org '0c%06d-0000-4000-8000-%012d' "$i" "$i"
    printf "BEGIN;\nSELECT tenancy.enter('%s') \\\\g /dev/null\n" "${tokens[i - 1]}"
    printf "SELECT 'wrong context for %s: ' || coalesce(tenancy.context()::text, 'none') WHERE tenancy.current_org() IS DISTINCT FROM '%s'
  OR tenancy.context()->'role'->>'code' IS DISTINCT FROM 'r%s' OR tenancy.context()->'permissions' <> '[\"cache.r%s\"]';\nCOMMIT;\n" \
      "$i" "$org" "$i" "$((1 + i % 3))"
  done
}
# All in one session, so one backend's caches: after the last passes,
# organization 1's entries are among the most recently used and 2100's were evicted.
# Another session then removes both memberships; 2 keeps its own.
{ echo "SET ROLE check_app;"
  enter_and_check $(seq "$n") $(seq "$n") $(seq "$n" -1 1) $(seq 300)
  echo "\\echo PASSES_DONE"
  echo "RESET ROLE;"
  echo "\\! psql -X -qAt -d $db -c \"DELETE FROM tenancy.memberships WHERE user_id = '$carol' AND organization_id IN ('$(org_of 1)', '$(org_of "$n")')\""
  echo "SET ROLE check_app;"
  for i in 1 "$n" 2; do
    printf "BEGIN;\nSELECT tenancy.enter('%s') \\\\g /dev/null\nSELECT 'entered %s: ' || tenancy.current_org();\nROLLBACK;\n" \
      "${tokens[i - 1]}" "$i"
  done
} >"$TENANCY_WORK/cache_session.sql"
out=$(q -v ON_ERROR_STOP=0 -f "$TENANCY_WORK/cache_session.sql" 2>&1)
# Here-strings, not pipes: under pipefail, grep -q closing a pipe early would
# fail the echo feeding it.
passes=$(sed '/^PASSES_DONE$/q' <<<"$out") # the output of the four passes
grep -qx PASSES_DONE <<<"$passes" && ! grep -q 'wrong context\|ERROR' <<<"$passes"
report caches_exact_past_capacity $? "$(grep 'wrong context\|ERROR' <<<"$passes" | head -3)"
[ "$(grep -c 'not a member of the requested organization' <<<"$out")" = 2 ] &&
  [ "$(grep -c '^entered' <<<"$out")" = 1 ] && grep -qx "entered 2: $(org_of 2)" <<<"$out"
report cache_removed_membership_refused_evicted_or_cached $? "$(echo "$out" | grep -v 'current transaction is aborted' | tail -8)"
q -c "DELETE FROM tenancy.memberships WHERE user_id = '$carol'" \
  -c "DELETE FROM tenancy.roles WHERE organization_id IN (SELECT id FROM tenancy.organizations WHERE name LIKE 'cache org %')" \
  -c "DELETE FROM tenancy.organizations WHERE name LIKE 'cache org %'" -c "DELETE FROM tenancy.users WHERE id = '$carol'" >/dev/null
fi
