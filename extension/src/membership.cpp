// membership.cpp: the look-ups behind tenancy.enter(). They run once per
// transaction, so they read the tables directly through their unique indexes
// (no SPI, no executor start-up, no name look-ups: the relations, indexes and
// columns are resolved once per backend, from the system catalogs, and
// forgotten when the relation cache says any of them changed), with the latest
// committed snapshot: under REPEATABLE READ a membership removed after the
// transaction's snapshot was taken must not count. Table scans check no
// privileges, so tenancy.enter() needs no SECURITY DEFINER.
//
// Answers come from this backend's cache first, then from the one every
// backend shares, and only then from the tables: so a new backend's first
// enter() for a membership another backend has read builds no relation cache
// entry for these tables.
extern "C" {
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/uuid.h"
}

#include <cstdlib>
#include <cstring>
#include <utility>

#include "pg_tenancy/membership.hpp"
#include "pg_tenancy/membership_cache.hpp"
#include "pg_tenancy/membership_generation.hpp"
#include "pg_tenancy/shared_membership_cache.hpp"

namespace {

// What the look-ups need to know about pg_tenancy's tables, per backend.
struct TenancyCatalog {
	Oid memberships, memberships_by_org_user, roles, roles_pkey, users, users_pkey;
	AttrNumber membership_org, membership_user, membership_role;
	AttrNumber role_id, role_code, role_permissions;
	// All three tables carry the enabled change triggers, so the cache may be
	// used (not with the library newer than the installed extension, nor with a
	// trigger disabled: either change invalidates the relation cache).
	bool change_triggers;
	// Recorded for the shared cache (RecordSharedCatalog(); 0: not): this
	// backend may share what it reads and use what others shared.
	std::uint64_t shared_record;
	// The syscache hash values of the functions those triggers call: replacing
	// one (CREATE OR REPLACE FUNCTION) invalidates no relation, only these.
	static constexpr int kMaxTriggerFunctions = 8;
	uint32 function_hashes[kMaxTriggerFunctions];
	int function_count;
};

TenancyCatalog catalog;
bool catalog_valid = false;
// The relations Catalog() is reading while it fills `catalog` in, so that an
// invalidation of one of them then is not lost (and others do not count).
TenancyCatalog filling;
// Bumped by every invalidation that concerns the catalog above, so one that
// arrives while it is being filled in (opening relations accepts them) is not lost.
uint64 catalog_invalidations = 0;

bool IsRelationOf(const TenancyCatalog &c, Oid relid) {
	return relid == c.memberships || relid == c.memberships_by_org_user || relid == c.roles || relid == c.roles_pkey ||
	       relid == c.users || relid == c.users_pkey;
}

bool IsFunctionOf(const TenancyCatalog &c, uint32 hash) {
	for (int i = 0; i < c.function_count; i++)
		if (c.function_hashes[i] == hash)
			return true;
	return false;
}

// An invalidation that concerns the shared cache retires all of it, in every
// backend of the database that takes it in (see RecordSharedCatalog()).
void InvalidateTriggerFunction(Datum, int, uint32 hash) {
	if (pg_tenancy::SharedCatalogCoversFunction(hash))
		pg_tenancy::SharedCatalogChanged();
	if (hash == 0 || IsFunctionOf(catalog, hash) || (!catalog_valid && IsFunctionOf(filling, hash))) {
		catalog_valid = false;
		catalog_invalidations++;
		pg_tenancy::ForgetCachedMemberships();
	}
}

// Catalog() is about to rely on `function`: from now on, a change to it
// invalidates what it fills in.
void WatchTriggerFunction(Oid function) {
	const uint32 hash = GetSysCacheHashValue1(PROCOID, ObjectIdGetDatum(function));
	if (!IsFunctionOf(filling, hash) && filling.function_count < TenancyCatalog::kMaxTriggerFunctions)
		filling.function_hashes[filling.function_count++] = hash;
}

void InvalidateCatalog(Datum, Oid relid) {
	if (pg_tenancy::SharedCatalogCoversRelation(relid))
		pg_tenancy::SharedCatalogChanged();
	// While Catalog() is being filled, `catalog` does not yet name the tables it
	// is opening, `filling` does: a trigger disabled meanwhile cannot be missed.
	if (relid == InvalidOid || IsRelationOf(catalog, relid) || (!catalog_valid && IsRelationOf(filling, relid))) {
		catalog_valid = false;
		catalog_invalidations++;
		pg_tenancy::ForgetCachedMemberships();
	}
}

Oid TenancyRelation(Oid schema, const char *name) {
	Oid relid = OidIsValid(schema) ? get_relname_relid(name, schema) : InvalidOid;
	if (!OidIsValid(relid))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("pg_tenancy: relation tenancy.%s is missing", name),
		                errhint("Reinstall the extension: DROP EXTENSION pg_tenancy; CREATE EXTENSION pg_tenancy;")));
	return relid;
}

