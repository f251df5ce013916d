// guc.hpp: pg_tenancy's settings and the tenant context they hold (PG-facing).
#pragma once

#include "pg_tenancy/context_record.hpp"
#include "pg_tenancy/transaction_state.hpp"

// PG-facing: include after postgres.h.
extern "C" {
#include "access/parallel.h"
#include "storage/proc.h"
}

struct config_generic;

namespace pg_tenancy {

enum MissingContextMode { kMissingContextError, kMissingContextEmpty };

extern char *keyring_file;
extern int clock_skew_seconds;
extern int max_token_lifetime_seconds;
extern int missing_context_mode;
extern bool accept_forwarded_context;
extern bool forward_context_to_workers;
extern int forwarding_lifetime_seconds;

// The record published by the assign hook of tenancy.context, so it always
// matches that setting, including after COMMIT, ROLLBACK, ROLLBACK TO SAVEPOINT
// and in parallel workers. Read it through CurrentContext().
extern const ContextRecord *active_context;

// Does a forwarded context belong to the current transaction: accepted in it,
// and minted for the Citus distributed transaction this backend (or its
// parallel leader) takes part in? Defined in forwarding.cpp.
bool ForwardedContextApplies(const ContextRecord *context);

// The context of the current transaction, or nullptr.
inline const ContextRecord *CurrentContext() {
	const ContextRecord *context = active_context;
	if (context && context->source == ContextSource::Forwarded && !ForwardedContextApplies(context))
		return nullptr;
	return context;
}

// Has this transaction had a tenant context already (entered, forwarded, or
// entered and left)? A transaction gets at most one. (No distributed
// transaction check here: a worker is asked before Citus assigns one.)
inline bool ContextAlreadyUsed() {
	const ContextRecord *context = active_context;
	if (context && (context->source == ContextSource::Enter || context->local_transaction == MyProc->lxid))
		return true;
	return EnteredInThisTransaction();
}

void InitGuc();

// Sets tenancy.context for the current transaction to `value`, whose token
// tenancy.enter() has verified, with `record` (malloc'd) as its parsed form.
// Takes ownership of `record` whatever happens.
void ApplyEnteredContext(const char *value, ContextRecord *record);

// While armed, the check hook of tenancy.context accepts exactly `value`, with
// `record` (malloc'd, owned from here on) as its parsed form: how the
// coordinator's own SET LOCAL of a forwarding context is let through.
// DisarmPendingContext() frees the record if the hook did not take it.
void ArmPendingContext(const char *value, ContextRecord *record);
void DisarmPendingContext();

// Would this setting's value after COMMIT come from a session-level SET?
bool SessionSetSurvivesCommit(const struct config_generic *var);

// At PRE_COMMIT: raises an error if a non-empty tenancy.context would survive
// the commit (a forwarded context set with plain SET or set_config(..., false)).
void RefuseContextOutlivingTransaction();

// Clears tenancy.context for the rest of the transaction.
void ClearContext();

} // namespace pg_tenancy
