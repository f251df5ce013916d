// probe_functions.cpp: the sandbox tenancy.probe() runs each of its steps in.
//
//   tenancy.probe_run(role, statement, arg, seeding)  one statement; its count
//   tenancy.probe_lookup(role, query)                 one value, as text
//
// The probe is called by a superuser but must look at the tables exactly as
// the application role does, and must never let code another role controls
// act with superuser rights. SET ROLE is no boundary for that (the session user
// stays a superuser, so any function can RESET ROLE). These run one statement
// the way PostgreSQL runs index expressions and REFRESH MATERIALIZED VIEW: with
// the role as the current user inside a security-restricted operation, where
// SET ROLE, RESET ROLE and SET SESSION AUTHORIZATION are refused.
//
// Seeding and look-ups run as a table's owner, with SECURITY_NOFORCE_RLS so it
// can write and read both synthetic organizations past its own forced
// policies. They never run as a superuser: a restricted operation does not take
// a superuser's other powers away, so code attached to a superuser's table
// (a trigger, a default, a cast) would act with them.
extern "C" {
#include "postgres.h"

#include "access/tupdesc.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
}

#include "pg_tenancy/pg_boundary.hpp"

namespace {

struct SandboxResult {
	int64 count;       // the single bigint a SELECT count(*) returns, else the rows returned or changed
	char *first_value; // the first column of the first row as text (NULL if none), in the caller's context
};

void RequireSuperuserSession(const char *function) {
	// Switching to any role is the most powerful thing pg_tenancy does: only a
	// superuser session (not SET ROLE to one) may ask for it.
	if (!superuser() || !superuser_arg(GetSessionUserId()))
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("%s is for superusers", function),
		                errhint("Run tenancy.probe() in a superuser session.")));
}

void RequireRole(Oid role, bool as_owner) {
	if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(role)))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("role with OID %u does not exist", role)));
	if (as_owner && superuser_arg(role))
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
		                errmsg("the probe does not write or read tables as a superuser"),
		                errhint("Give tenant tables a non-superuser owner (a migration role).")));
}

void RunSandboxed(Oid role, const char *statement, Datum arg, bool arg_null, bool as_owner, SandboxResult *out) {
	Oid arg_types[1] = {UUIDOID};
	Datum arg_values[1] = {arg};
	char arg_nulls[1] = {arg_null ? 'n' : ' '};
	MemoryContext caller_context = CurrentMemoryContext;
	Oid saved_user = InvalidOid;
	int saved_context = 0;
	GetUserIdAndSecContext(&saved_user, &saved_context);
	int context = saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION;
	if (as_owner)
		context |= SECURITY_NOFORCE_RLS;
	out->count = 0;
	out->first_value = nullptr;
	SetUserIdAndSecContext(role, context);
	int guc_level = NewGUCNestLevel();
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "pg_tenancy: SPI_connect failed");
		SPIPlanPtr plan = SPI_prepare(statement, 1, arg_types);
		if (plan == nullptr)
			ereport(ERROR,
			        (errcode(ERRCODE_SYNTAX_ERROR), errmsg("pg_tenancy: the probe statement could not be prepared: %s",
			                                               SPI_result_code_string(SPI_result))));
		if (list_length(SPI_plan_get_plan_sources(plan)) != 1)
			ereport(ERROR,
			        (errcode(ERRCODE_SYNTAX_ERROR), errmsg("pg_tenancy: a probe step is exactly one statement")));
		int rc = SPI_execute_plan(plan, arg_values, arg_nulls, false, 0);
		if (rc < 0)
			ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			                errmsg("pg_tenancy: the probe statement cannot run here: %s", SPI_result_code_string(rc))));
		out->count = static_cast<int64>(SPI_processed);
		if (SPI_tuptable && SPI_processed >= 1 && SPI_tuptable->tupdesc->natts >= 1) {
			TupleDesc desc = SPI_tuptable->tupdesc;
			bool isnull = false;
			Datum first = SPI_getbinval(SPI_tuptable->vals[0], desc, 1, &isnull);
			if (SPI_processed == 1 && desc->natts == 1 && TupleDescAttr(desc, 0)->atttypid == INT8OID)
				out->count = isnull ? 0 : DatumGetInt64(first);
			char *text = SPI_getvalue(SPI_tuptable->vals[0], desc, 1);
			if (text)
				out->first_value = MemoryContextStrdup(caller_context, text);
		}
		SPI_finish();
	}
	PG_CATCH();
	{
		// The (sub)transaction abort that follows restores the settings.
		SetUserIdAndSecContext(saved_user, saved_context);
		PG_RE_THROW();
	}
	PG_END_TRY();
	AtEOXact_GUC(false, guc_level);
	SetUserIdAndSecContext(saved_user, saved_context);
}

} // namespace

// tenancy.probe_run(role, statement, arg, seeding): the count of one statement
// ($1 = arg), run as `role`; seeding = as the table's owner.
PGT_FUNCTION(tenancy_probe_run) {
	RequireSuperuserSession("tenancy.probe_run()");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
		                errmsg("tenancy.probe_run() needs a role, a statement and the seeding flag")));
	Oid role = PG_GETARG_OID(0);
	bool seeding = PG_GETARG_BOOL(3);
	RequireRole(role, seeding);
	SandboxResult result;
	RunSandboxed(role, text_to_cstring(PG_GETARG_TEXT_PP(1)),
	             PG_ARGISNULL(2) ? static_cast<Datum>(0) : PG_GETARG_DATUM(2), PG_ARGISNULL(2), seeding, &result);
	PG_RETURN_INT64(result.count);
}

// tenancy.probe_lookup(owner, query): the first value a query returns, as
// text, read as a table's owner (NULL if no row).
PGT_FUNCTION(tenancy_probe_lookup) {
	RequireSuperuserSession("tenancy.probe_lookup()");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
		        (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("tenancy.probe_lookup() needs a role and a query")));
	Oid role = PG_GETARG_OID(0);
	RequireRole(role, true);
	SandboxResult result;
	RunSandboxed(role, text_to_cstring(PG_GETARG_TEXT_PP(1)), static_cast<Datum>(0), true, true, &result);
	if (!result.first_value)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(result.first_value));
}
