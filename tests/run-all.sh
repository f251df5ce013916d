#!/usr/bin/env bash
# run-all.sh: the whole pg_tenancy test suite, from a clean clone, as root on
# Debian 12. Installs what it needs, builds, starts throwaway PostgreSQL
# clusters (pg_virtualenv), runs every suite, stops them, and ends with one line
# "N passed, M failed". Exit status is non-zero if anything failed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash tests/install-deps.sh

echo "== build"
make -s -j"$(nproc)" >/dev/null
make -s install >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

work=$(mktemp -d /tmp/pg_tenancy_tests.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

# Fresh keys for every run; the server's keyring belongs to the postgres OS user.
build/tenancy keygen --alg HS256 --kid test-hs --keyring "$work/app.keyring" \
  --server-keyring "$work/server.keyring" >/dev/null
build/tenancy keygen --alg EdDSA --kid test-ed --keyring "$work/app.keyring" \
  --server-keyring "$work/server.keyring" >/dev/null
chown postgres: "$work/server.keyring"

export TENANCY_CLI="$root/build/tenancy"
export TENANCY_KEYRING="$work/app.keyring"
export TENANCY_SERVER_KEYRING="$work/server.keyring"
export TENANCY_WORK="$work"

pg_virtualenv -t \
  -o "shared_preload_libraries=pg_tenancy,pg_stat_statements" \
  -o "tenancy.keyring_file=$work/server.keyring" \
  -o "pg_stat_statements.track=all" \
  -o "max_prepared_transactions=10" \
  bash tests/run-in-cluster.sh

bash tests/cluster/check_versions.sh | tee -a "$work/results"

# Needs a server *without* pg_tenancy preloaded.
pg_virtualenv -t bash tests/cluster/not_preloaded.sh >>"$work/results" 2>&1 || true

# The benchmark's quick mode as a smoke test: every arm and query must run
# without a failed transaction; its timings never fail the suite. raw.csv holds
# a header and 7 arms x 7 queries x 3 repetitions, each with a server time.
echo "== benchmark smoke test (bench/run.sh --quick)"
if bash bench/run.sh --quick >"$work/bench.log" 2>&1 && grep -q "throughput ratio" bench/results-quick/engine.txt &&
  [ "$(grep -c . bench/results-quick/raw.csv)" -eq 148 ] &&
  [ "$(awk -F, 'NR > 1 && $7 > 0' bench/results-quick/raw.csv | wc -l)" -eq 147 ]; then
  echo "ok bench:quick_smoke" | tee -a "$work/results"
else
  echo "not ok bench:quick_smoke" | tee -a "$work/results"; tail -30 "$work/bench.log"
fi

passed=$(grep -c '^ok ' "$work/results" || true)
failed=$(grep -c '^not ok ' "$work/results" || true)
echo
echo "== summary"
grep '^not ok ' "$work/results" || true
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
