// routes_audit.cpp: the organization's audit log (needs audit.read), oldest
// first, paged by id. No organization filter: tenancy.audit_log is protected.
#include "http_errors.hpp"
#include "request_context.hpp"
#include "routes.hpp"

namespace tickets {

void AddAuditRoutes(httplib::Server &server, tenancy::Engine &engine) {
	server.Get("/audit-log",
	           WithOrganization(engine, [&engine](const httplib::Request &req, httplib::Response &res,
	                                              const tenancy::Identity &who, const tenancy::Uuid &org) {
		           std::int64_t after = QueryNumber(req, "after", 0, INT64_MAX, 0);
		           std::int64_t limit = QueryNumber(req, "limit", 1, 200, 50);
		           auto tx = engine.Transaction(who, org);
		           RequirePermission(tx, "audit.read");
		           auto rows = tx.ExecParams("SELECT id, actor_id::text, action, details::text, "
		                                     "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
		                                     "FROM tenancy.audit_log WHERE id > $1 ORDER BY id LIMIT $2",
		                                     after, limit);
		           tx.Commit();
		           Json entries = Json::array();
		           for (const auto &row : rows)
			           entries.push_back({{"id", row[0].as<std::int64_t>()},
			                              {"actor_id", row[1].is_null() ? Json() : Json(row[1].as<std::string>())},
			                              {"action", row[2].as<std::string>()},
			                              {"details", Json::parse(row[3].as<std::string>())},
			                              {"at", row[4].as<std::string>()}});
		           Json next = rows.size() == static_cast<std::size_t>(limit) ? Json(entries.back()["id"]) : Json();
		           SendJson(res, 200, {{"entries", entries}, {"next_after", next}});
	           }));
}

} // namespace tickets
