#!/usr/bin/env bash
# run-all.sh: the pg_tenancy test suite, as root on Debian 12.
#
#   bash tests/run-all.sh                     everything (what CI runs)
#   bash tests/run-all.sh SUITE[:CASE] ...    just those, e.g. regress:05_protect,
#                                             isolation:double_accept, security:F03d,
#                                             engine:pgbouncer, token, cluster:upgrade
#   bash tests/run-all.sh --shell             a shell inside a throwaway server, with
#                                             everything set for reusing it
#   bash tests/run-all.sh --server ...        reuse the server in PGHOST/PGPORT
#                                             (also TENANCY_REUSE_SERVER=1)
#   bash tests/run-all.sh --list              the suites and their cases
#
# Installs what is missing, builds what changed (warnings are errors), installs
# the extension when the built files differ from the installed ones, starts a
# throwaway PostgreSQL cluster (pg_virtualenv) unless it reuses one, runs the
# suites, and ends with one line "N passed, M failed". Exit status is non-zero
# if anything failed. CONTRIBUTING.md describes the inner loop.
#
# Suites: each is one function, suite_NAME [CASE], here (no server, or its own)
# or in tests/run-in-cluster.sh (needs a server preloading pg_tenancy).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# In the order of a full run: local_suites_first, then server_suites (one
# server for all), then local_suites_last.
local_suites_first=(format token identity)
server_suites=(engine regress isolation cluster security cli bearer walkthrough tickets node python package)
local_suites_last=(versions not_preloaded standby subscriber citus fuzz sanitize soak bench)

usage() { sed -n '2,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
list_suites() {
  cat <<'EOF'
format                clang-format-14 --dry-run --Werror over the C++ sources
token[:SUITE]         token library Boost.Test (token_tests), e.g. token:keyring
identity[:SUITE]      identity (bearer) tokens, no server: identity_tests, and PyJWT/jose tokens
                      (identity_fixtures, identity_interop), e.g. identity:rfc_vectors
engine[:SUITE/TEST]   engine Boost.Test and the docs example, e.g. engine:flows
regress[:NAME]        pg_regress tests/regress (fixture + NAME + cleanup), e.g. regress:05_protect
isolation[:SPEC]      isolation specs tests/isolation/specs, e.g. isolation:double_accept
cluster[:CASE]        tests/cluster/checks.sh; cluster:upgrade (fresh install vs every
                      upgrade path), cluster:pgbouncer (engine through PgBouncer)
security[:ID,...]     the attack suite tests/security, e.g. security:F03d,A01
cli                   the tenancy command-line tool (tests/cluster/cli.sh)
bearer                identity-provider tokens through tenancy exec --bearer (tests/cluster/identity.sh)
walkthrough           examples/walkthrough.sh (docs/walkthrough.md)
tickets               the ticket service over HTTP and its README's curl session
node                  pg_tenancy from Node.js (examples/node)
python                pg_tenancy from Python (examples/python)
package               the installed CMake package and pkg-config file
versions              version numbers, released scripts, SQL source sizes (no server)
not_preloaded         CREATE EXTENSION on a server without the library (own server)
standby               tenant reads on a pg_basebackup hot standby (tests/cluster/standby.sh; own servers)
subscriber            membership changes through logical replication reach a subscriber's caches
                      (tests/cluster/subscriber.sh; own servers)
citus                 a Citus coordinator and two workers (tests/citus/run.sh; own servers);
                      skipped when Citus is not installed
fuzz[:SECONDS]        every libFuzzer target for SECONDS (default 15) each (tests/fuzz)
sanitize              token and engine tests built with ASan+UBSan (own server)
soak[:SECONDS]        the engine's fault soak with a commit ledger, default 60 s (own server)
bench                 bench/run.sh --quick as a smoke test (own server)
EOF
}

reuse=${TENANCY_REUSE_SERVER:-0}
shell=0
units=()
while [ $# -gt 0 ]; do
  case "$1" in
  -h | --help) usage; exit 0 ;;
  --list) list_suites; exit 0 ;;
  --server) reuse=1 ;;
  --shell) shell=1 ;;
  -*) usage >&2; exit 2 ;;
  *) units+=("$1") ;;
  esac
  shift
