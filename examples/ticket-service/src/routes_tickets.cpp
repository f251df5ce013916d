// routes_tickets.cpp: the tickets of the organization in X-Organization-Id.
// No statement here names an organization: row-level security from
// tenancy.protect() scopes every one of them, so another organization's ticket
// is simply not there (404, like an id that was never used). Permissions
// (tickets.read/write/assign/delete) are checked first for a clear 403; the
// database enforces them again (schema.sql).
#include "http_errors.hpp"
#include "request_context.hpp"
#include "routes.hpp"

namespace tickets {
namespace {

const std::string kColumns = "id, title, body, status, assignee_id::pg_catalog.text, created_by::pg_catalog.text, "
                             "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                             "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";

Json TicketJson(const pqxx::row &row) {
	return {{"id", row[0].as<std::int64_t>()},
	        {"title", row[1].as<std::string>()},
	        {"body", row[2].as<std::string>()},
	        {"status", row[3].as<std::string>()},
	        {"assignee_id", row[4].is_null() ? Json() : Json(row[4].as<std::string>())},
	        {"created_by", row[5].as<std::string>()},
	        {"created_at", row[6].as<std::string>()},
	        {"updated_at", row[7].as<std::string>()}};
}

void SendTicketOr404(httplib::Response &res, const pqxx::result &rows, int status = 200) {
	if (rows.empty())
		Fail(404, "not_found", "no such ticket");
	SendJson(res, status, TicketJson(rows[0]));
}

std::optional<std::string> Status(const std::optional<std::string> &status) {
	if (status && *status != "open" && *status != "in_progress" && *status != "closed")
		Fail(400, "invalid_request", "status must be open, in_progress or closed");
	return status;
}

std::optional<std::string> Assignee(const Json &body) {
	auto assignee = OptionalString(body, "assignee_id", 36);
	if (assignee)
		tenancy::ParseUuid(*assignee, "assignee_id"); // 400 for anything but a uuid
	return assignee;
}

void Create(tenancy::Engine &engine, const httplib::Request &req, httplib::Response &res, const tenancy::Identity &who,
            const tenancy::Uuid &org) {
	Json body = BodyObject(req);
	std::string title = RequiredString(body, "title", 200);
	std::string text = OptionalString(body, "body", 10000).value_or("");
	auto assignee = Assignee(body);
	auto tx = engine.Transaction(who, org);
	RequirePermission(tx, "tickets.write");
	if (assignee)
		RequirePermission(tx, "tickets.assign");
	auto rows =
	    tx.ExecParams("INSERT INTO tickets_app.tickets (title, body, assignee_id) VALUES ($1, $2, $3::pg_catalog.uuid) "
	                  "RETURNING " +
	                      kColumns,
	                  title, text, assignee);
	tx.Commit();
	SendTicketOr404(res, rows, 201);
}

void List(tenancy::Engine &engine, const httplib::Request &req, httplib::Response &res, const tenancy::Identity &who,
          const tenancy::Uuid &org) {
	std::optional<std::string> status;
	if (req.has_param("status"))
		status = Status(req.get_param_value("status"));
	std::int64_t after = QueryNumber(req, "after", 0, INT64_MAX, 0);
	std::int64_t limit = QueryNumber(req, "limit", 1, 100, 20);
	auto tx = engine.Transaction(who, org);
	RequirePermission(tx, "tickets.read");
	auto rows = tx.ExecParams("SELECT " + kColumns +
	                              " FROM tickets_app.tickets "
	                              "WHERE ($1::pg_catalog.text IS NULL OR status = $1) AND id > $2 ORDER BY id LIMIT $3",
	                          status, after, limit);
	tx.Commit();
	Json list = Json::array();
	for (const auto &row : rows)
		list.push_back(TicketJson(row));
	Json next = rows.size() == static_cast<std::size_t>(limit) ? Json(list.back()["id"]) : Json();
	SendJson(res, 200, {{"tickets", list}, {"next_after", next}});
}

void Get(tenancy::Engine &engine, const httplib::Request &req, httplib::Response &res, const tenancy::Identity &who,
         const tenancy::Uuid &org) {
	std::int64_t id = PathTicketId(req, 1);
	auto tx = engine.Transaction(who, org);
	RequirePermission(tx, "tickets.read");
	auto rows = tx.ExecParams("SELECT " + kColumns + " FROM tickets_app.tickets WHERE id = $1", id);
	tx.Commit();
	SendTicketOr404(res, rows);
}

void Update(tenancy::Engine &engine, const httplib::Request &req, httplib::Response &res, const tenancy::Identity &who,
            const tenancy::Uuid &org) {
	std::int64_t id = PathTicketId(req, 1);
	Json body = BodyObject(req);
	auto title = OptionalString(body, "title", 200);
	auto text = OptionalString(body, "body", 10000);
	auto status = Status(OptionalString(body, "status", 20));
	auto tx = engine.Transaction(who, org);
	RequirePermission(tx, "tickets.write");
	auto rows = tx.ExecParams("UPDATE tickets_app.tickets SET title = coalesce($2, title), body = coalesce($3, body), "
	                          "status = coalesce($4, status) WHERE id = $1 RETURNING " +
	                              kColumns,
	                          id, title, text, status);
	tx.Commit();
	SendTicketOr404(res, rows);
}

void Assign(tenancy::Engine &engine, const httplib::Request &req, httplib::Response &res, const tenancy::Identity &who,
            const tenancy::Uuid &org) {
	std::int64_t id = PathTicketId(req, 1);
	Json body = BodyObject(req);
	if (!body.contains("assignee_id"))
		Fail(400, "invalid_request", "assignee_id is required (null unassigns)");
	auto assignee = Assignee(body);
	auto tx = engine.Transaction(who, org);
	RequirePermission(tx, "tickets.assign");
	RequirePermission(tx, "tickets.write");
	// A user who is not a member of this organization fails the foreign key
	// (organization_id, assignee_id) -> memberships: 400 assignee_not_member.
	auto rows = tx.ExecParams(
	    "UPDATE tickets_app.tickets SET assignee_id = $2::pg_catalog.uuid WHERE id = $1 RETURNING " + kColumns, id,
	    assignee);
	tx.Commit();
	SendTicketOr404(res, rows);
}

void Close(tenancy::Engine &engine, const httplib::Request &req, httplib::Response &res, const tenancy::Identity &who,
           const tenancy::Uuid &org) {
	std::int64_t id = PathTicketId(req, 1);
	auto tx = engine.Transaction(who, org);
	RequirePermission(tx, "tickets.write");
	auto rows =
	    tx.ExecParams("UPDATE tickets_app.tickets SET status = 'closed' WHERE id = $1 RETURNING " + kColumns, id);
	tx.Commit();
	SendTicketOr404(res, rows);
}

void Delete(tenancy::Engine &engine, const httplib::Request &req, httplib::Response &res, const tenancy::Identity &who,
            const tenancy::Uuid &org) {
	std::int64_t id = PathTicketId(req, 1);
	auto tx = engine.Transaction(who, org);
	RequirePermission(tx, "tickets.delete");
	RequirePermission(tx, "tickets.write");
	auto rows = tx.ExecParams("DELETE FROM tickets_app.tickets WHERE id = $1 RETURNING id", id);
	tx.Commit();
	if (rows.empty())
		Fail(404, "not_found", "no such ticket");
	res.status = 204;
}

template <typename Fn> httplib::Server::Handler Route(tenancy::Engine &engine, Fn fn) {
	return WithOrganization(
	    engine, [&engine, fn](auto &req, auto &res, auto &who, auto &org) { fn(engine, req, res, who, org); });
}

} // namespace

void AddTicketRoutes(httplib::Server &server, tenancy::Engine &engine) {
	server.Post("/tickets", Route(engine, Create));
	server.Get("/tickets", Route(engine, List));
	server.Get(R"(/tickets/([^/]+))", Route(engine, Get));
	server.Patch(R"(/tickets/([^/]+))", Route(engine, Update));
	server.Post(R"(/tickets/([^/]+)/assign)", Route(engine, Assign));
	server.Post(R"(/tickets/([^/]+)/close)", Route(engine, Close));
	server.Delete(R"(/tickets/([^/]+))", Route(engine, Delete));
}

} // namespace tickets
