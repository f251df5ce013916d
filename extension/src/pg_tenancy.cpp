// pg_tenancy.cpp: module entry point. pg_tenancy must be preloaded: a setting
// under the tenancy. prefix must never exist as a user-writable placeholder, not
// even for the moment before the library is first loaded.
extern "C" {
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"

PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);
}

#include "pg_tenancy/guc.hpp"
#include "pg_tenancy/membership.hpp"
#include "pg_tenancy/membership_generation.hpp"
#include "pg_tenancy/shared_membership_cache.hpp"
#include "pg_tenancy/token_check.hpp"
#include "pg_tenancy/transaction_state.hpp"
#include "pg_tenancy/utility_hook.hpp"

namespace {

void OnTransactionEnd(XactEvent event, void *arg) {
	switch (event) {
	case XACT_EVENT_PRE_COMMIT:
	case XACT_EVENT_PRE_PREPARE:
		pg_tenancy::RefuseContextOutlivingTransaction();
		break;
	case XACT_EVENT_COMMIT:
		pg_tenancy::MembershipChangesCommitted(); // the commit is visible by now
		pg_tenancy::ForgetEnteredContext();
		break;
	case XACT_EVENT_ABORT:
	case XACT_EVENT_PREPARE: // COMMIT PREPARED bumps the generation (utility_hook.cpp)
		pg_tenancy::MembershipChangesDiscarded();
		pg_tenancy::ForgetEnteredContext();
		break;
	case XACT_EVENT_PARALLEL_COMMIT:
	case XACT_EVENT_PARALLEL_ABORT:
		pg_tenancy::ForgetEnteredContext();
		break;
	default:
		break;
	}
}

} // namespace

extern "C" void _PG_init(void) {
	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		                errmsg("pg_tenancy must be loaded via shared_preload_libraries"),
		                errhint("Add pg_tenancy to shared_preload_libraries in postgresql.conf and restart the "
		                        "server, then run CREATE EXTENSION pg_tenancy.")));
	pg_tenancy::InitGuc();
	pg_tenancy::RegisterMembershipInvalidation();
	pg_tenancy::RequestMembershipGenerationShmem();
	pg_tenancy::RequestSharedMembershipCacheShmem();
	pg_tenancy::WarmUpTokenChecks(pg_tenancy::keyring_file);
	RegisterXactCallback(OnTransactionEnd, nullptr);
	pg_tenancy::InstallUtilityHook();
}
