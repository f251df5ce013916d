#!/usr/bin/env bash
# run.sh [--extension|--extension-only]: the sanitizer pass. Builds the token library, the engine
# and their Boost.Test suites with -fsanitize=address,undefined
# -fno-sanitize-recover=all (CMake option PG_TENANCY_SANITIZE, build dir
# build-asan), runs the token tests, then the engine tests against a throwaway
# cluster with PgBouncer, as tests/run-all.sh does. Any sanitizer report aborts
# the test binary, so the pass fails.
#
# --extension also runs the extension itself under a sanitizer inside a real
# server (pg_regress and the attack suite): pg_tenancy.so built with
# -fsanitize=address (or undefined, where the ASan runtime cannot be preloaded
# into postgres, as on Debian 12), the server started with the runtime preloaded
# and leak detection off (the postmaster is not instrumented). The instrumented library
# and the extension's SQL are bind-mounted over the installed ones inside a
# private mount namespace (unshare -m), so the installed copy other users and
# servers see is never replaced. --extension-only runs just that part.
#
# Prints "ok sanitize:NAME" / "not ok sanitize:NAME" lines (appended to $RESULTS
# if set). Run as root on Debian 12. Environment: TENANCY_PGBOUNCER_PORT
# (default 16432), SANITIZE_BUILD (default build-asan).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
results=${RESULTS:-/dev/null}
report() { echo "$1" | tee -a "$results"; }
# A sanitizer report is a failure even if a test framework swallowed the abort.
clean_log() { ! grep -qE 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:|SUMMARY: .*Sanitizer' "$1"; }

if [ "${1:-}" = --inside-cluster ]; then
  # Engine tests (Boost.Test) under ASan+UBSan, against this cluster.
  trap 'bash tests/cluster/pgbouncer.sh stop 2>/dev/null || true' EXIT
  bash tests/cluster/pgbouncer.sh start
  log="$TENANCY_WORK/engine_tests.log"
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    LSAN_OPTIONS=suppressions="$root/tests/sanitize/lsan.supp":print_suppressions=1 \
    "$SANITIZE_BUILD_DIR/engine_tests" --log_level=message >"$log" 2>&1 && clean_log "$log"; then
    grep -E '^\*\*\* No errors|Suppressions used' -A3 "$log" | head -8
    report "ok sanitize:engine_tests"
  else
    report "not ok sanitize:engine_tests"; grep -E 'error|fail|Sanitizer' "$log" | head -40; tail -60 "$log"
  fi
  exit 0
fi

if [ "${1:-}" = --extension-inside-cluster ]; then
  # The instrumented library cannot load without its sanitizer runtime, so the
  # cluster started without it; now preload the runtime (pg_ctlcluster reads the
  # cluster's environment file) and pg_tenancy, restart, and run pg_regress and
  # the attack suite.
  psql -XAqc "ALTER SYSTEM SET shared_preload_libraries = 'pg_tenancy', 'pg_stat_statements'"
  env_file="$PG_CLUSTER_CONF_ROOT/$PGVERSION/regress/environment"
  {
    echo "LD_PRELOAD = '$SANITIZER_RUNTIME'"
    echo "ASAN_OPTIONS = 'detect_leaks=0:abort_on_error=1:log_path=$TENANCY_WORK/asan/asan'"
    echo "UBSAN_OPTIONS = 'print_stacktrace=1:log_path=$TENANCY_WORK/asan/ubsan'"
  } >>"$env_file"
  mkdir -p "$TENANCY_WORK/asan" && chown postgres: "$TENANCY_WORK/asan"
  pg_ctlcluster "$PGVERSION" regress restart -m fast
  grep -q "$(basename "$SANITIZER_RUNTIME")" "/proc/$(head -1 "$(psql -XAtc 'SHOW data_directory')/postmaster.pid")/maps" &&
    report "ok sanitize:extension_${SANITIZER}_server_has_runtime" ||
    report "not ok sanitize:extension_${SANITIZER}_server_has_runtime"
  psql -XAtc "LOAD 'pg_tenancy'" >/dev/null
  make -s installcheck ISOLATION_INPUT= >"$TENANCY_WORK/regress.log" 2>&1
  grep -cE '\.\.\. ok' "$TENANCY_WORK/regress.log" | sed 's/^/regress tests ok: /'
  if grep -qE '\.\.\. (FAILED|failed)' "$TENANCY_WORK/regress.log" || ! grep -q '\.\.\. ok' "$TENANCY_WORK/regress.log"; then
    report "not ok sanitize:extension_${SANITIZER}_regress"; tail -40 "$TENANCY_WORK/regress.log"; cat regression.diffs 2>/dev/null | head -80
  else
    report "ok sanitize:extension_${SANITIZER}_regress"
  fi
  bash tests/security/run.sh >"$TENANCY_WORK/security.log" 2>&1
  tail -1 "$TENANCY_WORK/security.log"
  if grep -q '^[0-9]* passed, 0 failed$' "$TENANCY_WORK/security.log"; then
    report "ok sanitize:extension_${SANITIZER}_security"
  else
    report "not ok sanitize:extension_${SANITIZER}_security"; grep -i 'fail' "$TENANCY_WORK/security.log" | head -20
  fi
  if ls "$TENANCY_WORK"/asan/*san.* >/dev/null 2>&1; then
    report "not ok sanitize:extension_${SANITIZER}_no_report"; head -60 "$TENANCY_WORK"/asan/*san.*
  else
    report "ok sanitize:extension_${SANITIZER}_no_report"
  fi
  exit 0
fi

mode=${1:-}
build=${SANITIZE_BUILD:-$root/build-asan}
work=$(mktemp -d /tmp/pg_tenancy_sanitize.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
export TENANCY_WORK=$work
# The CLI only makes keys here; the ordinary build's is enough (tests/run-all.sh built it).
[ -x "$root/build/tenancy" ] || cmake --build "$root/build" --target tenancy >/dev/null
cli="$root/build/tenancy"
# Keys and cluster options exactly as tests/run-all.sh makes them.
"$cli" keygen --alg HS256 --kid test-hs --keyring "$work/app.keyring" \
  --server-keyring "$work/server.keyring" >/dev/null
"$cli" keygen --alg EdDSA --kid test-ed --keyring "$work/app.keyring" \
  --server-keyring "$work/server.keyring" >/dev/null
chown postgres: "$work/server.keyring"
export TENANCY_CLI="$cli" TENANCY_KEYRING="$work/app.keyring" TENANCY_SERVER_KEYRING="$work/server.keyring"
export TENANCY_PGBOUNCER_PORT=${TENANCY_PGBOUNCER_PORT:-16432}
cluster_options=(-o "shared_preload_libraries=pg_tenancy,pg_stat_statements" -o "tenancy.keyring_file=$work/server.keyring"
  -o "pg_stat_statements.track=all" -o "max_prepared_transactions=10")

if [ "$mode" != --extension-only ]; then
  echo "== sanitizer build (address,undefined) in $build"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPG_TENANCY_SANITIZE=address,undefined >/dev/null
  cmake --build "$build" -j"$(nproc)" --target token_tests engine_tests >/dev/null || {
    report "not ok sanitize:build"; exit 1; }
  export SANITIZE_BUILD_DIR=$build
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$build/token_tests" --log_level=message >"$work/token.log" 2>&1 &&
    clean_log "$work/token.log"; then
    report "ok sanitize:token_tests"
  else
    report "not ok sanitize:token_tests"; tail -40 "$work/token.log"
  fi
  pg_virtualenv -t "${cluster_options[@]}" bash tests/sanitize/run.sh --inside-cluster
fi
case $mode in --extension | --extension-only) ;; *) exit 0 ;; esac

# Preflight: on Debian 12 (glibc 2.36) the stock postgres binary with an ASan
# runtime preloaded (gcc 12's libasan or clang 14's) deadlocks in
# bindtextdomain() before main() gets anywhere, so the server would never start.
# Then the extension runs under UBSan instead (its runtime preloads fine), and
# ASan needs a PostgreSQL built with -fsanitize=address (see CONTRIBUTING.md).
export SANITIZER=address SANITIZER_RUNTIME
SANITIZER_RUNTIME=$(gcc -print-file-name=libasan.so)
if ! (cd / && timeout 10 env LD_PRELOAD="$SANITIZER_RUNTIME" ASAN_OPTIONS=detect_leaks=0 \
  "$(pg_config --bindir)/postgres" -V) >/dev/null 2>&1; then
  echo "skip sanitize:extension_address (postgres -V hangs with $SANITIZER_RUNTIME preloaded); using undefined"
  SANITIZER=undefined SANITIZER_RUNTIME=$(gcc -print-file-name=libubsan.so)
fi
echo "== the extension under -fsanitize=$SANITIZER in a real server"
src="$work/extension-asan"
mkdir -p "$src" "$work/root"
tar -C "$root" --exclude='./build*' --exclude='./.git' -cf - . | tar -C "$src" -xf -
make -C "$src" -s clean >/dev/null 2>&1
flags="-fsanitize=$SANITIZER -fno-sanitize-recover=all -fno-omit-frame-pointer"
if ! make -C "$src" -s -j"$(nproc)" CXX="g++ $flags" >"$work/extension-build.log" 2>&1 ||
  ! make -C "$src" -s install DESTDIR="$work/root" >>"$work/extension-build.log" 2>&1; then
  report "not ok sanitize:extension_build"; tail -30 "$work/extension-build.log"; exit 0
fi
libdir=$(pg_config --pkglibdir) sharedir=$(pg_config --sharedir)/extension
marker=$([ "$SANITIZER" = address ] && echo __asan_ || echo __ubsan_)
if nm -D --undefined-only "$work/root$libdir/pg_tenancy.so" | grep -q "$marker"; then
  report "ok sanitize:extension_${SANITIZER}_instrumented"
else
  report "not ok sanitize:extension_${SANITIZER}_instrumented"; exit 1
fi
# The private copy of the extension directory: what is installed, plus this tree's files.
mkdir -p "$work/extension-share"
cp -a "$sharedir/." "$work/extension-share/"
cp -a "$work/root$sharedir/." "$work/extension-share/"
unshare -m bash -euc "
  mount --bind '$work/root$libdir/pg_tenancy.so' '$libdir/pg_tenancy.so'
  mount --bind '$work/extension-share' '$sharedir'
  pg_virtualenv -t $(printf '%q ' "${cluster_options[@]/pg_tenancy,/}") bash tests/sanitize/run.sh --extension-inside-cluster
"
