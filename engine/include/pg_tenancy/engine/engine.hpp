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
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pg_tenancy/engine/config.hpp"
#include "pg_tenancy/engine/connection_pool.hpp"
#include "pg_tenancy/engine/errors.hpp"
#include "pg_tenancy/engine/ids.hpp"
#include "pg_tenancy/engine/namespace.hpp"
#include "pg_tenancy/engine/organizations.hpp" // for code written against 0.2.0
#include "pg_tenancy/engine/tenant_transaction.hpp"

namespace pg_tenancy::engine {

// Thread-safe: share one Engine across threads. Every TenantTransaction must be
// finished or destroyed before the Engine that made it.
class Engine {
  public:
	explicit Engine(EngineConfig config);
	~Engine();
	Engine(const Engine &) = delete;
	Engine &operator=(const Engine &) = delete;

	// Verifies an inbound bearer token ("Bearer <jwt>", the scheme in any case, or the
	// bare JWT) against
	// the identity key set (a JWKS or keyring file, reloaded when it changes),
	// issuer and audience, and maps its user claim to a user (identity_subject_mapping).
	// Throws Unauthenticated; ConfigurationError while the key file is unusable.
	Identity Authenticate(std::string_view authorization) const;

	// A transaction in `org`'s context. Throws NotAMember (also for unknown
	// organizations) when the engine's membership check refuses, and
	// DatabaseUnavailable. Nothing is sent yet: BEGIN and tenancy.enter() go with
	// the first statement, so the server's own refusals (NotAMember for a
	// membership removed since it was cached, InvalidToken) come from the first
	// Exec()/ExecParams(). `level` is set by that BEGIN, before tenancy.enter()
	// runs (see IsolationLevel).
	TenantTransaction Transaction(const Identity &who, const Uuid &org,
	                              IsolationLevel level = IsolationLevel::ReadCommitted);
	// A transaction in a user-only context (no organization): for creating an
	// organization or listing one's organizations. Organization data touched in
	// it throws WrongContext.
	TenantTransaction UserTransaction(const Identity &who, IsolationLevel level = IsolationLevel::ReadCommitted);

	// The membership check alone (cached). Throws NotAMember.
	void RequireMembership(const Identity &who, const Uuid &org);
	// A context token for `who` in `org` (or user-only), after the membership check.
	// For an organization, the token minted last for the pair is returned again
	// while a quarter of its lifetime is left and the membership is cached.
	std::string MintContextToken(const Identity &who, const std::optional<Uuid> &org);

	// Registers a user (on the privileged connection). Organization flows are in
	// Organizations (organizations.hpp).
	Uuid RegisterUser(const std::string &code, const std::string &email);
	// Links an identity provider's (issuer, subject) to `user`, for
	// identity_subject_mapping = linked (tenancy.link_identity()).
	void LinkIdentity(const Uuid &user, const std::string &issuer, const std::string &subject);

	PoolStats Stats() const;
	std::size_t CachedMemberships() const;
	const EngineConfig &config() const noexcept;
	// For diagnostics and tests: runs `inspect` on every idle pooled connection;
	// one it leaves unclean is closed, never handed to the next tenant.
	void InspectIdleConnections(const std::function<void(pqxx::connection &)> &inspect);
	bool WaitForChangeListener(std::chrono::milliseconds timeout) const;

  private:
	TenantTransaction Begin(const Identity &who, const std::optional<Uuid> &org, const std::string &token,
	                        IsolationLevel level);
	struct State;
	std::unique_ptr<State> state_;
};

} // namespace pg_tenancy::engine
