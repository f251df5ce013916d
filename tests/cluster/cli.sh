#!/usr/bin/env bash
# cli.sh: the `tenancy` command-line tool against a real database: user and
# organization flows, exec as a member, as a non-member and after removal, and
# exit codes. Appends "ok NAME" / "not ok NAME" lines to $TENANCY_WORK/results.
set -uo pipefail
results="$TENANCY_WORK/results"
db=tenancy_cli
report() {
  if [ "$2" -eq 0 ]; then echo "ok cli:$1" | tee -a "$results"
  else echo "not ok cli:$1 ${3:-}" | tee -a "$results"; fi
}
sql() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }

dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
sql "CREATE EXTENSION pg_tenancy" >/dev/null
psql -X -qAt -d postgres <<'SQL' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cli_app') THEN CREATE ROLE cli_app; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cli_admin') THEN CREATE ROLE cli_admin; END IF;
END $$;
ALTER ROLE cli_app LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'cli_app';
ALTER ROLE cli_admin LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'cli_admin';
SQL
sql "GRANT EXECUTE ON FUNCTION tenancy.lookup_membership(uuid, uuid), tenancy.register_user(text, text) TO cli_admin"
sql "GRANT CREATE ON SCHEMA public TO cli_admin" # the demo creates its table as the admin role
sql "SELECT tenancy.register_permission('tickets.read', 'Read tickets')" >/dev/null
sql "CREATE TABLE tickets (id serial PRIMARY KEY, organization_id uuid NOT NULL, title text NOT NULL)"
sql "SELECT tenancy.protect('tickets')" >/dev/null
sql "GRANT SELECT, INSERT, UPDATE, DELETE ON tickets TO cli_app; GRANT USAGE ON SEQUENCE tickets_id_seq TO cli_app"

# Settings from a config file, the keyring from the environment.
cat >"$TENANCY_WORK/cli.conf" <<CONF
# tenancy CLI configuration for the tests
conninfo = dbname=$db user=cli_app password=cli_app
admin_conninfo = dbname=$db user=cli_admin password=cli_admin
token_ttl = 30
CONF
export TENANCY_CONFIG="$TENANCY_WORK/cli.conf"
cli="$TENANCY_CLI"

alice=$("$cli" user add --code alice --email alice@acme.example); report user_add $? "$alice"
bob=$("$cli" user add --code bob --email bob@globex.example); report user_add_second $? "$bob"
out=$("$cli" user add --code alice --email other@acme.example 2>&1); status=$?
[ $status -eq 1 ] && echo "$out" | grep -q "already registered"; report user_add_duplicate_refused $? "$status $out"
acme=$("$cli" org create --user "$alice" --name Acme); report org_create $? "$acme"
globex=$("$cli" org create --user "$bob" --name Globex); report org_create_second $? "$globex"
out=$("$cli" org list --user "$alice"); echo "$out" | grep -q "owner.Acme"; report org_list $? "$out"

"$cli" exec --user "$alice" --org "$acme" -c "INSERT INTO tickets (title) VALUES ('acme: printer on fire')" >/dev/null
"$cli" exec --user "$bob" --org "$globex" -c "INSERT INTO tickets (title) VALUES ('globex: secret plan')" >/dev/null
out=$("$cli" exec --user "$alice" --org "$acme" -c "SELECT title FROM tickets ORDER BY id")
echo "$out" | grep -q "acme: printer on fire" && ! echo "$out" | grep -q globex && echo "$out" | grep -q "(1 row)"
report exec_member_sees_own_rows $? "$out"

out=$("$cli" exec --user "$alice" --org "$globex" -c "SELECT title FROM tickets" 2>&1); status=$?
[ $status -eq 3 ] && echo "$out" | grep -q "not a member of this organization"; report exec_non_member_refused $? "$status $out"
out2=$("$cli" exec --user "$alice" --org 00000000-0000-4000-8000-000000000000 -c "SELECT 1" 2>&1)
[ "$out" = "$out2" ]; report exec_unknown_org_same_message $? "$out / $out2"

carol=$("$cli" user add --code carol --email carol@acme.example)
sql "INSERT INTO tenancy.roles (organization_id, code, name, permissions) VALUES ('$acme', 'agent', 'Agent', '[\"tickets.*\"]')"
sql "INSERT INTO tenancy.memberships (organization_id, user_id, role_id) SELECT '$acme', '$carol', id FROM tenancy.roles WHERE organization_id = '$acme' AND code = 'agent'"
out=$("$cli" exec --user "$carol" --org "$acme" -c "SELECT count(*) FROM tickets" 2>&1); status=$?
[ $status -eq 0 ] && echo "$out" | grep -q " 1"; report exec_new_member_allowed $? "$out"
sql "DELETE FROM tenancy.memberships WHERE user_id = '$carol'"
out=$("$cli" exec --user "$carol" --org "$acme" -c "SELECT count(*) FROM tickets" 2>&1); status=$?
[ $status -eq 3 ]; report exec_after_removal_refused $? "$status $out"

out=$("$cli" exec --user "$alice" -c "SELECT name FROM tenancy.my_organizations()" 2>&1)
echo "$out" | grep -q Acme; report exec_user_only_context $? "$out"
# Tenant data in a user-only context: a refusal (3), not a lost context (5).
out=$("$cli" exec --user "$alice" -c "SELECT count(*) FROM tickets" 2>&1); status=$?
[ $status -eq 3 ]; report exec_user_only_context_on_tenant_data_exit_3 $? "$status $out"
out=$("$cli" exec --user "$alice" --org "$acme" -c "INSERT INTO tickets (organization_id, title) VALUES ('$globex', 'x')" 2>&1); status=$?
[ $status -eq 3 ]; report exec_cross_tenant_write_denied $? "$status $out"

