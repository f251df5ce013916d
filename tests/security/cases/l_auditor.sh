# l_auditor.sh: `tenancy audit` run by a non-superuser login granted
# tenancy_auditor, the one grant docs/security.md asks for (issue 14).

l14_auditor_role_runs_the_gate() {
  local out status
  psql_admin -d postgres -c "DROP ROLE IF EXISTS sec_dba" \
    -c "CREATE ROLE sec_dba LOGIN PASSWORD 'sec_dba' NOSUPERUSER" -c "GRANT tenancy_auditor TO sec_dba" >/dev/null ||
    { echo "could not create sec_dba"; return 1; }
  out=$(PGPASSWORD=sec_dba "$TENANCY_CLI" audit --admin-conninfo "dbname=$bad_db user=sec_dba" --app-role sec_app \
        --color never --json 2>&1); status=$?
  if [ "$status" -ne 6 ]; then echo "$out" | tail -3; echo "misconfigured: exit status $status, expected 6"; psql_admin -d postgres -c "DROP ROLE sec_dba" >/dev/null; return 1; fi
  # (K03b has given app.invoices to sec_owner by now, so no T203 here)
  for expected in "T401 app.all_tickets" "T204 app.accounts" "T301 everyone_reads ON app.tickets" \
                  "T404 app.ticket_titles()" "T501 shared_preload_libraries"; do
    rule=${expected%% *} object=${expected#* }
    [ "$rule" = T501 ] && continue # preloaded here: must not be reported, checked below
    jq -e --arg r "$rule" --arg o "$object" '.findings | any(.rule == $r and .object == $o)' <<<"$out" >/dev/null ||
      { echo "missing $rule on $object"; psql_admin -d postgres -c "DROP ROLE sec_dba" >/dev/null; return 1; }
  done
  # It reads shared_preload_libraries (hidden from ordinary roles): no false T501.
  ! jq -e '.findings | any(.rule == "T501")' <<<"$out" >/dev/null || { echo "false T501"; psql_admin -d postgres -c "DROP ROLE sec_dba" >/dev/null; return 1; }
  out=$(PGPASSWORD=sec_dba "$TENANCY_CLI" audit --admin-conninfo "dbname=$db user=sec_dba" --app-role sec_app \
        --color never --fail-on high 2>&1); status=$?
  psql_admin -d postgres -c "DROP ROLE sec_dba" >/dev/null
  [ "$status" -eq 0 ] || { echo "$out" | tail -3; echo "clean: exit status $status, expected 0"; return 1; }
}

shell_case L14 "a non-superuser login granted tenancy_auditor runs tenancy audit (misconfigured: exit 6; clean: exit 0)" \
  l14_auditor_role_runs_the_gate