// The column `name` of the relation `relid`, from the system catalogs: a new
// backend need not build the relation's cache entry (with its triggers,
// policies and constraints) to learn it.
AttrNumber Column(Oid relid, const char *name) {
	const AttrNumber attnum = get_attnum(relid, name);
	if (attnum == InvalidAttrNumber)
		elog(ERROR, "pg_tenancy: column %s of %s is missing", name, get_rel_name(relid));
	return attnum;
}

// The same for an open relation, from its tuple descriptor.
AttrNumber Column(Relation rel, const char *name) {
	const TupleDesc desc = RelationGetDescr(rel);
	for (int i = 0; i < desc->natts; i++) {
		const Form_pg_attribute attr = TupleDescAttr(desc, i);
		if (!attr->attisdropped && std::strcmp(NameStr(attr->attname), name) == 0)
			return attr->attnum;
	}
	elog(ERROR, "pg_tenancy: column %s of %s is missing", name, RelationGetRelationName(rel));
	return InvalidAttrNumber; // not reached
}

// The change triggers a table needs before a backend may cache what it read
// from it (sql/src/10_model.sql): tenancy.note_membership_change(), enabled
// ALWAYS, fired BEFORE each row an INSERT, UPDATE or DELETE writes (a logical
// replication apply worker fires row triggers only) and BEFORE each TRUNCATE,
// with no WHEN condition and no UPDATE OF column list (either would let some
// changes by).
struct ChangeTriggers {
	bool rows = false;
	bool truncate = false;

	bool Complete() const { return rows && truncate; }

	void Note(char enabled, int16 type, Oid function, bool conditional) {
		const int16 row_events = TRIGGER_TYPE_INSERT | TRIGGER_TYPE_UPDATE | TRIGGER_TYPE_DELETE;
		if (enabled != TRIGGER_FIRES_ALWAYS || !TRIGGER_FOR_BEFORE(type) || conditional)
			return;
		const bool for_rows = TRIGGER_FOR_ROW(type) && (type & row_events) == row_events;
		const bool for_truncate = !TRIGGER_FOR_ROW(type) && TRIGGER_FOR_TRUNCATE(type);
		if ((for_rows && !rows) || (for_truncate && !truncate)) {
			WatchTriggerFunction(function);
			if (IsNoteMembershipChange(function)) {
				rows = rows || for_rows;
				truncate = truncate || for_truncate;
			}
		}
	}

	static bool IsNoteMembershipChange(Oid function) {
		HeapTuple proc = SearchSysCache1(PROCOID, ObjectIdGetDatum(function));
		if (!HeapTupleIsValid(proc))
			return false;
		bool isnull = false;
		Datum source = SysCacheGetAttr(PROCOID, proc, Anum_pg_proc_prosrc, &isnull);
		const bool found = !isnull && reinterpret_cast<Form_pg_proc>(GETSTRUCT(proc))->prolang == ClanguageId &&
		                   std::strcmp(TextDatumGetCString(source), "tenancy_note_membership_change") == 0;
		ReleaseSysCache(proc);
		return found;
	}
};

