// guc.cpp: every pg_tenancy setting, and the guarded tenancy.context setting.
//
// Why a setting holds the context: PostgreSQL already scopes settings to
// transactions (SET LOCAL semantics), restores them on ROLLBACK TO SAVEPOINT,
// clears them with RESET ALL and DISCARD ALL, and copies them into parallel
// workers. What it does not do is stop the application role from writing one, so
// the check hook below refuses every non-empty value that did not come from
// tenancy.enter() in this backend, from this backend's parallel leader, or (only
// when a superuser opted in, for Citus workers) a token that verifies here.
extern "C" {
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "storage/proc.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
}

#include <cstdlib>
#include <cstring>
#include <ctime>

#include "pg_tenancy/forwarding.hpp"
#include "pg_tenancy/shared_membership_cache.hpp"
#include "pg_tenancy/guc.hpp"
#include "pg_tenancy/sqlstate.hpp"
#include "pg_tenancy/token_check.hpp"
#include "pg_tenancy/transaction_state.hpp"

namespace pg_tenancy {

char *keyring_file = nullptr;
int clock_skew_seconds = 5;
int max_token_lifetime_seconds = 3600;
int missing_context_mode = kMissingContextError;
bool accept_forwarded_context = false;
bool forward_context_to_workers = false;
int forwarding_lifetime_seconds = 30;
const ContextRecord *active_context = nullptr;

namespace {

char *context_setting = nullptr;

// Set only while ApplyEnteredContext() runs set_config_option().
const char *pending_value = nullptr;
ContextRecord *pending_record = nullptr;

const struct config_enum_entry kMissingContextOptions[] = {
    {"error", kMissingContextError, false},
    {"empty", kMissingContextEmpty, false},
    {nullptr, 0, false},
};

bool RefuseContext(const char *detail) {
	GUC_check_errcode(PGT_ERRCODE(kContextForgery));
	GUC_check_errmsg("tenancy.context can only be set by tenancy.enter()");
	if (detail)
		GUC_check_errdetail("%s.", detail);
	GUC_check_errhint("Call tenancy.enter($1) with a signed context token inside a transaction block.");
	return false;
}

bool CheckContextImpl(char **newval, void **extra, GucSource source) {
	const char *value = *newval;
	if (value == nullptr || value[0] == '\0')
		return true; // no context: every protected table fails closed
	if (pending_value && pending_record && std::strcmp(value, pending_value) == 0) {
		*extra = pending_record;
		pending_record = nullptr;
		return true;
	}
	if (InitializingParallelWorker) {
		// Restored from the leader, which verified it; re-verifying could fail on a
		// token that expired in between, and the leader's decision must hold.
		ContextRecord *record = nullptr;
		if (ParseTrustedContextValue(value, &record) != ContextParseError::None)
			return RefuseContext("The value copied from the parallel leader could not be parsed");
		*extra = record;
		return true;
	}
	if (accept_forwarded_context) {
		// Only SET LOCAL-style changes inside a transaction, once per transaction:
		// never a role or database default, never on top of an entered context.
		if (source != PGC_S_SESSION || !IsTransactionBlock())
			return RefuseContext("A forwarded context is accepted only by SET LOCAL inside a transaction block");
		if (ContextAlreadyUsed())
			return RefuseContext("This transaction already has a tenant context");
		TokenCheckOptions options{keyring_file, static_cast<std::int64_t>(time(nullptr)), clock_skew_seconds,
		                          forwarding_lifetime_seconds};
		ContextRecord *record = nullptr;
		const char *reason = nullptr;
		if (BuildForwardingContext(value, options, &record, &reason) != ContextParseError::None)
			return RefuseContext(reason);
		record->local_transaction = MyProc->lxid;
		*extra = record;
		return true;
	}
	return RefuseContext(nullptr);
}

bool CheckContext(char **newval, void **extra, GucSource source) {
	bool failed = false;
	bool accepted = false;
	try {
		accepted = CheckContextImpl(newval, extra, source);
	} catch (...) {
		failed = true;
	}
	// Outside the handler, and with a message: without one PostgreSQL would
	// report the rejected value, which may be a token.
	if (failed)
		return RefuseContext("The value could not be checked");
	if (accepted && *extra != nullptr && static_cast<ContextRecord *>(*extra)->source == ContextSource::Forwarded &&
	    !InitializingParallelWorker)
		HideForwardedContextFromActivity();
	return accepted;
}

// SHOW, current_setting(), pg_settings and SET ... FROM CURRENT never see the
// token, whoever asks (GUC_SUPERUSER_ONLY also admits pg_read_all_settings).
// Parallel workers get the real value: GUC serialization reads the variable.
const char *ShowContext() {
	return context_setting && context_setting[0] != '\0' ? "(hidden)" : "";
}

void AssignContext(const char *newval, void *extra) {
	active_context = static_cast<const ContextRecord *>(extra);
}

// Never show key material or tokens in logs or to non-superusers.
constexpr int kSecretFlags = GUC_SUPERUSER_ONLY | GUC_NOT_IN_SAMPLE;

} // namespace

void InitGuc() {
	DefineCustomStringVariable("tenancy.context", gettext_noop("The tenant context of the current transaction."),
	                           gettext_noop("Set only by tenancy.enter(); read it with tenancy.context()."),
	                           &context_setting, "", PGC_USERSET, kSecretFlags | GUC_NO_SHOW_ALL | GUC_DISALLOW_IN_FILE,
	                           CheckContext, AssignContext, ShowContext);
	DefineCustomStringVariable("tenancy.keyring_file",
	                           gettext_noop("Path of the keyring that verifies context tokens."),
	                           gettext_noop("One key per line: <kid> HS256 secret:<b64url> or <kid> EdDSA "
	                                        "public:<b64url>. The file must be mode 0600."),
	                           &keyring_file, "", PGC_SIGHUP, kSecretFlags, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("tenancy.clock_skew", gettext_noop("Clock skew tolerated when checking token times."),
	                        nullptr, &clock_skew_seconds, 5, 0, 300, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
	DefineCustomIntVariable(
	    "tenancy.max_token_lifetime", gettext_noop("Longest accepted lifetime (exp - iat) of a context token."),
	    nullptr, &max_token_lifetime_seconds, 3600, 1, 86400, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
	DefineCustomEnumVariable(
	    "tenancy.missing_context", gettext_noop("What a protected table does when no tenant context is active."),
	    gettext_noop("error: fail with SQLSTATE 42501; empty: return no rows and reject writes."),
	    &missing_context_mode, kMissingContextError, kMissingContextOptions, PGC_SUSET, 0, nullptr, nullptr, nullptr);
	DefineCustomBoolVariable(
	    "tenancy.accept_forwarded_context",
	    gettext_noop("Accept the forwarding context a Citus coordinator's tenancy.enter() sends (Citus workers)."),
	    gettext_noop("Only contexts signed with a use:forward key and bound to the current Citus distributed "
	                 "transaction count; a user's token is never accepted this way."),
	    &accept_forwarded_context, false, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	DefineCustomBoolVariable(
	    "tenancy.forward_context_to_workers",
	    gettext_noop("Have tenancy.enter() forward the context to Citus workers (Citus coordinator)."),
	    gettext_noop("enter() signs the checked membership with the keyring's use:forward key, bound to the "
	                 "distributed transaction, and sends it through Citus's SET LOCAL propagation."),
	    &forward_context_to_workers, false, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
	DefineCustomIntVariable("tenancy.forwarding_lifetime",
	                        gettext_noop("How long a forwarding context stays valid for workers to accept it."),
	                        gettext_noop("A transaction that first reaches a worker later than this after "
	                                     "tenancy.enter() is refused there."),
	                        &forwarding_lifetime_seconds, 30, 1, 3600, PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr,
	                        nullptr);
	DefineCustomIntVariable(
	    "tenancy.shared_membership_cache_size",
	    gettext_noop("Memberships tenancy.enter() keeps in shared memory for every backend (0: none)."),
	    gettext_noop("512 bytes each. A new backend's first enter() for a membership another backend has read "
	                 "since the last change opens none of pg_tenancy's tables."),
	    &shared_membership_cache_size, 8192, 0, 1048576, PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
	MarkGUCPrefixReserved("tenancy");
}

void ArmPendingContext(const char *value, ContextRecord *record) {
	pending_value = value;
	pending_record = record;
}

void DisarmPendingContext() {
	pending_value = nullptr;
	if (pending_record) {
		std::free(pending_record);
		pending_record = nullptr;
	}
}

void ApplyEnteredContext(const char *value, ContextRecord *record) {
	ArmPendingContext(value, record);
	PG_TRY();
	{
		(void)set_config_option("tenancy.context", value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true, ERROR,
		                        false);
	}
	PG_FINALLY();
	{ DisarmPendingContext(); }
	PG_END_TRY();
}

// Would this setting's value after COMMIT come from a session-level SET?
// Walks the GUC stack the way AtEOXact_GUC will: a plain SET at any level
// survives; SET LOCAL and function SET clauses fall back to the prior value.
bool SessionSetSurvivesCommit(const struct config_generic *var) {
	if (var->stack == nullptr)
		return var->source == PGC_S_SESSION;
	const GucStack *bottom = var->stack;
	for (const GucStack *entry = var->stack; entry != nullptr; entry = entry->prev) {
		if (entry->state == GUC_SET || entry->state == GUC_SET_LOCAL)
			return true;
		bottom = entry;
	}
	return bottom->source == PGC_S_SESSION;
}

void RefuseContextOutlivingTransaction() {
	static const struct config_generic *setting = nullptr;
	// A parallel worker restores the leader's settings at session level, in a
	// transaction of its own: that is not a SET by anyone.
	if (context_setting == nullptr || context_setting[0] == '\0' || IsParallelWorker() || InitializingParallelWorker)
		return;
	if (setting == nullptr) {
		struct config_generic **vars = get_guc_variables();
		for (int i = 0, n = GetNumConfigOptions(); i < n && setting == nullptr; i++)
			if (std::strcmp(vars[i]->name, "tenancy.context") == 0)
				setting = vars[i];
	}
	if (setting == nullptr || !SessionSetSurvivesCommit(setting))
		return;
	ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
	                errmsg("a tenant context set at session level cannot be committed"),
	                errdetail("tenancy.context was set without LOCAL, so it would outlive the transaction."),
	                errhint("Use SET LOCAL tenancy.context (or set_config(..., true)) inside the transaction.")));
}

void ClearContext() {
	(void)set_config_option("tenancy.context", "", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true, ERROR, false);
}

} // namespace pg_tenancy
