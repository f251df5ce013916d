// tenant_transaction.hpp: one database transaction inside one tenant context,
// on a pooled connection.
//
// On the wire (see docs/engine.md): BEGIN; SELECT tenancy.enter($1) with the
// token as a bind parameter; your statements; then, in one round trip,
// "SELECT tenancy.require_context(); UNLISTEN *; COMMIT; DISCARD SEQUENCES;
// SELECT tenancy.assert_session_clean()" (or "ROLLBACK; DISCARD SEQUENCES;
// SELECT tenancy.assert_session_clean()"). The connection goes back to the pool
// only if that check passed and nothing went wrong; otherwise it is closed.
#pragma once

#include <memory>
#include <string>

#include <pqxx/nontransaction>
#include <pqxx/result>

#include "pg_tenancy/engine/connection_pool.hpp"
#include "pg_tenancy/engine/errors.hpp"
#include "pg_tenancy/engine/ids.hpp"

namespace tenancy {

class TenantTransaction {
  public:
	TenantTransaction(TenantTransaction &&) noexcept;
	TenantTransaction &operator=(TenantTransaction &&) = delete;
	TenantTransaction(const TenantTransaction &) = delete;
	~TenantTransaction(); // rolls back if neither Commit() nor Rollback() ran

	// Run SQL inside the context. Parameters are always bound, never inlined.
	pqxx::result Exec(const std::string &sql);
	template <typename... Args> pqxx::result ExecParams(const std::string &sql, Args &&...args) {
		return Guarded([&] { return work_->exec_params(sql, std::forward<Args>(args)...); });
	}

	void Commit();
	void Rollback();

	const Identity &identity() const noexcept { return identity_; }
	// The organization of this context; unset for a user-only context.
	const Uuid *organization() const noexcept { return has_org_ ? &org_ : nullptr; }
	bool active() const noexcept { return state_ == State::Active; }

  private:
	friend class Engine;
	enum class State { Active, Committed, RolledBack, Failed };

	TenantTransaction(PooledConnection connection, const Identity &identity, const Uuid *org);
	// Sends BEGIN and tenancy.enter($1). Throws typed errors.
	void Enter(const std::string &token, bool prepared);
	template <typename Fn> pqxx::result Guarded(Fn &&fn);
	[[noreturn]] void Fail(const std::exception_ptr &error);

	PooledConnection connection_;
	std::unique_ptr<pqxx::nontransaction> work_;
	Identity identity_;
	Uuid org_{};
	bool has_org_ = false;
	State state_ = State::Active;
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
