// engine.cpp: see engine.hpp.
#include "pg_tenancy/engine/engine.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <mutex>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/transaction>

#include "pg_tenancy/engine/change_listener.hpp"
#include "pg_tenancy/engine/identity_key_file.hpp"
#include "pg_tenancy/engine/identity_token.hpp"
#include "pg_tenancy/engine/membership_cache.hpp"
#include "pg_tenancy/token/context_token.hpp"
#include "pg_tenancy/token/errors.hpp"

namespace pg_tenancy::engine {
namespace {

namespace tok = pg_tenancy::token;

tok::Keyring LoadKeyring(const std::string &path, const char *what) {
	try {
		return tok::Keyring::LoadFile(path);
	} catch (const tok::KeyringError &e) {
		throw ConfigurationError(std::string(what) + ": " + e.what());
	}
}

// A role that bypasses row-level security would see every tenant's rows no
// matter what context it enters: refuse to work with one at all. So is a member
// of such a role, directly or through others: tenant SQL could SET ROLE into it
// (the audit's rule, T2xx). pg_has_role(..., 'MEMBER') covers the role itself.
void RefuseRlsBypass(pqxx::connection &connection) {
	pqxx::nontransaction work(connection);
	pqxx::row role = work.exec1("SELECT current_user::pg_catalog.text, (SELECT "
	                            "pg_catalog.string_agg(r.rolname::pg_catalog.text, ', ' ORDER BY r.rolname) "
	                            "FROM pg_catalog.pg_roles AS r WHERE (r.rolsuper OR r.rolbypassrls) "
	                            "AND pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER'))");
	if (!role[1].is_null())
		throw ConfigurationError("the application role \"" + role[0].as<std::string>() +
		                         "\" is, or is a member of, a superuser or BYPASSRLS role (" +
		                         role[1].as<std::string>() +
		                         "), so row-level security would not isolate tenants; connect as a role without "
		                         "them (conninfo)");
}

void PrepareApplicationConnection(pqxx::connection &connection, bool prepared) {
	RefuseRlsBypass(connection);
	if (prepared) {
		connection.prepare("tenancy_enter", "SELECT tenancy.enter($1)");
		// Now, not at first use: the first use is inside a libpq pipeline,
		// which libpqxx does not see.
		connection.prepare_now("tenancy_enter");
	}
}

std::int64_t Now() {
	return static_cast<std::int64_t>(std::time(nullptr));
}

} // namespace

struct Engine::State {
	EngineConfig config;
	tok::Keyring signing_keyring;
	std::unique_ptr<identity::KeySetFile> identity_keys; // reloaded when the file changes
	ConnectionPool pool;
	// Privileged work (membership look-ups, registration) on its own connection.
	std::mutex admin_mutex;
	std::unique_ptr<pqxx::connection> admin;
	MembershipCache cache;
	std::unique_ptr<ChangeListener> listener;

	explicit State(EngineConfig c)
	    : config(std::move(c)), signing_keyring(LoadKeyring(config.keyring_file, "signing keyring")),
	      pool(config.conninfo, config.pool_size, config.lease_timeout,
	           [prepared = config.prepared_statements](pqxx::connection &connection) {
		           PrepareApplicationConnection(connection, prepared);
	           }),
	      cache(config.membership_cache_ttl) {
		if (!config.identity_keyring_file.empty())
			identity_keys = std::make_unique<identity::KeySetFile>(config.identity_keyring_file);
		try {
			(void)signing_keyring.SigningKey(config.signing_kid);
		} catch (const tok::KeyringError &e) {
			throw ConfigurationError(e.what());
		}
		if (config.membership_cache_ttl.count() > 0) {
			if (config.listen_for_changes)
				listener = std::make_unique<ChangeListener>(config.admin_conninfo, cache); // enables it
			else
				cache.SetEnabled(true);
		}
	}

	// Runs `fn` with the admin connection, reconnecting once if it was lost.
	template <typename Fn> auto WithAdmin(Fn &&fn) {
		std::lock_guard<std::mutex> lock(admin_mutex);
		for (int attempt = 0;; attempt++) {
			try {
				if (!admin || !admin->is_open()) {
					admin = std::make_unique<pqxx::connection>(config.admin_conninfo);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
					admin->inhibit_reactivation(true);
#pragma GCC diagnostic pop
				}
				pqxx::nontransaction work(*admin); // one statement, autocommit: one round trip
				return fn(work);
			} catch (const pqxx::broken_connection &) {
				admin.reset();
				if (attempt == 0)
					continue;
				throw DatabaseUnavailable("could not reach the database for a membership check");
			} catch (const pqxx::sql_error &) {
				ThrowTranslated(std::current_exception(), false);
			}
		}
	}

