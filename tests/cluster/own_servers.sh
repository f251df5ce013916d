# own_servers.sh: sourced by the suites that run PostgreSQL servers of their own
# (standby.sh, subscriber.sh). Set SUITE first. Gives: report NAME STATUS
# [DETAIL] ("ok SUITE:NAME" / "not ok SUITE:NAME", also appended to $RESULTS;
# a failure sets failed=1), as_postgres COMMAND (servers refuse to run as root),
# a private directory $dir whose servers are stopped and which is removed on
# exit, and start_server NODE PORT [SETTINGS]: the server in $dir/NODE as the
# postgres OS user, its socket only in $dir, preloading pg_tenancy with the
# keyring $dir/NODE.keyring. Settings go on the command line, so a copy of
# another node's configuration files carries no port or keyring over.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cli=${TENANCY_CLI:-$here/../../build/tenancy}
results=${RESULTS:-/dev/null}
bindir=$(pg_config --bindir)
failed=0

report() {
  if [ "$2" -eq 0 ]; then echo "ok $SUITE:$1" | tee -a "$results"
  else echo "not ok $SUITE:$1 ${3:-}" | tee -a "$results"; failed=1; fi
}
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

dir=$(mktemp -d "/tmp/pg_tenancy_$SUITE.XXXXXX")
chmod 755 "$dir"
stop_servers() {
  local pidfile
  for pidfile in "$dir"/*/postmaster.pid; do
    [ -f "$pidfile" ] && as_postgres "$bindir/pg_ctl" stop -D "$(dirname "$pidfile")" -m immediate >/dev/null 2>&1
  done
  rm -rf "$dir"
}
trap stop_servers EXIT
trap 'exit 130' INT TERM

start_server() {
  as_postgres "$bindir/pg_ctl" start -w -t 60 -D "$dir/$1" -l "$dir/$1.log" \
    -o "-c port=$2 -c listen_addresses='' -c unix_socket_directories=$dir -c shared_preload_libraries=pg_tenancy -c tenancy.keyring_file=$dir/$1.keyring -c fsync=off ${3:-}" \
    >/dev/null || { cat "$dir/$1.log"; return 1; }
}
