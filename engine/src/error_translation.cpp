// error_translation.cpp: libpqxx exceptions -> the engine's typed errors. Server
// messages are passed on only where they cannot name another tenant's objects.
#include <cstring>
#include <pqxx/except>

#include "pg_tenancy/engine/errors.hpp"
#include "pg_tenancy/engine/tenant_transaction.hpp"

namespace tenancy {
namespace {

bool StartsWith(const std::string &s, const char *prefix) {
	return s.compare(0, std::strlen(prefix), prefix) == 0;
}

std::string FirstLine(const std::string &message) {
	return message.substr(0, message.find('\n'));
}

// The first line of a server error without libpq's "ERROR:  " prefix.
std::string ServerMessage(const std::string &message) {
	std::string line = FirstLine(message);
	const std::string prefix = "ERROR:  ";
	return line.compare(0, prefix.size(), prefix) == 0 ? line.substr(prefix.size()) : line;
}

bool IsConnectionState(const std::string &sqlstate) {
	return StartsWith(sqlstate, "08") || sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
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
		throw ContextLost("the connection was lost while committing; the outcome is unknown");
	} catch (const pqxx::sql_error &e) {
		std::string state = e.sqlstate();
		// libpqxx 6.4 throws insufficient_privilege without its SQLSTATE.
		if (state.empty() && dynamic_cast<const pqxx::insufficient_privilege *>(&e))
			state = "42501";
		const std::string message = e.what();
		if (IsConnectionState(state)) {
			if (in_transaction)
				throw ContextLost("the database session ended mid-transaction (" + state + "); retry the transaction");
			throw DatabaseUnavailable("the database session ended (" + state + ")");
		}
		if (state == "28000")
			throw InvalidToken("the database refused the context token");
		if (state == "42501" && message.find("not a member of the requested organization") != std::string::npos)
			throw NotAMember("not a member of this organization");
		if (state == "42501" && message.find("no tenant context is active") != std::string::npos)
			throw ContextLost("the tenant context is no longer active in this transaction");
		if (state == "42501") // the server's reason names only this organization's objects
			throw MissingPermission(ServerMessage(message));
		if (state == "22023" && message.find("this invitation is not valid") != std::string::npos)
			throw InvitationInvalid("this invitation is not valid");
		if (state == "F0000")
			throw DatabaseUnavailable("the database cannot verify context tokens (keyring not usable)");
		throw DatabaseError(ServerMessage(message), state);
	} catch (const pqxx::transaction_rollback &e) {
		// libpqxx 6.4 derives these from pqxx::failure, not sql_error, and keeps no
		// SQLSTATE: recover it from the class so callers can retry serialization
		// failures and deadlocks.
		std::string state = "40000";
		if (dynamic_cast<const pqxx::serialization_failure *>(&e))
			state = "40001";
		else if (dynamic_cast<const pqxx::deadlock_detected *>(&e))
			state = "40P01";
		else if (dynamic_cast<const pqxx::statement_completion_unknown *>(&e))
			state = "40003";
		throw DatabaseError(FirstLine(e.what()), state);
	} catch (const pqxx::failure &e) {
		throw DatabaseError(FirstLine(e.what()), "");
	}
}

} // namespace tenancy
