#!/usr/bin/env bash
# run-tests.sh: the Python example's tests, inside the suite's cluster (PG*
# set, TENANCY_KEYRING and TENANCY_WORK exported), with Debian's python3 and its
# python3-psycopg, python3-psycopg-pool and python3-jwt. Appends
# "ok python:NAME" / "not ok python:NAME".
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
results="$TENANCY_WORK/results"
export TEST_DB=tenancy_python
bash "$here/../ticket-service/tests/prepare_db.sh" "$TEST_DB"
cd "$here"
/usr/bin/python3 -m unittest -v test_tenancy >"$TENANCY_WORK/python-tests.log" 2>&1
grep -E ' \.\.\. ' "$TENANCY_WORK/python-tests.log" || true
# "test_name (module.Class.test_name) ... ok" (one line per test with -v)
sed -n -E 's/^test_([a-z0-9_]+) .*\.\.\. ok$/ok python:\1/p; s/^test_([a-z0-9_]+) .*\.\.\. (FAIL|ERROR)$/not ok python:\1/p' \
  "$TENANCY_WORK/python-tests.log" >>"$results"
grep -q '^OK' "$TENANCY_WORK/python-tests.log" || { echo "not ok python:suite (see python-tests.log)" | tee -a "$results"; cat "$TENANCY_WORK/python-tests.log"; }
