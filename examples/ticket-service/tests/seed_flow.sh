# seed_flow.sh: the seed's whole story over HTTP: two users, two organizations,
# custom roles, an invitation, switching organizations, role changes, tickets
# (create, page, filter, update, assign, close, delete), leaving, the audit log.
# Sourced by run.sh after start_service.

alice=$(new_user "alice-$RANDOM"); bob=$(new_user "bob-$RANDOM")
ta=$(bearer "$alice"); tb=$(bearer "$bob")
alice_code=$(psql -X -qAt -d "$TICKETS_DB" -c "SELECT code FROM tenancy.users WHERE id = '$alice'")
status=$(curl -sS -o "$tw/body" -w '%{http_code}' -X POST "$base/admin/users" -H "X-Admin-Key: $(admin_key)" \
  -d "{\"code\":\"$alice_code\",\"email\":\"other-$RANDOM@tickets.example\"}"); body=$(cat "$tw/body")
expect flow_register_taken_conflict 409

call POST /organizations "$ta" - '{"name":"Acme"}'; expect flow_create_org_acme 201 '.id | test("^[0-9a-f-]{36}$")'
acme=$(jq -r .id <<<"$body")
call POST /organizations "$tb" - '{"name":"Globex"}'; expect flow_create_org_globex 201
globex=$(jq -r .id <<<"$body")
call GET /me/organizations "$ta" -; expect flow_switcher_owner 200 '.organizations | length == 1 and .[0].role == "owner"'

call POST /roles "$ta" "$acme" '{"code":"support","name":"Support","permissions":["tickets.read","tickets.write"]}'
expect flow_role_create 201
call POST /roles "$ta" "$acme" '{"code":"triage","name":"Triage","permissions":["tickets.read","tickets.write","tickets.assign"]}'
expect flow_role_create_triage 201
call POST /roles "$ta" "$acme" '{"code":"support","name":"Again","permissions":[]}'; expect flow_role_duplicate_conflict 409
call PATCH /roles/support "$ta" "$acme" '{"name":"Customer support"}'; expect flow_role_update 204
call GET /roles "$ta" "$acme"; expect flow_role_list 200 '[.roles[].code] | contains(["owner","support","triage"])'

call POST /tickets "$ta" "$acme" '{"title":"Printer on fire","body":"3rd floor"}'; expect flow_ticket_create 201 '.status == "open"'
acme_t1=$(jq -r .id <<<"$body")
call POST /tickets "$ta" "$acme" '{"title":"VPN down"}'; acme_t2=$(jq -r .id <<<"$body")
call POST /tickets "$tb" "$globex" '{"title":"Globex: coffee machine"}'; expect flow_ticket_create_globex 201
globex_t1=$(jq -r .id <<<"$body")

bob_email=$(psql -X -qAt -d "$TICKETS_DB" -c "SELECT email FROM tenancy.users WHERE id = '$bob'")
call POST /invitations "$ta" "$acme" "{\"email\":\"$bob_email\",\"role\":\"support\",\"ttl_hours\":48}"
expect flow_invite 201 '.token | startswith("tinv_")'
invite=$(jq -r .token <<<"$body")
call GET /invitations "$ta" "$acme"; expect flow_invitation_list 200 "[.invitations[] | select(.email == \"$bob_email\" and .status == \"pending\")] | length == 1"
call POST /invitations/accept "$tb" - "{\"token\":\"$invite\"}"; expect flow_accept 200 ".organization_id == \"$acme\""

call GET /me/organizations "$tb" -; expect flow_switcher_two_orgs 200 '.organizations | length == 2'
call GET /tickets "$tb" "$acme"; expect flow_switch_to_acme 200 "[.tickets[].id] | sort == ([$acme_t1, $acme_t2] | sort)"
call GET /tickets "$tb" "$globex"; expect flow_switch_to_globex 200 "[.tickets[].id] == [$globex_t1]"

