// forwarding.cpp: the tenant context on a Citus cluster.
//
// Coordinator (tenancy.forward_context_to_workers): after enter() has checked
// the membership, it signs a forwarding context (forward_token.hpp) bound to the
// transaction's Citus distributed transaction id and runs
// SET LOCAL tenancy.context = '<forwarding context>' through SPI, with
// citus.propagate_set_commands = 'local' for just that statement, so Citus
// replays it on every worker connection the transaction opens. The user's own
// token never leaves the coordinator.
//
// Worker (tenancy.accept_forwarded_context): the check hook verifies the
// signature (use:forward keys only) and lifetime; readers then use the context
// only while this backend takes part in the distributed transaction it was
// minted for, which Citus assigns before it runs anything on the connection.
//
// Citus is never linked: UseCoordinatedTransaction() is looked up in the loaded
// library, and the distributed transaction id is read through Citus's SQL
// function pg_catalog.get_current_transaction_id().
extern "C" {
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/pg_list.h"
#include "parser/parse_func.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/guc.h"
}

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "pg_tenancy/forwarding.hpp"
#include "pg_tenancy/guc.hpp"
#include "pg_tenancy/pg_boundary.hpp"
#include "pg_tenancy/sqlstate.hpp"
#include "pg_tenancy/token_check.hpp"

namespace pg_tenancy {
namespace {

constexpr const char *kPropagateSetting = "citus.propagate_set_commands";

bool CitusLoaded() {
	return GetConfigOption(kPropagateSetting, true, false) != nullptr;
}

bool DistributedTransactionFunctionExists() {
	List *name = list_make2(makeString(pstrdup("pg_catalog")), makeString(pstrdup("get_current_transaction_id")));
	return OidIsValid(LookupFuncName(name, 0, nullptr, true));
}

// "<initiator>:<number>:<stamp>" of this backend's distributed transaction
// (for a parallel worker, its leader's), or false when none is assigned yet.
bool CurrentDistributedTransaction(char (&out)[kMaxDistributedTransactionText + 1]) {
	static SPIPlanPtr plan = nullptr;
	// Checked once per backend, before the plan is kept (a later DROP shows as
	// PostgreSQL's own error from the kept plan).
	if (plan == nullptr && !DistributedTransactionFunctionExists())
		ereport(ERROR,
		        (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("a forwarded tenant context needs Citus on this node"),
		         errdetail("pg_catalog.get_current_transaction_id() does not exist."),
		         errhint("Install Citus here, or turn off tenancy.accept_forwarded_context and "
		                 "tenancy.forward_context_to_workers.")));
	bool assigned = false;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_tenancy: SPI_connect failed");
	if (plan == nullptr) {
		SPIPlanPtr prepared = SPI_prepare("SELECT initiator_node_identifier, transaction_number, transaction_stamp "
		                                  "FROM pg_catalog.get_current_transaction_id()",
		                                  0, nullptr);
		if (prepared == nullptr || SPI_keepplan(prepared) != 0)
			elog(ERROR, "pg_tenancy: could not prepare the distributed transaction query");
		plan = prepared;
	}
	if (SPI_execute_plan(plan, nullptr, nullptr, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "pg_tenancy: could not read the distributed transaction id");
	bool null_node = false, null_number = false, null_stamp = false;
	HeapTuple row = SPI_tuptable->vals[0];
	TupleDesc desc = SPI_tuptable->tupdesc;
	int32 node = DatumGetInt32(SPI_getbinval(row, desc, 1, &null_node));
	int64 number = DatumGetInt64(SPI_getbinval(row, desc, 2, &null_number));
	Datum stamp_datum = SPI_getbinval(row, desc, 3, &null_stamp);
	int64 stamp = null_stamp ? 0 : DatumGetInt64(stamp_datum);
	if (!null_node && !null_number && !null_stamp && number != 0) {
		snprintf(out, sizeof out, "%d:%lld:%lld", node, static_cast<long long>(number), static_cast<long long>(stamp));
		assigned = true;
	}
	SPI_finish();
	return assigned;
}

// Runs `statement` (a SET LOCAL of tenancy.context) with Citus's SET
// propagation on for just that statement, so every worker connection of this
// transaction, open or opened later, runs it too.
void RunPropagated(const char *statement) {
	char *previous = pstrdup(GetConfigOption(kPropagateSetting, false, false));
	(void)set_config_option(kPropagateSetting, "local", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true, ERROR,
	                        false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_tenancy: SPI_connect failed");
	if (SPI_execute(statement, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "pg_tenancy: could not forward the tenant context");
	SPI_finish();
	(void)set_config_option(kPropagateSetting, previous, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true, ERROR,
	                        false);
	pfree(previous);
}

void RequireCitusCoordinator() {
	if (!CitusLoaded())
		ereport(ERROR, (errcode(ERRCODE_CONFIG_FILE_ERROR),
		                errmsg("tenancy.forward_context_to_workers is on, but Citus is not loaded"),
		                errhint("Add citus to shared_preload_libraries, or turn the setting off on nodes that are "
		                        "not a Citus coordinator.")));
	if (!DistributedTransactionFunctionExists())
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("tenancy.forward_context_to_workers is on, but this database has no citus extension"),
		                errhint("Run CREATE EXTENSION citus in this database, or turn the setting off.")));
	using UseCoordinatedTransactionFn = void (*)(void);
	auto use_coordinated = reinterpret_cast<UseCoordinatedTransactionFn>(
	    load_external_function("citus", "UseCoordinatedTransaction", false, nullptr));
	if (use_coordinated == nullptr)
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("this Citus version cannot be used to forward tenant contexts"),
		                errdetail("Citus's UseCoordinatedTransaction() was not found.")));
	// Makes Citus assign this transaction its distributed transaction id now,
	// as its first distributed query would; the forwarding context is bound to it.
	use_coordinated();
}

} // namespace