	// The pg_tenancy user linked to a provider's (issuer, subject), via
	// tenancy.resolve_identity(). An unlinked subject is unauthenticated.
	Uuid ResolveLinkedIdentity(const std::string &issuer, const std::string &subject) {
		pqxx::result row = WithAdmin([&](pqxx::nontransaction &work) {
			return work.exec_params("SELECT tenancy.resolve_identity($1, $2)::pg_catalog.text", issuer, subject);
		});
		if (row.size() != 1 || row[0][0].is_null())
			throw Unauthenticated("invalid bearer token: no pg_tenancy user is linked to its issuer and subject");
		return ParseUuid(row[0][0].c_str(), "linked user id");
	}
};

Engine::Engine(EngineConfig config) {
	if (config.admin_conninfo.empty())
		config.admin_conninfo = config.conninfo;
	config.Validate();
	state_ = std::make_unique<State>(std::move(config));
}

Engine::~Engine() = default;

const EngineConfig &Engine::config() const noexcept {
	return state_->config;
}
PoolStats Engine::Stats() const {
	return state_->pool.Stats();
}
std::size_t Engine::CachedMemberships() const {
	return state_->cache.Size();
}
void Engine::InspectIdleConnections(const std::function<void(pqxx::connection &)> &inspect) {
	state_->pool.ForEachIdle(inspect);
}

bool Engine::WaitForChangeListener(std::chrono::milliseconds timeout) const {
	return state_->listener && state_->listener->WaitUntilListening(timeout);
}

Identity Engine::Authenticate(std::string_view authorization) const {
	if (!state_->identity_keys)
		throw ConfigurationError("no identity key set is configured (identity_keyring_file)");
	std::string_view token = authorization;
	// The auth-scheme is case-insensitive and followed by one or more spaces
	// (RFC 7235, section 2.1: credentials = auth-scheme 1*SP token68).
	if (token.size() > 6 && token[6] == ' ' &&
	    std::equal(token.begin(), token.begin() + 6, "bearer",
	               [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; })) {
		token.remove_prefix(6);
		token.remove_prefix(std::min(token.size(), token.find_first_not_of(' ')));
	}
	if (token.empty())
		throw Unauthenticated("missing bearer token");
	identity::VerifyOptions options;
	options.issuer = state_->config.identity_issuer;
	options.audience = state_->config.identity_audience;
	options.user_claim = state_->config.identity_user_claim;
	options.now = Now();
	options.leeway = state_->config.clock_skew.count();
	std::shared_ptr<const identity::KeySet> keys = state_->identity_keys->Current(); // throws while unusable
	identity::VerifyResult result = identity::VerifyIdentityToken(token, *keys, options);
	if (!result.ok())
		throw Unauthenticated(std::string("invalid bearer token: ") + identity::IdentityErrorReason(result.error));
	if (state_->config.identity_subject_mapping == EngineConfig::SubjectMapping::Linked)
		return Identity{state_->ResolveLinkedIdentity(result.issuer, result.subject), std::move(result.claims)};
	Uuid user;
	if (!tok::ParseUuid(result.subject, user))
		throw Unauthenticated("invalid bearer token: its user claim is not a pg_tenancy user id (a uuid); "
		                      "link provider subjects with identity_subject_mapping = linked");
	return Identity{user, std::move(result.claims)};
}

void Engine::RequireMembership(const Identity &who, const Uuid &org) {
	if (state_->cache.Contains(who.user_id, org))
		return;
	// A change announced while we look is not lost: Remember() ignores answers
	// older than the last Clear().
	std::uint64_t generation = state_->cache.Generation();
	bool member = state_->WithAdmin([&](pqxx::nontransaction &work) {
		return !work.exec_params("SELECT 1 FROM tenancy.lookup_membership($1, $2)", ToString(who.user_id),
		                         ToString(org))
		            .empty();
	});
	if (!member)
		throw NotAMember("not a member of this organization");
	state_->cache.Remember(who.user_id, org, generation);
}

std::string Engine::MintContextToken(const Identity &who, const std::optional<Uuid> &org) {
	// A token minted earlier for the same pair is reused until a quarter of its
	// lifetime is left, so most requests cost no signature and the server's
	// cache of verified tokens hits. It goes with the membership cache entry.
	const std::int64_t reuse_margin = std::max<std::int64_t>(state_->config.token_ttl.count() / 4, 1);
	if (org) {
		RequireMembership(who, *org);
		std::string cached = state_->cache.Token(who.user_id, *org, Now() + reuse_margin);
		if (!cached.empty())
			return cached;
	}
	tok::ContextClaims claims;
	claims.user = who.user_id;
	if (org)
		claims.org = *org;
	claims.issued_at = Now();
	claims.expires_at = claims.issued_at + state_->config.token_ttl.count();
	claims.jti = tok::NewJti();
	std::string token = tok::MintContextToken(state_->signing_keyring.SigningKey(state_->config.signing_kid), claims);
	if (org)
		state_->cache.RememberToken(who.user_id, *org, token, claims.expires_at);
	return token;
}

TenantTransaction Engine::Transaction(const Identity &who, const Uuid &org, IsolationLevel level) {
	return Begin(who, org, MintContextToken(who, org), level);
}

TenantTransaction Engine::UserTransaction(const Identity &who, IsolationLevel level) {
	return Begin(who, std::nullopt, MintContextToken(who, std::nullopt), level);
}

TenantTransaction Engine::Begin(const Identity &who, const std::optional<Uuid> &org, const std::string &token,
                                IsolationLevel level) {
	// Nothing is sent yet: BEGIN and enter() ride with the first statement. A
	// reused connection found dead then is replaced, up to pool_size + 1 tries.
	TenantTransaction::Start start{&state_->pool, state_->config.pool_size + 1, token,
	                               state_->config.prepared_statements};
	TenantTransaction tx(state_->pool.Lease(), who, org, std::move(start));
	tx.SetIsolationLevel(level);
	return tx;
}

Uuid Engine::RegisterUser(const std::string &code, const std::string &email) {
	std::string id = state_->WithAdmin([&](pqxx::nontransaction &work) {
		return work.exec_params1("SELECT tenancy.register_user($1, $2)::pg_catalog.text", code, email)[0]
		    .as<std::string>();
	});
	return ParseUuid(id, "user id");
}

void Engine::LinkIdentity(const Uuid &user, const std::string &issuer, const std::string &subject) {
	state_->WithAdmin([&](pqxx::nontransaction &work) {
		return work.exec_params("SELECT tenancy.link_identity($1::pg_catalog.uuid, $2, $3)", ToString(user), issuer,
		                        subject);
	});
}

} // namespace pg_tenancy::engine
