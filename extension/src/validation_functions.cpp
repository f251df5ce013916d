// validation_functions.cpp: SQL access to the validators the C code uses, so
// table constraints and the context parser share one definition.
extern "C" {
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
}

#include "pg_tenancy/pg_boundary.hpp"
#include "pg_tenancy/context_record.hpp"

PGT_FUNCTION(tenancy_is_valid_permission) {
	text *permission = PG_GETARG_TEXT_PP(0);
	PG_RETURN_BOOL(pg_tenancy::IsValidPermission(VARDATA_ANY(permission), VARSIZE_ANY_EXHDR(permission)));
}

PGT_FUNCTION(tenancy_is_valid_role_code) {
	text *code = PG_GETARG_TEXT_PP(0);
	PG_RETURN_BOOL(pg_tenancy::IsValidRoleCode(VARDATA_ANY(code), VARSIZE_ANY_EXHDR(code)));
}
