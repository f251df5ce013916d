// enter.cpp: tenancy.enter(token) and tenancy.leave().
//
// enter() is the only way into a tenant context: it verifies the token's
// signature and times, re-checks the membership in the database (so a removed
// member is refused even with an unexpired token), and sets the context for the
// current transaction only.
extern "C" {
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/uuid.h"
}

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "pg_tenancy/forwarding.hpp"
#include "pg_tenancy/guc.hpp"
#include "pg_tenancy/pg_boundary.hpp"
#include "pg_tenancy/membership.hpp"
#include "pg_tenancy/sqlstate.hpp"
#include "pg_tenancy/token_check.hpp"
#include "pg_tenancy/transaction_state.hpp"

namespace {

// One message for "no such organization" and "not a member": the difference
// would tell a caller which organization ids exist.
void RefuseMembership() {
	ereport(ERROR, (errcode(PGT_ERRCODE(kNotAMember)),
	                errmsg("the token's user is not a member of the requested organization"),
	                errhint("Mint a token for an organization the user belongs to.")));
}

void RequireTransactionBlock() {
	if (!IsTransactionBlock())
		ereport(ERROR, (errcode(ERRCODE_NO_ACTIVE_SQL_TRANSACTION),
		                errmsg("tenancy.enter() must be called inside a transaction block"),
		                errhint("Run BEGIN first; the context then ends with COMMIT or ROLLBACK.")));
	if (pg_tenancy::ContextAlreadyUsed())
		ereport(ERROR, (errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
		                errmsg("a tenant context was already entered in this transaction"),
		                errhint("Commit or roll back, then enter the next context in a new transaction.")));
}

void CheckToken(text *token, pg_tenancy::TokenCheckResult *check) {
	pg_tenancy::TokenCheckOptions options{pg_tenancy::keyring_file, static_cast<std::int64_t>(time(nullptr)),
	                                      pg_tenancy::clock_skew_seconds, pg_tenancy::max_token_lifetime_seconds};
	pg_tenancy::CheckContextToken(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), options, check);
	if (check->status == pg_tenancy::TokenCheckStatus::KeyringUnavailable)
		ereport(ERROR, (errcode(ERRCODE_CONFIG_FILE_ERROR), errmsg("the pg_tenancy keyring is not usable"),
		                errdetail_log("%s", check->keyring_error),
		                errhint("A superuser must point tenancy.keyring_file at a mode 0600 keyring file; "
		                        "the server log has the details.")));
	if (check->status != pg_tenancy::TokenCheckStatus::Valid)
		ereport(ERROR, (errcode(PGT_ERRCODE(kInvalidContextToken)), errmsg("invalid tenancy context token"),
		                errdetail("%s.", check->reason), errhint("Mint a fresh token with the current keyring.")));
}

// Sets the context of the current transaction to `token` (already verified, or
// minted here for the probe), with the role and permissions of the membership it
// names, re-read from the database.
void ApplyContext(const char *token, std::size_t token_len, const pg_tenancy::TokenCheckResult &claims) {
	pg_tenancy::MembershipInfo membership;
	std::memset(&membership, 0, sizeof membership);
	if (claims.has_org) {
		pg_tenancy::LookupMembership(claims.user, claims.org, &membership);
		if (!membership.found)
			RefuseMembership();
	} else if (!pg_tenancy::UserExists(claims.user)) {
		ereport(ERROR, (errcode(PGT_ERRCODE(kUserNotRegistered)), errmsg("the token's user is not registered"),
		                errhint("Register the user with tenancy.register_user() first.")));
	}
	pg_tenancy::ContextFields fields{claims.user,
	                                 claims.has_org ? claims.org : nullptr,
	                                 claims.issued_at,
	                                 claims.expires_at,
	                                 claims.jti,
	                                 claims.has_org ? membership.role : nullptr,
	                                 membership.role_code,
	                                 membership.permissions ? membership.permissions : "",
	                                 membership.permissions_len,
	                                 pg_tenancy::ContextSource::Enter};
	pg_tenancy::ContextRecord *record = nullptr;
	pg_tenancy::ContextParseError built = pg_tenancy::BuildContextRecord(fields, &record);
	if (built == pg_tenancy::ContextParseError::OutOfMemory)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (built != pg_tenancy::ContextParseError::None)
		ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("pg_tenancy: stored role or permissions are invalid"),
		                errhint("Check the role's code and permissions in tenancy.roles.")));
	char *value = pg_tenancy::FormatContextValue(token, token_len, fields);
	if (value == nullptr) {
		std::free(record);
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	// Kept with the verified token, for its next enter() at the same membership
	// epoch (a copy: the setting takes this record).
	if (claims.has_org && membership.current)
		pg_tenancy::PrepareContext(claims, membership.epoch.generation, membership.epoch.catalog_invalidations, value,
		                           record);
	// Only a context actually set uses up the transaction's one enter().
	pg_tenancy::MarkContextEntered();
	// The setting copies the value; free ours even if setting it fails.
	PG_TRY();
	{ pg_tenancy::ApplyEnteredContext(value, record); }
	PG_FINALLY();
	{ std::free(value); }
	PG_END_TRY();
}

