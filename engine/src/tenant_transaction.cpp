// tenant_transaction.cpp: see tenant_transaction.hpp.
#include "pg_tenancy/engine/tenant_transaction.hpp"

#include <pqxx/except>
#include <stdexcept>

#include "pg_tenancy/engine/errors.hpp"
#include "pg_tenancy/token/sqlstates.hpp"
#include "pipelined_start.hpp"

namespace pg_tenancy::engine {
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
	return e.sqlstate() == pg_tenancy::sqlstate::kSessionCarriesState;
}

// After a statement error, may the connection stay for Rollback()? Only if the
// server refused a statement and the session is otherwise as we left it: not
// for a lost connection or session, a lost context (a COMMIT or ROLLBACK went
// through Exec()), or a prepared statement gone missing or left behind.
bool KeepsConnection(const std::exception_ptr &error) {
	try {
		std::rethrow_exception(error);
	} catch (const pqxx::broken_connection &) {
		return false;
	} catch (const pqxx::in_doubt_error &) {
		return false;
	} catch (const pqxx::sql_error &e) {
		const std::string state = e.sqlstate();
		if (state.empty()) // libpqxx 6.4 throws insufficient_privilege without one
			return dynamic_cast<const pqxx::insufficient_privilege *>(&e) != nullptr;
		return state.compare(0, 2, "08") != 0 && state.compare(0, 3, "57P") != 0 && state != "26000" &&
		       state != "42P05" && state != pg_tenancy::sqlstate::kNoTenantContext &&
		       state != pg_tenancy::sqlstate::kSessionCarriesState;
	} catch (const pqxx::transaction_rollback &) {
		return true; // serialization failure or deadlock: the server aborted the transaction
	} catch (...) {
		return false;
	}
}

const char *BeginSql(IsolationLevel level) {
	switch (level) {
	case IsolationLevel::RepeatableRead:
		return "BEGIN ISOLATION LEVEL REPEATABLE READ";
	case IsolationLevel::Serializable:
		return "BEGIN ISOLATION LEVEL SERIALIZABLE";
	case IsolationLevel::ReadCommitted:
		break;
	}
	return "BEGIN";
}

} // namespace

TenantTransaction::TenantTransaction(PooledConnection connection, const Identity &identity, std::optional<Uuid> org,
                                     Start start)
    : connection_(std::move(connection)), identity_(identity), org_(org), start_(std::move(start)) {}

TenantTransaction::TenantTransaction(TenantTransaction &&other) noexcept
    : connection_(std::move(other.connection_)), work_(std::move(other.work_)), identity_(other.identity_),
      org_(other.org_), state_(other.state_), isolation_(other.isolation_), start_(std::move(other.start_)) {
	other.state_ = State::Failed;
}

TenantTransaction &TenantTransaction::operator=(TenantTransaction &&other) noexcept {
	if (this == &other)
		return *this;
	try {
		Rollback();
	} catch (...) {
		// The connection is closed rather than reused; nothing else to do.
	}
	work_.reset();
	connection_ = std::move(other.connection_);
	work_ = std::move(other.work_);
	identity_ = other.identity_;
	org_ = other.org_;
	state_ = other.state_;
	isolation_ = other.isolation_;
	start_ = std::move(other.start_);
	other.state_ = State::Failed;
	return *this;
}

TenantTransaction::~TenantTransaction() {
	try {
		Rollback();
	} catch (...) {
		// The connection is closed rather than reused; nothing else to do.
	}
}

void TenantTransaction::SetIsolationLevel(IsolationLevel level) {
	if (state_ != State::Pending)
		throw std::logic_error("SetIsolationLevel() must come before the transaction's first statement");
	isolation_ = level;
}

pqxx::result TenantTransaction::ExecFirst(const std::string &sql, detail::StatementParams params) {
	detail::PipelinedStart start{BeginSql(isolation_), start_.token, start_.enter_prepared, sql, std::move(params)};
	for (std::size_t attempt = 1;; attempt++) {
		try {
			pqxx::result result = detail::ExecPipelinedStart(*connection_, start);
			work_ = std::make_unique<pqxx::nontransaction>(*connection_, "tenancy");
			state_ = State::Active;
			return result;
		} catch (...) {
			// A reused connection may have died while idle (after a server
			// restart, all of them): nothing can have been committed on it, as
			// no COMMIT was sent, so the same pipeline goes to the next one.
			// So does a lost prepared statement (26000: someone ran DEALLOCATE
			// ALL on this connection, which is closed now).
			std::exception_ptr error = std::current_exception();
			bool retry = connection_.reused() && attempt < start_.attempts && start_.pool != nullptr;
			if (retry) {
				try {
					std::rethrow_exception(error);
				} catch (const pqxx::broken_connection &) {
				} catch (const pqxx::sql_error &e) {
					retry = e.sqlstate() == "26000";
				} catch (...) {
					retry = false;
				}
			}
			if (!retry)
				Fail(error);
			connection_ = PooledConnection(); // closed: not marked clean
			try {
				connection_ = start_.pool->Lease();
			} catch (...) {
				state_ = State::Failed;
				throw;
			}
		}
	}
}

pqxx::result TenantTransaction::Exec(const std::string &sql) {
	if (state_ == State::Pending)
		return ExecFirst(sql, detail::StatementParams{});
	return Guarded([&] { return work_->exec(sql); });
}

void TenantTransaction::ReleaseUnused() {
	// Nothing was sent: the connection is exactly as clean as when it was leased.
	connection_.MarkClean();
	connection_ = PooledConnection();
}

void TenantTransaction::Commit() {
	if (state_ == State::Pending) {
		state_ = State::Committed;
		ReleaseUnused();
		return;
	}
	if (state_ == State::Aborted) {
		RollbackAndRelease();
		throw TransactionAborted("a statement of this transaction failed, so it was rolled back");
	}
	if (state_ != State::Active)
		throw ContextLost("the transaction is no longer active");
	bool clean = true;
	try {
		work_->exec(kCommitClean);
	} catch (const pqxx::sql_error &e) {
		if (!IsDirtySession(e))
			Discard(std::current_exception());
		clean = false; // committed; the connection is closed instead of reused
	} catch (const pqxx::broken_connection &) {
		state_ = State::Failed;
		work_.reset();
		connection_ = PooledConnection();
		throw CommitOutcomeUnknown("the connection was lost while committing: the transaction may or may not have "
		                           "been committed");
	} catch (...) {
		Discard(std::current_exception());
	}
	state_ = State::Committed;
	work_.reset();
	if (clean)
		connection_.MarkClean();
	connection_ = PooledConnection();
}

void TenantTransaction::Rollback() {
	if (state_ == State::Pending) {
		state_ = State::RolledBack;
		ReleaseUnused();
		return;
	}
	if (state_ == State::Active || state_ == State::Aborted)
		RollbackAndRelease();
}

void TenantTransaction::RollbackAndRelease() {
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
	if (KeepsConnection(error) && connection_) {
		state_ = State::Aborted;
		if (!work_)
			work_ = std::make_unique<pqxx::nontransaction>(*connection_, "tenancy");
		ThrowTranslated(error, true);
	}
	Discard(error);
}

void TenantTransaction::Discard(const std::exception_ptr &error) {
	state_ = State::Failed;
	// Any doubt: the connection is closed, never handed to the next user.
	work_.reset();
	connection_ = PooledConnection();
	ThrowTranslated(error, true);
}

} // namespace pg_tenancy::engine
