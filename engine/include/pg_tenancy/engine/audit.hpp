// audit.hpp: tenancy.audit() and tenancy.probe() from C++, for a deployment
// pipeline (`tenancy audit`) or an application that refuses to start on a
// database that would let data cross tenants.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pg_tenancy/engine/namespace.hpp"

namespace pg_tenancy::engine {

// Ordered: a finding "at or above High" is severity >= Severity::High.
enum class Severity { Info, Medium, High, Critical };

// "info", "medium", "high", "critical".
const char *SeverityName(Severity severity) noexcept;
// The inverse; throws std::invalid_argument naming the accepted values.
Severity ParseSeverity(std::string_view name);

struct Finding {
	std::string rule; // stable id: T1xx tables, T2xx roles, T3xx policies, T4xx objects, T5xx settings, Pxxx probe
	Severity severity = Severity::Info;
	std::string object; // the table, role, function or setting concerned
	std::string detail; // why it lets data cross tenants
	std::string remedy; // a concrete fix (SQL where one exists); may be empty
};

struct AuditOptions {
	std::string app_role; // the role name as stored, unquoted; empty: every role with grants on tenant tables
	bool probe = false;   // also run tenancy.probe(app_role): needs a superuser and app_role
};

// Runs the audit over `conninfo`, a privileged connection (the probe needs a
// superuser), most severe first. Throws DatabaseUnavailable, or DatabaseError
// with the server's SQLSTATE (e.g. 42883 when pg_tenancy is older than 0.2.0).
std::vector<Finding> RunAudit(const std::string &conninfo, const AuditOptions &options);

// Do any findings reach `threshold`?
bool AnyAtOrAbove(const std::vector<Finding> &findings, Severity threshold) noexcept;

} // namespace pg_tenancy::engine
