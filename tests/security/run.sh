#!/usr/bin/env bash
# run.sh: the attack suite. Builds two databases on the server in PGHOST/PGPORT
# (as the superuser in PGUSER): tenancy_security (fixture.sql, set up right) and
# tenancy_security_misconfigured (plus misconfigured.sql). Then runs every case
# of cases/*.sql and cases/*.sh, each in a fresh session, and prints a table of
# case id -> result and one closing line "N passed, M failed".
#
# A SQL case is a block that starts with "-- @case ID title". It runs as the
# application role sec_app (a real login, never SET ROLE from a superuser)
# unless the block has "-- @as admin", against the clean database unless it has
# "-- @db misconfigured". It passes when psql reaches its end, no assertion
# raised CASE-FAIL, and every error it provoked was checked by
# sectest.expect_error() (an unexpected error fails the case).
#
# Needs a server that preloads pg_tenancy and pg_stat_statements; TENANCY_CLI;
# TENANCY_KEYRING and TENANCY_SERVER_KEYRING holding an HS256 key "test-hs" and
# an EdDSA key "test-ed" (tests/run-all.sh creates them); psql and jq.
# With RESULTS=FILE, also appends "ok security:ID" / "not ok security:ID" lines.
# KEEP=1 keeps both databases afterwards. ONLY=ID,ID runs just those cases. BREAK=FILE applies FILE to the clean database
# after the fixture: a way to check that the suite notices a weakened setup.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d /tmp/pg_tenancy_security.XXXXXX)
trap 'rm -rf "$work"' EXIT
db=tenancy_security
bad_db=tenancy_security_misconfigured
admin_user=${PGUSER:-postgres}

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -U "$admin_user" "$@"; }

echo "== security fixture"
for d in "$db" "$bad_db"; do
  psql_admin -d postgres -c "DROP DATABASE IF EXISTS $d" -c "CREATE DATABASE $d" >/dev/null || exit 1
  psql_admin -d "$d" -f "$here/fixture.sql" >"$work/fixture-$d.log" 2>&1 || { cat "$work/fixture-$d.log"; exit 1; }
done
if [ -n "${BREAK:-}" ]; then psql_admin -d "$db" -f "$BREAK" >/dev/null || exit 1; fi
psql_admin -d "$bad_db" -f "$here/misconfigured.sql" >"$work/misconfigured.log" 2>&1 ||
  { cat "$work/misconfigured.log"; exit 1; }

# Fixed ids from fixture.sql.
org_a=0a000000-0000-4000-8000-00000000000a org_b=0b000000-0000-4000-8000-00000000000b
alice=a1000000-0000-4000-8000-000000000001 bob=b2000000-0000-4000-8000-000000000002
carol=c3000000-0000-4000-8000-000000000003 dave=d4000000-0000-4000-8000-000000000004
mint() { "$TENANCY_CLI" token mint --keyring "$TENANCY_KEYRING" --ttl "${TTL:-3600}" "$@"; }
vars=(
  -v "org_a=$org_a" -v "org_b=$org_b" -v "alice=$alice" -v "bob=$bob" -v "carol=$carol" -v "dave=$dave"
  -v "tok_alice_a=$(mint --user $alice --org $org_a --kid test-hs)"
  -v "tok_alice_a_ed=$(mint --user $alice --org $org_a --kid test-ed)"
  -v "tok_bob_b=$(mint --user $bob --org $org_b --kid test-hs)"
  -v "tok_carol_a=$(mint --user $carol --org $org_a --kid test-hs)"
  -v "tok_alice=$(mint --user $alice --kid test-hs)"
  -v "tok_alice_b=$(mint --user $alice --org $org_b --kid test-hs)"
  -v "tok_dave_a=$(mint --user $dave --org $org_a --kid test-hs)"
  -v "tok_dave=$(mint --user $dave --kid test-hs)"
  -v "tok_bob=$(mint --user $bob --kid test-ed)"
  -v "tok_expired=$(TTL=60 mint --user $alice --org $org_a --kid test-hs --issued-offset -600)"
  -v "tok_future=$(TTL=60 mint --user $alice --org $org_a --kid test-hs --issued-offset 600)"
  -v "tok_too_long=$(TTL=86400 mint --user $alice --org $org_a --kid test-hs)"
  -v "hs_secret=$(sed -n 's/^test-hs HS256 secret:\([A-Za-z0-9_-]*\).*/\1/p' "$TENANCY_KEYRING")"
  -v "ed_public=$(sed -n 's/^test-ed EdDSA public:\([A-Za-z0-9_-]*\).*/\1/p' "$TENANCY_SERVER_KEYRING")"
  -v "now=$(date +%s)"
)
export org_a org_b alice bob carol dave db bad_db admin_user
export SECURITY_WORK=$work

