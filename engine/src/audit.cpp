// audit.cpp: runs tenancy.audit() (and optionally tenancy.probe()) and reads the
// findings. The rules themselves live in the extension, written once.
#include "pg_tenancy/engine/audit.hpp"

#include <algorithm>
#include <exception>
#include <pqxx/connection>
#include <pqxx/transaction>
#include <stdexcept>

#include "pg_tenancy/engine/errors.hpp"
#include "pg_tenancy/engine/tenant_transaction.hpp"

namespace pg_tenancy::engine {
namespace {

constexpr const char *kSeverityNames[] = {"info", "medium", "high", "critical"};

void ReadFindings(const pqxx::result &rows, std::vector<Finding> &out) {
	for (const auto &row : rows)
		out.push_back(Finding{row[0].as<std::string>(), ParseSeverity(row[1].as<std::string>()),
		                      row[2].as<std::string>(""), row[3].as<std::string>(""), row[4].as<std::string>("")});
}

} // namespace

const char *SeverityName(Severity severity) noexcept {
	return kSeverityNames[static_cast<int>(severity)];
}

Severity ParseSeverity(std::string_view name) {
	for (int i = 0; i < 4; i++)
		if (name == kSeverityNames[i])
			return static_cast<Severity>(i);
	throw std::invalid_argument("unknown severity \"" + std::string(name) + "\"; use info, medium, high or critical");
}

bool AnyAtOrAbove(const std::vector<Finding> &findings, Severity threshold) noexcept {
	return std::any_of(findings.begin(), findings.end(),
	                   [threshold](const Finding &f) { return f.severity >= threshold; });
}

std::vector<Finding> RunAudit(const std::string &conninfo, const AuditOptions &options) {
	if (options.probe && options.app_role.empty())
		throw std::invalid_argument("the probe needs the application role: pass it as the app role");
	std::vector<Finding> findings;
	try {
		pqxx::connection connection(conninfo);
		// Read-only for the audit; the probe writes, but always rolls itself back,
		// and this transaction is rolled back as well.
		pqxx::work tx(connection);
		const char *columns = "rule, severity::pg_catalog.text, object, detail, remedy";
		ReadFindings(options.app_role.empty()
		                 ? tx.exec(std::string("SELECT ") + columns + " FROM tenancy.audit()")
		                 : tx.exec_params(std::string("SELECT ") + columns +
		                                      " FROM tenancy.audit(pg_catalog.quote_ident($1)::pg_catalog.regrole)",
		                                  options.app_role),
		             findings);
		if (options.probe)
			ReadFindings(tx.exec_params(std::string("SELECT ") + columns +
			                                " FROM tenancy.probe(pg_catalog.quote_ident($1)::pg_catalog.regrole)",
			                            options.app_role),
			             findings);
		tx.abort();
	} catch (const std::invalid_argument &) {
		throw;
	} catch (...) {
		ThrowTranslated(std::current_exception(), false);
	}
	std::stable_sort(findings.begin(), findings.end(),
	                 [](const Finding &a, const Finding &b) { return a.severity > b.severity; });
	return findings;
}

} // namespace pg_tenancy::engine
