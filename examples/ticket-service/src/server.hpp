// server.hpp: the HTTP server around the routes: limits, timeouts, a bounded
// worker pool, JSON errors for unknown routes, and one access-log line per
// request (method, path, status, milliseconds, user; never a header or a token).
#pragma once

#include <httplib.h>

#include "pg_tenancy/engine/engine.hpp"
#include "service_config.hpp"

namespace tickets {

void ConfigureServer(httplib::Server &server, tenancy::Engine &engine, const ServiceConfig &config);

} // namespace tickets
