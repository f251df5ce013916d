// cpp_only.hpp: included last by every pure C++ file of the token library.
// The token library is shared with the engine, which never sees server headers,
// so a PostgreSQL header sneaking in here is a build error, not a surprise.
#pragma once
#if defined(POSTGRES_H)
static_assert(false, "No PostgreSQL header may be included in a pure C++ file");
#endif
