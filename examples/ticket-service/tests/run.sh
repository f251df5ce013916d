#!/usr/bin/env bash
# run.sh: the ticket service's HTTP tests, over real loopback HTTP with curl.
# Called by tests/run-in-cluster.sh inside the suite's cluster; appends
# "ok tickets:NAME" / "not ok tickets:NAME" lines to $TENANCY_WORK/results.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ ! -x "$root/build/tenancy-tickets" ]; then
  echo "not ok tickets:built (build/tenancy-tickets missing: is libcpp-httplib-dev installed?)" | tee -a "$TENANCY_WORK/results"
  exit 0
fi
# Bad configuration: exit status 2 and a message, before anything listens.
"$root/build/tenancy-tickets" --config /nonexistent/tickets.conf >/dev/null 2>"$TENANCY_WORK/tickets-config.err"
[ $? -eq 2 ] && grep -q 'could not read configuration file' "$TENANCY_WORK/tickets-config.err" &&
  echo "ok tickets:bad_config_exit_2" | tee -a "$TENANCY_WORK/results" ||
  echo "not ok tickets:bad_config_exit_2" | tee -a "$TENANCY_WORK/results"
start_service || { echo "not ok tickets:service_starts" | tee -a "$TENANCY_WORK/results"; exit 0; }
trap 'kill -KILL "$service_pid" 2>/dev/null' EXIT
echo "ok tickets:service_starts" | tee -a "$TENANCY_WORK/results"

echo "== ticket service: the seed's flow"
source "$here/seed_flow.sh"
echo "== ticket service: the seed's attacks"
source "$here/attacks.sh"
echo "== ticket service: a 500 names nothing inside"
# A second instance signs context tokens with a key the database does not know:
# every tenant transaction fails inside, and the client learns nothing of it.
# (TENANCY_KEYRING would override the file, as the environment always does.)
"$TENANCY_CLI" keygen --alg HS256 --kid rogue --keyring "$tw/rogue.keyring" >/dev/null
sed -e "s|^keyring_file = .*|keyring_file = $tw/rogue.keyring|" -e "s|^listen_port = .*|listen_port = $((TICKETS_PORT + 4))|" \
  -e '/^admin_key_file/d' "$tw/tickets.conf" >"$tw/rogue.conf"
env -u TENANCY_KEYRING "$root/build/tenancy-tickets" --config "$tw/rogue.conf" 2>"$tw/rogue.log" &
rogue_pid=$!
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$((TICKETS_PORT + 4))/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
rogue=$(curl -sS -w ' %{http_code}' "http://127.0.0.1:$((TICKETS_PORT + 4))/tickets" -H "Authorization: Bearer $tm" -H "X-Organization-Id: $evil")
kill -TERM "$rogue_pid"; wait "$rogue_pid"
if [ "$rogue" = '{"error":"internal","message":"internal error"} 500' ] && grep -q 'refused a context token' "$tw/rogue.log"; then
  echo "ok tickets:internal_error_500_names_nothing" | tee -a "$TENANCY_WORK/results"
else
  echo "not ok tickets:internal_error_500_names_nothing (got $rogue)" | tee -a "$TENANCY_WORK/results"
fi
echo "== ticket service: concurrency"
if "$python" "$here/concurrency.py" --base "$base" --admin-key-file "$tw/admin.key" \
  --mint "$python $here/mint_bearer.py --keyring $tw/identity.keyring --kid idp-1" ${TICKETS_CONCURRENCY_ARGS:-}; then
  echo "ok tickets:concurrency_zero_foreign_rows" | tee -a "$TENANCY_WORK/results"
else
  echo "not ok tickets:concurrency_zero_foreign_rows" | tee -a "$TENANCY_WORK/results"
fi

# No bearer token or invitation token ever reaches the log.
if grep -Eq 'eyJ|tinv_|Bearer' "$tw/service.log"; then
  echo "not ok tickets:log_has_no_tokens" | tee -a "$TENANCY_WORK/results"
else
  echo "ok tickets:log_has_no_tokens" | tee -a "$TENANCY_WORK/results"
fi
if grep -q '^2000-01-01T00:00:00Z GET /forged-log-line' "$tw/service.log"; then
  echo "not ok tickets:log_injection_refused" | tee -a "$TENANCY_WORK/results"
else
  echo "ok tickets:log_injection_refused" | tee -a "$TENANCY_WORK/results"
fi
if [ "$(grep -c ' /tickets' "$tw/service.log")" -gt 10 ] && grep -Eq '^[0-9T:-]+Z GET /tickets [0-9]{3} [0-9.]+ms user=[0-9a-f-]{36}$' "$tw/service.log"; then
  echo "ok tickets:one_log_line_per_request" | tee -a "$TENANCY_WORK/results"
else
  echo "not ok tickets:one_log_line_per_request" | tee -a "$TENANCY_WORK/results"
fi

echo "== ticket service: a client that never finishes its request"
# Half a request line, then silence: the server must hang up after
# keep_alive_timeout_s + request_timeout_s (2 + 3 s here), not hold a worker forever.
started=$SECONDS
exec 3<>"/dev/tcp/127.0.0.1/$TICKETS_PORT"
printf 'GET /tickets HTTP/1.1\r\nHost: x\r\n' >&3
timeout 15 cat <&3 >/dev/null
exec 3<&-
if [ $((SECONDS - started)) -le 8 ]; then
  echo "ok tickets:slow_client_timed_out ($((SECONDS - started)) s)" | tee -a "$TENANCY_WORK/results"
else
  echo "not ok tickets:slow_client_timed_out ($((SECONDS - started)) s)" | tee -a "$TENANCY_WORK/results"
fi

echo "== ticket service: graceful shutdown"
# A slow upload (about 4 s) is in flight when SIGTERM arrives: it must still be
# answered, and the service must then exit 0.
slow_body="{\"code\":\"slow-$RANDOM\",\"email\":\"slow-$RANDOM@tickets.example\",\"pad\":\"$(head -c 300 /dev/zero | tr '\0' x)\"}"
key=$(admin_key)
curl -sS -o /dev/null -w '%{http_code}' --max-time 30 --limit-rate 100 -X POST "$base/admin/users" \
  -H "X-Admin-Key: $key" -H 'Content-Type: application/json' --data-binary "$slow_body" >"$tw/slow.status" &
slow_pid=$!
sleep 1.5
if stop_service && wait "$slow_pid" && [ "$(cat "$tw/slow.status")" = 201 ]; then
  echo "ok tickets:graceful_shutdown" | tee -a "$TENANCY_WORK/results"
else
  echo "not ok tickets:graceful_shutdown (in-flight request: $(cat "$tw/slow.status"))" | tee -a "$TENANCY_WORK/results"
  tail -5 "$tw/service.log"
fi
trap - EXIT
