#!/usr/bin/env bash
# upgrade_matches_fresh.sh: the guard that sql/src (built into the current
# version's install script) and the hand-written upgrade scripts agree. A fresh
# install of the current version must have exactly the catalog of every released
# version upgraded to it, step by step and in one ALTER EXTENSION UPDATE:
# extension_catalog.sql lists function bodies and settings, relations, columns,
# constraints, indexes, ACLs, policies, triggers, comments, types and more.
#
# Runs against the server in PGHOST/PGPORT (inside pg_virtualenv, with
# pg_tenancy preloaded) and the installed extension files. Prints
# "ok NAME" / "not ok NAME" lines, and appends them to $TENANCY_WORK/results
# when TENANCY_WORK is set. Differences go to stderr; the exit status is 1 if
# any check failed.
#
#   upgrade_matches_fresh.sh                  every released version
#   upgrade_matches_fresh.sh --against FILE   also compare the fresh install
#                                             with a catalog saved earlier
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
results=${TENANCY_WORK:+$TENANCY_WORK/results}
against=""
failures=0
[ "${1:-}" = "--against" ] && against=$2
out_dir=$(mktemp -d /tmp/pg_tenancy_catalog.XXXXXX)
trap 'rm -rf "$out_dir"' EXIT

report() { # report NAME STATUS [DETAIL]
  local line
  if [ "$2" -eq 0 ]; then line="ok cluster:$1"; else line="not ok cluster:$1"; failures=$((failures + 1)); fi
  echo "$line"
  [ -n "$results" ] && echo "$line" >>"$results"
  [ "$2" -eq 0 ] || [ -z "${3:-}" ] || echo "$3" >&2
}
catalog() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" -f "$here/extension_catalog.sql"; }
# install DB SQL...: a new database with the extension installed by the given statements.
install() {
  local db=$1; shift
  dropdb --if-exists "$db" >/dev/null 2>&1
  createdb "$db" || return 1
  local args=()
  for statement in "$@"; do args+=(-c "$statement"); done
  psql -X -q -v ON_ERROR_STOP=1 -d "$db" "${args[@]}" >"$out_dir/$db.log" 2>&1 || { cat "$out_dir/$db.log" >&2; return 1; }
}
version_of() { psql -X -qAt -d "$1" -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_tenancy'"; }
compare() { # compare NAME DB: DB's catalog equals the fresh install's
  local name=$1 db=$2
  catalog "$db" >"$out_dir/$db.catalog" 2>&1
  diff "$out_dir/fresh.catalog" "$out_dir/$db.catalog" >"$out_dir/$db.diff"
  report "$name" $? "$(head -40 "$out_dir/$db.diff")"
}

current=$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$root/pg_tenancy.control")
# Released versions: every version an upgrade script starts from.
released=$(ls "$root"/sql/pg_tenancy--*--*.sql | sed -E 's/.*pg_tenancy--([0-9.]+)--.*/\1/' | sort -uV)

install tenancy_fresh "CREATE EXTENSION pg_tenancy"
[ "$(version_of tenancy_fresh)" = "$current" ]; report "fresh_install_is_$current" $?
catalog tenancy_fresh >"$out_dir/fresh.catalog"
echo "catalog of a fresh $current install: $(wc -l <"$out_dir/fresh.catalog") facts ($(cut -f1 "$out_dir/fresh.catalog" | sort | uniq -c | awk '{n=$1; $1=""; printf "%s%s %s", sep, n, substr($0, 2); sep=", "}'))"

for from in $released; do
  v=${from//./_}
  # One ALTER EXTENSION UPDATE: PostgreSQL chains the upgrade scripts.
  install "tenancy_from_$v" "CREATE EXTENSION pg_tenancy VERSION '$from'" "ALTER EXTENSION pg_tenancy UPDATE"
  [ "$(version_of "tenancy_from_$v")" = "$current" ]; report "upgrade_from_${v}_runs" $?
  compare "upgrade_from_${v}_matches_fresh_install" "tenancy_from_$v"
  dropdb "tenancy_from_$v"
done

# Tables protected before the upgrade end with the policies protect() gives
# them on a fresh install (0.3.0 re-applies them: per-command guards on tables
# protected with permissions), partitions and inheritance children included.
tables=(
  "SELECT tenancy.register_permission('tickets.read', 'Read'), tenancy.register_permission('tickets.write', 'Write')"
  "CREATE TABLE cases (id int, organization_id uuid NOT NULL) PARTITION BY HASH (id)"
  "CREATE TABLE cases_0 PARTITION OF cases FOR VALUES WITH (MODULUS 2, REMAINDER 0)"
  "SELECT tenancy.protect('cases', 'organization_id', 'tickets.read', 'tickets.write')"
  "CREATE TABLE reads (id int, organization_id uuid NOT NULL)"
  "CREATE TABLE reads_child () INHERITS (reads)"
  "SELECT tenancy.protect('reads', 'organization_id', 'tickets.read')"
  "CREATE TABLE notes (id int, organization_id uuid NOT NULL)"
  "SELECT tenancy.protect('notes')"
)
policies() {
  psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" -c "
    SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, p.polname, p.polpermissive, p.polcmd, p.polroles,
           pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
      FROM pg_class AS c JOIN pg_policy AS p ON p.polrelid = c.oid
     WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1, 4"
}
install tenancy_tables_fresh "CREATE EXTENSION pg_tenancy" "${tables[@]}"
policies tenancy_tables_fresh >"$out_dir/tables_fresh.policies" 2>&1
grep -q '|tenancy_guard_read|f|r|' "$out_dir/tables_fresh.policies"; report "fresh_install_has_per_command_guards" $?
for from in $released; do
  v=${from//./_}
  install "tenancy_tables_from_$v" "CREATE EXTENSION pg_tenancy VERSION '$from'" "${tables[@]}" \
    "ALTER EXTENSION pg_tenancy UPDATE"
  policies "tenancy_tables_from_$v" >"$out_dir/tables_from_$v.policies" 2>&1
  diff "$out_dir/tables_fresh.policies" "$out_dir/tables_from_$v.policies" >"$out_dir/tables_from_$v.diff"
  report "upgrade_from_${v}_reapplies_table_policies" $? "$(head -40 "$out_dir/tables_from_$v.diff")"
  dropdb "tenancy_tables_from_$v"
done
dropdb tenancy_tables_fresh

# Step by step through every released version: 0.1.0 -> 0.2.0 -> ... -> current.
first=$(echo "$released" | head -1)
steps=("CREATE EXTENSION pg_tenancy VERSION '$first'")
path=$first
for to in $(echo "$released" | tail -n +2) "$current"; do
  steps+=("ALTER EXTENSION pg_tenancy UPDATE TO '$to'")
  path="$path->$to"
done
install tenancy_stepwise "${steps[@]}"
[ "$(version_of tenancy_stepwise)" = "$current" ]; report "upgrade_step_by_step_runs" $?
echo "step by step: $path"
compare "upgrade_step_by_step_matches_fresh_install" tenancy_stepwise
dropdb tenancy_stepwise

if [ -n "$against" ]; then
  # Apart from the version itself (in no catalog fact), the same objects.
  diff "$against" "$out_dir/fresh.catalog" >"$out_dir/against.diff"
  report "fresh_install_matches_saved_catalog" $? "$(head -40 "$out_dir/against.diff")"
fi
dropdb tenancy_fresh
[ "$failures" -eq 0 ]
