// guc.hpp: pg_tenancy's settings and the tenant context they hold (PG-facing).
#pragma once

#include "pg_tenancy/context_record.hpp"

namespace pg_tenancy {

enum MissingContextMode { kMissingContextError, kMissingContextEmpty };

extern char *keyring_file;
extern int clock_skew_seconds;
extern int max_token_lifetime_seconds;
extern int missing_context_mode;
extern bool accept_forwarded_context;

// The context of this transaction, or nullptr. Published by the assign hook of
// tenancy.context, so it always matches that setting, including after
// COMMIT, ROLLBACK, ROLLBACK TO SAVEPOINT and in parallel workers.
extern const ContextRecord *active_context;

void InitGuc();

// Sets tenancy.context for the current transaction to `value`, whose token
// tenancy.enter() has verified, with `record` (malloc'd) as its parsed form.
// Takes ownership of `record` whatever happens.
void ApplyEnteredContext(const char *value, ContextRecord *record);

// Clears tenancy.context for the rest of the transaction.
void ClearContext();

} // namespace pg_tenancy
