// probe_functions.cpp: tenancy.probe_run(role, statement, arg, seeding), the
// sandbox tenancy.probe() runs each of its steps in.
//
// The probe is called by a superuser but must look at the tables exactly as
// the application role does, and must never let code that role controls act
// with superuser rights. SET ROLE is no boundary for that (the session user
// stays a superuser, so any function can RESET ROLE). This runs one statement
// the way PostgreSQL runs index expressions and REFRESH MATERIALIZED VIEW: with
// the role as the current user inside a security-restricted operation, where
// SET ROLE, RESET ROLE and SET SESSION AUTHORIZATION are refused. When seeding,
// the role is the table's owner and SECURITY_NOFORCE_RLS lets it write the
// synthetic rows of both organizations past its own forced policies.
extern "C" {
#include "postgres.h"

#include "access/tupdesc.h"
#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
}

#include "pg_tenancy/pg_boundary.hpp"

namespace {

// The single bigint a statement such as SELECT count(*) returns, else the
// number of rows it returned or changed.
int64 StatementResult() {
	if (SPI_tuptable && SPI_processed == 1 && SPI_tuptable->tupdesc->natts == 1 &&
	    TupleDescAttr(SPI_tuptable->tupdesc, 0)->atttypid == INT8OID) {
		bool isnull = false;
		Datum value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		return isnull ? 0 : DatumGetInt64(value);
	}
	return static_cast<int64>(SPI_processed);
}

} // namespace

PGT_FUNCTION(tenancy_probe_run) {
	// Switching to any role is the most powerful thing pg_tenancy does: only a
	// superuser session (not SET ROLE to one) may ask for it.
	if (!superuser() || !superuser_arg(GetSessionUserId()))
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("tenancy.probe_run() is for superusers"),
		                errhint("Run tenancy.probe() in a superuser session.")));
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
		                errmsg("tenancy.probe_run() needs a role, a statement and the seeding flag")));
	Oid role = PG_GETARG_OID(0);
	char *statement = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Oid arg_types[1] = {UUIDOID};
	Datum arg_values[1] = {PG_ARGISNULL(2) ? static_cast<Datum>(0) : PG_GETARG_DATUM(2)};
	char arg_nulls[1] = {PG_ARGISNULL(2) ? 'n' : ' '};
	bool seeding = PG_GETARG_BOOL(3);

	Oid saved_user = InvalidOid;
	int saved_context = 0;
	GetUserIdAndSecContext(&saved_user, &saved_context);
	int context = saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION;
	if (seeding)
		context |= SECURITY_NOFORCE_RLS;
	int64 result = 0;
	SetUserIdAndSecContext(role, context);
	int guc_level = NewGUCNestLevel();
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "pg_tenancy: SPI_connect failed");
		if (SPI_execute_with_args(statement, 1, arg_types, arg_values, arg_nulls, false, 0) < 0)
			elog(ERROR, "pg_tenancy: the probe statement could not run");
		result = StatementResult();
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
	PG_RETURN_INT64(result);
}
