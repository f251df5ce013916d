#!/usr/bin/env bash
# run-in-cluster.sh: the suites that need a server with pg_tenancy preloaded.
# Called by run-all.sh inside pg_virtualenv (PGHOST, PGPORT, PGUSER set).
# Appends one "ok NAME" / "not ok NAME" line per test to $TENANCY_WORK/results.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
results="$TENANCY_WORK/results"

# pg_regress and pg_isolation_regress print "test NAME ... ok|FAILED".
record_suite() {
  sed -n -E 's/^(test|     ) *([a-zA-Z0-9_]+) +\.\.\. ok.*/ok regress:\2/p; s/^(test|     ) *([a-zA-Z0-9_]+) +\.\.\. FAILED.*/not ok regress:\2/p; s/^(test|     ) *([a-zA-Z0-9_]+) +\.\.\. failed.*/not ok regress:\2/p' "$1" | sed "s/regress:/$2:/" >>"$results"
}

echo "== token library unit tests (Boost.Test via ctest)"
if (cd build && ctest --output-on-failure); then echo "ok ctest:token_tests" >>"$results"; else echo "not ok ctest:token_tests" >>"$results"; fi

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
