# attacks.sh: every attack of the seed (and its invitation table) against the
# running service, as HTTP requests, with the status each must get. Sourced by
# run.sh after seed_flow.sh. Two organizations: victim's "Initech" and
# mallory's "Evil Corp"; mallory is a real, signed-in user.

victim=$(new_user "victim-$RANDOM"); mallory=$(new_user "mallory-$RANDOM")
tv=$(bearer "$victim"); tm=$(bearer "$mallory")
call POST /organizations "$tv" - '{"name":"Initech"}'; initech=$(jq -r .id <<<"$body")
call POST /organizations "$tm" - '{"name":"Evil Corp"}'; evil=$(jq -r .id <<<"$body")
call POST /tickets "$tm" "$evil" '{"title":"mallory 1"}'; evil_t=$(jq -r .id <<<"$body")
call POST /tickets "$tv" "$initech" '{"title":"initech secret","body":"payroll"}'; initech_t=$(jq -r .id <<<"$body")
forge() { "$python" "$here/forge_bearer.py" "$@"; }

echo "-- authentication (401)"
call GET /tickets - "$initech"; expect attack_no_bearer 401 '.error == "unauthenticated"'
call GET /tickets "not-a-jwt" "$initech"; expect attack_malformed_bearer 401
call GET /tickets "$(forge alter-sub "$tm" "$victim")" "$initech"; expect attack_altered_sub 401
call GET /tickets "$(forge alg-none "$tm")" "$evil"; expect attack_alg_none 401
call GET /tickets "$(forge own-key "$tm")" "$evil"; expect attack_forged_signature 401
call GET /tickets "$(forge strip-sig "$tm")" "$evil"; expect attack_stripped_signature 401
call GET /tickets "$(forge context-typ "$tm")" "$evil"; expect attack_context_token_type 401
call GET /tickets "$(bearer "$mallory" --iat-offset -600 --ttl 60)" "$evil"; expect attack_expired_bearer 401
call GET /tickets "$(bearer "$mallory" --aud other-api)" "$evil"; expect attack_wrong_audience 401
call GET /tickets "$(bearer "$mallory" --iss https://evil.example)" "$evil"; expect attack_wrong_issuer 401
context=$("$TENANCY_CLI" token mint --keyring "$TENANCY_KEYRING" --user "$mallory" --org "$initech" 2>/dev/null)
call GET /tickets "$context" "$initech"; expect attack_context_token_as_bearer 401
call POST /admin/users - - '{"code":"sneaky","email":"sneaky@x.example"}'; expect attack_admin_route_without_key 401
status=$(curl -sS -o "$tw/body" -w '%{http_code}' -X POST "$base/admin/users" -H 'X-Admin-Key: guess' -d '{}'); body=$(cat "$tw/body")
expect attack_admin_route_wrong_key 401

echo "-- the organization header (400)"
call GET /tickets "$tm" -; expect attack_missing_org_header 400 '.error == "missing_organization"'
call GET /tickets "$tm" "acme"; expect attack_malformed_org_header 400 '.error == "invalid_organization"'
call GET /tickets "$tm" "$evil' OR 1=1 --"; expect attack_sql_in_org_header 400
status=$(curl -sS -o "$tw/body" -w '%{http_code}' "$base/tickets" -H "Authorization: Bearer $tm" \
  -H "X-Organization-Id: $evil" -H "X-Organization-Id: $initech"); body=$(cat "$tw/body")
expect attack_two_org_headers 400

echo "-- organization id spoofing (403, one body for 'not a member' and 'no such organization')"
call GET /tickets "$tm" "$initech"; expect attack_spoof_org_header 403 '.error == "not_a_member"'; spoof_body=$body
call GET /tickets "$tm" "$(cat /proc/sys/kernel/random/uuid)"; expect attack_unknown_org 403 '.error == "not_a_member"'
[ "$body" = "$spoof_body" ] && echo "ok tickets:attack_unknown_org_same_body" | tee -a "$TENANCY_WORK/results" ||
  echo "not ok tickets:attack_unknown_org_same_body" | tee -a "$TENANCY_WORK/results"
call POST /tickets "$tm" "$initech" '{"title":"planted"}'; expect attack_spoof_write 403
call POST /invitations "$tm" "$initech" '{"email":"m2@evil.example","role":"owner"}'; expect attack_spoof_invite 403
call GET /members "$tm" "$initech"; expect attack_spoof_members 403
call GET /audit-log "$tm" "$initech"; expect attack_spoof_audit_log 403

