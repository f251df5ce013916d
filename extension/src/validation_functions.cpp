// validation_functions.cpp: SQL access to the validators the C code uses, so
// table constraints and the context parser share one definition.
extern "C" {
#include "postgres.h"

#include "catalog/pg_type_d.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
}

#include "pg_tenancy/pg_boundary.hpp"
#include "pg_tenancy/context_record.hpp"
#include "pg_tenancy/token_check.hpp"

PGT_FUNCTION(tenancy_is_valid_permission) {
	text *permission = PG_GETARG_TEXT_PP(0);
	PG_RETURN_BOOL(pg_tenancy::IsValidPermission(VARDATA_ANY(permission), VARSIZE_ANY_EXHDR(permission)));
}

PGT_FUNCTION(tenancy_is_valid_role_code) {
	text *code = PG_GETARG_TEXT_PP(0);
	PG_RETURN_BOOL(pg_tenancy::IsValidRoleCode(VARDATA_ANY(code), VARSIZE_ANY_EXHDR(code)));
}

// tenancy.permissions_cover(granted text[], wanted text[]): is every wanted
// permission covered by some granted one? The same rule has_permission() uses.
PGT_FUNCTION(tenancy_permissions_cover) {
	ArrayType *granted = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType *wanted = PG_GETARG_ARRAYTYPE_P(1);
	Datum *granted_items, *wanted_items;
	bool *granted_nulls, *wanted_nulls;
	int granted_count, wanted_count;
	deconstruct_array(granted, TEXTOID, -1, false, TYPALIGN_INT, &granted_items, &granted_nulls, &granted_count);
	deconstruct_array(wanted, TEXTOID, -1, false, TYPALIGN_INT, &wanted_items, &wanted_nulls, &wanted_count);
	for (int w = 0; w < wanted_count; w++) {
		if (wanted_nulls[w])
			PG_RETURN_BOOL(false);
		text *want = DatumGetTextPP(wanted_items[w]);
		bool covered = false;
		for (int g = 0; g < granted_count && !covered; g++) {
			if (granted_nulls[g])
				continue;
			text *have = DatumGetTextPP(granted_items[g]);
			covered = pg_tenancy::PermissionCovers(VARDATA_ANY(have), VARSIZE_ANY_EXHDR(have), VARDATA_ANY(want),
			                                       VARSIZE_ANY_EXHDR(want));
		}
		if (!covered)
			PG_RETURN_BOOL(false);
	}
	PG_RETURN_BOOL(true);
}

// tenancy.new_secret_token(): "tinv_" || 256 bits from OpenSSL's CSPRNG,
// base64url. For invitation tokens; never a JWS, so never a context token.
PGT_FUNCTION(tenancy_new_secret_token) {
	char token[96];
	if (!pg_tenancy::NewSecretToken(token, sizeof token))
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("the random number generator is unavailable")));
	PG_RETURN_TEXT_P(cstring_to_text(token));
}
