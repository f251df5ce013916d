#!/usr/bin/env bash
# check_versions.sh: META.json, CMakeLists.txt, the control file and the install
# scripts agree on the version; every released version has an upgrade path to
# the current one; released scripts are unchanged; no SQL source by area is over
# 400 lines. Needs no server (upgrade_matches_fresh.sh compares the catalogs).
# Prints "ok NAME" / "not ok NAME".
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
# Released scripts are frozen: a release adds an upgrade script and its hash here.
if sha256sum --quiet -c tests/cluster/released_scripts.sha256 >/dev/null 2>&1; then echo "ok versions:released_scripts_unchanged"
else echo "not ok versions:released_scripts_unchanged ($(sha256sum --quiet -c tests/cluster/released_scripts.sha256 2>&1 | tr '\n' ' '))"; fi
# The current release's upgrade script exists (it may hold nothing but its header).
previous=$(ls sql/pg_tenancy--*--"$control".sql 2>/dev/null | head -1)
if [ -n "$previous" ]; then echo "ok versions:upgrade_script_to_current_exists"; else echo "not ok versions:upgrade_script_to_current_exists (no sql/pg_tenancy--*--$control.sql)"; fi
# The sources by area stay small enough to read: none over 400 lines.
long=$(wc -l sql/src/*.sql | awk '$2 != "total" && $1 > 400 {printf " %s (%d lines)", $2, $1}')
if [ -z "$long" ]; then echo "ok versions:sql_sources_at_most_400_lines"; else echo "not ok versions:sql_sources_at_most_400_lines:$long"; fi
