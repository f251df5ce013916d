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
#include "utils/builtins.h"
}

#include <cstdlib>
#include <ctime>

#include "pg_tenancy/pg_boundary.hpp"
#include "pg_tenancy/guc.hpp"
#include "pg_tenancy/membership.hpp"
#include "pg_tenancy/token_check.hpp"
#include "pg_tenancy/transaction_state.hpp"

namespace {

// One message for "no such organization" and "not a member": the difference
// would tell a caller which organization ids exist.
void RefuseMembership() {
	ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
	                errmsg("the token's user is not a member of the requested organization"),
	                errhint("Mint a token for an organization the user belongs to.")));
}

void RequireTransactionBlock() {
	if (!IsTransactionBlock())
		ereport(ERROR, (errcode(ERRCODE_NO_ACTIVE_SQL_TRANSACTION),
		                errmsg("tenancy.enter() must be called inside a transaction block"),
		                errhint("Run BEGIN first; the context then ends with COMMIT or ROLLBACK.")));
	if (pg_tenancy::EnteredInThisTransaction())
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
		ereport(ERROR, (errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION), errmsg("invalid tenancy context token"),
		                errdetail("%s.", check->reason), errhint("Mint a fresh token with the current keyring.")));
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

	StringInfoData value;
	initStringInfo(&value);
	appendBinaryStringInfo(&value, VARDATA_ANY(token), VARSIZE_ANY_EXHDR(token));
	if (check.has_org) {
		pg_tenancy::MembershipInfo membership;
		pg_tenancy::LookupMembership(check.user, check.org, &membership);
		if (!membership.found)
			RefuseMembership();
		appendStringInfo(&value, "%c%s%c%s%c%s", pg_tenancy::kContextValueSeparator, membership.role_id,
		                 pg_tenancy::kContextValueSeparator, membership.role_code, pg_tenancy::kContextValueSeparator,
		                 membership.permissions);
	} else if (!pg_tenancy::UserExists(check.user)) {
		ereport(ERROR,
		        (errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION), errmsg("the token's user is not registered"),
		         errhint("Register the user with tenancy.register_user() first.")));
	}

	pg_tenancy::ContextRecord *record = nullptr;
	if (pg_tenancy::ParseTrustedContextValue(value.data, &record) != pg_tenancy::ContextParseError::None)
		ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("pg_tenancy: stored role or permissions are invalid"),
		                errhint("Check the role's code and permissions in tenancy.roles.")));
	pg_tenancy::MarkContextEntered();
	pg_tenancy::ApplyEnteredContext(value.data, record);
	pfree(value.data);
	PG_RETURN_VOID();
}

PGT_FUNCTION(tenancy_leave) {
	if (IsTransactionBlock())
		pg_tenancy::ClearContext();
	PG_RETURN_VOID();
}
