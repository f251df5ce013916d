#!/usr/bin/env bash
# bench/run.sh [--quick|--full|--enter|--engine]: pg_tenancy's policies against a hand-written
# filter and the policies people write today, side by side in one run, plus the
# engine against raw libpqxx. Builds everything, starts a throwaway cluster,
# prints a table of time ratios to the limit (no RLS, hand-written filter) and
# writes bench/results-<mode>/ (raw.csv, ratios.txt, plans.txt, ratios.png).
# Timing never fails the run; only a broken benchmark does. --enter measures
# only tenancy.enter()'s server time (a small dataset, no pgbench, no engine
# arm; ENTER_REPEATS=N, default 5, gives a median and a range): the quick loop
# for work on enter(), which runs alongside other work on a shared machine.
# --engine measures only the engine against raw libpqxx, on the same small
# dataset (the full run's repetitions, about 2 minutes).
set -euo pipefail
mode=quick
case "${1:-}" in --quick|"") mode=quick ;; --full) mode=full ;; --enter) mode=enter ;; --engine) mode=engine ;;
  *) echo "usage: bench/run.sh [--quick|--full|--enter|--engine]" >&2; exit 2 ;; esac
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [ -z "${TENANCY_INSIDE_CLUSTER:-}" ]; then
  bash tests/install-deps.sh
  make -s -j"$(nproc)" >/dev/null && make -s install >/dev/null
  cmake -S . -B build >/dev/null && cmake --build build -j"$(nproc)" --target tenancy engine_bench >/dev/null
  work=$(mktemp -d /tmp/pg_tenancy_bench.XXXXXX); chmod 755 "$work"
  trap 'rm -rf "$work"' EXIT
  build/tenancy keygen --alg HS256 --kid bench-hs --keyring "$work/app.keyring" --server-keyring "$work/server.keyring" >/dev/null
  build/tenancy keygen --alg EdDSA --kid bench-ed --keyring "$work/app.keyring" --server-keyring "$work/server.keyring" >/dev/null
  chown postgres: "$work/server.keyring"
  export TENANCY_CLI="$root/build/tenancy" TENANCY_KEYRING="$work/app.keyring" TENANCY_WORK="$work" TENANCY_INSIDE_CLUSTER=1
  shared_buffers=$([ "$mode" = full ] && echo 3GB || echo 256MB)
  exec pg_virtualenv -t -o shared_preload_libraries=pg_tenancy,pg_stat_statements \
    -o "tenancy.keyring_file=$work/server.keyring" -o "shared_buffers=$shared_buffers" \
    -o max_wal_size=4GB -o checkpoint_timeout=30min -o synchronous_commit=off -o jit=off \
    -o pg_stat_statements.track_planning=on \
    bash "$0" "--$mode"
fi

exec bash bench/inside.sh "$mode"
