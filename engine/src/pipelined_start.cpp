// pipelined_start.cpp: see pipelined_start.hpp.
#include "pipelined_start.hpp"

#include <libpq-fe.h>
#include <pqxx/except>
#include <pqxx/version>

namespace pg_tenancy::engine::detail {
namespace {

static_assert(PQXX_VERSION_MAJOR == 6 && PQXX_VERSION_MINOR == 4,
              "pipelined_start.cpp reaches into libpqxx 6.4; libpqxx 7 has pqxx::pipeline for this");

// libpqxx 6.4 keeps the connection's PGconn and its PGresult -> pqxx::result
// factory private; an explicit instantiation may name private members
// ([temp.explicit]), which is how these two are reached without copying or
// patching libpqxx. Nothing else of libpqxx's internals is used.
template <typename Tag, typename Tag::type Member> struct PrivateMember {
	friend typename Tag::type Get(Tag) { return Member; }
};
struct RawConnectionTag {
	using type = pqxx::internal::pq::PGconn *(pqxx::connection_base::*)() const;
	friend type Get(RawConnectionTag);
};
struct MakeResultTag {
	using type = pqxx::result (pqxx::connection_base::*)(pqxx::internal::pq::PGresult *, const std::string &);
	friend type Get(MakeResultTag);
};
template struct PrivateMember<RawConnectionTag, &pqxx::connection_base::raw_connection>;
template struct PrivateMember<MakeResultTag, &pqxx::connection_base::make_result>;

// Owns a PGresult until handed to libpqxx.
struct ResultHolder {
	PGresult *result = nullptr;
	ResultHolder() = default;
	ResultHolder(const ResultHolder &) = delete;
	ResultHolder &operator=(const ResultHolder &) = delete;
	~ResultHolder() { PQclear(result); }
	PGresult *Release() {
		PGresult *r = result;
		result = nullptr;
		return r;
	}
};

constexpr int kParts = 3; // BEGIN, enter, the statement

[[noreturn]] void ThrowServerError(const PGresult *result, const std::string &query) {
	const char *message = PQresultErrorMessage(result);
	const char *sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
	throw pqxx::sql_error(message && *message ? message : "the statement failed", query, sqlstate ? sqlstate : "");
}

} // namespace

pqxx::result ExecPipelinedStart(pqxx::connection_base &connection, const PipelinedStart &start) {
	PGconn *raw = (connection.*Get(RawConnectionTag{}))();
	if (raw == nullptr || PQstatus(raw) != CONNECTION_OK)
		throw pqxx::broken_connection("the database connection is not open");
	if (PQenterPipelineMode(raw) != 1)
		throw pqxx::broken_connection(PQerrorMessage(raw));

	const char *token = start.token.c_str();
	const int token_length = static_cast<int>(start.token.size());
	const int text_format = 0;
	std::vector<const char *> values;
	std::vector<int> lengths;
	for (std::size_t i = 0; i < start.params.values.size(); i++) {
		values.push_back(start.params.is_null[i] ? nullptr : start.params.values[i].data());
		lengths.push_back(static_cast<int>(start.params.values[i].size()));
	}
	const int nparams = static_cast<int>(values.size());
	bool sent = PQsendQueryParams(raw, start.begin_sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) == 1 &&
	            (start.enter_prepared
	                 ? PQsendQueryPrepared(raw, "tenancy_enter", 1, &token, &token_length, &text_format, 0) == 1
	                 : PQsendQueryParams(raw, "SELECT tenancy.enter($1)", 1, nullptr, &token, &token_length,
	                                     &text_format, 0) == 1) &&
	            PQsendQueryParams(raw, start.statement.c_str(), nparams, nullptr, nparams ? values.data() : nullptr,
	                              nparams ? lengths.data() : nullptr, nparams ? start.params.formats.data() : nullptr,
	                              0) == 1 &&
	            PQpipelineSync(raw) == 1;
	if (!sent) {
		// Nothing can be read back reliably: the connection is closed by the caller.
		throw pqxx::broken_connection(PQerrorMessage(raw));
	}

	// Each part's first result, then the Sync. Every result is read, even after
	// an error, so the connection leaves pipeline mode in a known state.
	ResultHolder parts[kParts];
	int part = 0;
	bool synced = false;
	int idle_reads = 0;
	while (!synced) {
		PGresult *result = PQgetResult(raw);
		if (result == nullptr) { // the end of one part's results
			if (PQstatus(raw) != CONNECTION_OK || ++idle_reads > kParts + 1)
				throw pqxx::broken_connection("the database connection was lost during the transaction's first "
				                              "statement");
			part++;
			continue;
		}
		idle_reads = 0;
		if (PQresultStatus(result) == PGRES_PIPELINE_SYNC) {
			PQclear(result);
			synced = true;
		} else if (part < kParts && parts[part].result == nullptr) {
			parts[part].result = result;
		} else {
			PQclear(result); // a part's further results, or an unexpected one
		}
	}
	if (PQexitPipelineMode(raw) != 1)
		throw pqxx::broken_connection(PQerrorMessage(raw));

	const std::string queries[kParts] = {start.begin_sql, "SELECT tenancy.enter($1)", start.statement};
	for (int i = 0; i < kParts; i++) {
		const PGresult *result = parts[i].result;
		if (result == nullptr)
			throw pqxx::broken_connection("the database connection was lost during the transaction's first "
			                              "statement");
		ExecStatusType status = PQresultStatus(result);
		if (status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR || status == PGRES_BAD_RESPONSE)
			ThrowServerError(result, queries[i]);
		if (status == PGRES_PIPELINE_ABORTED)
			continue; // an earlier part failed (and threw above); cannot happen here
		if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
			throw pqxx::failure("unexpected result from the database for \"" + queries[i] + "\"");
	}
	return (connection.*Get(MakeResultTag{}))(parts[2].Release(), start.statement);
}

} // namespace pg_tenancy::engine::detail