// Does the relation `relid` carry the change triggers? From pg_trigger, not
// from the relation cache entry, which a new backend would build only for this
// (with all its columns, defaults, constraints, policies and foreign-key
// triggers). Their invalidations reach InvalidateCatalog() all the same.
bool HasChangeTriggers(Oid relid) {
	Relation triggers = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData key;
	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	SysScanDesc scan = systable_beginscan(triggers, TriggerRelidNameIndexId, true, nullptr, 1, &key);
	ChangeTriggers found;
	for (HeapTuple tuple = systable_getnext(scan); !found.Complete() && HeapTupleIsValid(tuple);
	     tuple = systable_getnext(scan)) {
		const Form_pg_trigger t = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tuple));
		found.Note(t->tgenabled, t->tgtype, t->tgfoid,
		           !heap_attisnull(tuple, Anum_pg_trigger_tgqual, nullptr) || t->tgattr.dim1 > 0);
	}
	systable_endscan(scan);
	table_close(triggers, AccessShareLock);
	return found.Complete();
}

const TenancyCatalog &Catalog() {
	while (!catalog_valid) {
		CHECK_FOR_INTERRUPTS(); // retried only while these tables keep changing
		uint64 seen = catalog_invalidations;
		TenancyCatalog c{};
		Oid schema = get_namespace_oid("tenancy", true);
		c.memberships = TenancyRelation(schema, "memberships");
		c.memberships_by_org_user = TenancyRelation(schema, "memberships_one_per_user");
		c.roles = TenancyRelation(schema, "roles");
		c.roles_pkey = TenancyRelation(schema, "roles_pkey");
		c.users = TenancyRelation(schema, "users");
		c.users_pkey = TenancyRelation(schema, "users_pkey");
		filling = c;
		c.membership_org = Column(c.memberships, "organization_id");
		c.membership_user = Column(c.memberships, "user_id");
		c.membership_role = Column(c.memberships, "role_id");
		c.role_id = Column(c.roles, "id");
		c.role_code = Column(c.roles, "code");
		c.role_permissions = Column(c.roles, "permissions");
		// All three checked, so every trigger function is watched.
		const bool memberships_noted = HasChangeTriggers(c.memberships);
		const bool roles_noted = HasChangeTriggers(c.roles);
		const bool users_noted = HasChangeTriggers(c.users);
		c.change_triggers = memberships_noted && roles_noted && users_noted;
		c.function_count = filling.function_count;
		std::memcpy(c.function_hashes, filling.function_hashes, sizeof c.function_hashes);
		// Recorded before anything is shared; kept only if nothing
		// changed meanwhile, like the rest.
		const std::uint32_t relations[] = {c.memberships, c.memberships_by_org_user, c.roles, c.roles_pkey, c.users,
		                                   c.users_pkey};
		c.shared_record =
		    c.change_triggers && c.function_count < TenancyCatalog::kMaxTriggerFunctions
		        ? pg_tenancy::RecordSharedCatalog(relations, lengthof(relations), c.function_hashes, c.function_count)
		        : 0;
		if (seen == catalog_invalidations) {
			catalog = c;
			catalog_valid = true;
		}
	}
	return catalog;
}

// Calls `use` with the one row of the open relation `rel` whose unique index
// matches the uuid `keys` on `columns`, or with nullptr. The tuple is only
// valid during the call.
template <typename Use>
void FetchUnique(Relation rel, Oid index, Snapshot snapshot, const AttrNumber *columns, const pg_uuid_t *const *keys,
                 int nkeys, Use &&use) {
	ScanKeyData scan_keys[2];
	for (int i = 0; i < nkeys; i++) // systable scans take heap attribute numbers
		ScanKeyInit(&scan_keys[i], columns[i], BTEqualStrategyNumber, F_UUID_EQ, UUIDPGetDatum(keys[i]));
	SysScanDesc scan = systable_beginscan(rel, index, true, snapshot, nkeys, scan_keys);
	HeapTuple tuple = systable_getnext(scan);
	use(RelationGetDescr(rel), HeapTupleIsValid(tuple) ? tuple : nullptr);
	systable_endscan(scan);
}

// The same for the table `table`, opened (and locked) for the look-up.
template <typename Use>
void FetchUnique(Oid table, Oid index, Snapshot snapshot, const AttrNumber *columns, const pg_uuid_t *const *keys,
                 int nkeys, Use &&use) {
	Relation rel = table_open(table, AccessShareLock);
	FetchUnique(rel, index, snapshot, columns, keys, nkeys, std::forward<Use>(use));
	table_close(rel, AccessShareLock);
}

