// policy_analysis.cpp: what a row-level security policy means, read from its
// parsed expression (pg_policy.polqual / polwithcheck), for tenancy.audit().
// Text matching on pg_get_expr() output cannot tell "org = current_org() OR true"
// from "org = current_org() AND x"; the node tree can. Both functions only
// inspect the tree: nothing in it is evaluated, so a policy's functions never
// run as the auditor.
extern "C" {
#include "postgres.h"

#include "access/transam.h"
#include "catalog/pg_type_d.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/nodes.h"
#include "nodes/pg_list.h"
#include "nodes/primnodes.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
}

#include "pg_tenancy/pg_boundary.hpp"

namespace {

// The column of the policy's own table (varno 1 in a stored policy expression).
bool IsOrgColumn(const Node *node, AttrNumber org_attnum) {
	if (node == nullptr || !IsA(node, Var))
		return false;
	const Var *var = reinterpret_cast<const Var *>(node);
	return var->varno == 1 && var->varlevelsup == 0 && var->varattno == org_attnum;
}

bool IsCurrentOrgCall(const Node *node, Oid current_org) {
	if (node == nullptr || !IsA(node, FuncExpr))
		return false;
	const FuncExpr *call = reinterpret_cast<const FuncExpr *>(node);
	return call->funcid == current_org && call->args == NIL && !call->funcretset;
}

// org_column = current_org(), either side, with the built-in uuid equality
// (checked by its implementing function, so a look-alike "=" does not count).
bool IsTenantEquality(const Node *node, AttrNumber org_attnum, Oid current_org) {
	if (node == nullptr || !IsA(node, OpExpr))
		return false;
	const OpExpr *op = reinterpret_cast<const OpExpr *>(node);
	if (list_length(op->args) != 2 || op->opretset || get_opcode(op->opno) != F_UUID_EQ)
		return false;
	const Node *left = static_cast<const Node *>(linitial(op->args));
	const Node *right = static_cast<const Node *>(lsecond(op->args));
	return (IsOrgColumn(left, org_attnum) && IsCurrentOrgCall(right, current_org)) ||
	       (IsOrgColumn(right, org_attnum) && IsCurrentOrgCall(left, current_org));
}

// Is the equality one of the top-level AND conjuncts (nested ANDs flattened)?
// Then no row can pass the expression without it. Anything else (OR, NOT, CASE,
// coalesce, a function) is not looked into: not provable means not proven.
bool RequiresTenant(const Node *node, AttrNumber org_attnum, Oid current_org) {
	check_stack_depth();
	if (node == nullptr)
		return false;
	if (IsA(node, BoolExpr) && reinterpret_cast<const BoolExpr *>(node)->boolop == AND_EXPR) {
		const ListCell *cell;
		foreach (cell, reinterpret_cast<const BoolExpr *>(node)->args) {
			if (RequiresTenant(static_cast<const Node *>(lfirst(cell)), org_attnum, current_org))
				return true;
		}
		return false;
	}
	return IsTenantEquality(node, org_attnum, current_org);
}

bool IsConst(const Node *node, bool value) {
	if (node == nullptr || !IsA(node, Const))
		return false;
	const Const *c = reinterpret_cast<const Const *>(node);
	return c->consttype == BOOLOID && !c->constisnull && DatumGetBool(c->constvalue) == value;
}

bool AlwaysFalse(const Node *node);

// Spellings of "true" that need no evaluation: true, x OR <true>, <true> AND
// <true>, NOT <false>, and a built-in "=" between two identical constants (1 = 1).
bool AlwaysTrue(const Node *node) {
	check_stack_depth();
	if (node == nullptr)
		return false;
	if (IsConst(node, true))
		return true;
	if (IsA(node, BoolExpr)) {
		const BoolExpr *expr = reinterpret_cast<const BoolExpr *>(node);
		const ListCell *cell;
		if (expr->boolop == NOT_EXPR)
			return AlwaysFalse(static_cast<const Node *>(linitial(expr->args)));
		bool any = false, all = true;
		foreach (cell, expr->args) {
			bool arm = AlwaysTrue(static_cast<const Node *>(lfirst(cell)));
			any = any || arm;
			all = all && arm;
		}
		return expr->boolop == OR_EXPR ? any : all;
	}
	if (IsA(node, OpExpr)) {
		const OpExpr *op = reinterpret_cast<const OpExpr *>(node);
		if (list_length(op->args) != 2 || op->opno >= FirstNormalObjectId)
			return false;
		const Node *left = static_cast<const Node *>(linitial(op->args));
		const Node *right = static_cast<const Node *>(lsecond(op->args));
		char *name = get_opname(op->opno);
		bool equality = name != nullptr && strcmp(name, "=") == 0;
		return equality && IsA(left, Const) && !reinterpret_cast<const Const *>(left)->constisnull &&
		       equal(left, right);
	}
	return false;
}

bool AlwaysFalse(const Node *node) {
	check_stack_depth();
	if (node == nullptr)
		return false;
	if (IsConst(node, false))
		return true;
	if (IsA(node, BoolExpr)) {
		const BoolExpr *expr = reinterpret_cast<const BoolExpr *>(node);
		const ListCell *cell;
		if (expr->boolop == NOT_EXPR)
			return AlwaysTrue(static_cast<const Node *>(linitial(expr->args)));
		bool any = false, all = true;
		foreach (cell, expr->args) {
			bool arm = AlwaysFalse(static_cast<const Node *>(lfirst(cell)));
			any = any || arm;
			all = all && arm;
		}
		return expr->boolop == AND_EXPR ? any : all;
	}
	return false;
}

const Node *ReadExpression(text *tree) {
	char *serialized = text_to_cstring(tree);
	return static_cast<const Node *>(stringToNode(serialized));
}

} // namespace

// tenancy.expr_requires_tenant(expr pg_node_tree, org_attnum int2, current_org oid):
// is "org column = tenancy.current_org()" a top-level AND conjunct of expr?
PGT_FUNCTION(tenancy_expr_requires_tenant) {
	const Node *expr = ReadExpression(PG_GETARG_TEXT_PP(0));
	PG_RETURN_BOOL(RequiresTenant(expr, PG_GETARG_INT16(1), PG_GETARG_OID(2)));
}

// tenancy.expr_always_true(expr pg_node_tree): is expr true for every row,
// recognizably without evaluating anything?
PGT_FUNCTION(tenancy_expr_always_true) {
	PG_RETURN_BOOL(AlwaysTrue(ReadExpression(PG_GETARG_TEXT_PP(0))));
}
