// organization_flows.cpp: the roles, members and invitations calls of Engine.
// Each is one tenant transaction around one function of the extension, which
// does the checking; the engine only types the arguments and the results.
#include <nlohmann/json.hpp>

#include "pg_tenancy/engine/engine.hpp"

namespace tenancy {
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

std::vector<RoleInfo> Engine::ListRoles(const Identity &who, const Uuid &org) {
	std::vector<RoleInfo> roles;
	for (const auto &row : InOrganization(
	         *this, who, org, "SELECT code, name, permissions::text, is_system, members FROM tenancy.list_roles()"))
		roles.push_back({row[0].as<std::string>(), row[1].as<std::string>(), ParseJsonArray(row[2].as<std::string>()),
		                 row[3].as<bool>(), row[4].as<std::int64_t>()});
	return roles;
}

void Engine::CreateRole(const Identity &who, const Uuid &org, const std::string &code, const std::string &name,
                        const std::vector<std::string> &permissions) {
	InOrganization(*this, who, org, "SELECT tenancy.create_role($1, $2, $3::jsonb)", code, name,
	               JsonArray(permissions));
}

void Engine::UpdateRole(const Identity &who, const Uuid &org, const std::string &code,
                        const std::optional<std::string> &name,
                        const std::optional<std::vector<std::string>> &permissions) {
	// libpqxx 6.4 binds a null as a null pointer.
	const char *name_arg = name ? name->c_str() : nullptr;
	std::string permissions_json = permissions ? JsonArray(*permissions) : std::string();
	const char *permissions_arg = permissions ? permissions_json.c_str() : nullptr;
	InOrganization(*this, who, org, "SELECT tenancy.update_role($1, $2, $3::jsonb)", code, name_arg, permissions_arg);
}

void Engine::DeleteRole(const Identity &who, const Uuid &org, const std::string &code,
                        const std::optional<std::string> &reassign_to) {
	const char *reassign_arg = reassign_to ? reassign_to->c_str() : nullptr;
	InOrganization(*this, who, org, "SELECT tenancy.delete_role($1, $2)", code, reassign_arg);
}

std::vector<MemberInfo> Engine::ListMembers(const Identity &who, const Uuid &org) {
	std::vector<MemberInfo> members;
	for (const auto &row : InOrganization(
	         *this, who, org, "SELECT user_id::text, code, email, role_code, is_owner FROM tenancy.list_members()"))
		members.push_back({ParseUuid(row[0].as<std::string>(), "user id"), row[1].as<std::string>(),
		                   row[2].as<std::string>(), row[3].as<std::string>(), row[4].as<bool>()});
	return members;
}

void Engine::SetMemberRole(const Identity &who, const Uuid &org, const Uuid &member, const std::string &role_code) {
	InOrganization(*this, who, org, "SELECT tenancy.set_member_role($1::uuid, $2)", ToString(member), role_code);
}

void Engine::RemoveMember(const Identity &who, const Uuid &org, const Uuid &member) {
	InOrganization(*this, who, org, "SELECT tenancy.remove_member($1::uuid)", ToString(member));
}

void Engine::LeaveOrganization(const Identity &who, const Uuid &org) {
	InOrganization(*this, who, org, "SELECT tenancy.leave_organization()");
}

void Engine::TransferOwnership(const Identity &who, const Uuid &org, const Uuid &new_owner,
                               const std::string &my_new_role) {
	InOrganization(*this, who, org, "SELECT tenancy.transfer_ownership($1::uuid, $2)", ToString(new_owner),
	               my_new_role);
}

std::string Engine::Invite(const Identity &who, const Uuid &org, const std::string &email, const std::string &role_code,
                           std::chrono::seconds ttl) {
	return InOrganization(*this, who, org, "SELECT tenancy.invite($1, $2, make_interval(secs => $3))", email, role_code,
	                      static_cast<long long>(ttl.count()))[0][0]
	    .as<std::string>();
}

Uuid Engine::AcceptInvitation(const Identity &who, const std::string &token) {
	TenantTransaction tx = UserTransaction(who);
	pqxx::result result = tx.ExecParams("SELECT tenancy.accept_invitation($1)::text", token);
	tx.Commit();
	return ParseUuid(result[0][0].as<std::string>(), "organization id");
}

void Engine::RevokeInvitation(const Identity &who, const Uuid &org, const Uuid &invitation) {
	InOrganization(*this, who, org, "SELECT tenancy.revoke_invitation($1::uuid)", ToString(invitation));
}

std::vector<InvitationInfo> Engine::ListInvitations(const Identity &who, const Uuid &org) {
	std::vector<InvitationInfo> invitations;
	for (const auto &row : InOrganization(*this, who, org,
	                                      "SELECT id::text, email, role_code, status, expires_at::text "
	                                      "FROM tenancy.list_invitations()"))
		invitations.push_back({ParseUuid(row[0].as<std::string>(), "invitation id"), row[1].as<std::string>(),
		                       row[2].as<std::string>(), row[3].as<std::string>(), row[4].as<std::string>()});
	return invitations;
}

} // namespace tenancy
