#!/usr/bin/env bash
# run-in-cluster.sh [SUITE[:CASE] ...]: the suites that need a server with
# pg_tenancy preloaded, one function each (suite_NAME [CASE]). Called by
# run-all.sh inside pg_virtualenv (PGHOST, PGPORT, PGUSER set) or on a server it
# reuses; without arguments runs every suite below in order. Appends one
# "ok NAME" / "not ok NAME" line per test to $TENANCY_WORK/results.
#
# To add a suite: write suite_NAME here, add NAME to server_suites in
# run-all.sh, and document it in CONTRIBUTING.md.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
results="$TENANCY_WORK/results"
export TENANCY_PGBOUNCER_PORT=${TENANCY_PGBOUNCER_PORT:-16432}
trap 'bash tests/cluster/pgbouncer.sh stop 2>/dev/null || true' EXIT
touch "$TENANCY_WORK/server-reached" # run-all.sh reports a server that never started

all_suites=(engine regress isolation cluster security cli bearer walkthrough tickets node python package)

# pg_regress and pg_isolation_regress print "test NAME ... ok|FAILED".
record_suite() {
  sed -n -E 's/^(test|     ) *([a-zA-Z0-9_]+) +\.\.\. ok.*/ok regress:\2/p; s/^(test|     ) *([a-zA-Z0-9_]+) +\.\.\. FAILED.*/not ok regress:\2/p; s/^(test|     ) *([a-zA-Z0-9_]+) +\.\.\. failed.*/not ok regress:\2/p' "$1" | sed "s/regress:/$2:/" >>"$results"
}
# ctest prints "1/3 Test #1: NAME ....   Passed".
record_ctest() {
  sed -n -E 's/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([A-Za-z0-9_]+) \.+ +Passed.*/ok ctest:\1/p; s/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([A-Za-z0-9_]+) \.+.*(Failed|Not Run|Timeout|Exception).*/not ok ctest:\1/p' \
    "$1" >>"$results"
}
report() { # report NAME EXIT-STATUS
  if [ "$2" -eq 0 ]; then echo "ok $1" | tee -a "$results"; else echo "not ok $1" | tee -a "$results"; fi
}

# engine [BOOST_TEST_PATH]: the engine's Boost.Test suite and the docs example,
# with a PgBouncer in front of the server for the pgbouncer tests. With a case,
# just that Boost.Test suite or test (e.g. pgbouncer, flows/invite_and_accept).
suite_engine() {
  echo "== engine: Boost.Test (engine_tests, engine_example)${1:+, only $1}"
  bash tests/cluster/pgbouncer.sh start
  if [ -z "${1:-}" ]; then
    (cd build && ctest --output-on-failure --timeout 900 -R '^engine_') | tee "$TENANCY_WORK/ctest-engine.log"
    record_ctest "$TENANCY_WORK/ctest-engine.log"
    grep -q '^ok ctest:engine_tests' "$results" || echo "not ok ctest:engine_tests (did not pass)" >>"$results"
  else
    timeout 900 build/engine_tests --run_test="$1" --log_level=message
    report "engine:$1" $?
  fi
  bash tests/cluster/pgbouncer.sh stop
}

# NAME preceded by the tests it needs ("# NAME needs A B: why" in tests/regress/schedule).
regress_with_needs() {
  local need
  for need in $(sed -n -E "s/^# $1 needs ([A-Za-z0-9_ ]+):.*/\1/p" tests/regress/schedule); do regress_with_needs "$need"; done
  echo "$1"
}

# regress [NAME]: pg_regress. The fixture (tests/regress/setup_schedule) runs
# first and the cleanup (cleanup_schedule) last, around tests/regress/schedule
# or around just NAME (and the tests it needs).
suite_regress() {
  local schedule=tests/regress/schedule
  if [ -n "${1:-}" ]; then
    if [ ! -f "tests/regress/sql/$1.sql" ]; then echo "not ok regress:$1 (no tests/regress/sql/$1.sql)" | tee -a "$results"; return; fi
    schedule="$TENANCY_WORK/regress.schedule"
    regress_with_needs "$1" | awk '!seen[$0]++ {print "test: " $0}' >"$schedule"
  fi
  echo "== pg_regress${1:+: $(sed 's/^test: //' "$schedule" | paste -sd' ') with the fixture}"
  rm -f regression.diffs
  make -s installcheck REGRESS_SCHEDULE="$schedule" ISOLATION_INPUT= 2>&1 | tee "$TENANCY_WORK/regress.log"
  [ -f regression.diffs ] && cat regression.diffs
  record_suite "$TENANCY_WORK/regress.log" regress
}

