// namespace.hpp: the engine's namespace, pg_tenancy::engine, matches its include
// path. `tenancy` was its name up to 0.2.0 and stays an alias for one release:
// deprecated in 0.3.0, removed in 0.4.0 (see CHANGELOG.md).
#pragma once

namespace pg_tenancy::engine {}

namespace tenancy = pg_tenancy::engine;