call POST "/tickets/$acme_t1/assign" "$tb" "$acme" "{\"assignee_id\":\"$alice\"}"; expect flow_assign_needs_permission 403
call PUT "/members/$bob/role" "$ta" "$acme" '{"role":"triage"}'; expect flow_change_role 204
call POST "/tickets/$acme_t1/assign" "$tb" "$acme" "{\"assignee_id\":\"$bob\"}"; expect flow_assign 200 ".assignee_id == \"$bob\""
call PATCH "/tickets/$acme_t1" "$tb" "$acme" '{"title":"Printer on fire (again)","status":"in_progress"}'
expect flow_update 200 '.title == "Printer on fire (again)" and .status == "in_progress"'
call POST "/tickets/$acme_t2/close" "$tb" "$acme"; expect flow_close 200 '.status == "closed"'
call GET "/tickets?status=closed" "$ta" "$acme"; expect flow_status_filter 200 "[.tickets[].id] == [$acme_t2]"
for n in 1 2 3 4; do call POST /tickets "$ta" "$acme" "{\"title\":\"page $n\"}"; done
call GET "/tickets?limit=4" "$ta" "$acme"; expect flow_page_1 200 '(.tickets | length == 4) and .next_after != null'
after=$(jq -r .next_after <<<"$body")
call GET "/tickets?limit=4&after=$after" "$ta" "$acme"; expect flow_page_2 200 '(.tickets | length == 2) and .next_after == null'
call GET "/tickets?status=bogus" "$ta" "$acme"; expect flow_bad_status_filter 400
call GET "/tickets/$acme_t1" "$ta" "$acme"; expect flow_get 200 ".id == $acme_t1"

call DELETE "/tickets/$acme_t2" "$tb" "$acme"; expect flow_delete_needs_permission 403
call DELETE "/tickets/$acme_t2" "$ta" "$acme"; expect flow_delete 204
call GET "/tickets/$acme_t2" "$ta" "$acme"; expect flow_deleted_is_gone 404
call GET /members "$ta" "$acme"; expect flow_members 200 '.members | length == 2'
call GET /members "$tb" "$acme"; expect flow_members_need_permission 403

call DELETE /roles/triage "$ta" "$acme"; expect flow_role_in_use_conflict 409
call DELETE "/roles/triage?reassign_to=support" "$ta" "$acme"; expect flow_role_delete_reassign 204
call GET /members "$ta" "$acme"; expect flow_reassigned 200 "[.members[] | select(.user_id == \"$bob\") | .role] == [\"support\"]"

carol=$(new_user "carol-$RANDOM"); tc=$(bearer "$carol")
carol_email=$(psql -X -qAt -d "$TICKETS_DB" -c "SELECT email FROM tenancy.users WHERE id = '$carol'")
call POST /invitations "$ta" "$acme" "{\"email\":\"$carol_email\",\"role\":\"support\"}"; carol_invite=$(jq -r .token <<<"$body")
call GET /invitations "$ta" "$acme"
carol_invitation=$(jq -r ".invitations[] | select(.email == \"$carol_email\") | .id" <<<"$body")
call DELETE "/invitations/$carol_invitation" "$ta" "$acme"; expect flow_revoke 204
call POST /invitations/accept "$tc" - "{\"token\":\"$carol_invite\"}"; expect flow_revoked_invitation_refused 400 '.error == "invitation_invalid"'
call POST /invitations "$ta" "$acme" "{\"email\":\"$carol_email\",\"role\":\"support\"}"; carol_invite=$(jq -r .token <<<"$body")
call POST /invitations/accept "$tc" - "{\"token\":\"$carol_invite\"}"; expect flow_accept_second 200
call DELETE "/members/$carol" "$ta" "$acme"; expect flow_remove_member 204
call GET /tickets "$tc" "$acme"; expect flow_removed_member_refused 403 '.error == "not_a_member"'

call POST /members/leave "$ta" "$acme"; expect flow_last_owner_cannot_leave 409
call POST /members/leave "$tb" "$acme"; expect flow_leave 204
call GET /tickets "$tb" "$acme"; expect flow_left_member_refused 403
call GET "/tickets/$acme_t1" "$ta" "$acme"; expect flow_leaving_unassigns 200 '.assignee_id == null'

call GET /audit-log "$ta" "$acme"
expect flow_audit_log 200 '[.entries[].action] | contains(["organization.created","role.created","invitation.created","invitation.accepted","member.role_changed","invitation.revoked","member.removed","member.left"])'
call GET /audit-log "$tb" "$globex"; expect flow_audit_log_own_org_only 200 '[.entries[].action] == ["organization.created"]'
