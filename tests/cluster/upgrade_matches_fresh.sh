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
