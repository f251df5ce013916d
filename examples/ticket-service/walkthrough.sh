#!/usr/bin/env bash
# walkthrough.sh: a curl session against tenancy-tickets, printed as Markdown
# (the session in README.md is one run of it: `walkthrough.sh --update-readme`).
# Every step states the status it must get; the script exits 1 if one differs,
# and the test suite runs it. Standalone it builds pg_tenancy and uses a
# throwaway cluster; the suite runs it inside its own (TENANCY_INSIDE_CLUSTER=1).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
update_readme=no
[ "${1:-}" = "--update-readme" ] && update_readme=yes

if [ -z "${TENANCY_INSIDE_CLUSTER:-}" ]; then
  cd "$root"
  bash tests/install-deps.sh
  make -s -j"$(nproc)" >/dev/null && make -s install >/dev/null
  cmake -S . -B build >/dev/null && cmake --build build -j"$(nproc)" --target tenancy tenancy-tickets >/dev/null
  work=$(mktemp -d /tmp/tickets_walkthrough.XXXXXX); chmod 755 "$work"
  trap 'rm -rf "$work"' EXIT
  build/tenancy keygen --alg EdDSA --kid walk-1 --keyring "$work/app.keyring" --server-keyring "$work/server.keyring" >/dev/null
  chown postgres: "$work/server.keyring"
  export TENANCY_CLI="$root/build/tenancy" TENANCY_KEYRING="$work/app.keyring" TENANCY_WORK="$work" TENANCY_INSIDE_CLUSTER=1
  exec pg_virtualenv -t -o shared_preload_libraries=pg_tenancy -o "tenancy.keyring_file=$work/server.keyring" \
    bash "$0" "$@"
fi

export TICKETS_PORT=${TICKETS_WALKTHROUGH_PORT:-18081} TICKETS_DB=tenancy_tickets_walkthrough
source "$here/tests/lib.sh"
tw="$TENANCY_WORK/tickets-walkthrough"
start_service
trap 'stop_service >/dev/null 2>&1 || true' EXIT
out="$tw/session.md"
failures=0

# step TEXT EXPECTED METHOD PATH TOKEN_NAME ORG_NAME [JSON]: one request, shown
# with the names of the shell variables ($ALICE, $ACME) instead of their values.
step() {
  local text=$1 want=$2 method=$3 path=$4 token_name=$5 org_name=$6 data=${7:-} shown
  shown="curl -s -X $method localhost:8080$path"
  [ "$token_name" != - ] && shown+=" -H \"Authorization: Bearer \$$token_name\""
  [ "$org_name" != - ] && shown+=" -H \"X-Organization-Id: \$$org_name\""
  [ -n "$data" ] && shown+=" -d '$data'"
  local token=- org=-
  [ "$token_name" != - ] && token=${!token_name}
  [ "$org_name" != - ] && org=${!org_name}
  call "$method" "$path" "$token" "$org" "$data"
  { [ -n "$text" ] && printf '\n%s\n' "$text"
    printf '\n```console\n$ %s\nHTTP %s\n' "$shown" "$status"
    [ -n "$body" ] && jq . <<<"$body"
    printf '```\n'; } >>"$out"
  if [ "$status" != "$want" ]; then
    echo "walkthrough: \"$shown\" answered $status, expected $want" >&2
    failures=$((failures + 1))
  fi
}