done
full=0
if [ ${#units[@]} -eq 0 ] && [ "$shell" -eq 0 ]; then
  full=1
  units=("${local_suites_first[@]}" "${server_suites[@]}" "${local_suites_last[@]}")
fi
in_list() { local x=$1; shift; for y in "$@"; do [ "$x" = "$y" ] && return 0; done; return 1; }
server_units=() first_units=() last_units=()
for unit in "${units[@]}"; do
  name=${unit%%:*}
  if in_list "$name" "${server_suites[@]}"; then server_units+=("$unit")
  elif in_list "$name" "${local_suites_first[@]}"; then first_units+=("$unit")
  elif in_list "$name" "${local_suites_last[@]}"; then last_units+=("$unit")
  else echo "run-all.sh: no suite \"$name\" (bash tests/run-all.sh --list)" >&2; exit 2; fi
done
wants() { for unit in "${units[@]}"; do [ "${unit%%:*}" = "$1" ] && return 0; done; return 1; }

started=$(date +%s)
work=$(mktemp -d /tmp/pg_tenancy_tests.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
results="$work/results"
touch "$results"
summary() {
  local passed failed
  passed=$(grep -c '^ok ' "$results" || true)
  failed=$(grep -c '^not ok ' "$results" || true)
  echo
  echo "== summary"
  grep '^not ok ' "$results" || true
  # A skip counts as passed, and is shown: "ok NAME # SKIP why".
  grep '^ok .*# SKIP' "$results" | sed 's/^ok /skipped: /' || true
  echo "ran: ${units[*]:-a shell} on $how, in $(($(date +%s) - started)) s"
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}
how="no server"

bash tests/install-deps.sh

# ---------------------------------------------------------------------------
# Build: only what changed, warnings are errors. A full run records the two
# builds as results; a failed build ends the run.
# ---------------------------------------------------------------------------
echo "== build"
cmake_targets=(--target tenancy)
if [ "$full" -eq 1 ] || wants package; then cmake_targets=()
else
  wants token && cmake_targets+=(--target token_tests)
  wants identity && cmake_targets+=(--target identity_tests)
  { wants engine || in_list cluster:pgbouncer "${units[@]}"; } && cmake_targets+=(--target engine_tests --target engine_example)
  wants tickets && cmake_targets+=(--target tenancy-tickets)
  wants cluster && cmake_targets+=(--target mint_forward_context --target mint_context_tokens)
fi
build_step() { # NAME COMMAND...: run a build step, record it in a full run
  if "${@:2}" >"$work/build.log" 2>&1; then
    [ "$full" -eq 1 ] && echo "ok build:$1" | tee -a "$results"
    return 0
  fi
  cat "$work/build.log"
  echo "not ok build:$1" | tee -a "$results"
  summary || exit 1
}
build_step extension_without_warnings make -s -j"$(nproc)" WERROR=1
build_step cmake_without_warnings bash -c 'cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPG_TENANCY_WERROR=ON >/dev/null &&
  cmake --build build -j"$(nproc)" "$@"' _ "${cmake_targets[@]}"
# make install writes a location shared by every checkout: only when needed.
installed_differs() {
  local libdir sharedir f
  libdir=$(pg_config --pkglibdir) sharedir=$(pg_config --sharedir)/extension
  cmp -s pg_tenancy.so "$libdir/pg_tenancy.so" || return 0
  for f in pg_tenancy.control sql/pg_tenancy--*.sql; do cmp -s "$f" "$sharedir/$(basename "$f")" || return 0; done
  return 1
}
if [ ${#server_units[@]} -gt 0 ] || [ ${#last_units[@]} -gt 0 ] || [ "$shell" -eq 1 ]; then
  if installed_differs; then echo "installing the extension"; make -s install >/dev/null; fi
fi

# ---------------------------------------------------------------------------
# Suites that need no server (or start their own).
# ---------------------------------------------------------------------------
suite_format() {
  echo "== clang-format"
  local files
  if git rev-parse --git-dir >/dev/null 2>&1; then files=$(git ls-files '*.cpp' '*.hpp' '*.inl')
  else files=$(find extension engine token tests examples bench -name '*.cpp' -o -name '*.hpp'); fi
  # shellcheck disable=SC2086
  if clang-format-14 --dry-run --Werror $files >"$work/format.log" 2>&1; then
    echo "ok format:clang_format" | tee -a "$results"
  else
    echo "not ok format:clang_format" | tee -a "$results"
    head -40 "$work/format.log"; echo "(fix with: clang-format-14 -i FILE)"
  fi
}

# token [SUITE]: the token library's Boost.Test suite (needs no server).
suite_token() {
  echo "== token: Boost.Test (token_tests)${1:+, only $1}"
  if [ -z "${1:-}" ]; then
    (cd build && ctest --output-on-failure -R '^token_tests$') | tee "$work/ctest-token.log" || true
    sed -n -E 's/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([A-Za-z0-9_]+) \.+ +Passed.*/ok ctest:\1/p; s/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([A-Za-z0-9_]+) \.+.*(Failed|Not Run|Timeout|Exception).*/not ok ctest:\1/p' \
      "$work/ctest-token.log" >>"$results"
  elif build/token_tests --run_test="$1" --log_level=message; then echo "ok token:$1" | tee -a "$results"
  else echo "not ok token:$1" | tee -a "$results"; fi
}

# identity [SUITE]: identity-token verification (engine/src/identity), no server:
# identity_tests, then tokens minted by PyJWT and Node jose (identity_fixtures,
# identity_interop).
suite_identity() {
  echo "== identity: Boost.Test (identity_tests, identity_interop)${1:+, only $1}"
  if [ -z "${1:-}" ]; then
    (cd build && ctest --output-on-failure -R '^identity_') | tee "$work/ctest-identity.log" || true
    sed -n -E 's/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([A-Za-z0-9_]+) \.+ +Passed.*/ok ctest:\1/p; s/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([A-Za-z0-9_]+) \.+.*(Failed|Not Run|Timeout|Exception).*/not ok ctest:\1/p' \
      "$work/ctest-identity.log" >>"$results"
    grep -q '^ok ctest:identity_interop' "$results" || echo "not ok ctest:identity_interop (did not pass)" >>"$results"
  elif build/identity_tests --run_test="$1" --log_level=message; then echo "ok identity:$1" | tee -a "$results"
  else echo "not ok identity:$1" | tee -a "$results"; fi
}

suite_versions() {
  echo "== versions"
  bash tests/cluster/check_versions.sh | tee -a "$results"
}

# Needs a server *without* pg_tenancy preloaded: always a throwaway one.
suite_not_preloaded() {
  echo "== server without the library preloaded"
  pg_virtualenv -t bash tests/cluster/not_preloaded.sh >>"$results" 2>&1 || true
  grep 'cluster:.*preload' "$results" || true
}

# A primary and a streaming hot standby of its own (tests/cluster/standby.sh).
suite_standby() {
  echo "== hot standby (tests/cluster/standby.sh)"
  RESULTS="$results" bash tests/cluster/standby.sh || grep -q '^not ok standby:' "$results" ||
    echo "not ok standby:run (ended early; see above)" | tee -a "$results"
}

suite_subscriber() {
  echo "== logical replication subscriber (tests/cluster/subscriber.sh)"
  RESULTS="$results" bash tests/cluster/subscriber.sh || grep -q '^not ok subscriber:' "$results" ||
    echo "not ok subscriber:run (ended early; see above)" | tee -a "$results"
}

# A Citus coordinator and two workers of its own (tests/citus/run.sh), or one
# "ok citus:skipped # SKIP ..." line when Citus is not installed.
suite_citus() {
  echo "== Citus cluster (tests/citus/run.sh)"
  bash tests/citus/run.sh >"$work/citus.log" 2>&1 || true
  cat "$work/citus.log"
  grep -E '^(not )?ok citus:' "$work/citus.log" >>"$results" || true
  grep -qE '^(not )?ok citus:' "$work/citus.log" || echo "not ok citus:run (no result; see above)" >>"$results"
}

# Fuzzing, sanitizers and the soak (CONTRIBUTING.md): the short forms; each
# builds and runs what it needs itself (the soak and the sanitizer pass start
# their own throwaway servers).
suite_fuzz() {
  local seconds=${1:-15}
  echo "== fuzzing (tests/fuzz/run.sh $seconds: $seconds s per target)"
  bash tests/fuzz/run.sh "$seconds" >"$work/fuzz.log" 2>&1 || true
  cat "$work/fuzz.log"
  sed -n -E 's/^fuzz (fuzz_[a-z0-9_]+) +[0-9]+ execs.*/ok fuzz:\1/p; s/^fuzz (fuzz_[a-z0-9_]+): FAILED.*/not ok fuzz:\1/p' \
    "$work/fuzz.log" >>"$results"
  grep -q '^fuzz total: .* 0 target(s) failed$' "$work/fuzz.log" || echo "not ok fuzz:run" >>"$results"
}

suite_sanitize() {
  echo "== sanitizers (tests/sanitize/run.sh${TENANCY_SANITIZE_EXTENSION:+ --extension})"
  RESULTS="$results" bash tests/sanitize/run.sh ${TENANCY_SANITIZE_EXTENSION:+--extension} ||
    echo "not ok sanitize:run" >>"$results"
}

suite_soak() {
  local seconds=${1:-60}
  echo "== fault soak (tests/soak/run.sh $seconds)"
  if bash tests/soak/run.sh "$seconds" 2>&1 | tee "$work/soak.log" && grep -q '^soak: PASS$' "$work/soak.log"; then
    echo "ok soak" >>"$results"
  else
    echo "not ok soak" >>"$results"
  fi
}

# The benchmark's quick mode as a smoke test: every arm and query must run
# without a failed transaction; its timings never fail the suite. raw.csv holds
# a header and, for each of 2 repetitions, 61 rows (main run: 5 arms x 6
# queries; count_big: 7 arms; reference: 4 arms x 6 queries), each with
# transactions, a client time and a server time.
suite_bench() {
  echo "== benchmark smoke test (bench/run.sh --quick)"
  # Every figure printed (never judged: timings do not fail the smoke test).
  if bash bench/run.sh --quick >"$work/bench.log" 2>&1 && grep -q "throughput ratio" bench/results-quick/engine.txt &&
    [ "$(grep -Ec "(HS256 +[0-9]+\.[0-9] us +EdDSA +[0-9]+\.[0-9] us|: +[0-9]+\.[0-9] us executing, +[0-9]+\.[0-9] us planning and executing)$" \
      bench/results-quick/engine.txt)" -eq 6 ] &&
    [ "$(grep -c . bench/results-quick/raw.csv)" -eq 123 ] &&
    [ "$(awk -F, 'NR > 1 && $5 + 0 > 0 && $6 ~ /^[0-9.]+$/ && $6 + 0 > 0 && $7 ~ /^[0-9.]+$/ && $7 + 0 > 0' \
      bench/results-quick/raw.csv | wc -l)" -eq 122 ]; then
    echo "ok bench:quick_smoke" | tee -a "$results"
  else
    echo "not ok bench:quick_smoke" | tee -a "$results"; tail -30 "$work/bench.log"
  fi
}

run_local() {
  for unit in "$@"; do
    name=${unit%%:*} case=""
    [ "$unit" = "$name" ] || case=${unit#*:}
    "suite_$name" "$case" || true
  done
}

# ---------------------------------------------------------------------------
# Keys and the server.
# ---------------------------------------------------------------------------
export TENANCY_CLI="$root/build/tenancy"
export TENANCY_WORK="$work"
if [ "$reuse" = 1 ]; then
  : "${PGHOST:?--server reuses the server in PGHOST/PGPORT: set them (or use --shell)}" "${PGPORT:?set PGPORT}"
  : "${TENANCY_KEYRING:?--server needs TENANCY_KEYRING (the application keyring holding test-hs and test-ed)}"
  : "${TENANCY_SERVER_KEYRING:?--server needs TENANCY_SERVER_KEYRING (the keyring file the server reads)}"
  preload=$(psql -X -qAt -d postgres -c "SHOW shared_preload_libraries") ||
    { echo "run-all.sh: cannot connect to the server at $PGHOST:$PGPORT" >&2; exit 2; }
  case ",${preload// /}," in *,pg_tenancy,*) ;; *)
    echo "run-all.sh: the server at $PGHOST:$PGPORT does not preload pg_tenancy (shared_preload_libraries=$preload)" >&2; exit 2 ;;
  esac
  how="the running server at $PGHOST:$PGPORT (reused; keyring $TENANCY_SERVER_KEYRING)"
else
  # Fresh keys for every throwaway server; its keyring belongs to the postgres OS user.
  build/tenancy keygen --alg HS256 --kid test-hs --keyring "$work/app.keyring" \
    --server-keyring "$work/server.keyring" >/dev/null
  build/tenancy keygen --alg EdDSA --kid test-ed --keyring "$work/app.keyring" \
    --server-keyring "$work/server.keyring" >/dev/null
  # The Citus server-to-server key (the worker-side checks in tests/cluster/checks.sh).
  build/tenancy keygen --forward --kid test-fwd --keyring "$work/server.keyring" >/dev/null
  chown postgres: "$work/server.keyring"
  export TENANCY_KEYRING="$work/app.keyring"
  export TENANCY_SERVER_KEYRING="$work/server.keyring"
  how="a throwaway server (pg_virtualenv, PostgreSQL $(pg_config --version | awk '{print $2}'), removed afterwards)"
fi
throwaway_server() { # COMMAND...: run COMMAND inside a throwaway cluster set up for the suites
  pg_virtualenv -t \
    -o "shared_preload_libraries=pg_tenancy,pg_stat_statements" \
    -o "tenancy.keyring_file=$work/server.keyring" \
    -o "pg_stat_statements.track=all" \
    -o "max_prepared_transactions=10" \
    "$@"
}

if [ "$shell" -eq 1 ]; then
  echo "== a shell on $how"
  echo "   run e.g.: bash tests/run-all.sh regress:05_protect   (it reuses this server); exit to stop it"
  TENANCY_REUSE_SERVER=1 throwaway_server "${SHELL:-bash}" || true
  exit 0
fi

[ ${#server_units[@]} -gt 0 ] || how="no shared server (these suites need none or start their own)"
echo "== running ${units[*]} on $how"
run_local "${first_units[@]}"
if [ ${#server_units[@]} -gt 0 ]; then
  # Failures are in the results file; a suite's exit status must not end the run.
  if [ "$reuse" = 1 ]; then bash tests/run-in-cluster.sh "${server_units[@]}" || true
  else throwaway_server bash tests/run-in-cluster.sh "${server_units[@]}" || true; fi
  # pg_virtualenv can fail before the suites start (e.g. a port taken meanwhile).
  [ -f "$work/server-reached" ] || echo "not ok server:start (no server to run ${server_units[*]} on; see above)" | tee -a "$results"
fi
run_local "${last_units[@]}"

summary
