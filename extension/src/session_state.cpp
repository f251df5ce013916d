// session_state.cpp: tenancy.session_leftovers(), what a session would carry
// past the end of the current transaction. A connection pool calls it before
// COMMIT and discards the connection unless the answer is empty.
extern "C" {
#include "postgres.h"

#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc_tables.h"
}

#include "pg_tenancy/pg_boundary.hpp"

namespace {

// Would this setting's value after COMMIT come from a session-level SET?
// Walks the GUC stack the way AtEOXact_GUC will: a plain SET at any level
// survives; SET LOCAL and function SET clauses fall back to the prior value.
bool SessionSetSurvivesCommit(const struct config_generic *var) {
	if (var->stack == nullptr)
		return var->source == PGC_S_SESSION;
	const GucStack *bottom = var->stack;
	for (const GucStack *entry = var->stack; entry != nullptr; entry = entry->prev) {
		if (entry->state == GUC_SET || entry->state == GUC_SET_LOCAL)
			return true;
		bottom = entry;
	}
	return bottom->source == PGC_S_SESSION;
}

void AddQueryResults(ArrayBuildState **state, const char *prefix, const char *query) {
	int rc = SPI_execute(query, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "pg_tenancy: session check failed: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++) {
		char *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		*state = accumArrayResult(*state, CStringGetTextDatum(psprintf("%s %s", prefix, name ? name : "?")), false,
		                          TEXTOID, CurrentMemoryContext);
	}
}

} // namespace

PGT_FUNCTION(tenancy_session_leftovers) {
	MemoryContext caller = CurrentMemoryContext;
	ArrayBuildState *state = initArrayResult(TEXTOID, caller, false);

	struct config_generic **vars = get_guc_variables();
	int count = GetNumConfigOptions();
	for (int i = 0; i < count; i++)
		if (SessionSetSurvivesCommit(vars[i]))
			state = accumArrayResult(state, CStringGetTextDatum(psprintf("setting %s", vars[i]->name)), false, TEXTOID,
			                         caller);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_tenancy: SPI_connect failed");
	MemoryContext spi = MemoryContextSwitchTo(caller);
	AddQueryResults(&state, "temporary table",
	                "SELECT c.relname::pg_catalog.text FROM pg_catalog.pg_class AS c "
	                "WHERE c.relnamespace OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema() AND c.relkind "
	                "OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p', 'v', 'm', 'S', 'f']::\"char\"[]) ORDER BY 1");
	// Temporary types and functions are looked up before pg_catalog's: left
	// behind, they could change what the next user's queries mean.
	AddQueryResults(&state, "temporary type",
	                "SELECT t.typname::pg_catalog.text FROM pg_catalog.pg_type AS t "
	                "WHERE t.typnamespace OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema() AND t.typrelid "
	                "OPERATOR(pg_catalog.=) 0 AND t.typcategory OPERATOR(pg_catalog.<>) 'A' ORDER BY 1");
	AddQueryResults(&state, "temporary function",
	                "SELECT p.proname::pg_catalog.text FROM pg_catalog.pg_proc AS p "
	                "WHERE p.pronamespace OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema() ORDER BY 1");
	AddQueryResults(&state, "holdable cursor", "SELECT name FROM pg_catalog.pg_cursors WHERE is_holdable ORDER BY 1");
	AddQueryResults(&state, "prepared statement",
	                "SELECT name FROM pg_catalog.pg_prepared_statements WHERE from_sql ORDER BY 1");
	AddQueryResults(&state, "advisory lock",
	                "SELECT objid::pg_catalog.text FROM pg_catalog.pg_locks WHERE locktype OPERATOR(pg_catalog.=) "
	                "'advisory' AND pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid() ORDER BY 1");
	AddQueryResults(&state, "listening on", "SELECT c FROM pg_catalog.pg_listening_channels() AS c ORDER BY 1");
	MemoryContextSwitchTo(spi);
	SPI_finish();

	PG_RETURN_DATUM(makeArrayResult(state, caller));
}
