#!/usr/bin/env bash
# run.sh [SECONDS] [soak options...]: the engine's fault soak (tests/soak/soak.cpp)
# in a throwaway cluster with pg_tenancy preloaded, a PgBouncer in front of it,
# one server restart and one keyring rotation. Default 60 s (what the suite
# runs); e.g. `bash tests/soak/run.sh 1800 --threads 16 --orgs 200` for a long
# soak. Run as root on Debian 12 after building (build/tenancy_soak); exits
# non-zero if the soak finds any mismatch. Environment: TENANCY_PGBOUNCER_PORT
# (default 16432), SOAK_BUILD (default build).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

if [ "${1:-}" = --inside-cluster ]; then
  shift
  export TENANCY_PGBOUNCER_DB=tenancy_soak TENANCY_PGBOUNCER_DIR="$TENANCY_WORK/soak-pgbouncer"
  trap 'bash tests/cluster/pgbouncer.sh stop' EXIT
  bash tests/cluster/pgbouncer.sh start
  seconds=$1
  shift
  # "restart -m fast" once reported the cluster still running; stop, wait, start.
  cluster="$PGVERSION regress"
  restart="pg_ctlcluster $cluster stop -m fast; for i in \$(seq 150); do pg_ctlcluster $cluster status || break; sleep 0.2; done;"
  restart="($restart pg_ctlcluster $cluster start) >>$TENANCY_WORK/restart.log 2>&1"
  "$SOAK_BINARY" --seconds "$seconds" --pgbouncer-port "$TENANCY_PGBOUNCER_PORT" --work-dir "$TENANCY_WORK" \
    --server-keyring "$TENANCY_WORK/server.keyring" \
    --restart-command "$restart" "$@" ||
    { status=$?; cat "$TENANCY_WORK/restart.log" 2>/dev/null; exit $status; }
  exit
fi

seconds=${1:-60}
[ $# -gt 0 ] && shift
build=${SOAK_BUILD:-$root/build}
[ -x "$build/tests/soak/tenancy_soak" ] || cmake --build "$build" --target tenancy_soak >/dev/null
export SOAK_BINARY="$build/tests/soak/tenancy_soak"
export TENANCY_PGBOUNCER_PORT=${TENANCY_PGBOUNCER_PORT:-16432}
TENANCY_WORK=$(mktemp -d /tmp/pg_tenancy_soak.XXXXXX)
export TENANCY_WORK
chmod 755 "$TENANCY_WORK"
trap 'rm -rf "$TENANCY_WORK"' EXIT
# The server's keyring belongs to the postgres OS user; the soak rewrites it to rotate keys.
"$build/tenancy" keygen --alg HS256 --kid soak-initial --keyring "$TENANCY_WORK/initial.keyring" \
  --server-keyring "$TENANCY_WORK/server.keyring" >/dev/null
chown postgres: "$TENANCY_WORK/server.keyring"

pg_virtualenv -t \
  -o "shared_preload_libraries=pg_tenancy" \
  -o "tenancy.keyring_file=$TENANCY_WORK/server.keyring" \
  -o "max_connections=200" \
  bash "$root/tests/soak/run.sh" --inside-cluster "$seconds" "$@"