echo "-- IDOR: another organization's ticket id (404, same as a ticket that never existed)"
call GET "/tickets/$initech_t" "$tm" "$evil"; expect attack_idor_get 404; idor_body=$body
call GET "/tickets/999999999" "$tm" "$evil"; expect attack_idor_nonexistent 404
[ "$body" = "$idor_body" ] && echo "ok tickets:attack_idor_same_body" | tee -a "$TENANCY_WORK/results" ||
  echo "not ok tickets:attack_idor_same_body" | tee -a "$TENANCY_WORK/results"
call PATCH "/tickets/$initech_t" "$tm" "$evil" '{"title":"pwned"}'; expect attack_idor_update 404
call POST "/tickets/$initech_t/close" "$tm" "$evil"; expect attack_idor_close 404
call POST "/tickets/$initech_t/assign" "$tm" "$evil" "{\"assignee_id\":\"$mallory\"}"; expect attack_idor_assign 404
call DELETE "/tickets/$initech_t" "$tm" "$evil"; expect attack_idor_delete 404
call GET "/tickets/$initech_t" "$tv" "$initech"
expect attack_idor_left_ticket_untouched 200 '.title == "initech secret" and .status == "open" and .assignee_id == null'
call GET "/tickets/0x10" "$tm" "$evil"; expect attack_idor_odd_id 404

echo "-- missing filter: handlers never filter, the database does"
call GET "/tickets?limit=100" "$tm" "$evil"; expect attack_list_only_own_org 200 "[.tickets[].id] == [$evil_t]"
psql -X -qAt -d "$TICKETS_DB" -c "SET ROLE tickets_app; SELECT count(*) FROM tickets_app.tickets" >/dev/null 2>&1 &&
  echo "not ok tickets:attack_no_context_no_rows" | tee -a "$TENANCY_WORK/results" ||
  echo "ok tickets:attack_no_context_no_rows" | tee -a "$TENANCY_WORK/results"
call POST "/tickets/$evil_t/assign" "$tm" "$evil" "{\"assignee_id\":\"$victim\"}"
expect attack_assign_to_non_member 400 '.error == "assignee_not_member"'; assign_body=$body
call POST "/tickets/$evil_t/assign" "$tm" "$evil" "{\"assignee_id\":\"$(cat /proc/sys/kernel/random/uuid)\"}"
expect attack_assign_to_nobody 400
[ "$body" = "$assign_body" ] && echo "ok tickets:attack_assign_same_body" | tee -a "$TENANCY_WORK/results" ||
  echo "not ok tickets:attack_assign_same_body" | tee -a "$TENANCY_WORK/results"
call DELETE "/members/$victim" "$tm" "$evil"; expect attack_remove_foreign_member 404

echo "-- invitations: expired, reused, someone else's, escalating, guessed"
call POST /roles "$tv" "$initech" '{"code":"viewer","name":"Viewer","permissions":["tickets.read"]}'
call POST /roles "$tv" "$initech" '{"code":"inviter","name":"Inviter","permissions":["tickets.read","members.invite","members.read"]}'
eve=$(new_user "eve-$RANDOM"); te=$(bearer "$eve")
eve_email=$(psql -X -qAt -d "$TICKETS_DB" -c "SELECT email FROM tenancy.users WHERE id = '$eve'")
mallory_email=$(psql -X -qAt -d "$TICKETS_DB" -c "SELECT email FROM tenancy.users WHERE id = '$mallory'")
call POST /invitations "$tv" "$initech" "{\"email\":\"$eve_email\",\"role\":\"viewer\"}"; eve_invite=$(jq -r .token <<<"$body")
[[ "$eve_invite" =~ ^tinv_[A-Za-z0-9_-]{43}$ ]] && echo "ok tickets:attack_invitation_token_256_bits" | tee -a "$TENANCY_WORK/results" ||
  echo "not ok tickets:attack_invitation_token_256_bits" | tee -a "$TENANCY_WORK/results"
call POST /invitations/accept "$tm" - "{\"token\":\"$eve_invite\"}"; expect attack_invitation_someone_elses 400 '.error == "invitation_invalid"'
call POST /invitations/accept "$te" - "{\"token\":\"tinv_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')\"}"
expect attack_invitation_guessed 400 '.error == "invitation_invalid"'
call POST /invitations/accept "$te" - "{\"token\":\"$eve_invite\",\"role\":\"owner\"}"
expect attack_invitation_role_in_body_ignored 200
call GET /me/organizations "$te" -; expect attack_invitation_role_from_db 200 "[.organizations[] | select(.id == \"$initech\") | .role] == [\"viewer\"]"
call POST /invitations/accept "$te" - "{\"token\":\"$eve_invite\"}"; expect attack_invitation_reused 400 '.error == "invitation_invalid"'
call POST /invitations "$tv" "$initech" "{\"email\":\"$mallory_email\",\"role\":\"viewer\"}"; late=$(jq -r .token <<<"$body")
# Time passes (as the test's superuser: the clock, not the attacker).
psql -X -q -d "$TICKETS_DB" -c "UPDATE tenancy.invitations SET created_at = now() - interval '8 days',
  expires_at = now() - interval '1 day' WHERE organization_id = '$initech' AND email = '$mallory_email'" >/dev/null