ALICE_ID=$(new_user alice); BOB_ID=$(new_user bob)
ALICE=$(bearer "$ALICE_ID"); BOB=$(bearer "$BOB_ID")
cat >"$out" <<'MD'
Alice and Bob are signed up (`POST /admin/users` with the admin key); `$ALICE`
and `$BOB` hold their bearer tokens from the identity provider. Ids and times
differ from run to run.
MD
printf '\n### Alice creates an organization and a ticket\n' >>"$out"
step "" 201 POST /organizations ALICE - '{"name":"Acme"}'; ACME=$(jq -r .id <<<"$body")
step "" 201 POST /tickets ALICE ACME '{"title":"Printer on fire","body":"3rd floor"}'; T1=$(jq -r .id <<<"$body")
printf '\n### Bob has his own organization, and tries to look into Acme\n' >>"$out"
step "" 201 POST /organizations BOB - '{"name":"Globex"}'; GLOBEX=$(jq -r .id <<<"$body")
step "" 201 POST /tickets BOB GLOBEX '{"title":"Coffee machine leaks"}'
step "Claiming Acme in the header gets nowhere: Bob is not a member (an organization that does not exist gets the same answer)." \
  403 GET /tickets BOB ACME
step "Acme's ticket id from his own organization is simply not there:" 404 GET "/tickets/$T1" BOB GLOBEX
printf '\n### Alice invites Bob with a custom role\n' >>"$out"
step "" 201 POST /roles ALICE ACME '{"code":"triage","name":"Triage","permissions":["tickets.read","tickets.write","tickets.assign"]}'
step "The token is shown once; the database keeps its SHA-256." 201 POST /invitations ALICE ACME '{"email":"bob@tickets.example","role":"triage"}'
INVITE=$(jq -r .token <<<"$body")
step "Bob accepts (no organization header: the invitation names it)." 200 POST /invitations/accept BOB - "{\"token\":\"$INVITE\"}"
step "A second use is refused like any unknown, expired or revoked token:" 400 POST /invitations/accept BOB - "{\"token\":\"$INVITE\"}"
# Show the token as a shell variable, in quotes a shell would expand.
sed -i "s|'{\"token\":\"$INVITE\"}'|\"{\\\\\"token\\\\\":\\\\\"\$INVITE\\\\\"}\"|g; s|$INVITE|\$INVITE|g" "$out"
printf '\n### Bob switches between his organizations\n' >>"$out"
step "" 200 GET /me/organizations BOB -
step "" 200 GET /tickets BOB ACME
step "" 200 GET /tickets BOB GLOBEX
printf '\n### Work on a ticket\n' >>"$out"
step "" 200 POST "/tickets/$T1/assign" BOB ACME "{\"assignee_id\":\"$BOB_ID\"}"
step "Only members can be assigned:" 400 POST "/tickets/$T1/assign" BOB ACME "{\"assignee_id\":\"$(cat /proc/sys/kernel/random/uuid)\"}"
step "" 200 POST "/tickets/$T1/close" BOB ACME
step "Triage does not include tickets.delete:" 403 DELETE "/tickets/$T1" BOB ACME
step "" 200 GET "/tickets?status=closed&limit=10" ALICE ACME
printf '\n### Members and the audit log\n' >>"$out"
step "" 200 GET /members ALICE ACME
step "" 204 PUT "/members/$BOB_ID/role" ALICE ACME '{"role":"owner"}'
step "" 200 GET "/audit-log?limit=3" ALICE ACME
printf '\n### No token, a forged one, or no organization\n' >>"$out"
step "" 401 GET /tickets - ACME
FORGED=$("$python" "$service_dir/tests/forge_bearer.py" alter-sub "$BOB" "$ALICE_ID")
step "Bob's token with Alice's id pasted in (the signature no longer matches):" 401 GET /tickets FORGED ACME
step "" 400 GET /tickets ALICE -

if [ "$update_readme" = yes ]; then
  python3 - "$service_dir/README.md" "$out" <<'PY'
import sys
readme, session = sys.argv[1], open(sys.argv[2]).read()
text = open(readme).read()
start, end = "<!-- session:start -->\n", "<!-- session:end -->"
head, rest = text.split(start, 1)
open(readme, "w").write(head + start + session.lstrip("\n") + "\n" + end + rest.split(end, 1)[1])
PY
else
  cat "$out"
fi
[ "$failures" -eq 0 ]
