// pipelined_start.hpp: the first statement of a tenant transaction, sent in one
// round trip with BEGIN and SELECT tenancy.enter($1) (libpq pipeline mode).
//
// libpqxx 6.4 (Debian 12) has no pipeline API, so this one exchange goes
// through libpq on the connection's own PGconn; everything before and after it
// goes through libpqxx as usual.
#pragma once

#include <string>
#include <vector>

#include <pqxx/connection>
#include <pqxx/result>

#include "pg_tenancy/engine/tenant_transaction.hpp"

namespace pg_tenancy::engine::detail {

struct PipelinedStart {
	std::string begin_sql;  // "BEGIN" or "BEGIN ISOLATION LEVEL ..."
	std::string token;      // the context token, always a bind parameter
	bool enter_prepared;    // use the statement prepared as "tenancy_enter"
	std::string statement;  // the transaction's first statement (one command)
	StatementParams params; // its parameters
};

// Sends the three parts and one Sync, then reads every result. Returns the
// statement's result; throws what libpqxx would throw for the first part that
// failed (pqxx::sql_error with its SQLSTATE, pqxx::broken_connection).
pqxx::result ExecPipelinedStart(pqxx::connection_base &connection, const PipelinedStart &start);

} // namespace pg_tenancy::engine::detail
