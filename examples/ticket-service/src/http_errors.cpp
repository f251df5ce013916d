// http_errors.cpp: exception -> HTTP status and JSON error body.
#include "http_errors.hpp"

#include <iostream>
#include <stdexcept>
#include <typeinfo>
#include <nlohmann/json.hpp>

#include "pg_tenancy/engine/errors.hpp"

namespace tickets {
namespace {

bool IsClass(const std::string &sqlstate, const char *klass) {
	return sqlstate.compare(0, 2, klass) == 0;
}

// The extension's own messages for these classes name only the caller's
// organization's objects and say what to do; the ticket table's constraint
// violations get fixed texts instead (they would name constraints and columns).
void SendDatabaseError(const tenancy::DatabaseError &e, httplib::Response &res) {
	const std::string &state = e.sqlstate();
	const std::string &message = e.what();
	if (message.find("tickets_assignee_is_member") != std::string::npos)
		return SendError(res, 400, "assignee_not_member", "the assignee is not a member of this organization");
	if (message.find("\"tickets") != std::string::npos && (IsClass(state, "22") || IsClass(state, "23")))
		return SendError(res, 400, "invalid_ticket", "a ticket value is out of range");
	if (state == "23505")
		return SendError(res, 409, "conflict", message);
	if (state == "23514" || state == "2BP01" || state == "55000")
		return SendError(res, 409, "conflict", message);
	if (IsClass(state, "22") || state == "23502")
		return SendError(res, 400, "invalid_request", message);
	if (state == "42704")
		return SendError(res, 404, "not_found", message);
	if (state == "40001" || state == "40P01") {
		res.set_header("Retry-After", "1");
		return SendError(res, 503, "retry", "the request collided with another one; retry it");
	}
	std::cerr << "tenancy-tickets: database error " << state << "\n"; // the message may quote SQL: not sent, not logged
	SendError(res, 500, "internal", "internal error");
}

} // namespace

void SendError(httplib::Response &res, int status, const std::string &code, const std::string &message) {
	res.status = status;
	res.set_content(nlohmann::json{{"error", code}, {"message", message}}.dump(), "application/json");
}

void SendException(const std::exception_ptr &error, httplib::Response &res) {
	try {
		std::rethrow_exception(error);
	} catch (const ApiError &e) {
		SendError(res, e.status, e.code, e.message);
	} catch (const tenancy::Unauthenticated &) {
		res.set_header("WWW-Authenticate", "Bearer");
		SendError(res, 401, "unauthenticated", "a valid bearer token is required");
	} catch (const tenancy::NotAMember &) {
		// Also for organizations that do not exist: one answer for both.
		SendError(res, 403, "not_a_member", "you are not a member of this organization");
	} catch (const tenancy::MissingPermission &e) {
		SendError(res, 403, "forbidden", e.what());
	} catch (const tenancy::InvitationInvalid &) {
		SendError(res, 400, "invitation_invalid", "this invitation is not valid");
	} catch (const tenancy::DatabaseError &e) {
		SendDatabaseError(e, res);
	} catch (const tenancy::ContextLost &) {
		res.set_header("Retry-After", "1");
		SendError(res, 503, "retry", "the database connection was lost; retry the request");
	} catch (const tenancy::DatabaseUnavailable &) {
		res.set_header("Retry-After", "1");
		SendError(res, 503, "unavailable", "the database is unavailable; retry later");
	} catch (const tenancy::InvalidToken &) {
		// The database refused a token the service minted: a key mismatch, not the client's fault.
		std::cerr << "tenancy-tickets: the database refused a context token (are the keyrings paired?)\n";
		SendError(res, 500, "internal", "internal error");
	} catch (const tenancy::InvalidInput &e) {
		SendError(res, 400, "invalid_request", e.what()); // the engine's input checks name the input only
	} catch (const tenancy::WrongContext &e) {
		SendError(res, 400, "invalid_request", e.what());
	} catch (const std::invalid_argument &e) {
		SendError(res, 400, "invalid_request", e.what()); // the engine's argument checks name the argument only
	} catch (const nlohmann::json::exception &) {
		SendError(res, 400, "invalid_json", "the request body is not the JSON this endpoint expects");
	} catch (const std::exception &e) {
		std::cerr << "tenancy-tickets: unexpected " << typeid(e).name() << "\n";
		SendError(res, 500, "internal", "internal error");
	} catch (...) {
		SendError(res, 500, "internal", "internal error");
	}
}

} // namespace tickets
