// validation_functions.cpp: SQL access to the validators the C code uses, so
// table constraints and the context parser share one definition.
extern "C" {
#include "postgres.h"

#include "catalog/pg_type_d.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
}

#include <cstdlib>
#include <cstring>

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

namespace {

// Bounds on tenancy.permissions_cover()'s input: a role holds at most
// kMaxPermissions permissions (create_role() and update_role() refuse more),
// and no valid permission is longer than 100 bytes.
constexpr int kMaxPermissions = 1000;
constexpr int kMaxPermissionBytes = 256;

struct Item {
	const char *data;
	int len;
};

int CompareItems(const void *a, const void *b) {
	const Item *x = static_cast<const Item *>(a), *y = static_cast<const Item *>(b);
	int common = x->len < y->len ? x->len : y->len;
	int order = memcmp(x->data, y->data, common);
	return order != 0 ? order : (x->len > y->len) - (x->len < y->len);
}

// The array's non-NULL elements as items, or an error naming the limits.
Item *ItemsOf(ArrayType *array, const char *which, int *count, bool *any_null) {
	if (ARR_NDIM(array) > 1)
		ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
		                errmsg("tenancy.permissions_cover(): %s must be a one-dimensional array", which)));
	if (ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array)) > kMaxPermissions)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
		                errmsg("tenancy.permissions_cover(): %s has more than %d permissions", which, kMaxPermissions),
		                errhint("A role holds at most %d permissions.", kMaxPermissions)));
	Datum *values;
	bool *nulls;
	int n;
	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &values, &nulls, &n);
	Item *items = static_cast<Item *>(palloc(sizeof(Item) * (n > 0 ? n : 1)));
	int kept = 0;
	*any_null = false;
	for (int i = 0; i < n; i++) {
		if (nulls[i]) {
			*any_null = true;
			continue;
		}
		text *value = DatumGetTextPP(values[i]);
		int len = VARSIZE_ANY_EXHDR(value);
		if (len > kMaxPermissionBytes)
			ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			                errmsg("tenancy.permissions_cover(): a permission in %s is longer than %d bytes", which,
			                       kMaxPermissionBytes)));
		items[kept++] = Item{VARDATA_ANY(value), len};
	}
	*count = kept;
	return items;
}

bool Holds(const Item *sorted, int count, const char *data, int len) {
	Item key{data, len};
	return bsearch(&key, sorted, count, sizeof(Item), CompareItems) != nullptr;
}

} // namespace

// tenancy.permissions_cover(granted text[], wanted text[]): is every wanted
// permission covered by some granted one? The rule of PermissionCovers() (the
// one has_permission() uses): "*", an exact match, or "P.*" for a wanted
// permission that starts with "P." and is longer. Sorted granted set and binary
// search: O((granted + wanted × dots) log granted), interruptible, bounded input.
PGT_FUNCTION(tenancy_permissions_cover) {
	int granted_count, wanted_count;
	bool granted_null, wanted_null;
	Item *granted = ItemsOf(PG_GETARG_ARRAYTYPE_P(0), "granted", &granted_count, &granted_null);
	Item *wanted = ItemsOf(PG_GETARG_ARRAYTYPE_P(1), "wanted", &wanted_count, &wanted_null);
	if (wanted_null)
		PG_RETURN_BOOL(false);
	qsort(granted, granted_count, sizeof(Item), CompareItems);
	if (Holds(granted, granted_count, "*", 1))
		PG_RETURN_BOOL(true);
	char *candidate = static_cast<char *>(palloc(kMaxPermissionBytes + 2));
	for (int w = 0; w < wanted_count; w++) {
		CHECK_FOR_INTERRUPTS();
		const Item &want = wanted[w];
		bool covered = Holds(granted, granted_count, want.data, want.len);
		// "P.*" for every "P." that starts the wanted permission and is shorter.
		for (int dot = 0; dot + 1 < want.len && !covered; dot++) {
			if (want.data[dot] != '.')
				continue;
			memcpy(candidate, want.data, dot + 1);
			candidate[dot + 1] = '*';
			covered = Holds(granted, granted_count, candidate, dot + 2);
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