// The column numbers were read from the catalogs before the table was locked:
// a column dropped and added again meanwhile (by its owner) is refused rather
// than read as another type.
void RequireColumn(TupleDesc desc, AttrNumber attnum, Oid type) {
	if (attnum < 1 || attnum > desc->natts || TupleDescAttr(desc, attnum - 1)->attisdropped ||
	    TupleDescAttr(desc, attnum - 1)->atttypid != type)
		ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
		                errmsg("pg_tenancy's tables changed while tenancy.enter() read them"),
		                errhint("Retry the transaction.")));
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
	for (int i = 0; i < n; i++) {
		if (i)
			appendStringInfoChar(&list, ',');
		appendStringInfoString(&list, items[i]);
	}
	return list.data;
}

} // namespace

namespace pg_tenancy {

void RegisterMembershipInvalidation() {
	CacheRegisterRelcacheCallback(InvalidateCatalog, (Datum)0);
	CacheRegisterSyscacheCallback(PROCOID, InvalidateTriggerFunction, (Datum)0);
}

void LookupMembership(const std::uint8_t user[16], const std::uint8_t org[16], MembershipInfo *info) {
	std::memset(info, 0, sizeof *info);
	// The generation is read before the look-up's snapshot is taken (see
	// membership_generation.cpp), and the result is kept only if the relations
	// did not change meanwhile.
	MembershipEpoch epoch;
	const bool cacheable = CurrentMembershipEpoch(&epoch);
	const TenancyCatalog &c = Catalog();
	const uint64 invalidations_before = epoch.catalog_invalidations;
	if (cacheable && FindCachedMembership(user, org, epoch.generation, info)) {
		info->current = true;
		info->epoch = epoch;
		return;
	}
	if (cacheable && c.shared_record != 0 && FindSharedMembership(user, org, epoch.generation, info)) {
		RememberMembership(user, org, epoch.generation, *info);
		info->current = true;
		info->epoch = epoch;
		return;
	}
	pg_uuid_t org_key, user_key, role_key;
	std::memcpy(org_key.data, org, UUID_LEN);
	std::memcpy(user_key.data, user, UUID_LEN);
	bool member = false;
	Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
	const AttrNumber membership_columns[2] = {c.membership_org, c.membership_user};
	const pg_uuid_t *membership_keys[2] = {&org_key, &user_key};
	FetchUnique(c.memberships, c.memberships_by_org_user, snapshot, membership_columns, membership_keys, 2,
	            [&](TupleDesc desc, HeapTuple tuple) {
		            if (tuple == nullptr)
			            return;
		            RequireColumn(desc, c.membership_role, UUIDOID);
		            bool isnull = false;
		            Datum role_id = heap_getattr(tuple, c.membership_role, desc, &isnull);
		            if (isnull)
			            return;
		            std::memcpy(role_key.data, DatumGetUUIDP(role_id)->data, UUID_LEN);
		            member = true;
	            });
	if (member) {
		const AttrNumber role_columns[1] = {c.role_id};
		const pg_uuid_t *role_keys[1] = {&role_key};
		FetchUnique(c.roles, c.roles_pkey, snapshot, role_columns, role_keys, 1, [&](TupleDesc desc, HeapTuple tuple) {
			if (tuple == nullptr)
				return; // the foreign key makes this impossible; treat as not a member
			RequireColumn(desc, c.role_code, TEXTOID);
			RequireColumn(desc, c.role_permissions, JSONBOID);
			bool code_null = false, permissions_null = false;
			Datum code = heap_getattr(tuple, c.role_code, desc, &code_null);
			Datum permissions = heap_getattr(tuple, c.role_permissions, desc, &permissions_null);
			if (code_null || permissions_null)
				return;
			text *code_text = DatumGetTextPP(code);
			// A constraint keeps codes short; a longer one stays empty, which
			// the context builder refuses as invalid rather than truncating it.
			if (VARSIZE_ANY_EXHDR(code_text) < sizeof info->role_code)
				text_to_cstring_buffer(code_text, info->role_code, sizeof info->role_code);
			std::memcpy(info->role, role_key.data, UUID_LEN);
			info->permissions = PermissionList(DatumGetJsonbP(permissions));
			info->permissions_len = std::strlen(info->permissions);
			info->found = true;
		});
	}
	if (cacheable && invalidations_before == catalog_invalidations) {
		RememberMembership(user, org, epoch.generation, *info);
		// Not from a transaction that has written: its snapshot shows its own
		// uncommitted rows, and a change it made with a trigger disabled
		// before the tables were recorded marked nothing.
		if (c.shared_record != 0 && !TransactionIdIsValid(GetTopTransactionIdIfAny()))
			ShareMembership(user, org, epoch.generation, *info, c.shared_record, snapshot->xmin, snapshot->xmax,
			                snapshot->xip, static_cast<int>(snapshot->xcnt));
		info->current = true;
		info->epoch = epoch;
	}
	UnregisterSnapshot(snapshot);
}

bool CurrentMembershipEpoch(MembershipEpoch *epoch) {
	// A cache hit opens no relation, so nothing else would process the
	// invalidations committed since the transaction began: a change trigger
	// disabled meanwhile must turn the cache off before it is consulted.
	AcceptInvalidationMessages();
	const TenancyCatalog &c = Catalog(); // may itself take in invalidations
	epoch->catalog_invalidations = catalog_invalidations;
	epoch->generation = 0;
	return c.change_triggers && MembershipGenerationForCache(&epoch->generation);
}

void LockTablesForTriggerFunction(const char *name) {
	const Oid schema = get_namespace_oid("tenancy", true);
	if (!OidIsValid(schema) || name == nullptr)
		return;
	// Referenced tables first, the order writers take them in (a user, then
	// the membership), so this cannot deadlock with them.
	const Oid tables[] = {get_relname_relid("users", schema), get_relname_relid("roles", schema),
	                      get_relname_relid("memberships", schema)};
	bool named = false;
	for (Oid table : tables) {
		if (!OidIsValid(table) || named)
			continue;
		Relation triggers = table_open(TriggerRelationId, AccessShareLock);
		ScanKeyData key;
		ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(table));
		SysScanDesc scan = systable_beginscan(triggers, TriggerRelidNameIndexId, true, nullptr, 1, &key);
		for (HeapTuple tuple = systable_getnext(scan); !named && HeapTupleIsValid(tuple);
		     tuple = systable_getnext(scan)) {
			const auto *trigger = reinterpret_cast<Form_pg_trigger>(GETSTRUCT(tuple));
			// Only a function its caller could replace: the owner's (or a
			// superuser's). Anyone else's CREATE OR REPLACE of that name
			// replaces another function, or fails, and must not lock the
			// tables meanwhile.
			if (trigger->tgisinternal || !pg_proc_ownercheck(trigger->tgfoid, GetUserId()))
				continue;
			const char *function = get_func_name(trigger->tgfoid);
			named = function != nullptr && std::strcmp(function, name) == 0;
		}
		systable_endscan(scan);
		table_close(triggers, AccessShareLock);
	}
	// The lock ALTER TABLE ... ENABLE TRIGGER takes: it waits for the open
	// writers of these tables, and they for this transaction.
	for (Oid table : tables)
		if (named && OidIsValid(table))
			LockRelationOid(table, ShareRowExclusiveLock);
}

bool MembershipsShared() {
	return Catalog().shared_record != 0;
}

bool UserExists(const std::uint8_t user[16]) {
	const TenancyCatalog &c = Catalog();
	// Looked up here, not in Catalog(): only a token without an organization
	// needs it, and a new backend's first enter() need not build this relation
	// cache entry. Locked first, so the column number read is current.
	Relation users = table_open(c.users, AccessShareLock);
	const AttrNumber user_id = Column(users, "id");
	pg_uuid_t user_key;
	std::memcpy(user_key.data, user, UUID_LEN);
	bool found = false;
	Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
	const AttrNumber columns[1] = {user_id};
	const pg_uuid_t *keys[1] = {&user_key};
	FetchUnique(users, c.users_pkey, snapshot, columns, keys, 1,
	            [&](TupleDesc, HeapTuple tuple) { found = tuple != nullptr; });
	UnregisterSnapshot(snapshot);
	table_close(users, AccessShareLock);
	return found;
}

} // namespace pg_tenancy
