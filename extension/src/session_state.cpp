// session_state.cpp: tenancy.session_leftovers(), what a session would carry
// past the end of the current transaction. A connection pool calls it before
// COMMIT and discards the connection unless the answer is empty.
extern "C" {
#include "postgres.h"

#include "catalog/namespace.h"
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

// The checks run at every commit of a pooled connection, so their plans are
// prepared once per backend and kept.
struct Check {
	const char *prefix;
	const char *query;
	SPIPlanPtr plan;
};

Check temp_checks[] = {
    {"temporary table",
     "SELECT c.relname::pg_catalog.text FROM pg_catalog.pg_class AS c "
     "WHERE c.relnamespace OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema() AND c.relkind "
     "OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p', 'v', 'm', 'S', 'f']::\"char\"[]) ORDER BY 1",
     nullptr},
    // Temporary types and functions are looked up before pg_catalog's: left
    // behind, they could change what the next user's queries mean.
    {"temporary type",
     "SELECT t.typname::pg_catalog.text FROM pg_catalog.pg_type AS t "
     "WHERE t.typnamespace OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema() AND t.typrelid "
     "OPERATOR(pg_catalog.=) 0 AND t.typcategory OPERATOR(pg_catalog.<>) 'A' ORDER BY 1",
     nullptr},
    {"temporary function",
     "SELECT p.proname::pg_catalog.text FROM pg_catalog.pg_proc AS p "
     "WHERE p.pronamespace OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema() ORDER BY 1",
     nullptr},
};

Check session_checks[] = {
    {"holdable cursor", "SELECT name FROM pg_catalog.pg_cursors WHERE is_holdable ORDER BY 1", nullptr},
    {"prepared statement", "SELECT name FROM pg_catalog.pg_prepared_statements WHERE from_sql ORDER BY 1", nullptr},
    {"advisory lock",
     "SELECT objid::pg_catalog.text FROM pg_catalog.pg_locks WHERE locktype OPERATOR(pg_catalog.=) "
     "'advisory' AND pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid() ORDER BY 1",
     nullptr},
    {"listening on", "SELECT c FROM pg_catalog.pg_listening_channels() AS c ORDER BY 1", nullptr},
};

void RunCheck(ArrayBuildState **state, Check &check, MemoryContext result_context) {
	if (check.plan == nullptr) {
		SPIPlanPtr plan = SPI_prepare(check.query, 0, nullptr);
		if (plan == nullptr || SPI_keepplan(plan) != 0)
			elog(ERROR, "pg_tenancy: could not prepare the session check \"%s\"", check.prefix);
		check.plan = plan;
	}
	int rc = SPI_execute_plan(check.plan, nullptr, nullptr, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "pg_tenancy: session check failed: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++) {
		char *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		MemoryContext spi = MemoryContextSwitchTo(result_context);
		*state = accumArrayResult(*state, CStringGetTextDatum(psprintf("%s %s", check.prefix, name ? name : "?")),
		                          false, TEXTOID, result_context);
		MemoryContextSwitchTo(spi);
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
	// A session that never created a temporary object has no temporary schema:
	// then the catalog scans for them can be skipped.
	Oid temp_namespace = InvalidOid, temp_toast_namespace = InvalidOid;
	GetTempNamespaceState(&temp_namespace, &temp_toast_namespace);
	if (OidIsValid(temp_namespace))
		for (Check &check : temp_checks)
			RunCheck(&state, check, caller);
	for (Check &check : session_checks)
		RunCheck(&state, check, caller);
	SPI_finish();

	PG_RETURN_DATUM(makeArrayResult(state, caller));
}
