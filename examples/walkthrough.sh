#!/usr/bin/env bash
# walkthrough.sh: the multi-organization flows with the `tenancy` CLI, printed
# as Markdown (docs/walkthrough.md is one run of it). Create an organization,
# invite a colleague with a custom role, accept, switch organizations, transfer
# ownership. Standalone it builds pg_tenancy and runs on a throwaway cluster;
# the test suite runs it inside its own.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [ -z "${TENANCY_INSIDE_CLUSTER:-}" ]; then
  cd "$root"
  bash tests/install-deps.sh
  make -s -j"$(nproc)" >/dev/null && make -s install >/dev/null
  cmake -S . -B build >/dev/null && cmake --build build -j"$(nproc)" >/dev/null
  work=$(mktemp -d /tmp/pg_tenancy_walkthrough.XXXXXX); chmod 755 "$work"
  trap 'rm -rf "$work"' EXIT
  build/tenancy keygen --alg EdDSA --kid walk-1 --keyring "$work/app.keyring" --server-keyring "$work/server.keyring" >/dev/null
  chown postgres: "$work/server.keyring"
  export TENANCY_CLI="$root/build/tenancy" TENANCY_KEYRING="$work/app.keyring" TENANCY_INSIDE_CLUSTER=1
  exec pg_virtualenv -t -o shared_preload_libraries=pg_tenancy -o "tenancy.keyring_file=$work/server.keyring" \
    bash "$0"
fi

db=${WALKTHROUGH_DB:-tenancy_walkthrough}
dropdb --if-exists "$db" >/dev/null 2>&1; createdb "$db"
psql -X -q -d "$db" -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
CREATE EXTENSION pg_tenancy;
SELECT tenancy.register_permission('tickets.read', 'Read tickets');
SELECT tenancy.register_permission('tickets.write', 'Create and edit tickets');
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'walk_app') THEN CREATE ROLE walk_app LOGIN PASSWORD 'walk_app'; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'walk_admin') THEN CREATE ROLE walk_admin LOGIN PASSWORD 'walk_admin'; END IF;
END $$;
GRANT EXECUTE ON FUNCTION tenancy.lookup_membership(uuid, uuid), tenancy.register_user(text, text) TO walk_admin;
CREATE TABLE tickets (id serial PRIMARY KEY, organization_id uuid NOT NULL, title text NOT NULL);
SELECT tenancy.protect('tickets');
GRANT SELECT, INSERT ON tickets TO walk_app;
GRANT USAGE ON SEQUENCE tickets_id_seq TO walk_app;
SQL
export TENANCY_CONNINFO="dbname=$db user=walk_app password=walk_app"
export TENANCY_ADMIN_CONNINFO="dbname=$db user=walk_admin password=walk_admin"

# step "explanation" command...: prints the command, its output and (if not 0)
# its exit status, as Markdown.
step() {
  local text=$1 shown="" arg status
  shift
  for arg in "$@"; do
    case "$arg" in *[[:space:]\'\"]*) shown+=" \"$arg\"" ;; *) shown+=" $arg" ;; esac
  done
  [ -n "$text" ] && printf '\n%s\n' "$text"
  printf '\n```console\n$%s\n' "${shown//$TENANCY_CLI/tenancy}"
  set +e
  "$@" 2>&1 | sed "s|$TENANCY_CLI|tenancy|"
  status=${PIPESTATUS[0]}
  set -e
  [ "$status" -ne 0 ] && printf '(exit status %s)\n' "$status"
  printf '```\n'
  return 0
}
t="$TENANCY_CLI"

cat <<'MD'
# Walkthrough: organizations, roles, invitations, ownership

Every step is a `tenancy` command and its real output, from one run of
`examples/walkthrough.sh` (ids differ from run to run). The database has
pg_tenancy, a protected `tickets` table, and the application's permissions
`tickets.read` and `tickets.write` registered. `TENANCY_CONNINFO` names the
application role, `TENANCY_ADMIN_CONNINFO` the engine's privileged role and
`TENANCY_KEYRING` the signing keyring.
MD

step "Two people sign up (a privileged step: the admin connection)." "$t" user add --code alice --email alice@acme.example
step "" "$t" user add --code bob --email bob@example.com
alice=$(psql -X -qAt -d "$db" -c "SELECT id FROM tenancy.users WHERE code = 'alice'")
bob=$(psql -X -qAt -d "$db" -c "SELECT id FROM tenancy.users WHERE code = 'bob'")

printf '\n## 1. Alice creates an organization\n'
step "She becomes its owner (a hidden system role holding every permission)." "$t" org create --user "$alice" --name Acme
acme=$(psql -X -qAt -d "$db" -c "SELECT id FROM tenancy.organizations WHERE name = 'Acme'")
step "Her first ticket:" "$t" exec --user "$alice" --org "$acme" -c "INSERT INTO tickets (title) VALUES ('Printer on fire')"

printf '\n## 2. A custom role, and an invitation with it\n'
step "Alice defines a support role." "$t" roles create --user "$alice" --org "$acme" --code support --name Support -p tickets.read -p tickets.write
step "" "$t" roles --user "$alice" --org "$acme"
token=$("$t" invite --user "$alice" --org "$acme" --email Bob@Example.com --role support --ttl-hours 48 2>/dev/null)
printf '\nShe invites Bob. The token is printed once; only its SHA-256 is stored.\n\n```console\n$ tenancy invite --user %s --org %s --email Bob@Example.com --role support --ttl-hours 48\n%s\n```\n' "$alice" "$acme" "$token"
step "Pending invitations (never the token):" "$t" invitations --user "$alice" --org "$acme"

printf '\n## 3. Bob accepts\n'
step "Someone else holding the token gets nowhere (same answer as for a wrong, expired, revoked or used token):" "$t" accept --user "$alice" --token "$token"
step "Bob accepts (the invitation's email is his, case aside):" "$t" accept --user "$bob" --token "$token"
step "Using it twice does not work either:" "$t" accept --user "$bob" --token "$token"
step "" "$t" members --user "$alice" --org "$acme"

printf '\n## 4. Bob switches between organizations\n'
step "Bob also has an organization of his own." "$t" org create --user "$bob" --name "Bob's side project"
side=$(psql -X -qAt -d "$db" -c "SELECT id FROM tenancy.organizations WHERE name = 'Bob''s side project'")
step "The organization switcher:" "$t" org list --user "$bob"
step "In Acme, Bob sees Acme's tickets:" "$t" exec --user "$bob" --org "$acme" -c "SELECT title FROM tickets"
step "In his side project, the same query sees only that organization:" "$t" exec --user "$bob" --org "$side" -c "SELECT title FROM tickets"
step "His support role does not let him manage roles:" "$t" roles create --user "$bob" --org "$acme" --code admin --name Admin -p members.manage

printf '\n## 5. Alice transfers ownership to Bob\n'
step "" "$t" transfer --user "$alice" --org "$acme" --to "$bob" --my-role support
step "" "$t" members --user "$bob" --org "$acme"
step "Alice is no longer an owner:" "$t" transfer --user "$alice" --org "$acme" --to "$alice" --my-role support
step "The audit log records it all (read as Bob, now owner):" "$t" exec --user "$bob" --org "$acme" -c "SELECT action, created_at::time(0) AS at FROM tenancy.audit_log ORDER BY created_at, id"
dropdb "$db"
