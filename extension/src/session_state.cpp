// session_state.cpp: what a session would carry past the end of the current
// transaction, for connection pools: tenancy.session_leftovers() lists it,
// tenancy.assert_session_clean() refuses it (SQLSTATE 55000), and
// tenancy.require_context() proves the transaction still has its context.
//
// A pool runs the last two at every commit, so they read the backend's own
// state directly (settings, portals, prepared statements, locks, LISTEN
// channels) instead of querying the catalog views; only a session that ever
// created a temporary object pays for catalog queries. Listing prepared
// statements or channels costs as much as the rest together (the built-in
// functions build a tuple descriptor and a tuplestore per call), so they are
// listed only after the utility hook saw a SQL PREPARE or a LISTEN that no
// check has seen gone since.
extern "C" {
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type_d.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "storage/lock.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc_tables.h"
#include "utils/portal.h"
#include "utils/tuplestore.h"
}

#include "pg_tenancy/guc.hpp"
#include "pg_tenancy/pg_boundary.hpp"
#include "pg_tenancy/session_state.hpp"
#include "pg_tenancy/sqlstate.hpp"

namespace {

// Set by the utility hook before a SQL PREPARE or LISTEN runs; cleared by a
// check that listed them and found none (so the next check may skip). A LISTEN
// takes effect only when its transaction commits, so a check inside that
// transaction cannot clear the flag: it would see no channel yet.
bool prepared_by_sql_possible = false;
bool listening_possible = false;
LocalTransactionId listen_noted_in = InvalidLocalTransactionId;

struct Leftovers {
	ArrayBuildState *state;
	MemoryContext context;
	int count;
	StringInfoData joined; // "a; b; c", the first kDetailItems, for assert_session_clean()'s detail
};

// A session can hold thousands of temporary objects or LISTEN channels: the
// error names the first few and counts the rest (session_leftovers() lists all).
constexpr int kDetailItems = 20;

void Add(Leftovers &out, const char *prefix, const char *name) {
	CHECK_FOR_INTERRUPTS(); // as many calls as the session made objects; no C++ object is alive here
	MemoryContext caller = MemoryContextSwitchTo(out.context);
	char *item = psprintf("%s %s", prefix, name ? name : "?");
	out.state = accumArrayResult(out.state, CStringGetTextDatum(item), false, TEXTOID, out.context);
	if (out.count < kDetailItems)
		appendStringInfo(&out.joined, "%s%s", out.count ? "; " : "", item);
	out.count++;
	MemoryContextSwitchTo(caller);
}

void CollectSettings(Leftovers &out) {
	struct config_generic **vars = get_guc_variables();
	int count = GetNumConfigOptions();
	for (int i = 0; i < count; i++)
		if (pg_tenancy::SessionSetSurvivesCommit(vars[i]))
			Add(out, "setting", vars[i]->name);
}

// Anything in the session's temporary schema is looked up before pg_catalog
// (tables, types, domains, functions, operators, collations, ...): left behind,
// it could change what the next user's queries mean. Every object created in a
// schema depends on it in pg_depend (objects that belong to another one, like
// indexes or a table's row type, come with it), so one query finds them all,
// whatever their kind. The plan is kept per backend.
constexpr const char *kTemporaryObjectsQuery =
    "SELECT o.type OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) "
    "pg_catalog.replace(pg_catalog.replace(o.identity, n.nspname OPERATOR(pg_catalog.||) '.', ''), 'pg_temp.', '') "
    "FROM pg_catalog.pg_depend AS d JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) d.refobjid, "
    "LATERAL pg_catalog.pg_identify_object(d.classid, d.objid, d.objsubid) AS o "
    "WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass "
    "AND d.refobjid OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema() ORDER BY 1";
SPIPlanPtr temporary_objects_plan = nullptr;

void CollectTemporaryObjects(Leftovers &out) {
	// A session that never created a temporary object has no temporary schema.
	Oid temp_namespace = InvalidOid, temp_toast_namespace = InvalidOid;
	GetTempNamespaceState(&temp_namespace, &temp_toast_namespace);
	if (!OidIsValid(temp_namespace))
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_tenancy: SPI_connect failed");
	if (temporary_objects_plan == nullptr) {
		SPIPlanPtr plan = SPI_prepare(kTemporaryObjectsQuery, 0, nullptr);
		if (plan == nullptr || SPI_keepplan(plan) != 0)
			elog(ERROR, "pg_tenancy: could not prepare the temporary object check");
		temporary_objects_plan = plan;
	}
	int rc = SPI_execute_plan(temporary_objects_plan, nullptr, nullptr, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "pg_tenancy: session check failed: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
		Add(out, "temporary", SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	SPI_finish();
}

// Calls a built-in set-returning function with no arguments and hands each of
// its rows to `row(values, nulls, natts)`, as the executor would (either
// return mode), without SQL.
template <typename Row> void ForEachRow(Oid function, Row &&row) {
	FmgrInfo flinfo;
	fmgr_info(function, &flinfo);
	ReturnSetInfo rsinfo;
	memset(&rsinfo, 0, sizeof rsinfo);
	rsinfo.type = T_ReturnSetInfo;
	rsinfo.econtext = CreateStandaloneExprContext();
	rsinfo.allowedModes = static_cast<int>(SFRM_Materialize | SFRM_ValuePerCall);
	rsinfo.returnMode = SFRM_ValuePerCall;
	rsinfo.isDone = ExprSingleResult;
	LOCAL_FCINFO(fcinfo, 0);
	InitFunctionCallInfoData(*fcinfo, &flinfo, 0, InvalidOid, nullptr, reinterpret_cast<Node *>(&rsinfo));
	for (;;) {
		fcinfo->isnull = false;
		Datum value = FunctionCallInvoke(fcinfo);
		if (rsinfo.returnMode == SFRM_Materialize) {
			if (rsinfo.setResult != nullptr) {
				TupleTableSlot *slot = MakeSingleTupleTableSlot(rsinfo.setDesc, &TTSOpsMinimalTuple);
				while (tuplestore_gettupleslot(rsinfo.setResult, true, false, slot)) {
					slot_getallattrs(slot);
					row(slot->tts_values, slot->tts_isnull, rsinfo.setDesc->natts);
				}
				ExecDropSingleTupleTableSlot(slot);
				tuplestore_end(rsinfo.setResult);
			}
			break;
		}
		if (rsinfo.isDone == ExprEndResult)
			break;
		bool isnull = fcinfo->isnull;
		row(&value, &isnull, 1);
	}
	FreeExprContext(rsinfo.econtext, true);
}

void CollectHoldableCursors(Leftovers &out) {
	// After COMMIT only holdable cursors are left ready; the portal running
	// this check is active. Usually there is none, and nothing to list.
	if (ThereAreNoReadyPortals())
		return;
	ForEachRow(F_PG_CURSOR, [&](Datum *values, bool *nulls, int natts) { // name, statement, is_holdable, ...
		if (natts >= 3 && !nulls[0] && !nulls[2] && DatumGetBool(values[2]))
			Add(out, "holdable cursor", TextDatumGetCString(values[0]));
	});
}

void CollectPreparedStatements(Leftovers &out) {
	if (!prepared_by_sql_possible)
		return;
	// Statements prepared through the protocol (by drivers, like the engine's
	// tenancy_enter) are the driver's business; SQL PREPAREs are the caller's.
	const int before = out.count;
	ForEachRow(F_PG_PREPARED_STATEMENT, [&](Datum *values, bool *nulls, int natts) { // name, …, from_sql
		if (natts >= 5 && !nulls[0] && !nulls[4] && DatumGetBool(values[4]))
			Add(out, "prepared statement", TextDatumGetCString(values[0]));
	});
	prepared_by_sql_possible = out.count != before;
}

void CollectListenChannels(Leftovers &out) {
	if (!listening_possible)
		return;
	const int before = out.count;
	ForEachRow(F_PG_LISTENING_CHANNELS, [&](Datum *values, bool *nulls, int natts) {
		if (natts >= 1 && !nulls[0])
			Add(out, "listening on", TextDatumGetCString(values[0]));
	});
	listening_possible = out.count != before || listen_noted_in == MyProc->lxid;
}

// This backend's advisory locks, from its own lock lists (what pg_locks would
// show for it, without copying every lock in the server).
void CollectAdvisoryLocks(Leftovers &out) {
	for (int partition = 0; partition < NUM_LOCK_PARTITIONS; partition++) {
		LWLock *partition_lock = LockHashPartitionLockByIndex(partition);
		SHM_QUEUE *locks = &MyProc->myProcLocks[partition];
		LWLockAcquire(partition_lock, LW_SHARED);
		for (PROCLOCK *proclock =
		         reinterpret_cast<PROCLOCK *>(SHMQueueNext(locks, locks, offsetof(PROCLOCK, procLink)));
		     proclock != nullptr; proclock = reinterpret_cast<PROCLOCK *>(
		                              SHMQueueNext(locks, &proclock->procLink, offsetof(PROCLOCK, procLink)))) {
			const LOCKTAG &tag = proclock->tag.myLock->tag;
			if (tag.locktag_type == LOCKTAG_ADVISORY && proclock->holdMask != 0)
				Add(out, "advisory lock", psprintf("%u", tag.locktag_field3)); // pg_locks' objid
		}
		LWLockRelease(partition_lock);
	}
}

// The array of leftovers (empty when the session is clean), in `context`.
Leftovers CollectLeftovers(MemoryContext context) {
	Leftovers out{initArrayResult(TEXTOID, context, false), context, 0, {}};
	MemoryContext caller = MemoryContextSwitchTo(context);
	initStringInfo(&out.joined);
	MemoryContextSwitchTo(caller);
	CollectSettings(out);
	CollectTemporaryObjects(out);
	CollectHoldableCursors(out);
	CollectPreparedStatements(out);
	CollectAdvisoryLocks(out);
	CollectListenChannels(out);
	return out;
}

} // namespace

namespace pg_tenancy {

void NotePrepareBySql() {
	prepared_by_sql_possible = true;
}

void NoteListen() {
	listening_possible = true;
	listen_noted_in = MyProc->lxid;
}

} // namespace pg_tenancy

PGT_FUNCTION(tenancy_session_leftovers) {
	Leftovers leftovers = CollectLeftovers(CurrentMemoryContext);
	PG_RETURN_DATUM(makeArrayResult(leftovers.state, CurrentMemoryContext));
}

PGT_FUNCTION(tenancy_assert_session_clean) {
	Leftovers leftovers = CollectLeftovers(CurrentMemoryContext);
	if (leftovers.count == 0)
		PG_RETURN_VOID();
	if (leftovers.count > kDetailItems)
		appendStringInfo(&leftovers.joined, "; and %d more (see tenancy.session_leftovers())",
		                 leftovers.count - kDetailItems);
	ereport(ERROR, (errcode(PGT_ERRCODE(kSessionCarriesState)),
	                errmsg("this session carries state past the transaction"), errdetail("%s", leftovers.joined.data),
	                errhint("A pooled connection must not keep session state; discard it.")));
	PG_RETURN_VOID();
}

PGT_FUNCTION(tenancy_require_context) {
	if (pg_tenancy::CurrentContext() == nullptr)
		ereport(ERROR, (errcode(PGT_ERRCODE(kNoTenantContext)),
		                errmsg("no tenant context is active: the transaction ended or left its context early")));
	PG_RETURN_VOID();
}
