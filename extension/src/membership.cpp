// membership.cpp: the look-ups behind tenancy.enter(). They run once per
// transaction, so they read the tables directly through their unique indexes
// (no SPI, no executor start-up), with the latest committed snapshot: under
// REPEATABLE READ a membership removed after the transaction's snapshot was
// taken must not count. tenancy.enter() is SECURITY DEFINER; these scans check
// no privileges of their own.
extern "C" {
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"
}

#include <cstdlib>
#include <cstring>

#include "pg_tenancy/membership.hpp"

namespace {

Oid TenancyRelation(const char *name) {
	Oid schema = get_namespace_oid("tenancy", false);
	Oid relid = get_relname_relid(name, schema);
	if (!OidIsValid(relid))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("pg_tenancy: relation tenancy.%s is missing", name),
		                errhint("Reinstall the extension: DROP EXTENSION pg_tenancy; CREATE EXTENSION pg_tenancy;")));
	return relid;
}

AttrNumber Column(Oid relid, const char *name) {
	AttrNumber attnum = get_attnum(relid, name);
	if (attnum == InvalidAttrNumber)
		elog(ERROR, "pg_tenancy: column %s of %s is missing", name, get_rel_name(relid));
	return attnum;
}

Datum UuidDatum(const std::uint8_t bytes[16]) {
	auto *uuid = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
	std::memcpy(uuid->data, bytes, UUID_LEN);
	return UUIDPGetDatum(uuid);
}

// Calls `use` with the one row of `table` whose unique index `index` matches
// the uuid `keys` on `columns`, or with nullptr. The tuple is only valid
// during the call.
template <typename Use>
void FetchUnique(const char *table, const char *index, const char *const *columns, const std::uint8_t *const *keys,
                 int nkeys, Use &&use) {
	Oid table_oid = TenancyRelation(table);
	Oid index_oid = TenancyRelation(index);
	ScanKeyData scan_keys[2];
	for (int i = 0; i < nkeys; i++) // systable scans take heap attribute numbers
		ScanKeyInit(&scan_keys[i], Column(table_oid, columns[i]), BTEqualStrategyNumber, F_UUID_EQ, UuidDatum(keys[i]));
	Relation rel = table_open(table_oid, AccessShareLock);
	Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
	SysScanDesc scan = systable_beginscan(rel, index_oid, true, snapshot, nkeys, scan_keys);
	HeapTuple tuple = systable_getnext(scan);
	use(rel, HeapTupleIsValid(tuple) ? tuple : nullptr);
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
}

int CompareStrings(const void *a, const void *b) {
	return std::strcmp(*static_cast<char *const *>(a), *static_cast<char *const *>(b));
}

// The permission strings of a jsonb array, sorted, comma-separated.
char *PermissionList(Jsonb *permissions) {
	int count = JB_ROOT_COUNT(permissions);
	char **items = static_cast<char **>(palloc(sizeof(char *) * (count > 0 ? count : 1)));
	int n = 0;
	JsonbIterator *it = JsonbIteratorInit(&permissions->root);
	JsonbValue value;
	JsonbIteratorToken token;
	while ((token = JsonbIteratorNext(&it, &value, true)) != WJB_DONE)
		if (token == WJB_ELEM && value.type == jbvString && n < count)
			items[n++] = pnstrdup(value.val.string.val, value.val.string.len);
	qsort(items, n, sizeof(char *), CompareStrings);
	StringInfoData list;
	initStringInfo(&list);
	for (int i = 0; i < n; i++)
		appendStringInfo(&list, "%s%s", i ? "," : "", items[i]);
	return list.data;
}

} // namespace

namespace pg_tenancy {

void LookupMembership(const std::uint8_t user[16], const std::uint8_t org[16], MembershipInfo *info) {
	std::memset(info, 0, sizeof *info);
	std::uint8_t role[16];
	bool member = false;
	const char *membership_columns[2] = {"organization_id", "user_id"};
	const std::uint8_t *membership_keys[2] = {org, user};
	FetchUnique("memberships", "memberships_one_per_user", membership_columns, membership_keys, 2,
	            [&](Relation rel, HeapTuple tuple) {
		            if (tuple == nullptr)
			            return;
		            bool isnull = false;
		            Datum role_id =
		                heap_getattr(tuple, Column(RelationGetRelid(rel), "role_id"), RelationGetDescr(rel), &isnull);
		            if (isnull)
			            return;
		            std::memcpy(role, DatumGetUUIDP(role_id)->data, UUID_LEN);
		            member = true;
	            });
	if (!member)
		return;
	const char *id_column[1] = {"id"};
	const std::uint8_t *role_keys[1] = {role};
	FetchUnique("roles", "roles_pkey", id_column, role_keys, 1, [&](Relation rel, HeapTuple tuple) {
		if (tuple == nullptr)
			return; // the foreign key makes this impossible; treat as not a member
		TupleDesc desc = RelationGetDescr(rel);
		Oid relid = RelationGetRelid(rel);
		bool code_null = false, permissions_null = false;
		Datum code = heap_getattr(tuple, Column(relid, "code"), desc, &code_null);
		Datum permissions = heap_getattr(tuple, Column(relid, "permissions"), desc, &permissions_null);
		if (code_null || permissions_null)
			return;
		char *role_code = TextDatumGetCString(code);
		char *role_id = DatumGetCString(DirectFunctionCall1(uuid_out, UuidDatum(role)));
		strlcpy(info->role_id, role_id, sizeof info->role_id);
		strlcpy(info->role_code, role_code, sizeof info->role_code);
		info->permissions = PermissionList(DatumGetJsonbP(permissions));
		info->found = true;
	});
}

bool UserExists(const std::uint8_t user[16]) {
	bool found = false;
	const char *id_column[1] = {"id"};
	const std::uint8_t *keys[1] = {user};
	FetchUnique("users", "users_pkey", id_column, keys, 1,
	            [&](Relation, HeapTuple tuple) { found = tuple != nullptr; });
	return found;
}

} // namespace pg_tenancy
