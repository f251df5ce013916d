// server.cpp: cpp-httplib settings and cross-cutting handlers.
#include "server.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>

#include "http_errors.hpp"
#include "request_context.hpp"
#include "routes.hpp"

namespace tickets {
namespace {

// Set by the pre-routing handler; requests the library refuses before routing
// (a malformed or timed-out request line) have none.
thread_local std::optional<std::chrono::steady_clock::time_point> request_started;

// The decoded path may hold anything a client sent (%0A too): one line per
// request means no control characters reach the log.
std::string Printable(std::string text) {
	if (text.size() > 200)
		text.resize(200);
	for (char &c : text)
		if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
			c = '?';
	return text;
}

void LogRequest(const httplib::Request &req, const httplib::Response &res) {
	double ms = 0;
	if (request_started)
		ms = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - *request_started)
		         .count() /
		     1000.0;
	request_started.reset();
	std::time_t now = std::time(nullptr);
	char stamp[32];
	std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
	// The path, not the query string: nothing secret travels there today, but it
	// is where a careless client would put one.
	std::fprintf(stderr, "%s %s %s %d %.1fms user=%s\n", stamp, Printable(req.method).c_str(),
	             Printable(req.path).c_str(), res.status, ms, CurrentRequestUser().c_str());
	ClearCurrentRequestUser();
}

} // namespace

void ConfigureServer(httplib::Server &server, tenancy::Engine &engine, const ServiceConfig &config) {
	std::size_t threads = config.worker_threads;
	server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
	server.set_payload_max_length(config.max_body_bytes);
	server.set_read_timeout(config.request_timeout_s, 0);
	server.set_write_timeout(config.request_timeout_s, 0);
	server.set_keep_alive_timeout(config.keep_alive_timeout_s);
	server.set_keep_alive_max_count(100);

	server.set_pre_routing_handler([](const httplib::Request &, httplib::Response &) {
		request_started = std::chrono::steady_clock::now();
		ClearCurrentRequestUser();
		return httplib::Server::HandlerResponse::Unhandled;
	});
	// Statuses the library sets itself (404 no route, 413 too large, 400 bad
	// request line) get the same JSON body as the handlers' errors.
	server.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request &, httplib::Response &res) {
		if (!res.body.empty())
			return httplib::Server::HandlerResponse::Unhandled;
		if (res.status == 404)
			SendError(res, 404, "not_found", "no such endpoint");
		else if (res.status == 413)
			SendError(res, 413, "too_large", "the request body is too large");
		else
			SendError(res, res.status, "bad_request", "the request could not be processed");
		return httplib::Server::HandlerResponse::Handled;
	}));
	server.set_exception_handler(
	    [](const httplib::Request &, httplib::Response &res, std::exception_ptr error) { SendException(error, res); });
	server.set_logger(LogRequest);

	server.Get("/healthz", [](const httplib::Request &, httplib::Response &res) {
		SendJson(res, 200, {{"ok", true}});
	});
	AddAccountRoutes(server, engine, config.LoadAdminKey());
	AddMemberRoutes(server, engine);
	AddRoleRoutes(server, engine);
	AddInvitationRoutes(server, engine);
	AddTicketRoutes(server, engine);
	AddAuditRoutes(server, engine);
}

} // namespace tickets
