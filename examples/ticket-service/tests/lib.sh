# lib.sh: what the ticket service's tests share. Sourced inside a cluster made
# by tests/run-all.sh (PG* set; TENANCY_CLI, TENANCY_KEYRING, TENANCY_WORK
# exported). start_service creates the database, roles and schema, an identity
# keyring and an admin key, and starts tenancy-tickets on TICKETS_PORT.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
service_dir=$(dirname "$here")
root=$(cd "$service_dir/../.." && pwd)
: "${TICKETS_PORT:=18080}"
: "${TICKETS_DB:=tenancy_tickets}"
base="http://127.0.0.1:$TICKETS_PORT"
tw="$TENANCY_WORK/tickets"
python=/usr/bin/python3 # Debian's, where python3-jwt and python3-psycopg live

start_service() {
  mkdir -p "$tw" && rm -f "$tw"/*.keyring "$tw/admin.key"
  bash "$here/prepare_db.sh" "$TICKETS_DB"
  "$TENANCY_CLI" keygen --alg HS256 --kid idp-1 --keyring "$tw/identity.keyring" >/dev/null
  (umask 077; head -c 32 /dev/urandom | base64 | tr -d '\n=' >"$tw/admin.key")
  cat >"$tw/tickets.conf" <<CONF
conninfo = dbname=$TICKETS_DB user=tickets_app password=tickets_app host=${PGHOST:-localhost} port=${PGPORT:-5432}
admin_conninfo = dbname=$TICKETS_DB user=tickets_admin password=tickets_admin host=${PGHOST:-localhost} port=${PGPORT:-5432}
keyring_file = $TENANCY_KEYRING
identity_keyring_file = $tw/identity.keyring
identity_issuer = https://id.tickets.example
identity_audience = tickets-api
pool_size = 8
worker_threads = 8
request_timeout_s = 3
keep_alive_timeout_s = 2
listen_port = $TICKETS_PORT
admin_key_file = $tw/admin.key
CONF
  "$root/build/tenancy-tickets" --config "$tw/tickets.conf" 2>"$tw/service.log" &
  service_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "$base/healthz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "tenancy-tickets did not start:" >&2; cat "$tw/service.log" >&2
  return 1
}

# Stops the service with SIGTERM; fails unless it exits 0 within 10 seconds.
stop_service() {
  kill -TERM "$service_pid" 2>/dev/null || true # it may have stopped already
  for _ in $(seq 1 100); do
    kill -0 "$service_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$service_pid" 2>/dev/null && { kill -KILL "$service_pid"; return 1; }
  wait "$service_pid"
}

admin_key() { cat "$tw/admin.key"; }

# new_user CODE: registers a user through the admin route; prints the id.
new_user() {
  curl -sS -X POST "$base/admin/users" -H "X-Admin-Key: $(admin_key)" -H 'Content-Type: application/json' \
    -d "{\"code\":\"$1\",\"email\":\"$1@tickets.example\"}" | jq -r .id
}

# bearer USER_ID [mint_bearer.py options]: an identity token for that user.
bearer() {
  local sub=$1; shift
  "$python" "$here/mint_bearer.py" --keyring "$tw/identity.keyring" --kid idp-1 --sub "$sub" "$@"
}

# call METHOD PATH TOKEN ORG [JSON]: one request; sets $status and $body.
# TOKEN or ORG "-" leaves that header out.
call() {
  local method=$1 path=$2 token=$3 org=$4 data=${5:-} args
  args=(-sS -o "$tw/body" -w '%{http_code}' -X "$method")
  [ "$token" != "-" ] && args+=(-H "Authorization: Bearer $token")
  [ "$org" != "-" ] && args+=(-H "X-Organization-Id: $org")
  if [ -n "$data" ]; then
    args+=(-H 'Content-Type: application/json' --data-binary "$data")
  elif [ "$method" != GET ] && [ "$method" != DELETE ]; then
    args+=(-H 'Content-Length: 0') # HTTP/1.1: a POST without a body says so (cpp-httplib answers 400 otherwise)
  fi
  status=$(curl "${args[@]}" "$base$path")
  body=$(cat "$tw/body")
}

# expect NAME STATUS [JQ_CONDITION]: records "ok tickets:NAME" or "not ok ...".
expect() {
  local name=$1 want=$2 condition=${3:-true}
  if [ "$status" = "$want" ] && jq -e "$condition" <<<"${body:-null}" >/dev/null 2>&1; then
    echo "ok tickets:$name ($want)" | tee -a "$TENANCY_WORK/results"
  else
    echo "not ok tickets:$name (want $want and $condition; got $status $body)" | tee -a "$TENANCY_WORK/results"
  fi
}
