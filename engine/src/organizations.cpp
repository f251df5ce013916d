// organizations.cpp: see organizations.hpp.
#include "pg_tenancy/engine/organizations.hpp"

#include <nlohmann/json.hpp>

#include "pg_tenancy/engine/engine.hpp"

namespace pg_tenancy::engine {
namespace {

using json = nlohmann::json;

std::string JsonArray(const std::vector<std::string> &items) {
	return json(items).dump();
}

std::vector<std::string> ParseJsonArray(const std::string &text) {
	return json::parse(text).get<std::vector<std::string>>();
}

// Runs `sql` with `args` in `org`'s context and commits.
template <typename... Args>
pqxx::result InOrganization(Engine &engine, const Identity &who, const Uuid &org, const std::string &sql,
                            Args &&...args) {
	TenantTransaction tx = engine.Transaction(who, org);
	pqxx::result result = tx.ExecParams(sql, std::forward<Args>(args)...);
	tx.Commit();
	return result;
}

} // namespace

Uuid Organizations::CreateOrganization(const Identity &who, const std::string &name) {
	TenantTransaction tx = engine_.UserTransaction(who);
	pqxx::result r = tx.ExecParams("SELECT tenancy.create_organization($1)::pg_catalog.text", name);
	tx.Commit();
	return ParseUuid(r[0][0].as<std::string>(), "organization id");
}

std::vector<OrganizationSummary> Organizations::MyOrganizations(const Identity &who) {
	TenantTransaction tx = engine_.UserTransaction(who);
	pqxx::result r =
	    tx.Exec("SELECT organization_id::pg_catalog.text, name, role_code, role_name FROM tenancy.my_organizations()");
	tx.Commit();
	std::vector<OrganizationSummary> out;
	for (const auto &row : r)
		out.push_back({ParseUuid(row[0].as<std::string>(), "organization id"), row[1].as<std::string>(),
		               row[2].as<std::string>(), row[3].as<std::string>()});
	return out;
}

std::vector<RoleInfo> Organizations::ListRoles(const Identity &who, const Uuid &org) {
	std::vector<RoleInfo> roles;
	for (const auto &row : InOrganization(
	         engine_, who, org,
	         "SELECT code, name, permissions::pg_catalog.text, is_system, members FROM tenancy.list_roles()"))
		roles.push_back({row[0].as<std::string>(), row[1].as<std::string>(), ParseJsonArray(row[2].as<std::string>()),
		                 row[3].as<bool>(), row[4].as<std::int64_t>()});
	return roles;
}

void Organizations::CreateRole(const Identity &who, const Uuid &org, const std::string &code, const std::string &name,
                               const std::vector<std::string> &permissions) {
	InOrganization(engine_, who, org, "SELECT tenancy.create_role($1, $2, $3::pg_catalog.jsonb)", code, name,
	               JsonArray(permissions));
}

void Organizations::UpdateRole(const Identity &who, const Uuid &org, const std::string &code,
                               const std::optional<std::string> &name,
                               const std::optional<std::vector<std::string>> &permissions) {
	// libpqxx 6.4 binds a null as a null pointer.
	const char *name_arg = name ? name->c_str() : nullptr;
	std::string permissions_json = permissions ? JsonArray(*permissions) : std::string();
	const char *permissions_arg = permissions ? permissions_json.c_str() : nullptr;
	InOrganization(engine_, who, org, "SELECT tenancy.update_role($1, $2, $3::pg_catalog.jsonb)", code, name_arg,
	               permissions_arg);
}

void Organizations::DeleteRole(const Identity &who, const Uuid &org, const std::string &code,
                               const std::optional<std::string> &reassign_to) {
	const char *reassign_arg = reassign_to ? reassign_to->c_str() : nullptr;
	InOrganization(engine_, who, org, "SELECT tenancy.delete_role($1, $2)", code, reassign_arg);
}

std::vector<MemberInfo> Organizations::ListMembers(const Identity &who, const Uuid &org) {
	std::vector<MemberInfo> members;
	for (const auto &row : InOrganization(
	         engine_, who, org,
	         "SELECT user_id::pg_catalog.text, code, email, role_code, is_owner FROM tenancy.list_members()"))
		members.push_back({ParseUuid(row[0].as<std::string>(), "user id"), row[1].as<std::string>(),
		                   row[2].as<std::string>(), row[3].as<std::string>(), row[4].as<bool>()});
	return members;
}

void Organizations::SetMemberRole(const Identity &who, const Uuid &org, const Uuid &member,
                                  const std::string &role_code) {
	InOrganization(engine_, who, org, "SELECT tenancy.set_member_role($1::pg_catalog.uuid, $2)", ToString(member),
	               role_code);
}

void Organizations::RemoveMember(const Identity &who, const Uuid &org, const Uuid &member) {
	InOrganization(engine_, who, org, "SELECT tenancy.remove_member($1::pg_catalog.uuid)", ToString(member));
}

void Organizations::LeaveOrganization(const Identity &who, const Uuid &org) {
	InOrganization(engine_, who, org, "SELECT tenancy.leave_organization()");
}

void Organizations::TransferOwnership(const Identity &who, const Uuid &org, const Uuid &new_owner,
                                      const std::string &my_new_role) {
	InOrganization(engine_, who, org, "SELECT tenancy.transfer_ownership($1::pg_catalog.uuid, $2)", ToString(new_owner),
	               my_new_role);
}

std::string Organizations::Invite(const Identity &who, const Uuid &org, const std::string &email,
                                  const std::string &role_code, std::chrono::seconds ttl) {
	return InOrganization(engine_, who, org, "SELECT tenancy.invite($1, $2, pg_catalog.make_interval(secs => $3))",
	                      email, role_code, static_cast<long long>(ttl.count()))[0][0]
	    .as<std::string>();
}

Uuid Organizations::AcceptInvitation(const Identity &who, const std::string &token) {
	TenantTransaction tx = engine_.UserTransaction(who);
	pqxx::result result = tx.ExecParams("SELECT tenancy.accept_invitation($1)::pg_catalog.text", token);
	tx.Commit();
	return ParseUuid(result[0][0].as<std::string>(), "organization id");
}

void Organizations::RevokeInvitation(const Identity &who, const Uuid &org, const Uuid &invitation) {
	InOrganization(engine_, who, org, "SELECT tenancy.revoke_invitation($1::pg_catalog.uuid)", ToString(invitation));
}

std::vector<InvitationInfo> Organizations::ListInvitations(const Identity &who, const Uuid &org) {
	std::vector<InvitationInfo> invitations;
	for (const auto &row :
	     InOrganization(engine_, who, org,
	                    "SELECT id::pg_catalog.text, email, role_code, status, expires_at::pg_catalog.text "
	                    "FROM tenancy.list_invitations()"))
		invitations.push_back({ParseUuid(row[0].as<std::string>(), "invitation id"), row[1].as<std::string>(),
		                       row[2].as<std::string>(), row[3].as<std::string>(), row[4].as<std::string>()});
	return invitations;
}

} // namespace pg_tenancy::engine
