// utility_hook.cpp: utility statements pg_tenancy refuses before PostgreSQL runs
// them (pg_tenancy is preloaded, so the hook is in every backend).
//
// - LOCK TABLE stronger than ROW EXCLUSIVE on a protected relation, by a role
//   that does not own it: the application role may write its rows, and
//   PostgreSQL lets anyone with UPDATE lock the whole table IN ACCESS EXCLUSIVE
//   MODE, which would stall every organization. Tenant transactions never need
//   more than ROW EXCLUSIVE (row locks: SELECT ... FOR UPDATE). "Protected" here
//   means row-level security is enabled on it or on anything else LOCK would
//   lock with it: an inheritance child, or a view's base relations, recursively
//   (PostgreSQL locks those with the view owner's rights, so a temporary view the
//   caller owns would otherwise lock a table it does not).
// - A session-level SET of tenancy.context (see guc.cpp): only SET LOCAL.
//
// It also notes every SQL PREPARE and LISTEN for the session checks
// (session_state.cpp), which then need not list prepared statements and
// channels at every commit of a session that never made any.
//
// And one thing after: COMMIT PREPARED bumps the membership generation
// (membership_generation.cpp), since the prepared transaction may have changed
// memberships, roles or users and its own backend's commit callback never runs.
extern "C" {
#include "postgres.h"

#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "rewrite/rewriteHandler.h"
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
#include "pg_tenancy/membership.hpp"
#include "pg_tenancy/membership_generation.hpp"
#include "pg_tenancy/shared_membership_cache.hpp"
#include "pg_tenancy/session_state.hpp"
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

// A relation LOCK would lock that the caller may not lock strongly: row-level
// security is enabled on it and the caller does not own it.
bool IsForeignProtected(Oid relid) {
	return HasRowSecurity(relid) && !pg_class_ownercheck(relid, GetUserId());
}

Oid FindForeignProtected(Oid relid, bool inherited, List *ancestor_views);

// Walks a view's query as PostgreSQL's LOCK does (lockcmds.c,
// LockViewRecurse_walker): every table or view in any range table, including
// subqueries, CTEs and sublinks.
struct ViewWalk {
	Oid view;
	List *ancestor_views;
	Oid found;
};

bool ViewWalker(Node *node, void *context) {
	auto *walk = static_cast<ViewWalk *>(context);
	if (node == nullptr || OidIsValid(walk->found))
		return false;
	if (!IsA(node, Query))
		return expression_tree_walker(node, reinterpret_cast<bool (*)()>(ViewWalker), context);
	Query *query = castNode(Query, node);
	ListCell *cell;
	foreach (cell, query->rtable) {
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, cell);
		if (rte->rtekind != RTE_RELATION || !OidIsValid(rte->relid))
			continue;
		// The view's OLD and NEW placeholders, and self-references.
		if (rte->relid == walk->view || list_member_oid(walk->ancestor_views, rte->relid))
			continue;
		walk->found = FindForeignProtected(rte->relid, rte->inh, walk->ancestor_views);
		if (OidIsValid(walk->found))
			return true;
	}
	return query_tree_walker(query, reinterpret_cast<bool (*)()>(ViewWalker), context, QTW_IGNORE_JOINALIASES);
}

// The first relation LOCK on `relid` would lock that the caller may not lock
// strongly, or InvalidOid: the relation itself, its inheritance children (unless
// ONLY), and for a view everything below it, recursively (PostgreSQL locks a
// view's base relations with the view owner's rights, so owning the view proves
// nothing about them).
Oid FindForeignProtected(Oid relid, bool inherited, List *ancestor_views) {
	CHECK_FOR_INTERRUPTS(); // views of views: no C++ object is alive here
	if (get_rel_relkind(relid) == RELKIND_VIEW) {
		// Held until the transaction ends, so the definition cannot be replaced
		// between this check and the lock (LOCK then takes the stronger one).
		// Kept open while its query (in the relcache entry) is walked.
		Relation view = relation_open(relid, AccessShareLock);
		ViewWalk walk{relid, lappend_oid(list_copy(ancestor_views), relid), InvalidOid};
		ViewWalker(reinterpret_cast<Node *>(get_view_query(view)), &walk);
		relation_close(view, NoLock);
		return walk.found;
	}
	if (IsForeignProtected(relid))
		return relid;
	if (!inherited || !has_subclass(relid))
		return InvalidOid;
	List *children = find_all_inheritors(relid, NoLock, nullptr);
	ListCell *cell;
	foreach (cell, children) {
		CHECK_FOR_INTERRUPTS();
		if (IsForeignProtected(lfirst_oid(cell)))
			return lfirst_oid(cell);
	}
	return InvalidOid;
}

