// engine.hpp: the application-side companion of the pg_tenancy extension.
//
// The request cycle, as a library:
//
//     tenancy::Engine engine(config);
//     tenancy::Identity who = engine.Authenticate(request.header("Authorization"));
//     auto tx = engine.Transaction(who, tenancy::ParseUuid(request.header("X-Organization-Id")));
//     auto rows = tx.Exec("SELECT id, title FROM tickets ORDER BY id");   // this tenant's rows only
//     tx.Commit();
//
// Transaction() checks the membership (cached briefly, invalidated on change),
// mints a short-lived context token (or reuses the one it minted last for the
// pair) and leases a pooled connection; the first statement enters the context
// in the same round trip; the transaction object then scopes every query to that organization,
// and the connection returns to the pool only once it is verified clean.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pg_tenancy/engine/config.hpp"
#include "pg_tenancy/engine/connection_pool.hpp"
#include "pg_tenancy/engine/errors.hpp"
#include "pg_tenancy/engine/ids.hpp"
#include "pg_tenancy/engine/tenant_transaction.hpp"

namespace tenancy {

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

// Thread-safe: share one Engine across threads. Every TenantTransaction must be
// finished or destroyed before the Engine that made it.
class Engine {
  public:
	explicit Engine(EngineConfig config);
	~Engine();
	Engine(const Engine &) = delete;
	Engine &operator=(const Engine &) = delete;

	// Verifies an inbound bearer token ("Bearer <jwt>" or the bare JWT) against
	// the identity key set (a JWKS or keyring file, reloaded when it changes),
	// issuer and audience, and maps its user claim to a user (identity_subject_mapping).
	// Throws Unauthenticated; ConfigurationError while the key file is unusable.
	Identity Authenticate(std::string_view authorization) const;

	// A transaction in `org`'s context. Throws NotAMember (also for unknown
	// organizations) when the engine's membership check refuses, and
	// DatabaseUnavailable. Nothing is sent yet: BEGIN and tenancy.enter() go with
	// the first statement, so the server's own refusals (NotAMember for a
	// membership removed since it was cached, InvalidToken) come from the first
	// Exec()/ExecParams().
	TenantTransaction Transaction(const Identity &who, const Uuid &org);
	// A transaction in a user-only context (no organization): for creating an
	// organization or listing one's organizations.
	TenantTransaction UserTransaction(const Identity &who);

	// The membership check alone (cached). Throws NotAMember.
	void RequireMembership(const Identity &who, const Uuid &org);
	// A context token for `who` in `org` (or user-only), after the membership check.
	// For an organization, the token minted last for the pair is returned again
	// while a quarter of its lifetime is left and the membership is cached.
	std::string MintContextToken(const Identity &who, const Uuid *org);

	// Organization flows.
	Uuid RegisterUser(const std::string &code, const std::string &email);
	// Links an identity provider's (issuer, subject) to `user`, for
	// identity_subject_mapping = linked (tenancy.link_identity()).
	void LinkIdentity(const Uuid &user, const std::string &issuer, const std::string &subject);
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

	PoolStats Stats() const;
	std::size_t CachedMemberships() const;
	const EngineConfig &config() const noexcept;
	// For diagnostics and tests: runs `inspect` on every idle pooled connection;
	// one it leaves unclean is closed, never handed to the next tenant.
	void InspectIdleConnections(const std::function<void(pqxx::connection &)> &inspect);
	bool WaitForChangeListener(std::chrono::milliseconds timeout) const;

  private:
	TenantTransaction Begin(const Identity &who, const Uuid *org, const std::string &token);
	struct State;
	std::unique_ptr<State> state_;
};

} // namespace tenancy
