#!/usr/bin/env bash
# bench/run.sh [--quick|--full|--enter|--engine|--context]: pg_tenancy's policies against a hand-written
# filter and the policies people write today, side by side in one run, plus the
# engine against raw libpqxx. Builds everything, starts a throwaway cluster,
# prints a table of time ratios to the limit (no RLS, hand-written filter) and
# writes bench/results-<mode>/ (raw.csv, ratios.txt, plans.txt, ratios.png).
# Timing never fails the run; only a broken benchmark does. --enter measures
# only tenancy.enter()'s server time (a small dataset, no pgbench, no engine
# arm; ENTER_REPEATS=N, default 5, gives a median and a range): the quick loop
# for work on enter(), which runs alongside other work on a shared machine.
# --engine measures only the engine against raw libpqxx, on the same small
# dataset (the full run's repetitions, about 2 minutes). --context shows what a
# context statement's server time costs the client, with CPU-burning statements
# as controls (bench/context_cost.sh; 1,000 organizations, about 4 minutes).
# --huge-pages (as root) reserves huge pages for the run's shared memory and
# starts the server with huge_pages=on, as PostgreSQL advises for large
# shared_buffers.
set -euo pipefail
mode=quick huge_pages=0
for arg in "$@"; do
  case "$arg" in --quick) mode=quick ;; --full) mode=full ;; --enter) mode=enter ;; --engine) mode=engine ;; --context) mode=context ;;
    --huge-pages) huge_pages=1 ;;
    *) echo "usage: bench/run.sh [--quick|--full|--enter|--engine|--context] [--huge-pages]" >&2; exit 2 ;; esac
done
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [ -z "${TENANCY_INSIDE_CLUSTER:-}" ]; then
  bash tests/install-deps.sh
  make -s -j"$(nproc)" >/dev/null && make -s install >/dev/null
  cmake -S . -B build >/dev/null && cmake --build build -j"$(nproc)" --target tenancy engine_bench >/dev/null
  work=$(mktemp -d /tmp/pg_tenancy_bench.XXXXXX); chmod 755 "$work"
  cleanup() { rm -rf "$work"; }
  trap cleanup EXIT
  build/tenancy keygen --alg HS256 --kid bench-hs --keyring "$work/app.keyring" --server-keyring "$work/server.keyring" >/dev/null
  build/tenancy keygen --alg EdDSA --kid bench-ed --keyring "$work/app.keyring" --server-keyring "$work/server.keyring" >/dev/null
  chown postgres: "$work/server.keyring"
  export TENANCY_CLI="$root/build/tenancy" TENANCY_KEYRING="$work/app.keyring" TENANCY_WORK="$work" TENANCY_INSIDE_CLUSTER=1
  shared_buffers_mb=$([ "$mode" = full ] && echo 3072 || echo 256)
  huge_option=()
  if [ "$huge_pages" -eq 1 ]; then
    # PostgreSQL's advice for large shared_buffers: shared memory in 2 MB pages,
    # so a new backend does not fault its pages in 4 kB at a time. Reserved for
    # this run only; the previous reservation comes back at exit.
    if [ ! -w /proc/sys/vm/nr_hugepages ]; then
      echo "bench/run.sh: --huge-pages reserves huge pages through /proc/sys/vm/nr_hugepages, which needs root" >&2
      exit 2
    fi
    previous_pages=$(cat /proc/sys/vm/nr_hugepages)
    wanted_pages=$(( shared_buffers_mb * 115 / 100 / 2 + 64 )) # shared memory is a little more than shared_buffers
    cleanup() { rm -rf "$work"; echo "$previous_pages" > /proc/sys/vm/nr_hugepages; }
    echo $(( previous_pages + wanted_pages )) > /proc/sys/vm/nr_hugepages # on top of any reserved before
    free_pages=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
    if [ "$free_pages" -lt "$wanted_pages" ]; then
      echo "bench/run.sh: only $free_pages of the $wanted_pages huge pages of 2 MB it needs are free; free memory, or run without --huge-pages" >&2
      exit 1
    fi
    huge_option=(-o huge_pages=on)
    export TENANCY_BENCH_HUGE_PAGES="on ($wanted_pages pages of 2 MB reserved)"
  fi
  # Not exec: the trap must run when the cluster is gone.
  pg_virtualenv -t -o shared_preload_libraries=pg_tenancy,pg_stat_statements \
    -o "tenancy.keyring_file=$work/server.keyring" -o "shared_buffers=${shared_buffers_mb}MB" \
    -o max_wal_size=4GB -o checkpoint_timeout=30min -o synchronous_commit=off -o jit=off \
    -o pg_stat_statements.track_planning=on "${huge_option[@]}" \
    bash "$0" "--$mode"
  exit $?
fi

exec bash bench/inside.sh "$mode"
