# k_audit_cli.sh: `tenancy audit` as a deployment gate, and attacks that need a
# new connection. Sourced by run.sh; each function fails by returning non-zero
# with the reason on its last line.

audit_cli() { # DATABASE ARGS...: runs tenancy audit as the superuser
  local database=$1; shift
  "$TENANCY_CLI" audit --admin-conninfo "dbname=$database user=$admin_user" --app-role sec_app --color never "$@"
}

# The misconfigured database: every one of its six mistakes, by rule, and exit 6.
k01_misconfigured_fails_the_gate() {
  local out status
  out=$(audit_cli "$bad_db" --json); status=$?
  [ "$status" -eq 6 ] || { echo "exit status $status, expected 6"; return 1; }
  for expected in "T203 app.invoices" "T103 app.invoices" "T401 app.all_tickets" "T204 app.accounts" \
                  "T105 app.events_2025" "T301 everyone_reads ON app.tickets" "T404 app.ticket_titles()"; do
    rule=${expected%% *} object=${expected#* }
    jq -e --arg r "$rule" --arg o "$object" '.findings | any(.rule == $r and .object == $o)' <<<"$out" >/dev/null ||
      { echo "missing $rule on $object"; return 1; }
  done
}

# The clean database passes a gate at "high": no critical or high finding.
k02_clean_passes_the_gate() {
  local out status
  out=$(audit_cli "$db" --fail-on high); status=$?
  [ "$status" -eq 0 ] || { echo "$out" | grep -E '^(CRITICAL|HIGH)' | head -3; echo "exit status $status"; return 1; }
  grep -q 'critical, 0 high' <<<"$out" && grep -q '^[0-9]* findings*: 0 critical' <<<"$out" ||
    { echo "unexpected summary: $(tail -1 <<<"$out")"; return 1; }
}

# The probe will not run code the application role controls with superuser
# rights: on the misconfigured database sec_app owns app.invoices.
k03_probe_refuses_app_owned_objects() {
  local out
  out=$(audit_cli "$bad_db" --probe --json --fail-on none) || { echo "audit failed to run"; return 1; }
  jq -e '.findings | any(.rule == "P000" and .severity == "high" and (.detail | test("app\\.invoices")))' \
    <<<"$out" >/dev/null || { echo "the probe did not refuse"; return 1; }
  ! jq -e '.findings | any(.rule == "P001" or .rule == "P002" or .rule == "P999")' <<<"$out" >/dev/null ||
    { echo "the probe ran anyway"; return 1; }
}

# With that ownership fixed (and the table opened up instead), the probe proves
# every remaining leak by behaviour.
k03b_probe_sees_the_leaks() {
  local out
  psql_admin -d "$bad_db" -c "ALTER TABLE app.invoices OWNER TO sec_owner" \
    -c "GRANT SELECT, INSERT, UPDATE, DELETE ON app.invoices TO sec_app" \
    -c "ALTER TABLE app.invoices DISABLE ROW LEVEL SECURITY" >/dev/null || { echo "could not change the fixture"; return 1; }
  out=$(audit_cli "$bad_db" --probe --json --fail-on none) || { echo "probe failed to run"; return 1; }
  for expected in "P001 app.all_tickets" "P002 app.all_tickets" "P001 app.events_2025" "P002 app.events_2025" \
                  "P001 app.invoices" "P002 app.invoices" "P003 app.invoices" "P004 app.invoices"; do
    rule=${expected%% *} object=${expected#* }
    jq -e --arg r "$rule" --arg o "$object" '.findings | any(.rule == $r and .object == $o)' <<<"$out" >/dev/null ||
      { echo "probe did not report $rule on $object"; return 1; }
  done
  ! jq -e '.findings | any(.rule == "P011" or .rule == "P000")' <<<"$out" >/dev/null ||
    { echo "a probe step failed: $(jq -c '[.findings[] | select(.rule == "P011" or .rule == "P000")]' <<<"$out")"; return 1; }
}

# ... and finds nothing on the clean one, after seeding every tenant table.
k04_probe_clean() {
  local out
  out=$(audit_cli "$db" --probe --json --fail-on none) || { echo "probe failed to run"; return 1; }
  jq -e '[.findings[] | select(.severity == "critical" or .severity == "high")] | length == 0' <<<"$out" >/dev/null ||
    { echo "probe found problems on the clean database"; return 1; }
  jq -e '.findings | any(.rule == "P999" and (.detail | test("synthetic rows in [1-9]")))' <<<"$out" >/dev/null ||
    { echo "probe seeded no table"; return 1; }
}

# Machine-readable output: counts agree with the findings; a gate at "critical" exits 6 too.
k05_json_and_exit_codes() {
  local out status
  out=$(audit_cli "$bad_db" --json --fail-on critical); status=$?
  [ "$status" -eq 6 ] || { echo "exit status $status, expected 6"; return 1; }
  jq -e '.summary.critical == ([.findings[] | select(.severity == "critical")] | length) and .failed == true' \
    <<<"$out" >/dev/null || { echo "summary does not match the findings"; return 1; }
  audit_cli "$bad_db" --fail-on bogus >/dev/null 2>&1; status=$?
  [ "$status" -eq 2 ] || { echo "--fail-on bogus exited $status, expected 2"; return 1; }
}

# The application role cannot run the audit or the probe (it would learn the schema's weak spots).
k06_audit_needs_privileges() {
  local status
  "$TENANCY_CLI" audit --admin-conninfo "dbname=$db user=sec_app password=sec_app" --probe --app-role sec_app \
    >/dev/null 2>&1; status=$?
  [ "$status" -eq 3 ] || { echo "sec_app running the audit exited $status, expected 3 (denied)"; return 1; }
}

# PGOPTIONS cannot smuggle a context into the startup packet, even a valid
# token, and the refusal does not echo it.
f03d_pgoptions() {
  local out token
  token=$("$TENANCY_CLI" token mint --keyring "$TENANCY_KEYRING" --ttl 600 --user "$alice" --org "$org_a")
  if out=$(PGOPTIONS="-c tenancy.context=$token" PGPASSWORD=sec_app psql -X -U sec_app -d "$db" -Atc 'SELECT 1' 2>&1); then
    echo "connection with -c tenancy.context was accepted"; return 1
  fi
  grep -q 'tenancy.context can only be set by tenancy.enter' <<<"$out" || { echo "unexpected: $out"; return 1; }
  ! grep -qF "${token##*.}" <<<"$out" || { echo "the refusal echoes the token"; return 1; }
}

shell_case K01 "misconfigured database: tenancy audit reports all six mistakes and exits 6" k01_misconfigured_fails_the_gate
shell_case K02 "clean database: tenancy audit --fail-on high exits 0" k02_clean_passes_the_gate
shell_case K03 "tenancy.probe() refuses while the application role owns objects" k03_probe_refuses_app_owned_objects
shell_case K03b "tenancy.probe() proves the misconfigured database's leaks" k03b_probe_sees_the_leaks
shell_case K04 "tenancy.probe() finds nothing on the clean database" k04_probe_clean
shell_case K05 "--json summary and --fail-on exit codes" k05_json_and_exit_codes
shell_case K06 "the application role cannot run the audit or the probe" k06_audit_needs_privileges
shell_case F03d "PGOPTIONS -c tenancy.context=<valid token> refuses the connection" f03d_pgoptions
