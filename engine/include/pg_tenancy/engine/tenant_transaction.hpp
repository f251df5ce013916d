// tenant_transaction.hpp: one database transaction inside one tenant context,
// on a pooled connection.
//
// On the wire (see docs/engine.md), two round trips for a one-statement
// transaction:
//   1. BEGIN, SELECT tenancy.enter($1) with the token as a bind parameter, and
//      the first statement, pipelined with one Sync;
//   2. "SELECT tenancy.require_context(); UNLISTEN *; COMMIT; DISCARD SEQUENCES;
//      SELECT tenancy.assert_session_clean()" (or "ROLLBACK; DISCARD SEQUENCES;
//      SELECT tenancy.assert_session_clean()").
// Further statements are one round trip each. Nothing is sent before the first
// statement, so a refusal by tenancy.enter() (NotAMember, InvalidToken) is
// thrown by the first Exec()/ExecParams(); a transaction that runs no statement
// costs no round trip at all. The connection goes back to the pool only if the
// final check passed and nothing went wrong; otherwise it is closed.
#pragma once

#include <memory>
#include <string>

#include <pqxx/nontransaction>
#include <pqxx/result>

#include "pg_tenancy/engine/connection_pool.hpp"
#include "pg_tenancy/engine/errors.hpp"
#include "pg_tenancy/engine/ids.hpp"

namespace tenancy {

namespace detail {
struct StatementParams;
template <typename... Args> StatementParams MakeParams(Args &&...args);
} // namespace detail

class TenantTransaction {
  public:
	TenantTransaction(TenantTransaction &&) noexcept;
	TenantTransaction &operator=(TenantTransaction &&) = delete;
	TenantTransaction(const TenantTransaction &) = delete;
	~TenantTransaction(); // rolls back if neither Commit() nor Rollback() ran

	// Run SQL inside the context. Parameters are always bound, never inlined.
	// The first statement of a transaction is sent with the extended protocol,
	// so it must be a single command.
	pqxx::result Exec(const std::string &sql);
	template <typename... Args> pqxx::result ExecParams(const std::string &sql, Args &&...args);

	void Commit();
	void Rollback();

	const Identity &identity() const noexcept { return identity_; }
	// The organization of this context; unset for a user-only context.
	const Uuid *organization() const noexcept { return has_org_ ? &org_ : nullptr; }
	bool active() const noexcept { return state_ == State::Pending || state_ == State::Active; }

  private:
	friend class Engine;
	enum class State { Pending, Active, Committed, RolledBack, Failed };

	struct Start {
		ConnectionPool *pool; // to replace a connection found dead before anything ran
		std::size_t attempts; // connections to try in all
		std::string token;
		bool enter_prepared;
	};
	TenantTransaction(PooledConnection connection, const Identity &identity, const Uuid *org, Start start);
	// Sends BEGIN, enter and `sql` in one pipeline. Throws typed errors.
	pqxx::result ExecFirst(const std::string &sql, detail::StatementParams params);
	template <typename Fn> pqxx::result Guarded(Fn &&fn);
	[[noreturn]] void Fail(const std::exception_ptr &error);
	// After Commit()/Rollback() of a transaction that never started.
	void ReleaseUnused();

	PooledConnection connection_;
	std::unique_ptr<pqxx::nontransaction> work_;
	Identity identity_;
	Uuid org_{};
	bool has_org_ = false;
	State state_ = State::Pending;
	Start start_;
};

// Translates a libpqxx exception thrown inside a tenant transaction into the
// engine's typed errors (see errors.hpp), then throws it.
[[noreturn]] void ThrowTranslated(const std::exception_ptr &error, bool in_transaction);

template <typename Fn> pqxx::result TenantTransaction::Guarded(Fn &&fn) {
	if (state_ != State::Active)
		throw ContextLost("the transaction is no longer active");
	try {
		return fn();
	} catch (...) {
		Fail(std::current_exception());
	}
}

} // namespace tenancy

#include "pg_tenancy/engine/tenant_transaction.inl"
