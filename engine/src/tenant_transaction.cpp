// tenant_transaction.cpp: see tenant_transaction.hpp.
#include "pg_tenancy/engine/tenant_transaction.hpp"

#include <pqxx/except>

#include "pg_tenancy/engine/errors.hpp"

namespace tenancy {
namespace {

// One round trip each: the hygiene check rides along with COMMIT or ROLLBACK.
constexpr const char *kCommitClean = "SELECT tenancy.assert_session_clean(); UNLISTEN *; COMMIT";
constexpr const char *kRollbackClean = "ROLLBACK; SELECT tenancy.assert_session_clean(); UNLISTEN *";

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

void TenantTransaction::Enter(const std::string &token) {
	try {
		work_ = std::make_unique<pqxx::nontransaction>(*connection_, "tenancy");
		work_->exec("BEGIN");
		work_->exec_prepared("tenancy_enter", token);
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
	try {
		work_->exec(kCommitClean);
	} catch (...) {
		Fail(std::current_exception());
	}
	state_ = State::Committed;
	work_.reset();
	connection_.MarkClean();
	connection_ = PooledConnection();
}

void TenantTransaction::Rollback() {
	if (state_ != State::Active)
		return;
	state_ = State::RolledBack;
	try {
		work_->exec(kRollbackClean);
	} catch (...) {
		work_.reset();
		connection_ = PooledConnection(); // closed, not reused
		throw;
	}
	work_.reset();
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