declare -a ids titles outcomes
record() { # ID TITLE ok|fail [why]
  ids+=("$1"); titles+=("$2"); outcomes+=("$3${4:+ ($4)}")
  if [ -n "${RESULTS:-}" ]; then
    if [ "$3" = ok ]; then echo "ok security:$1" >>"$RESULTS"; else echo "not ok security:$1" >>"$RESULTS"; fi
  fi
}
wanted() { [ -z "${ONLY:-}" ] || [[ ",$ONLY," == *",$1,"* ]]; }

# Splits a SQL case file into one file per case: its header line, then the
# file's preamble (what comes before the first case: shared \set lines), then
# the case's own lines.
run_sql_cases() {
  local file=$1
  awk -v dir="$work/cases" -v base="$(ls "$work/cases"/*.sql 2>/dev/null | wc -l)" '
    /^-- @case / { n++; out = sprintf("%s/%05d.sql", dir, n + base); body = sprintf("%s/%05d.body", dir, n + base)
                   print > out; printf "%s", preamble > out; printf "" > body; next }
    !out { preamble = preamble $0 "\n"; next }
    { print > out; print > body }
  ' "$file"
}
mkdir -p "$work/cases"
for file in "$here"/cases/*.sql; do run_sql_cases "$file"; done

echo "== attack cases"
for case_file in "$work"/cases/*.sql; do
  header=$(head -1 "$case_file")
  id=$(echo "$header" | awk '{print $3}')
  title=$(echo "$header" | cut -d' ' -f4-)
  wanted "$id" || continue
  user=sec_app password=sec_app target=$db
  grep -q '^-- @as admin' "$case_file" && { user=$admin_user; password=${PGPASSWORD:-}; }
  grep -q '^-- @db misconfigured' "$case_file" && target=$bad_db
  # The case's own statements (not its comments, nor the shared preamble) must assert something.
  if ! grep -v '^[[:space:]]*--' "${case_file%.sql}.body" | grep -q 'sectest\.'; then
    record "$id" "$title" fail "the case asserts nothing"; continue
  fi
  echo '\echo CASE-DONE' >>"$case_file"
  output=$(PGPASSWORD=$password timeout 120 psql -X -q -v ON_ERROR_STOP=0 -v VERBOSITY=default "${vars[@]}" \
    -U "$user" -d "$target" -f "$case_file" 2>&1)
  errors=$(grep -c 'ERROR:' <<<"$output")
  checked=$(grep -c 'EXPECTED-ERROR-OK' <<<"$output")
  if grep -q 'CASE-FAIL' <<<"$output"; then
    record "$id" "$title" fail "$(grep -o 'CASE-FAIL: .*' <<<"$output" | head -1 | cut -c1-160)"
  elif ! grep -q '^CASE-DONE' <<<"$output"; then
    record "$id" "$title" fail "did not run to the end"
  elif [ "$errors" -ne "$checked" ]; then
    record "$id" "$title" fail "unexpected error: $(grep 'ERROR:' <<<"$output" | grep -v EXPECTED | head -1 | cut -c1-160)"
  else
    record "$id" "$title" ok
  fi
  [ -n "${VERBOSE:-}" ] && { echo "---- $id"; echo "$output"; }
done

# Shell cases: each file calls shell_case ID TITLE FUNCTION for its functions.
shell_case() {
  local id=$1 title=$2 fn=$3 why
  wanted "$id" || return 0
  if why=$("$fn" 2>&1); then record "$id" "$title" ok; else record "$id" "$title" fail "$(echo "$why" | tail -1 | cut -c1-160)"; fi
}
export -f psql_admin
for file in "$here"/cases/*.sh; do
  # shellcheck source=/dev/null
  . "$file"
done

echo
printf '%-8s %-7s %s\n' "case" "result" "attack"
passed=0 failed=0
for i in "${!ids[@]}"; do
  result=${outcomes[$i]}
  why=""
  [ "${result%% *}" = ok ] || why=" -- ${result#fail }"
  printf '%-8s %-7s %s\n' "${ids[$i]}" "${result%% *}" "${titles[$i]}$why"
  if [ "${result%% *}" = ok ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
[ -n "${KEEP:-}" ] || psql_admin -d postgres -c "DROP DATABASE $db" -c "DROP DATABASE $bad_db" >/dev/null
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
