// pg_boundary.hpp: the one place where PostgreSQL calls into pg_tenancy's C++.
//
// PGT_FUNCTION(name) declares an extern "C" V1 function whose body runs inside a
// try block. A C++ exception is caught, its message copied into a plain buffer,
// and the PostgreSQL error is raised only after the handler has ended, so no
// exception ever crosses a PostgreSQL frame and no longjmp leaves a catch block.
//
// The other direction is handled by construction: bodies written with this macro
// keep no object with a destructor alive across calls that can ereport. C++ work
// (token parsing, keyring loading) happens in noexcept functions that return
// plain data before any PostgreSQL call is made.
//
// Include after postgres.h.
#pragma once

#include <exception>

#ifndef POSTGRES_H
#error "pg_boundary.hpp is for PG-facing files: include postgres.h first"
#endif

namespace pg_tenancy::pg {

using ImplFunction = Datum (*)(FunctionCallInfo);

inline Datum CallGuarded(ImplFunction impl, FunctionCallInfo fcinfo, const char *name) {
	char message[256];
	try {
		return impl(fcinfo);
	} catch (const std::exception &e) {
		strlcpy(message, e.what(), sizeof message);
	} catch (...) {
		strlcpy(message, "unknown C++ exception", sizeof message);
	}
	ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("pg_tenancy: %s failed: %s", name, message)));
	pg_unreachable();
}

} // namespace pg_tenancy::pg

#define PGT_FUNCTION(name)                                                                                             \
	extern "C" {                                                                                                       \
	PG_FUNCTION_INFO_V1(name);                                                                                         \
	}                                                                                                                  \
	static Datum name##_impl(PG_FUNCTION_ARGS);                                                                        \
	extern "C" Datum name(PG_FUNCTION_ARGS) {                                                                          \
		return pg_tenancy::pg::CallGuarded(name##_impl, fcinfo, #name);                                                \
	}                                                                                                                  \
	static Datum name##_impl(PG_FUNCTION_ARGS)
