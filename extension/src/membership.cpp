// membership.cpp: the SPI look-ups tenancy.enter() needs, with plans prepared
// once per backend. tenancy.enter() is SECURITY DEFINER, so these run as the
// extension owner and the application role needs no access to the tables.
extern "C" {
#include "postgres.h"

#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"
}

#include <cstring>

#include "pg_tenancy/membership.hpp"

namespace pg_tenancy {
namespace {

SPIPlanPtr membership_plan = nullptr;
SPIPlanPtr user_plan = nullptr;

constexpr const char *kMembershipQuery =
    "SELECT r.id::pg_catalog.text, r.code,"
    "       (SELECT pg_catalog.string_agg(p, ',' ORDER BY p)"
    "          FROM pg_catalog.jsonb_array_elements_text(r.permissions) AS p)"
    "  FROM tenancy.memberships AS m"
    "  JOIN tenancy.roles AS r ON r.id OPERATOR(pg_catalog.=) m.role_id"
    "   AND r.organization_id OPERATOR(pg_catalog.=) m.organization_id"
    " WHERE m.user_id OPERATOR(pg_catalog.=) $1 AND m.organization_id OPERATOR(pg_catalog.=) $2";

constexpr const char *kUserQuery = "SELECT 1 FROM tenancy.users WHERE id OPERATOR(pg_catalog.=) $1";

SPIPlanPtr Prepare(SPIPlanPtr *cache, const char *query, int nargs) {
	if (*cache == nullptr) {
		Oid types[2] = {UUIDOID, UUIDOID};
		// A generic plan from the start: these run once per transaction, and
		// re-planning (custom plans) would cost more than the look-up itself.
		SPIPlanPtr plan = SPI_prepare_cursor(query, nargs, types, CURSOR_OPT_GENERIC_PLAN);
		if (plan == nullptr)
			elog(ERROR, "pg_tenancy: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "pg_tenancy: SPI_keepplan failed");
		*cache = plan;
	}
	return *cache;
}

Datum UuidDatum(const std::uint8_t bytes[16]) {
	auto *uuid = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
	std::memcpy(uuid->data, bytes, UUID_LEN);
	return UUIDPGetDatum(uuid);
}

void CopyText(char *dest, std::size_t size, const char *src) {
	if (src == nullptr)
		src = "";
	strlcpy(dest, src, size);
}

} // namespace

void LookupMembership(const std::uint8_t user[16], const std::uint8_t org[16], MembershipInfo *info) {
	MemoryContext caller = CurrentMemoryContext;
	std::memset(info, 0, sizeof *info);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_tenancy: SPI_connect failed");
	Datum args[2] = {UuidDatum(user), UuidDatum(org)};
	// The latest committed state, not the transaction's snapshot: under REPEATABLE
	// READ a membership removed after the snapshot was taken must not count.
	int rc = SPI_execute_snapshot(Prepare(&membership_plan, kMembershipQuery, 2), args, nullptr, GetLatestSnapshot(),
	                              InvalidSnapshot, true, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "pg_tenancy: membership look-up failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1) {
		HeapTuple row = SPI_tuptable->vals[0];
		TupleDesc desc = SPI_tuptable->tupdesc;
		info->found = true;
		CopyText(info->role_id, sizeof info->role_id, SPI_getvalue(row, desc, 1));
		CopyText(info->role_code, sizeof info->role_code, SPI_getvalue(row, desc, 2));
		const char *permissions = SPI_getvalue(row, desc, 3);
		info->permissions = MemoryContextStrdup(caller, permissions ? permissions : "");
	}
	SPI_finish();
}

bool UserExists(const std::uint8_t user[16]) {
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_tenancy: SPI_connect failed");
	Datum args[1] = {UuidDatum(user)};
	int rc = SPI_execute_snapshot(Prepare(&user_plan, kUserQuery, 1), args, nullptr, GetLatestSnapshot(),
	                              InvalidSnapshot, true, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "pg_tenancy: user look-up failed: %s", SPI_result_code_string(rc));
	bool found = SPI_processed == 1;
	SPI_finish();
	return found;
}

} // namespace pg_tenancy