// Sets the context this backend built from the same token before, if its
// membership epoch still holds (no membership, role or user changed since, and
// the tables' catalog entries were not invalidated: exactly when the
// membership cache would still answer with the same membership). False when
// there is none: the caller builds it.
bool ApplyPreparedContext(const pg_tenancy::TokenCheckResult &claims) {
	if (!claims.has_org || claims.cached_token == nullptr)
		return false; // a token's first use: no epoch read
	pg_tenancy::PreparedContextView prepared;
	pg_tenancy::MembershipEpoch epoch;
	// FindPreparedContext() again after the epoch: taking in invalidations
	// could, in principle, have run code that changed the token cache (the
	// view would then be gone).
	const bool current =
	    pg_tenancy::FindPreparedContext(claims, &prepared) && pg_tenancy::CurrentMembershipEpoch(&epoch) &&
	    pg_tenancy::FindPreparedContext(claims, &prepared) && prepared.generation == epoch.generation &&
	    prepared.catalog_invalidations == epoch.catalog_invalidations;
	pg_tenancy::NotePreparedContextUse(current);
	if (!current)
		return false;
	// The setting takes a record of its own (PostgreSQL frees it with free()).
	auto *record = static_cast<pg_tenancy::ContextRecord *>(std::malloc(prepared.record_len));
	if (record == nullptr)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	std::memcpy(record, prepared.record, prepared.record_len);
	pg_tenancy::MarkContextEntered();
	pg_tenancy::ApplyEnteredContext(prepared.value, record); // copies the value
	return true;
}

} // namespace

PGT_FUNCTION(tenancy_enter) {
	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("the context token must not be null"),
		                errhint("Pass the token minted for this request as the bind parameter of "
		                        "tenancy.enter($1).")));
	RequireTransactionBlock();
	text *token = PG_GETARG_TEXT_PP(0);
	pg_tenancy::TokenCheckResult check;
	CheckToken(token, &check);

	if (!ApplyPreparedContext(check))
		ApplyContext(VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token), check);
	pg_tenancy::ForwardEnteredContext(pg_tenancy::active_context);
	PG_RETURN_VOID();
}

PGT_FUNCTION(tenancy_leave) {
	if (IsTransactionBlock())
		pg_tenancy::LeaveContext();
	PG_RETURN_VOID();
}

// tenancy.probe_enter(org, user): how tenancy.probe() enters one of the synthetic
// organizations it creates, to look at the tables exactly as the application
// does. The probe holds no signing key (the server may have only Ed25519 public
// keys), so the token is signed with a key thrown away at once. Superuser only
// (a superuser bypasses row-level security anyway), once per transaction like
// enter(); the probe runs it inside a subtransaction it always rolls back.
PGT_FUNCTION(tenancy_probe_enter) {
	if (!superuser())
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("tenancy.probe_enter() is for superusers"),
		                errhint("Run tenancy.probe() as a superuser.")));
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
		                errmsg("tenancy.probe_enter() needs an organization and a user")));
	// The same one-context-per-transaction rule as enter().
	if (pg_tenancy::ContextAlreadyUsed())
		ereport(ERROR, (errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
		                errmsg("a tenant context was already entered in this transaction"),
		                errhint("Run tenancy.probe() in a transaction of its own.")));
	const pg_uuid_t *org = PG_GETARG_UUID_P(0);
	const pg_uuid_t *user = PG_GETARG_UUID_P(1);
	char token[pg_tenancy::kThrowawayTokenBytes];
	pg_tenancy::TokenCheckResult claims;
	if (!pg_tenancy::MintThrowawayContextToken(user->data, org->data, static_cast<std::int64_t>(time(nullptr)), token,
	                                           sizeof token, &claims))
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not sign a probe context token")));
	ApplyContext(token, strlen(token), claims);
	PG_RETURN_VOID();
}