bool ForwardedContextApplies(const ContextRecord *context) {
	// A value left behind by another transaction never counts (a parallel worker
	// runs inside its leader's transaction, checked below).
	if (!IsParallelWorker() && context->local_transaction != MyProc->lxid)
		return false;
	static LocalTransactionId known_for = InvalidLocalTransactionId;
	static char known[kMaxDistributedTransactionText + 1];
	if (known_for != MyProc->lxid || known_for == InvalidLocalTransactionId) {
		if (!IsTransactionState() || !CurrentDistributedTransaction(known))
			return false; // not part of a distributed transaction (yet): fail closed
		known_for = MyProc->lxid;
	}
	return std::strcmp(known, context->distributed_transaction) == 0;
}

void HideForwardedContextFromActivity() {
	// Citus sends "BEGIN ...;SET LOCAL tenancy.context = '<token>';SELECT
	// assign_distributed_transaction_id(...)" as one query, which other sessions
	// of the same role see in pg_stat_activity (and citus_stat_activity on the
	// coordinator). Blank out each assignment up to its ';' (a token truncated
	// by track_activity_query_size is blanked too).
	if (MyBEEntry == nullptr || MyBEEntry->st_activity_raw == nullptr)
		return;
	const char *raw = MyBEEntry->st_activity_raw;
	StringInfoData redacted;
	initStringInfo(&redacted);
	bool changed = false;
	while (*raw) {
		const char *hit = nullptr;
		for (const char *p = raw; *p && hit == nullptr; p++)
			if (pg_strncasecmp(p, "tenancy.context", 15) == 0)
				hit = p;
		if (hit == nullptr) {
			appendStringInfoString(&redacted, raw);
			break;
		}
		appendBinaryStringInfo(&redacted, raw, static_cast<int>(hit - raw));
		appendStringInfoString(&redacted, "tenancy.context = '(hidden)'");
		const char *end = std::strchr(hit, ';');
		raw = end ? end : hit + std::strlen(hit);
		changed = true;
	}
	if (changed)
		pgstat_report_activity(STATE_RUNNING, redacted.data);
	pfree(redacted.data);
}

void ForwardEnteredContext(const ContextRecord *entered) {
	if (!forward_context_to_workers || !entered->has_org)
		return;
	RequireCitusCoordinator();
	char distributed_transaction[kMaxDistributedTransactionText + 1];
	if (!CurrentDistributedTransaction(distributed_transaction))
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
		                errmsg("Citus assigned this transaction no distributed transaction id")));
	char token[kForwardingTokenBytes];
	switch (MintForwardingContext(keyring_file, entered, distributed_transaction,
	                              static_cast<std::int64_t>(time(nullptr)), forwarding_lifetime_seconds, token,
	                              sizeof token)) {
	case ForwardMintStatus::Ok:
		break;
	case ForwardMintStatus::NoForwardingKey:
		ereport(ERROR, (errcode(ERRCODE_CONFIG_FILE_ERROR),
		                errmsg("the keyring has no use:forward key to forward the tenant context to workers"),
		                errhint("Add the same \"<kid> HS256 secret:<key> use:forward\" line (tenancy keygen --forward) "
		                        "to the keyring of every node.")));
		break;
	case ForwardMintStatus::TooLarge:
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
		                errmsg("the role's permissions are too long to forward to Citus workers"),
		                errhint("Keep a role's permission list under 2048 bytes, e.g. with \"resource.*\" grants.")));
		break;
	case ForwardMintStatus::KeyringUnavailable:
	case ForwardMintStatus::Failed:
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not sign the forwarding context")));
		break;
	}
	auto *copy = static_cast<ContextRecord *>(std::malloc(entered->total_bytes));
	if (copy == nullptr)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	std::memcpy(copy, entered, entered->total_bytes);
	// Here the setting takes the forwarding context as its value, but keeps the
	// record enter() built: this node already checked the membership itself.
	StringInfoData statement;
	initStringInfo(&statement);
	appendStringInfo(&statement, "SET LOCAL tenancy.context = %s", quote_literal_cstr(token));
	ArmPendingContext(token, copy);
	PG_TRY();
	{ RunPropagated(statement.data); }
	PG_FINALLY();
	{ DisarmPendingContext(); }
	PG_END_TRY();
	pfree(statement.data);
}

void LeaveContext() {
	// With forwarding, the workers must leave too: RESET-like SET LOCAL to ''
	// goes through Citus's propagation like the context did.
	if (forward_context_to_workers && CitusLoaded() && active_context != nullptr)
		RunPropagated("SET LOCAL tenancy.context = ''");
	else
		ClearContext();
}

} // namespace pg_tenancy

// tenancy.keyring_fingerprint(): compare keyrings across nodes without showing them.
PGT_FUNCTION(tenancy_keyring_fingerprint) {
	char fingerprint[65];
	if (!pg_tenancy::KeyringFingerprint(pg_tenancy::keyring_file, fingerprint))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(fingerprint));
}
