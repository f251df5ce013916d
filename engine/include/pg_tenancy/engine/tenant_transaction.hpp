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
//
// A statement the server refuses (a constraint, a permission, a syntax error)
// aborts the transaction but keeps the connection: Rollback() (or the
// destructor) rolls back and returns it to the pool if the hygiene check
// passes. A lost connection, a lost context or a prepared-statement problem
// always closes it.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <pqxx/nontransaction>
#include <pqxx/result>

#include "pg_tenancy/engine/connection_pool.hpp"
#include "pg_tenancy/engine/errors.hpp"
#include "pg_tenancy/engine/ids.hpp"
#include "pg_tenancy/engine/namespace.hpp"

namespace pg_tenancy::engine {

namespace detail {
struct StatementParams;
template <typename... Args> StatementParams MakeParams(Args &&...args);
} // namespace detail

// The SQL isolation level of one transaction (PostgreSQL's default is READ
// COMMITTED). Under REPEATABLE READ and SERIALIZABLE, retry on
// TransactionConflict.
enum class IsolationLevel { ReadCommitted, RepeatableRead, Serializable };

class TenantTransaction {
  public:
	TenantTransaction(TenantTransaction &&) noexcept;
	// Rolls back the transaction this one held, if still open, then takes `other`'s.
	TenantTransaction &operator=(TenantTransaction &&other) noexcept;
	TenantTransaction(const TenantTransaction &) = delete;
	TenantTransaction &operator=(const TenantTransaction &) = delete;
	~TenantTransaction(); // rolls back if neither Commit() nor Rollback() ran

	// Before the first statement only (BEGIN is sent with it, ahead of
	// tenancy.enter()); throws std::logic_error afterwards.
	void SetIsolationLevel(IsolationLevel level);
	IsolationLevel isolation_level() const noexcept { return isolation_; }

	// Run SQL inside the context. Parameters are always bound, never inlined.
	// The first statement of a transaction is sent with the extended protocol,
	// so it must be a single command.
	pqxx::result Exec(const std::string &sql);
	template <typename... Args> pqxx::result ExecParams(const std::string &sql, Args &&...args);

	// Throws TransactionAborted (after rolling back) if a statement failed.
	void Commit();
	// Also after a failed statement: the connection then goes back to the pool
	// if the session is clean.
	void Rollback();

	const Identity &identity() const noexcept { return identity_; }
	// The organization of this context; empty for a user-only context.
	const std::optional<Uuid> &organization() const noexcept { return org_; }
	// Statements can still run (false after a failed statement, Commit() or Rollback()).
	bool active() const noexcept { return state_ == State::Pending || state_ == State::Active; }

  private:
	friend class Engine;
	// Aborted: a statement failed; the connection is kept until Rollback().
	enum class State { Pending, Active, Aborted, Committed, RolledBack, Failed };

	struct Start {
		ConnectionPool *pool; // to replace a connection found dead before anything ran
		std::size_t attempts; // connections to try in all
		std::string token;
		bool enter_prepared;
	};
	TenantTransaction(PooledConnection connection, const Identity &identity, std::optional<Uuid> org, Start start);
	// Sends BEGIN, enter and `sql` in one pipeline. Throws typed errors.
	pqxx::result ExecFirst(const std::string &sql, detail::StatementParams params);
	template <typename Fn> pqxx::result Guarded(Fn &&fn);
	// Throws `error` translated; keeps the connection for Rollback() if the
	// server only refused a statement, closes it otherwise.
	[[noreturn]] void Fail(const std::exception_ptr &error);
	// After Commit()/Rollback() of a transaction that never started.
	void ReleaseUnused();
	// Rolls back an active or aborted transaction; the connection goes back to
	// the pool only if the hygiene check passes.
	void RollbackAndRelease();
	// Throws `error` translated and closes the connection.
	[[noreturn]] void Discard(const std::exception_ptr &error);

	PooledConnection connection_;
	std::unique_ptr<pqxx::nontransaction> work_;
	Identity identity_;
	std::optional<Uuid> org_;
	State state_ = State::Pending;
	IsolationLevel isolation_ = IsolationLevel::ReadCommitted;
	Start start_;
};

// Translates a libpqxx exception thrown inside a tenant transaction into the
// engine's typed errors (see errors.hpp), then throws it.
[[noreturn]] void ThrowTranslated(const std::exception_ptr &error, bool in_transaction);

template <typename Fn> pqxx::result TenantTransaction::Guarded(Fn &&fn) {
	if (state_ == State::Aborted)
		throw TransactionAborted("an earlier statement of this transaction failed; roll it back and start a new one");
	if (state_ != State::Active)
		throw ContextLost("the transaction is no longer active");
	try {
		return fn();
	} catch (...) {
		Fail(std::current_exception());
	}
}

} // namespace pg_tenancy::engine

#include "pg_tenancy/engine/tenant_transaction.inl"
