// organizations.hpp: the organization flows (create an organization, list
// one's organizations, roles, members, invitations, ownership), each one tenant
// transaction of an Engine around one function of the extension, which does the
// checking; this class only types the arguments and the results.
//
//     pg_tenancy::engine::Organizations orgs(engine);
//     Uuid org = orgs.CreateOrganization(who, "Acme");
//     orgs.Invite(who, org, "ada@example.com", "agent");
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pg_tenancy/engine/ids.hpp"
#include "pg_tenancy/engine/namespace.hpp"

namespace pg_tenancy::engine {

class Engine;

struct OrganizationSummary {
	Uuid id;
	std::string name;
	std::string role_code;
	std::string role_name;
};

struct RoleInfo {
	std::string code;
	std::string name;
	std::vector<std::string> permissions;
	bool is_system = false;
	std::int64_t members = 0;
};

struct MemberInfo {
	Uuid user_id;
	std::string code;
	std::string email;
	std::string role_code;
	bool is_owner = false;
};

struct InvitationInfo {
	Uuid id;
	std::string email;
	std::string role_code;
	std::string status; // pending, accepted, revoked, expired
	std::string expires_at;
};

// Uses only the Engine's public transaction calls; as thread-safe as the Engine.
// The Engine must outlive it.
class Organizations {
  public:
	explicit Organizations(Engine &engine) : engine_(engine) {}

	Uuid CreateOrganization(const Identity &who, const std::string &name);
	std::vector<OrganizationSummary> MyOrganizations(const Identity &who);

	// Roles of `org` (each call is one tenant transaction; see docs/engine.md).
	std::vector<RoleInfo> ListRoles(const Identity &who, const Uuid &org);
	void CreateRole(const Identity &who, const Uuid &org, const std::string &code, const std::string &name,
	                const std::vector<std::string> &permissions);
	void UpdateRole(const Identity &who, const Uuid &org, const std::string &code,
	                const std::optional<std::string> &name, const std::optional<std::vector<std::string>> &permissions);
	void DeleteRole(const Identity &who, const Uuid &org, const std::string &code,
	                const std::optional<std::string> &reassign_to = std::nullopt);

	// Members of `org`.
	std::vector<MemberInfo> ListMembers(const Identity &who, const Uuid &org);
	void SetMemberRole(const Identity &who, const Uuid &org, const Uuid &member, const std::string &role_code);
	void RemoveMember(const Identity &who, const Uuid &org, const Uuid &member);
	void LeaveOrganization(const Identity &who, const Uuid &org);
	void TransferOwnership(const Identity &who, const Uuid &org, const Uuid &new_owner, const std::string &my_new_role);

	// Invitations. Invite() returns the token once; AcceptInvitation() runs in
	// the accepting user's user-only context and returns the organization.
	// Throws InvitationInvalid for unknown, expired, revoked, used or someone
	// else's invitations alike.
	std::string Invite(const Identity &who, const Uuid &org, const std::string &email, const std::string &role_code,
	                   std::chrono::seconds ttl = std::chrono::hours(24 * 7));
	Uuid AcceptInvitation(const Identity &who, const std::string &token);
	void RevokeInvitation(const Identity &who, const Uuid &org, const Uuid &invitation);
	std::vector<InvitationInfo> ListInvitations(const Identity &who, const Uuid &org);

  private:
	Engine &engine_;
};

} // namespace pg_tenancy::engine
