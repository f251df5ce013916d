// cache_statistics.cpp: tenancy.backend_cache_stats(), what this backend's
// caches behind tenancy.enter() hold and how they served it: to see whether
// they are on (a disabled change trigger or a hot standby turns the membership
// cache and the prepared contexts off) and whether a pool's backends are sized
// for the (user, organization) pairs they serve.
extern "C" {
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"
}

#include "pg_tenancy/membership.hpp"
#include "pg_tenancy/membership_cache.hpp"
#include "pg_tenancy/pg_boundary.hpp"
#include "pg_tenancy/shared_membership_cache.hpp"
#include "pg_tenancy/token_check.hpp"

namespace {

constexpr int kColumns = 9;

void PutRow(ReturnSetInfo *rsinfo, const char *cache, const pg_tenancy::CacheStatistics &stats) {
	Datum values[kColumns];
	bool nulls[kColumns] = {false};
	const std::int64_t numbers[] = {stats.entries,   stats.capacity, stats.hits,      stats.misses,
	                                stats.evictions, stats.bytes,    stats.byte_limit};
	values[0] = CStringGetTextDatum(cache);
	values[1] = BoolGetDatum(stats.enabled);
	for (int i = 0; i < kColumns - 2; i++) {
		values[i + 2] = Int64GetDatum(numbers[i]);
		nulls[i + 2] = numbers[i] < 0; // not bounded or not counted this way
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

} // namespace

PGT_FUNCTION(tenancy_backend_cache_stats) {
#if PG_VERSION_NUM >= 150001
	InitMaterializedSRF(fcinfo, 0);
#else
	SetSingleFuncCall(fcinfo, 0); // its name in 15.0
#endif
	auto *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	pg_tenancy::MembershipEpoch epoch;
	const bool memberships_current = pg_tenancy::CurrentMembershipEpoch(&epoch);
	pg_tenancy::CacheStatistics memberships = pg_tenancy::MembershipCacheStatistics();
	memberships.enabled = memberships_current;
	pg_tenancy::CacheStatistics tokens, prepared;
	pg_tenancy::TokenCacheStatistics(&tokens, &prepared);
	prepared.enabled = memberships_current;
	pg_tenancy::CacheStatistics shared = pg_tenancy::SharedMembershipCacheStatistics(epoch.generation);
	shared.enabled = memberships_current && shared.capacity > 0 && pg_tenancy::MembershipsShared();
	PutRow(rsinfo, "membership", memberships);
	PutRow(rsinfo, "shared_membership", shared);
	PutRow(rsinfo, "verified_token", tokens);
	PutRow(rsinfo, "prepared_context", prepared);
	return static_cast<Datum>(0);
}
