// request_context.hpp: the request cycle of the seed, once for every route:
// authenticate the bearer token, read X-Organization-Id, run the handler; any
// exception becomes an HTTP error (http_errors.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "pg_tenancy/engine/engine.hpp"

namespace tickets {

using Json = nlohmann::json;
using UserHandler = std::function<void(const httplib::Request &, httplib::Response &, const tenancy::Identity &)>;
using OrgHandler = std::function<void(const httplib::Request &, httplib::Response &, const tenancy::Identity &,
                                      const tenancy::Uuid &)>;

// Routes needing a signed-in user, and routes that act inside one organization.
httplib::Server::Handler WithUser(tenancy::Engine &engine, UserHandler handler);
httplib::Server::Handler WithOrganization(tenancy::Engine &engine, OrgHandler handler);

void SendJson(httplib::Response &res, int status, const Json &body);

// The body as a JSON object (400 otherwise).
Json BodyObject(const httplib::Request &req);
// A string member of at most max_length characters; 400 if missing or wrong type.
std::string RequiredString(const Json &body, const char *name, std::size_t max_length);
std::optional<std::string> OptionalString(const Json &body, const char *name, std::size_t max_length);
// Path captures.
tenancy::Uuid PathUuid(const httplib::Request &req, int index, const char *what);
std::int64_t PathTicketId(const httplib::Request &req, int index);
// A query parameter as a number in [low, high], or `fallback` when absent.
std::int64_t QueryNumber(const httplib::Request &req, const char *name, std::int64_t low, std::int64_t high,
                         std::int64_t fallback);

// 403 unless the current context grants `permission` (tenancy.has_permission).
void RequirePermission(tenancy::TenantTransaction &tx, const char *permission);

// For the access log: the authenticated user of the request on this thread.
std::string CurrentRequestUser();
void ClearCurrentRequestUser();

} // namespace tickets