# isolation [SPEC]: pg_isolation_regress, with tokens minted into the specs.
suite_isolation() {
  local iso="$TENANCY_WORK/isolation"
  if [ -n "${1:-}" ] && [ ! -f "tests/isolation/specs/$1.spec" ]; then
    echo "not ok isolation:$1 (no tests/isolation/specs/$1.spec)" | tee -a "$results"; return
  fi
  echo "== isolation${1:+: $1}"
  rm -rf "$iso"
  mkdir -p "$iso/specs" "$iso/expected" "$iso/output"
  cp tests/isolation/expected/*.out "$iso/expected/"
  bash tests/cluster/fill_tokens.sh tests/isolation/specs "$iso/specs"
  if [ -n "${1:-}" ]; then
    make -s installcheck REGRESS= ISOLATION_INPUT="$iso" ISOLATION="$1" 2>&1 | tee "$TENANCY_WORK/isolation.log"
  else
    make -s installcheck REGRESS= ISOLATION_INPUT="$iso" 2>&1 | tee "$TENANCY_WORK/isolation.log"
  fi
  [ -f "$iso/output/regression.diffs" ] && cat "$iso/output/regression.diffs"
  record_suite "$TENANCY_WORK/isolation.log" isolation
}

# cluster [checks|upgrade|pgbouncer]: checks pg_regress cannot express
# (tests/cluster/checks.sh, which ends with the upgrade guard); "upgrade" is
# only the guard that a fresh install equals every upgrade path; "pgbouncer" is
# the engine's tests through PgBouncer in transaction-pooling mode.
suite_cluster() {
  case "${1:-}" in
  "" | checks) echo "== cluster checks"; bash tests/cluster/checks.sh ;;
  upgrade) echo "== cluster: fresh install vs every upgrade path"; bash tests/cluster/upgrade_matches_fresh.sh ;;
  pgbouncer) suite_engine pgbouncer ;;
  *) echo "not ok cluster:$1 (no such case: checks, upgrade or pgbouncer)" | tee -a "$results" ;;
  esac
}

# security [ID[,ID...]]: the attack suite (tests/security), as the application role.
suite_security() {
  echo "== attack suite (tests/security)${1:+: $1}"
  RESULTS="$results" ONLY="${1:-}" bash tests/security/run.sh | tee "$TENANCY_WORK/security.log"
  grep -q '^[1-9][0-9]* passed, 0 failed$' "$TENANCY_WORK/security.log" ||
    echo "not ok security:suite (did not finish cleanly${1:+, or no case $1})" >>"$results"
}

suite_cli() {
  echo "== command-line tool"
  bash tests/cluster/cli.sh
}

# bearer: identity-provider tokens (PyJWT, jose) through tenancy exec --bearer.
suite_bearer() {
  echo "== identity-provider bearer tokens (tests/cluster/identity.sh)"
  bash tests/cluster/identity.sh
}

suite_walkthrough() {
  echo "== walkthrough (docs/walkthrough.md)"
  if TENANCY_INSIDE_CLUSTER=1 bash examples/walkthrough.sh >"$TENANCY_WORK/walkthrough.md" 2>&1 &&
    grep -q "ownership transferred" "$TENANCY_WORK/walkthrough.md" && ! grep -q "exit status [125]" "$TENANCY_WORK/walkthrough.md"; then
    echo "ok walkthrough" | tee -a "$results"
  else
    echo "not ok walkthrough" | tee -a "$results"; cat "$TENANCY_WORK/walkthrough.md"
  fi
}

# tickets: the ticket service over real HTTP, and its README's curl session.
suite_tickets() {
  echo "== ticket service over HTTP (examples/ticket-service)"
  bash examples/ticket-service/tests/run.sh
  echo "== ticket service curl session (examples/ticket-service/README.md)"
  if TENANCY_INSIDE_CLUSTER=1 bash examples/ticket-service/walkthrough.sh >"$TENANCY_WORK/tickets-walkthrough.md" 2>&1; then
    echo "ok tickets:walkthrough" | tee -a "$results"
  else
    echo "not ok tickets:walkthrough" | tee -a "$results"; cat "$TENANCY_WORK/tickets-walkthrough.md"
  fi
}

suite_node() {
  echo "== pg_tenancy from Node.js (examples/node)"
  bash examples/node/run-tests.sh
}

suite_python() {
  echo "== pg_tenancy from Python (examples/python)"
  bash examples/python/run-tests.sh
}

suite_package() {
  echo "== installed CMake package and pkg-config file"
  bash tests/cluster/install_package.sh | tee -a "$results"
}

[ $# -gt 0 ] || set -- "${all_suites[@]}"
for unit in "$@"; do
  name=${unit%%:*} case=""
  [ "$unit" = "$name" ] || case=${unit#*:}
  if declare -F "suite_$name" >/dev/null; then "suite_$name" "$case"; else echo "not ok $unit (no such suite)" | tee -a "$results"; fi
done
