// service_config.hpp: the ticket service's settings: the engine's keys plus the
// HTTP server's, from a file, the environment and the command line (in that order).
#pragma once

#include <cstddef>
#include <string>

#include "pg_tenancy/engine/config.hpp"

namespace tickets {

struct ServiceConfig {
	tenancy::EngineConfig engine;
	std::string listen_host = "127.0.0.1"; // loopback unless told otherwise
	int listen_port = 8080;
	std::size_t worker_threads = 8; // requests served at once; more wait in the accept queue
	std::size_t max_body_bytes = 64 * 1024;
	int request_timeout_s = 10; // socket read and write timeouts
	int keep_alive_timeout_s = 5;
	// A file holding the key that guards POST /admin/users; empty: the route is off.
	std::string admin_key_file;

	// "key = value" lines, # comments; the engine's keys (docs/engine.md) and
	// listen_host, listen_port, worker_threads, max_body_bytes, request_timeout_s,
	// keep_alive_timeout_s, admin_key_file. Unknown keys are errors.
	static ServiceConfig FromFile(const std::string &path);
	// The engine's TENANCY_* variables plus TICKETS_LISTEN_HOST, TICKETS_LISTEN_PORT,
	// TICKETS_WORKER_THREADS, TICKETS_ADMIN_KEY_FILE.
	void ApplyEnvironment();
	void Set(const std::string &key, const std::string &value);
	// Throws tenancy::ConfigurationError naming what is wrong.
	void Validate() const;
	// The admin key's contents (trimmed); empty when the route is off.
	std::string LoadAdminKey() const;
};

} // namespace tickets