call POST /invitations/accept "$tm" - "{\"token\":\"$late\"}"; expect attack_invitation_expired 400 '.error == "invitation_invalid"'
# An inviter who may invite, but not grant the owner role or tickets.write.
call PUT "/members/$eve/role" "$tv" "$initech" '{"role":"inviter"}'
call POST /invitations "$te" "$initech" "{\"email\":\"$mallory_email\",\"role\":\"owner\"}"; expect attack_invitation_escalate_to_owner 403
call POST /roles "$tv" "$initech" '{"code":"writer","name":"Writer","permissions":["tickets.read","tickets.write"]}'
call POST /invitations "$te" "$initech" "{\"email\":\"$mallory_email\",\"role\":\"writer\"}"; expect attack_invitation_escalate_beyond_own 403
call POST /invitations "$te" "$initech" "{\"email\":\"$mallory_email\",\"role\":\"viewer\"}"; demoted=$(jq -r .token <<<"$body")
call PUT "/members/$eve/role" "$tv" "$initech" '{"role":"viewer"}'   # the inviter loses members.invite
call POST /invitations/accept "$tm" - "{\"token\":\"$demoted\"}"; expect attack_invitation_inviter_demoted 400 '.error == "invitation_invalid"'
call POST /roles "$te" "$initech" '{"code":"boss","name":"Boss","permissions":["*"]}'; expect attack_create_role_beyond_own 403
call POST /tickets "$te" "$initech" '{"title":"viewer writes"}'; expect attack_viewer_cannot_write 403 '.error == "forbidden"'
call PATCH "/tickets/$initech_t" "$te" "$initech" '{"title":"viewer edits"}'; expect attack_viewer_cannot_update 403
call GET "/tickets/$initech_t" "$te" "$initech"; expect viewer_can_read 200 '.title == "initech secret"'
call PUT "/members/$eve/role" "$te" "$initech" '{"role":"owner"}'; expect attack_self_promote 403

echo "-- malformed requests"
call POST /tickets "$tm" "$evil" '{"title":'; expect attack_bad_json 400 '.error == "invalid_json"'
call POST /tickets "$tm" "$evil" '["title"]'; expect attack_json_not_object 400
call POST /tickets "$tm" "$evil" '{"title":42}'; expect attack_wrong_type 400
call POST /tickets "$tm" "$evil" "{\"title\":\"$(head -c 300 /dev/zero | tr '\0' a)\"}"; expect attack_title_too_long 400
call POST /tickets "$tm" "$evil" "{\"title\":\"big\",\"body\":\"$(head -c 70000 /dev/zero | tr '\0' a)\"}"; expect attack_body_too_large 413
call GET /nope "$tm" "$evil"; expect attack_unknown_route 404 '.error == "not_found"'
call GET "/nope%0A2000-01-01T00:00:00Z%20GET%20/forged-log-line%20200" "$tm" "$evil"; expect attack_log_injection_path 404
call POST /invitations "$tv" "$initech" '{"email":"x@y.example","role":"viewer","ttl_hours":"forever"}'; expect attack_ttl_not_a_number 400
call GET "/tickets?limit=100000" "$tm" "$evil"; expect attack_limit_out_of_range 400
call POST /tickets "$tm" "$evil" '{"title":"x","assignee_id":"not-a-uuid"}'; expect attack_assignee_not_uuid 400

echo "-- a database failure is a 503 that names nothing inside"
psql -X -q -d "$TICKETS_DB" -c "ALTER ROLE tickets_app NOLOGIN" \
  -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'tickets_app'" >/dev/null
call GET /tickets "$tm" "$evil"
expect attack_database_down_503 503 '(.message | test("tickets_app|password|FATAL|SELECT|tenancy|dbname"; "i") | not)'
psql -X -q -d "$TICKETS_DB" -c "ALTER ROLE tickets_app LOGIN" >/dev/null
call GET /tickets "$tm" "$evil"; expect attack_database_back 200
