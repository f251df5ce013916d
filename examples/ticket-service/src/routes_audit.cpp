// routes_audit.cpp: the organization's audit log (needs audit.read), oldest
// first (created_at, id), paged after the last entry's id (a random uuid: audit
// ids reveal nothing across organizations). No organization filter:
// tenancy.audit_log is protected, so another organization's id finds no entry.
#include "http_errors.hpp"
#include "request_context.hpp"
#include "routes.hpp"

namespace tickets {

void AddAuditRoutes(httplib::Server &server, tenancy::Engine &engine) {
	server.Get(
	    "/audit-log", WithOrganization(engine, [&engine](const httplib::Request &req, httplib::Response &res,
	                                                     const tenancy::Identity &who, const tenancy::Uuid &org) {
		    std::string after = req.get_param_value("after");
		    if (!after.empty())
			    tenancy::ParseUuid(after, "after"); // 400 for anything but a uuid
		    std::int64_t limit = QueryNumber(req, "limit", 1, 200, 50);
		    auto tx = engine.Transaction(who, org);
		    RequirePermission(tx, "audit.read");
		    auto rows = tx.ExecParams(
		        "SELECT a.id::pg_catalog.text, a.actor_id::pg_catalog.text, a.action, a.details::pg_catalog.text, "
		        "to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
		        "FROM tenancy.audit_log AS a WHERE $1::pg_catalog.text = '' OR (a.created_at, a.id) > "
		        "(SELECT p.created_at, p.id FROM tenancy.audit_log AS p WHERE p.id = NULLIF($1::pg_catalog.text, "
		        "'')::pg_catalog.uuid) "
		        "ORDER BY a.created_at, a.id LIMIT $2",
		        after, limit);
		    tx.Commit();
		    Json entries = Json::array();
		    for (const auto &row : rows)
			    entries.push_back({{"id", row[0].as<std::string>()},
			                       {"actor_id", row[1].is_null() ? Json() : Json(row[1].as<std::string>())},
			                       {"action", row[2].as<std::string>()},
			                       {"details", Json::parse(row[3].as<std::string>())},
			                       {"at", row[4].as<std::string>()}});
		    Json next = rows.size() == static_cast<std::size_t>(limit) ? Json(entries.back()["id"]) : Json();
		    SendJson(res, 200, {{"entries", entries}, {"next_after", next}});
	    }));
}

} // namespace tickets
