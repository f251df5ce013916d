#!/usr/bin/env bash
# pgbouncer.sh start|stop: a PgBouncer in transaction-pooling mode on loopback,
# in front of the test server, for the engine's PgBouncer test. PgBouncer will
# not run as root, so it runs as the postgres OS user.
set -euo pipefail
dir=${TENANCY_PGBOUNCER_DIR:-$TENANCY_WORK/pgbouncer}
db=${TENANCY_PGBOUNCER_DB:-tenancy_engine_test}
port=${TENANCY_PGBOUNCER_PORT:?}
case "$1" in
start)
  mkdir -p "$dir"
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
$db = host=${PGHOST:-localhost} port=${PGPORT:-5432} dbname=$db

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = 2
max_client_conn = 100
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
ignore_startup_parameters = extra_float_digits
INI
  echo '"engine_app" "engine_app"' >"$dir/userlist.txt"
  chown -R postgres: "$dir"
  chmod 600 "$dir/userlist.txt"
  runuser -u postgres -- pgbouncer -d "$dir/pgbouncer.ini"
  for _ in $(seq 50); do
    [ -s "$dir/pgbouncer.pid" ] && break
    sleep 0.1
  done
  ;;
stop)
  [ -s "$dir/pgbouncer.pid" ] && kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true
  ;;
esac
