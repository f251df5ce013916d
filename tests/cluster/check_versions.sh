#!/usr/bin/env bash
# check_versions.sh: META.json, the control file and the install scripts agree
# on the version, and every released version has an upgrade path to the current
# one. Prints "ok NAME" / "not ok NAME".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
control=$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" pg_tenancy.control)
# Every "version" in META.json except the one inside "meta-spec" (the spec's own).
meta=$(awk '/"meta-spec"/ {skip = 1} skip && /}/ {skip = 0} !skip && /"version"/ {gsub(/.*"version": *"|".*/, ""); print}' META.json | sort -u)
if [ "$meta" = "$control" ]; then echo "ok versions:meta_json_matches_control"; else echo "not ok versions:meta_json_matches_control ($meta vs $control)"; fi
cmake=$(sed -n 's/^project(pg_tenancy VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
if [ "$cmake" = "$control" ]; then echo "ok versions:cmake_project_matches_control"; else echo "not ok versions:cmake_project_matches_control ($cmake vs $control)"; fi
if [ -f "sql/pg_tenancy--$control.sql" ]; then echo "ok versions:install_script_exists"; else echo "not ok versions:install_script_exists"; fi
missing=""
for script in sql/pg_tenancy--*.sql; do
  v=${script#sql/pg_tenancy--}; v=${v%.sql}
  case "$v" in *--*) continue ;; esac
  [ "$v" = "$control" ] && continue
  ls sql/pg_tenancy--"$v"--*.sql >/dev/null 2>&1 || missing="$missing $v"
done
if [ -z "$missing" ]; then echo "ok versions:upgrade_path_from_every_release"; else echo "not ok versions:upgrade_path_from_every_release (none from$missing)"; fi