void CheckLock(const LockStmt *stmt) {
	if (stmt->mode <= RowExclusiveLock || superuser())
		return;
	ListCell *cell;
	foreach (cell, stmt->relations) {
		RangeVar *relation = lfirst_node(RangeVar, cell);
		Oid relid = RangeVarGetRelid(relation, NoLock, true);
		// PostgreSQL reports a missing relation, or one the caller may not lock
		// in this mode at all (lockcmds.c, LockTableAclCheck), itself.
		if (!OidIsValid(relid) ||
		    pg_class_aclcheck(relid, GetUserId(), ACL_UPDATE | ACL_DELETE | ACL_TRUNCATE) != ACLCHECK_OK)
			continue;
		Oid protected_relid = FindForeignProtected(relid, relation->inh, NIL);
		if (!OidIsValid(protected_relid))
			continue;
		const char *mode = stmt->mode <= AccessExclusiveLock ? kLockModeNames[stmt->mode] : "?";
		if (protected_relid == relid)
			ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			                errmsg("LOCK TABLE %s IN %s MODE is reserved for the owner of this protected table",
			                       quote_identifier(relation->relname), mode),
			                errdetail("pg_tenancy refuses locks stronger than ROW EXCLUSIVE on tables shared by every "
			                          "organization to roles that do not own them."),
			                errhint("Lock the rows you need with SELECT ... FOR UPDATE, or ask the table's owner.")));
		ereport(ERROR,
		        (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
		         errmsg("LOCK TABLE %s IN %s MODE would lock protected table %s, which is reserved for its owner",
		                quote_identifier(relation->relname), mode, quote_identifier(get_rel_name(protected_relid))),
		         errdetail("LOCK on a view or an inheritance parent locks the tables below it; pg_tenancy refuses "
		                   "locks stronger than ROW EXCLUSIVE on tables shared by every organization to roles "
		                   "that do not own them."),
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
	else if (IsA(statement, PrepareStmt))
		pg_tenancy::NotePrepareBySql();
	else if (IsA(statement, ListenStmt))
		pg_tenancy::NoteListen();
	if (IsA(statement, CreateFunctionStmt) && castNode(CreateFunctionStmt, statement)->replace)
		pg_tenancy::LockTablesForTriggerFunction(strVal(llast(castNode(CreateFunctionStmt, statement)->funcname)));
	const Oid dropped_database =
	    IsA(statement, DropdbStmt) ? get_database_oid(castNode(DropdbStmt, statement)->dbname, true) : InvalidOid;
	if (previous_hook)
		previous_hook(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc);
	else
		standard_ProcessUtility(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc);
	// COMMIT PREPARED runs outside any transaction block: it has committed here.
	if (IsA(statement, TransactionStmt) && castNode(TransactionStmt, statement)->kind == TRANS_STMT_COMMIT_PREPARED)
		pg_tenancy::BumpMembershipGeneration();
	// DROP DATABASE has removed the database (no backend is connected to it).
	// Should the name have gone to another database between the two look-ups,
	// that one's record is freed instead: its backends record it again when
	// they next resolve pg_tenancy's tables, and the new record's horizon
	// keeps what they read meanwhile from being shared.
	if (OidIsValid(dropped_database))
		pg_tenancy::ForgetSharedCatalogOf(dropped_database);
}

} // namespace

namespace pg_tenancy {

void InstallUtilityHook() {
	previous_hook = ProcessUtility_hook;
	ProcessUtility_hook = TenancyProcessUtility;
}

} // namespace pg_tenancy
