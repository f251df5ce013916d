// sqlstate.hpp: pg_tenancy's own SQLSTATEs (declared once, in
// token/include/pg_tenancy/token/sqlstates.hpp) as PostgreSQL error codes, for
// errcode(). Include after postgres.h.
#pragma once

#ifndef POSTGRES_H
#error "sqlstate.hpp is for PG-facing files: include postgres.h first"
#endif

#include "pg_tenancy/token/sqlstates.hpp"

namespace pg_tenancy {

constexpr int SqlState(const char (&code)[6]) {
	return MAKE_SQLSTATE(code[0], code[1], code[2], code[3], code[4]);
}

} // namespace pg_tenancy

#define PGT_ERRCODE(name) (::pg_tenancy::SqlState(::pg_tenancy::sqlstate::name))
