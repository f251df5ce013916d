// tenant_transaction.cpp: see tenant_transaction.hpp.
#include "pg_tenancy/engine/tenant_transaction.hpp"

#include <pqxx/except>

#include "pg_tenancy/engine/errors.hpp"

namespace tenancy {
namespace {

// One round trip each: the hygiene check rides along with COMMIT or ROLLBACK,
// after it, so a dirty session never costs the caller their committed work; it
// only costs the pool that connection.
// require_context() proves the transaction we began is still the one running
// (a COMMIT or ROLLBACK sent through Exec() would have ended it and its
// context). UNLISTEN comes before COMMIT: inside the transaction it cancels any
// LISTEN the caller issued. DISCARD SEQUENCES forgets currval()/lastval(), which
// would tell the next tenant this one's new ids. ROLLBACK drops pending LISTENs
// by itself.
constexpr const char *kCommitClean =
    "SELECT tenancy.require_context(); UNLISTEN *; COMMIT; DISCARD SEQUENCES; SELECT tenancy.assert_session_clean()";
constexpr const char *kRollbackClean = "ROLLBACK; DISCARD SEQUENCES; SELECT tenancy.assert_session_clean()";

// The error tenancy.assert_session_clean() raises: the transaction is over (and
// committed, if we were committing), but the connection must not be reused.
bool IsDirtySession(const pqxx::sql_error &e) {
	return e.sqlstate() == "55000" &&
	       std::string(e.what()).find("carries state past the transaction") != std::string::npos;
}

} // namespace

TenantTransaction::TenantTransaction(PooledConnection connection, const Identity &identity, const Uuid *org)
    : connection_(std::move(connection)), identity_(identity), has_org_(org != nullptr) {
	if (org)
		org_ = *org;
}

TenantTransaction::TenantTransaction(TenantTransaction &&other) noexcept
    : connection_(std::move(other.connection_)), work_(std::move(other.work_)), identity_(other.identity_),
      org_(other.org_), has_org_(other.has_org_), state_(other.state_) {
	other.state_ = State::Failed;
}

TenantTransaction::~TenantTransaction() {
	if (state_ == State::Active) {
		try {
			Rollback();
		} catch (...) {
			// The connection is closed rather than reused; nothing else to do.
		}
	}
}

void TenantTransaction::Enter(const std::string &token, bool prepared) {
	try {
		work_ = std::make_unique<pqxx::nontransaction>(*connection_, "tenancy");
		work_->exec("BEGIN");
		if (prepared)
			work_->exec_prepared("tenancy_enter", token);
		else
			work_->exec_params("SELECT tenancy.enter($1)", token);
	} catch (...) {
		Fail(std::current_exception());
	}
}

pqxx::result TenantTransaction::Exec(const std::string &sql) {
	return Guarded([&] { return work_->exec(sql); });
}

void TenantTransaction::Commit() {
	if (state_ != State::Active)
		throw ContextLost("the transaction is no longer active");
	bool clean = true;
	try {
		work_->exec(kCommitClean);
	} catch (const pqxx::sql_error &e) {
		if (!IsDirtySession(e))
			Fail(std::current_exception());
		clean = false; // committed; the connection is closed instead of reused
	} catch (const pqxx::broken_connection &) {
		state_ = State::Failed;
		work_.reset();
		connection_ = PooledConnection();
		throw CommitOutcomeUnknown("the connection was lost while committing: the transaction may or may not have "
		                           "been committed");
	} catch (...) {
		Fail(std::current_exception());
	}
	state_ = State::Committed;
	work_.reset();
	if (clean)
		connection_.MarkClean();
	connection_ = PooledConnection();
}

void TenantTransaction::Rollback() {
	if (state_ != State::Active)
		return;
	state_ = State::RolledBack;
	bool clean = false;
	try {
		work_->exec(kRollbackClean);
		clean = true;
	} catch (const pqxx::sql_error &e) {
		if (!IsDirtySession(e)) {
			work_.reset();
			connection_ = PooledConnection();
			ThrowTranslated(std::current_exception(), true);
		}
	} catch (...) {
		work_.reset();
		connection_ = PooledConnection(); // closed, not reused
		ThrowTranslated(std::current_exception(), true);
	}
	work_.reset();
	if (clean)
		connection_.MarkClean();
	connection_ = PooledConnection();
}

void TenantTransaction::Fail(const std::exception_ptr &error) {
	state_ = State::Failed;
	// Any doubt: the connection is closed, never handed to the next user.
	work_.reset();
	connection_ = PooledConnection();
	ThrowTranslated(error, true);
}

} // namespace tenancy
