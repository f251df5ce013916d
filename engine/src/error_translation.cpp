// error_translation.cpp: libpqxx exceptions -> the engine's typed errors, by
// SQLSTATE alone (pg_tenancy's own codes are in pg_tenancy/token/sqlstates.hpp).
// Server messages are passed on only where they cannot name another tenant's
// objects.
#include <cstring>
#include <pqxx/except>

#include "pg_tenancy/engine/errors.hpp"
#include "pg_tenancy/engine/tenant_transaction.hpp"
#include "pg_tenancy/token/sqlstates.hpp"

namespace pg_tenancy::engine {
namespace {

namespace codes = pg_tenancy::sqlstate;

bool StartsWith(const std::string &s, const char *prefix) {
	return s.compare(0, std::strlen(prefix), prefix) == 0;
}

// The first line of a server error without libpq's severity prefix ("ERROR:  ").
std::string ServerMessage(const std::string &message) {
	std::string line = message.substr(0, message.find('\n'));
	for (const char *prefix : {"ERROR:  ", "FATAL:  ", "PANIC:  "})
		if (StartsWith(line, prefix))
			return line.substr(std::strlen(prefix));
	return line;
}

bool IsConnectionState(const std::string &sqlstate) {
	return StartsWith(sqlstate, "08") || sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
}

// libpqxx 6.4 derives these from pqxx::failure, not sql_error, and keeps no
// SQLSTATE: recover it from the class so callers can retry serialization
// failures and deadlocks.
std::string RollbackState(const pqxx::transaction_rollback &e) {
	if (dynamic_cast<const pqxx::serialization_failure *>(&e))
		return "40001";
	if (dynamic_cast<const pqxx::deadlock_detected *>(&e))
		return "40P01";
	if (dynamic_cast<const pqxx::statement_completion_unknown *>(&e))
		return "40003";
	return "40000";
}

} // namespace

[[noreturn]] void ThrowTranslated(const std::exception_ptr &error, bool in_transaction) {
	try {
		std::rethrow_exception(error);
	} catch (const Error &) {
		throw;
	} catch (const pqxx::broken_connection &) {
		if (in_transaction)
			throw ContextLost("the database connection was lost mid-transaction; nothing after that point ran. "
			                  "Retry the transaction.");
		throw DatabaseUnavailable("the database connection was lost");
	} catch (const pqxx::in_doubt_error &) {
		throw CommitOutcomeUnknown("the connection was lost while committing; the outcome is unknown");
	} catch (const pqxx::sql_error &e) {
		std::string state = e.sqlstate();
		// libpqxx 6.4 throws insufficient_privilege without its SQLSTATE.
		if (state.empty() && dynamic_cast<const pqxx::insufficient_privilege *>(&e))
			state = "42501";
		if (IsConnectionState(state)) {
			if (in_transaction)
				throw ContextLost("the database session ended mid-transaction (" + state + "); retry the transaction");
			throw DatabaseUnavailable("the database session ended (" + state + ")");
		}
		if (state == codes::kInvalidContextToken)
			throw InvalidToken("the database refused the context token");
		if (state == codes::kUserNotRegistered)
			throw UserNotRegistered("the user is not registered");
		if (state == codes::kNotAMember)
			throw NotAMember("not a member of this organization");
		if (state == codes::kNoTenantContext)
			throw ContextLost("the tenant context is no longer active in this transaction");
		if (state == codes::kWrongContextKind) // the message names only the function called
			throw WrongContext(ServerMessage(e.what()));
		if (state == codes::kInvitationInvalid)
			throw InvitationInvalid("this invitation is not valid");
		// the server's reason names only this organization's objects
		if (state == "42501" || state == codes::kMissingPermission || state == codes::kRowChangesOrganization ||
		    state == codes::kContextForgery)
			throw MissingPermission(ServerMessage(e.what()));
		if (state == "F0000")
			throw DatabaseUnavailable("the database cannot verify context tokens (keyring not usable)");
		if (state == "40001" || state == "40P01")
			throw TransactionConflict(ServerMessage(e.what()), state);
		throw DatabaseError(ServerMessage(e.what()), state);
	} catch (const pqxx::transaction_rollback &e) {
		std::string state = RollbackState(e);
		if (state == "40001" || state == "40P01")
			throw TransactionConflict(ServerMessage(e.what()), state);
		throw DatabaseError(ServerMessage(e.what()), state);
	} catch (const pqxx::failure &e) {
		throw DatabaseError(ServerMessage(e.what()), "");
	}
}

} // namespace pg_tenancy::engine