# Exit codes and messages for bad input.
out=$("$cli" exec --user not-a-uuid --org "$acme" -c "SELECT 1" 2>&1); status=$?
[ $status -eq 2 ] && echo "$out" | grep -q -- "--user must be a uuid"; report bad_uuid_is_usage_error $? "$status $out"
out=$("$cli" exec --user "$alice" --org not-a-uuid -c "SELECT 1" 2>&1); status=$?
[ $status -eq 2 ] && echo "$out" | grep -q -- "--org must be a uuid"; report bad_org_uuid_names_org $? "$status $out"
out=$("$cli" exec --org "$acme" -c "SELECT 1" 2>&1); status=$?
[ $status -eq 2 ] && echo "$out" | grep -q -- "^--user or --bearer"; report missing_user_is_usage_error $? "$status $out"
out=$("$cli" exec --user "$alice" 2>&1); status=$?
[ $status -eq 2 ] && echo "$out" | grep -q -- "--command is required"; report missing_command_is_usage_error $? "$status $out"
# Usage errors name the option at fault (issue 11.14).
out=$("$cli" exec --user "$alice" --orgg "$acme" -c "SELECT 1" 2>&1); status=$?
[ $status -eq 2 ] && echo "$out" | grep -q -- "--orgg"; report unknown_option_named $? "$status $out"
out=$("$cli" invite --user "$alice" --org "$acme" --email x@acme.example --role support --ttl-hours 9999 2>&1); status=$?
[ $status -eq 2 ] && echo "$out" | grep -q -- "^--ttl-hours"; report out_of_range_option_named $? "$status $out"
out=$("$cli" audit --fail-on sometimes 2>&1); status=$?
[ $status -eq 2 ] && echo "$out" | grep -q -- "^--fail-on"; report bad_choice_option_named $? "$status $out"
out=$("$cli" token mint --user "$alice" --org nope 2>&1); status=$?
[ $status -eq 2 ] && echo "$out" | grep -q -- "^--org"; report mint_bad_uuid_named $? "$status $out"
out=$(TENANCY_KEYRING=/nonexistent "$cli" exec --user "$alice" --org "$acme" -c "SELECT 1" 2>&1); status=$?
[ $status -eq 2 ] && echo "$out" | grep -q "could not access keyring"; report missing_keyring_is_config_error $? "$status $out"
out=$("$cli" exec --conninfo "host=127.0.0.1 port=1 dbname=x connect_timeout=2" --user "$alice" --org "$acme" -c "SELECT 1" 2>&1); status=$?
[ $status -eq 5 ]; report unreachable_database_exit_5 $? "$status $out"
out=$("$cli" exec --help 2>&1); echo "$out" | grep -q -- "--org"; report help_lists_options $? "$out"

out=$("$cli" exec --conninfo "dbname=$db" --user "$alice" --org "$acme" -c "SELECT 1" 2>&1); status=$?
[ $status -eq 2 ] && echo "$out" | grep -q "a superuser or BYPASSRLS role"; report superuser_app_role_refused $? "$status $out"

# Organization management commands.
out=$("$cli" roles create --user "$alice" --org "$acme" --code support --name Support -p tickets.read 2>&1)
report roles_create $? "$out"
out=$("$cli" roles --user "$alice" --org "$acme" 2>&1); echo "$out" | grep -q "^support"; report roles_list $? "$out"
dana=$("$cli" user add --code dana --email dana@acme.example)
token=$("$cli" invite --user "$alice" --org "$acme" --email dana@acme.example --role support 2>/dev/null)
echo "$token" | grep -qE '^tinv_[A-Za-z0-9_-]{43}$'; report invite_prints_token $? "$token"
out=$("$cli" accept --user "$bob" --token "$token" 2>&1); status=$?
[ $status -eq 4 ] && echo "$out" | grep -q "not valid"; report accept_not_yours_refused $? "$status $out"
out=$("$cli" accept --user "$dana" --token "$token" 2>&1); [ "$out" = "$acme" ]; report accept $? "$out"
out=$("$cli" members --user "$alice" --org "$acme" 2>&1); echo "$out" | grep -q "support.dana"; report members_list $? "$out"
out=$("$cli" members set-role --user "$dana" --org "$acme" --member "$alice" --role support 2>&1); status=$?
[ $status -eq 3 ]; report members_set_role_escalation_refused $? "$status $out"
out=$("$cli" invitations --user "$alice" --org "$acme" 2>&1); echo "$out" | grep -q "accepted" && ! echo "$out" | grep -q tinv_
report invitations_list_without_tokens $? "$out"
out=$("$cli" transfer --user "$alice" --org "$acme" --to "$dana" --my-role support 2>&1); report transfer $? "$out"
out=$("$cli" members leave --user "$alice" --org "$acme" 2>&1); report members_leave $? "$out"
out=$("$cli" members leave --user "$dana" --org "$acme" 2>&1); status=$?
[ $status -eq 1 ] && echo "$out" | grep -q "at least one owner"; report last_owner_cannot_leave $? "$status $out"

out=$("$cli" demo 2>&1); status=$?
[ $status -eq 0 ] && echo "$out" | grep -q "Printer on fire" && ! echo "$out" | grep -A4 "alice, in Acme" | grep -q "Secret merger" \
  && echo "$out" | grep -q "NotAMember"
report demo $? "$out"

# No token ever reached the server log or the statistics.
out=$(sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%eyJ%' AND pid <> pg_backend_pid()")
[ "$out" = "0" ]; report no_token_in_pg_stat_activity $? "$out"
dropdb "$db"
