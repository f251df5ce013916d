// request_context.cpp: authentication, the organization header, input parsing.
#include "request_context.hpp"

#include <cerrno>
#include <cstdlib>

#include "http_errors.hpp"

namespace tickets {
namespace {

thread_local std::string request_user;

tenancy::Identity Authenticate(tenancy::Engine &engine, const httplib::Request &req) {
	if (!req.has_header("Authorization"))
		throw tenancy::Unauthenticated("no bearer token");
	tenancy::Identity who = engine.Authenticate(req.get_header_value("Authorization"));
	request_user = tenancy::ToString(who.user_id);
	return who;
}

tenancy::Uuid OrganizationHeader(const httplib::Request &req) {
	if (!req.has_header("X-Organization-Id"))
		Fail(400, "missing_organization", "send the organization to act in as the X-Organization-Id header");
	if (req.get_header_value_count("X-Organization-Id") != 1)
		Fail(400, "invalid_organization", "send exactly one X-Organization-Id header");
	try {
		return tenancy::ParseUuid(req.get_header_value("X-Organization-Id"), "X-Organization-Id");
	} catch (const tenancy::InvalidInput &) {
		Fail(400, "invalid_organization", "X-Organization-Id must be an organization id (a uuid)");
	}
}

} // namespace

httplib::Server::Handler WithUser(tenancy::Engine &engine, UserHandler handler) {
	return [&engine, handler](const httplib::Request &req, httplib::Response &res) {
		try {
			handler(req, res, Authenticate(engine, req));
		} catch (...) {
			SendException(std::current_exception(), res);
		}
	};
}

httplib::Server::Handler WithOrganization(tenancy::Engine &engine, OrgHandler handler) {
	return [&engine, handler](const httplib::Request &req, httplib::Response &res) {
		try {
			tenancy::Identity who = Authenticate(engine, req); // 401 before 400: say who you are first
			handler(req, res, who, OrganizationHeader(req));
		} catch (...) {
			SendException(std::current_exception(), res);
		}
	};
}

void SendJson(httplib::Response &res, int status, const Json &body) {
	res.status = status;
	res.set_content(body.dump(), "application/json");
}

Json BodyObject(const httplib::Request &req) {
	Json body = Json::parse(req.body, nullptr, /*allow_exceptions=*/false);
	if (body.is_discarded() || !body.is_object())
		Fail(400, "invalid_json", "the request body must be a JSON object");
	return body;
}

std::optional<std::string> OptionalString(const Json &body, const char *name, std::size_t max_length) {
	auto member = body.find(name);
	if (member == body.end() || member->is_null())
		return std::nullopt;
	if (!member->is_string())
		Fail(400, "invalid_request", std::string(name) + " must be a string");
	auto value = member->get<std::string>();
	if (value.size() > max_length)
		Fail(400, "invalid_request", std::string(name) + " is longer than " + std::to_string(max_length) + " bytes");
	return value;
}

std::string RequiredString(const Json &body, const char *name, std::size_t max_length) {
	auto value = OptionalString(body, name, max_length);
	if (!value)
		Fail(400, "invalid_request", std::string(name) + " is required");
	return *value;
}

tenancy::Uuid PathUuid(const httplib::Request &req, int index, const char *what) {
	try {
		return tenancy::ParseUuid(req.matches[index].str(), what);
	} catch (const tenancy::InvalidInput &) {
		Fail(400, "invalid_request", std::string(what) + " must be a uuid");
	}
}

std::int64_t PathTicketId(const httplib::Request &req, int index) {
	std::string text = req.matches[index].str();
	errno = 0;
	char *end = nullptr;
	long long id = std::strtoll(text.c_str(), &end, 10);
	if (text.empty() || *end != '\0' || errno != 0 || id < 1)
		Fail(404, "not_found", "no such ticket"); // the same answer as for any id we do not have
	return id;
}

std::int64_t QueryNumber(const httplib::Request &req, const char *name, std::int64_t low, std::int64_t high,
                         std::int64_t fallback) {
	if (!req.has_param(name))
		return fallback;
	std::string text = req.get_param_value(name);
	errno = 0;
	char *end = nullptr;
	long long value = std::strtoll(text.c_str(), &end, 10);
	if (text.empty() || *end != '\0' || errno != 0 || value < low || value > high)
		Fail(400, "invalid_request",
		     std::string(name) + " must be a number from " + std::to_string(low) + " to " + std::to_string(high));
	return value;
}

void RequirePermission(tenancy::TenantTransaction &tx, const char *permission) {
	if (!tx.ExecParams("SELECT tenancy.has_permission($1)", permission)[0][0].as<bool>())
		Fail(403, "forbidden", std::string("your role in this organization does not grant ") + permission);
}

std::string CurrentRequestUser() {
	return request_user.empty() ? "-" : request_user;
}

void ClearCurrentRequestUser() {
	request_user.clear();
}

} // namespace tickets
