#!/usr/bin/env bash
# run.sh SECONDS [TARGET...]: builds the libFuzzer targets (clang-14, ASan+UBSan)
# if needed and runs each for SECONDS, one process each. Prints the executions per
# target and the total; exits non-zero if any target crashed, leaked, timed out or
# broke an invariant. The committed corpus (tests/fuzz/corpus/<target>) is only
# read; new inputs go to a scratch directory ($FUZZ_WORK, default a temp dir) and
# crash inputs to $FUZZ_WORK/artifacts. Environment: FUZZ_BUILD (build dir,
# default build-fuzz), FUZZ_JOBS (build parallelism, default 2).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${1:?usage: tests/fuzz/run.sh SECONDS [TARGET...]}
shift
build=${FUZZ_BUILD:-$root/build-fuzz}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_base64url fuzz_jws_split fuzz_flat_json fuzz_context_token
  fuzz_identity_token fuzz_keyring fuzz_permissions fuzz_context_value fuzz_jwks)

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++-14 -DPG_TENANCY_FUZZ=ON -DBUILD_TESTING=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j"${FUZZ_JOBS:-2}" --target fuzz_all >/dev/null

work=${FUZZ_WORK:-$(mktemp -d /tmp/pg_tenancy_fuzz.XXXXXX)}
mkdir -p "$work/artifacts"
dict_for() {
  case $1 in
  fuzz_keyring) echo "$root/tests/fuzz/dict/keyring.dict" ;;
  fuzz_permissions) echo "$root/tests/fuzz/dict/permissions.dict" ;;
  fuzz_base64url) ;;
  *) echo "$root/tests/fuzz/dict/jose.dict" ;;
  esac
}

total=0
failed=()
for target in "${targets[@]}"; do
  mkdir -p "$work/corpus/$target"
  dict=$(dict_for "$target")
  log="$work/$target.log"
  status=0
  # Sanitizer reports abort (-fno-sanitize-recover); leaks are checked too.
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
    "$build/tests/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/$target-" ${dict:+-dict="$dict"} \
    "$work/corpus/$target" "$root/tests/fuzz/corpus/$target" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  execs=${execs:-0}
  total=$((total + execs))
  if [ "$status" -ne 0 ]; then
    failed+=("$target")
    echo "fuzz $target: FAILED (exit $status) after $execs execs; log $log"
    grep -E 'ERROR|runtime error|invariant broken|SUMMARY|Test unit written' "$log" | head -20 || true
  else
    printf 'fuzz %-20s %12d execs in %ss\n' "$target" "$execs" "$seconds"
  fi
done
printf 'fuzz total: %d execs, %d target(s) failed\n' "$total" "${#failed[@]}"
[ ${#failed[@]} -eq 0 ]
