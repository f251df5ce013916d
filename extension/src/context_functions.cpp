// context_functions.cpp: the readers row-level security policies call.
// Each is a pointer dereference on the record the GUC assign hook published: no
// token is parsed and no catalog is read per call.
extern "C" {
#include "postgres.h"

#include "access/parallel.h"
#include "fmgr.h"
#include "storage/proc.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
}

#include <cstring>

#include "pg_tenancy/pg_boundary.hpp"
#include "pg_tenancy/guc.hpp"
#include "pg_tenancy/sqlstate.hpp"

namespace {

using pg_tenancy::ContextRecord;

// No context (or no organization in it): error or "nobody", per tenancy.missing_context.
// A user-only context asked for an organization is its own condition (42T04):
// retrying cannot help, unlike a context that is gone (42T02).
bool MissingContext(const ContextRecord *context, const char *what) {
	if (pg_tenancy::missing_context_mode == pg_tenancy::kMissingContextEmpty)
		return true;
	if (context != nullptr)
		ereport(ERROR,
		        (errcode(PGT_ERRCODE(kWrongContextKind)), errmsg("this tenant context has no organization: %s", what),
		         errhint("Enter a context token minted for an organization to touch its data.")));
	ereport(ERROR, (errcode(PGT_ERRCODE(kNoTenantContext)), errmsg("no tenant context is active: %s", what),
	                errhint("Call tenancy.enter($1) with a signed context token in this transaction before touching "
	                        "tenant data.")));
	return true;
}

Datum UuidResult(const std::uint8_t bytes[16]) {
	auto *uuid = static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t)));
	std::memcpy(uuid->data, bytes, UUID_LEN);
	return UUIDPGetDatum(uuid);
}

void AppendUuid(StringInfo buf, const std::uint8_t bytes[16]) {
	static const char hex[] = "0123456789abcdef";
	appendStringInfoChar(buf, '"');
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			appendStringInfoChar(buf, '-');
		appendStringInfoChar(buf, hex[bytes[i] >> 4]);
		appendStringInfoChar(buf, hex[bytes[i] & 15]);
	}
	appendStringInfoChar(buf, '"');
}

void AppendTimestamp(StringInfo buf, std::int64_t unix_seconds) {
	appendStringInfoChar(buf, '"');
	appendStringInfoString(buf, timestamptz_to_str(time_t_to_timestamptz(static_cast<pg_time_t>(unix_seconds))));
	appendStringInfoChar(buf, '"');
}

} // namespace

PGT_FUNCTION(tenancy_current_org) {
	const ContextRecord *context = pg_tenancy::CurrentContext();
	if (context == nullptr || !context->has_org) {
		MissingContext(context, "tenancy.current_org() needs an organization context");
		PG_RETURN_NULL();
	}
	return UuidResult(context->org);
}

PGT_FUNCTION(tenancy_current_user_id) {
	const ContextRecord *context = pg_tenancy::CurrentContext();
	if (context == nullptr) {
		MissingContext(context, "tenancy.current_user_id() needs a context");
		PG_RETURN_NULL();
	}
	return UuidResult(context->user);
}

PGT_FUNCTION(tenancy_has_permission) {
	text *wanted = PG_GETARG_TEXT_PP(0);
	PG_RETURN_BOOL(
	    pg_tenancy::ContextGrants(pg_tenancy::CurrentContext(), VARDATA_ANY(wanted), VARSIZE_ANY_EXHDR(wanted)));
}

// For debugging and the engine's tests: what context is active, never the token.
PGT_FUNCTION(tenancy_context) {
	const ContextRecord *context = pg_tenancy::CurrentContext();
	if (context == nullptr)
		PG_RETURN_NULL();
	StringInfoData buf;
	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"user\": ");
	AppendUuid(&buf, context->user);
	appendStringInfoString(&buf, ", \"org\": ");
	if (context->has_org)
		AppendUuid(&buf, context->org);
	else
		appendStringInfoString(&buf, "null");
	appendStringInfoString(&buf, ", \"role\": ");
	if (context->has_role) {
		appendStringInfoString(&buf, "{\"id\": ");
		AppendUuid(&buf, context->role);
		// Role codes and permissions are restricted to [a-z0-9_.*-]: no escaping needed.
		appendStringInfo(&buf, ", \"code\": \"%s\"}", context->role_code);
	} else {
		appendStringInfoString(&buf, "null");
	}
	appendStringInfoString(&buf, ", \"permissions\": [");
	const char *permission = pg_tenancy::ContextPermissions(context);
	for (std::uint32_t i = 0; i < context->permission_count; i++) {
		appendStringInfo(&buf, "%s\"%s\"", i ? ", " : "", permission);
		permission += std::strlen(permission) + 1;
	}
	appendStringInfoString(&buf, "], \"issued_at\": ");
	AppendTimestamp(&buf, context->issued_at);
	appendStringInfoString(&buf, ", \"expires_at\": ");
	AppendTimestamp(&buf, context->expires_at);
	appendStringInfo(&buf, ", \"source\": \"%s\"}",
	                 context->source == pg_tenancy::ContextSource::Enter ? "enter" : "forwarded");
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}
