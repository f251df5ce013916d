// utility_hook.cpp: utility statements pg_tenancy refuses before PostgreSQL runs
// them (pg_tenancy is preloaded, so the hook is in every backend).
//
// - LOCK TABLE stronger than ROW EXCLUSIVE on a protected relation, by a role
//   that does not own it: the application role may write its rows, and
//   PostgreSQL lets anyone with UPDATE lock the whole table IN ACCESS EXCLUSIVE
//   MODE, which would stall every organization. Tenant transactions never need
//   more than ROW EXCLUSIVE (row locks: SELECT ... FOR UPDATE). "Protected" here
//   means row-level security is enabled on it or on an inheritance child it
//   would lock, or it is a view (LOCK on a view locks the tables below it).
// - A session-level SET of tenancy.context (see guc.cpp): only SET LOCAL.
//
// And one thing after: COMMIT PREPARED bumps the membership generation
// (membership_generation.cpp), since the prepared transaction may have changed
// memberships, roles or users and its own backend's commit callback never runs.
extern "C" {
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lmgr.h"
#include "storage/lockdefs.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}

#include <cstring>

#include "pg_tenancy/guc.hpp"
#include "pg_tenancy/membership_generation.hpp"
#include "pg_tenancy/utility_hook.hpp"

namespace {

ProcessUtility_hook_type previous_hook = nullptr;

// LOCK's mode names as written in SQL, by lock mode number.
const char *const kLockModeNames[] = {
    "",      "ACCESS SHARE",        "ROW SHARE", "ROW EXCLUSIVE",   "SHARE UPDATE EXCLUSIVE",
    "SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"};

bool HasRowSecurity(Oid relid) {
	HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return false;
	bool result = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relrowsecurity;
	ReleaseSysCache(tuple);
	return result;
}

// Would LOCK on this relation lock tenant rows of several organizations?
bool IsProtectedForLock(Oid relid, bool inherited) {
	if (get_rel_relkind(relid) == RELKIND_VIEW || HasRowSecurity(relid))
		return true;
	if (!inherited || !has_subclass(relid))
		return false;
	List *children = find_all_inheritors(relid, NoLock, nullptr);
	ListCell *cell;
	foreach (cell, children)
		if (HasRowSecurity(lfirst_oid(cell)))
			return true;
	return false;
}

void CheckLock(const LockStmt *stmt) {
	if (stmt->mode <= RowExclusiveLock || superuser())
		return;
	ListCell *cell;
	foreach (cell, stmt->relations) {
		RangeVar *relation = lfirst_node(RangeVar, cell);
		Oid relid = RangeVarGetRelid(relation, NoLock, true);
		if (!OidIsValid(relid) || pg_class_ownercheck(relid, GetUserId()) || !IsProtectedForLock(relid, relation->inh))
			continue; // PostgreSQL reports a missing relation itself
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
		                errmsg("LOCK TABLE %s IN %s MODE is reserved for the owner of this protected table",
		                       quote_identifier(relation->relname),
		                       stmt->mode <= AccessExclusiveLock ? kLockModeNames[stmt->mode] : "?"),
		                errdetail("pg_tenancy refuses locks stronger than ROW EXCLUSIVE on tables shared by every "
		                          "organization to roles that do not own them."),
		                errhint("Lock the rows you need with SELECT ... FOR UPDATE, or ask the table's owner.")));
	}
}

void CheckSet(const VariableSetStmt *stmt) {
	if (stmt->is_local || stmt->kind != VAR_SET_VALUE || stmt->name == nullptr ||
	    pg_strcasecmp(stmt->name, "tenancy.context") != 0 || !pg_tenancy::accept_forwarded_context)
		return;
	ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
	                errmsg("a forwarded tenancy.context is accepted only with SET LOCAL"),
	                errdetail("A session-level SET would outlive the transaction."),
	                errhint("Use SET LOCAL tenancy.context = '<token>' inside a transaction block.")));
}

void TenancyProcessUtility(PlannedStmt *pstmt, const char *query_string, bool read_only_tree,
                           ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *query_env,
                           DestReceiver *dest, QueryCompletion *qc) {
	Node *statement = pstmt->utilityStmt;
	if (IsA(statement, LockStmt))
		CheckLock(castNode(LockStmt, statement));
	else if (IsA(statement, VariableSetStmt))
		CheckSet(castNode(VariableSetStmt, statement));
	if (previous_hook)
		previous_hook(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc);
	else
		standard_ProcessUtility(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc);
	// COMMIT PREPARED runs outside any transaction block: it has committed here.
	if (IsA(statement, TransactionStmt) && castNode(TransactionStmt, statement)->kind == TRANS_STMT_COMMIT_PREPARED)
		pg_tenancy::BumpMembershipGeneration();
}

} // namespace

namespace pg_tenancy {

void InstallUtilityHook() {
	previous_hook = ProcessUtility_hook;
	ProcessUtility_hook = TenancyProcessUtility;
}

} // namespace pg_tenancy
