#!/usr/bin/env bash
# run-tests.sh: the Node.js example's tests, inside the suite's cluster (PG*
# set, TENANCY_KEYRING and TENANCY_WORK exported). Installs the locked
# dependencies with `npm ci`, prepares a database with the ticket service's
# schema, runs node --test and appends "ok node:NAME" / "not ok node:NAME".
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
results="$TENANCY_WORK/results"
export TEST_DB=tenancy_node
cd "$here"
if ! npm ci --no-audit --no-fund --loglevel=error >"$TENANCY_WORK/npm-ci.log" 2>&1; then
  echo "not ok node:npm_ci" | tee -a "$results"; cat "$TENANCY_WORK/npm-ci.log"; exit 0
fi
bash "$here/../ticket-service/tests/prepare_db.sh" "$TEST_DB"
node --test --test-reporter=tap test/ >"$TENANCY_WORK/node-tests.tap" 2>&1
cat "$TENANCY_WORK/node-tests.tap" | grep -E '^(not )?ok ' || true
# Top-level TAP lines: "ok 3 - name" / "not ok 3 - name".
sed -n -E 's/^ok [0-9]+ - (.*)$/ok node:\1/p; s/^not ok [0-9]+ - (.*)$/not ok node:\1/p' "$TENANCY_WORK/node-tests.tap" >>"$results"
grep -q '^ok [0-9]* - middleware_over_http' "$TENANCY_WORK/node-tests.tap" || { echo "not ok node:suite (see node-tests.tap)" | tee -a "$results"; cat "$TENANCY_WORK/node-tests.tap"; }
