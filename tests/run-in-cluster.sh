#!/usr/bin/env bash
# run-in-cluster.sh: the suites that need a server with pg_tenancy preloaded.
# Called by run-all.sh inside pg_virtualenv (PGHOST, PGPORT, PGUSER set).
# Appends one "ok NAME" / "not ok NAME" line per test to $TENANCY_WORK/results.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
results="$TENANCY_WORK/results"
trap 'bash tests/cluster/pgbouncer.sh stop 2>/dev/null || true' EXIT

# pg_regress and pg_isolation_regress print "test NAME ... ok|FAILED".
record_suite() {
  sed -n -E 's/^(test|     ) *([a-zA-Z0-9_]+) +\.\.\. ok.*/ok regress:\2/p; s/^(test|     ) *([a-zA-Z0-9_]+) +\.\.\. FAILED.*/not ok regress:\2/p; s/^(test|     ) *([a-zA-Z0-9_]+) +\.\.\. failed.*/not ok regress:\2/p' "$1" | sed "s/regress:/$2:/" >>"$results"
}

echo "== Boost.Test suites (token library, engine, example) via ctest"
export TENANCY_PGBOUNCER_PORT=16432
bash tests/cluster/pgbouncer.sh start
(cd build && ctest --output-on-failure --timeout 900) | tee "$TENANCY_WORK/ctest.log"
bash tests/cluster/pgbouncer.sh stop
sed -n -E 's/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([A-Za-z0-9_]+) \.+ +Passed.*/ok ctest:\1/p; s/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([A-Za-z0-9_]+) \.+.*(Failed|Not Run|Timeout|Exception).*/not ok ctest:\1/p' \
  "$TENANCY_WORK/ctest.log" >>"$results"
grep -q '^ok ctest:engine_tests' "$results" || echo "not ok ctest:engine_tests (did not pass)" >>"$results"

echo "== pg_regress"
make -s installcheck ISOLATION_INPUT= 2>&1 | tee "$TENANCY_WORK/regress.log"
[ -f regression.diffs ] && cat regression.diffs
record_suite "$TENANCY_WORK/regress.log" regress

echo "== isolation"
iso="$TENANCY_WORK/isolation"
mkdir -p "$iso/specs" "$iso/expected" "$iso/output"
cp tests/isolation/expected/*.out "$iso/expected/"
bash tests/cluster/fill_tokens.sh tests/isolation/specs "$iso/specs"
make -s installcheck REGRESS= ISOLATION_INPUT="$iso" 2>&1 | tee "$TENANCY_WORK/isolation.log"
[ -f "$iso/output/regression.diffs" ] && cat "$iso/output/regression.diffs"
record_suite "$TENANCY_WORK/isolation.log" isolation

echo "== cluster checks"
bash tests/cluster/checks.sh
echo "== attack suite (tests/security)"
RESULTS="$results" bash tests/security/run.sh | tee "$TENANCY_WORK/security.log"
grep -q '^[0-9]* passed, 0 failed$' "$TENANCY_WORK/security.log" || echo "not ok security:suite (did not finish cleanly)" >>"$results"
echo "== command-line tool"
bash tests/cluster/cli.sh
echo "== identity-provider bearer tokens (tests/cluster/identity.sh)"
bash tests/cluster/identity.sh
echo "== walkthrough (docs/walkthrough.md)"
if TENANCY_INSIDE_CLUSTER=1 bash examples/walkthrough.sh >"$TENANCY_WORK/walkthrough.md" 2>&1 &&
  grep -q "ownership transferred" "$TENANCY_WORK/walkthrough.md" && ! grep -q "exit status [125]" "$TENANCY_WORK/walkthrough.md"; then
  echo "ok walkthrough" | tee -a "$results"
else
  echo "not ok walkthrough" | tee -a "$results"; cat "$TENANCY_WORK/walkthrough.md"
fi
echo "== ticket service over HTTP (examples/ticket-service)"
bash examples/ticket-service/tests/run.sh
echo "== ticket service curl session (examples/ticket-service/README.md)"
if TENANCY_INSIDE_CLUSTER=1 bash examples/ticket-service/walkthrough.sh >"$TENANCY_WORK/tickets-walkthrough.md" 2>&1; then
  echo "ok tickets:walkthrough" | tee -a "$results"
else
  echo "not ok tickets:walkthrough" | tee -a "$results"; cat "$TENANCY_WORK/tickets-walkthrough.md"
fi
echo "== pg_tenancy from Node.js (examples/node)"
bash examples/node/run-tests.sh
echo "== pg_tenancy from Python (examples/python)"
bash examples/python/run-tests.sh
echo "== installed CMake package and pkg-config file"
bash tests/cluster/install_package.sh | tee -a "$results"
