// audit_command.cpp: `tenancy audit`, the deployment gate. Prints tenancy.audit()
// (and with --probe, tenancy.probe()) as a readable list, coloured by severity on
// a terminal, or as JSON; exits 6 when a finding reaches --fail-on.
#include <array>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "commands.hpp"
#include "pg_tenancy/engine/audit.hpp"
#include "pg_tenancy/engine/errors.hpp"

namespace pg_tenancy::cli {
namespace {

using tenancy::Finding;
using tenancy::Severity;

bool UseColor(const std::string &mode) {
	if (mode == "always")
		return true;
	if (mode == "never")
		return false;
	if (mode != "auto")
		throw std::invalid_argument("--color must be auto, always or never");
	const char *no_color = std::getenv("NO_COLOR"); // https://no-color.org
	return isatty(STDOUT_FILENO) && !(no_color && *no_color);
}

const char *ColorOf(Severity severity) {
	switch (severity) {
	case Severity::Critical:
		return "\033[1;31m";
	case Severity::High:
		return "\033[31m";
	case Severity::Medium:
		return "\033[33m";
	case Severity::Info:
		break;
	}
	return "\033[36m";
}

std::array<int, 4> CountBySeverity(const std::vector<Finding> &findings) {
	std::array<int, 4> counts{};
	for (const Finding &f : findings)
		counts[static_cast<int>(f.severity)]++;
	return counts;
}

void PrintReadable(const std::vector<Finding> &findings, bool color, std::ostream &out) {
	const char *reset = color ? "\033[0m" : "";
	for (const Finding &f : findings) {
		std::string label = tenancy::SeverityName(f.severity);
		for (char &c : label)
			c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
		out << (color ? ColorOf(f.severity) : "") << label << std::string(10 - label.size(), ' ') << f.rule << "  "
		    << f.object << reset << "\n";
		out << "          " << f.detail << "\n";
		if (!f.remedy.empty())
			out << "          fix: " << f.remedy << "\n";
	}
	std::array<int, 4> counts = CountBySeverity(findings);
	out << findings.size() << (findings.size() == 1 ? " finding: " : " findings: ") << counts[3] << " critical, "
	    << counts[2] << " high, " << counts[1] << " medium, " << counts[0] << " info\n";
}

void PrintJson(const std::vector<Finding> &findings, const std::string &fail_on, bool failed, std::ostream &out) {
	nlohmann::json list = nlohmann::json::array();
	for (const Finding &f : findings)
		list.push_back({{"rule", f.rule},
		                {"severity", tenancy::SeverityName(f.severity)},
		                {"object", f.object},
		                {"detail", f.detail},
		                {"remedy", f.remedy.empty() ? nlohmann::json() : nlohmann::json(f.remedy)}});
	std::array<int, 4> counts = CountBySeverity(findings);
	nlohmann::json summary = {{"critical", counts[3]}, {"high", counts[2]}, {"medium", counts[1]}, {"info", counts[0]}};
	out << nlohmann::json{{"findings", list}, {"summary", summary}, {"fail_on", fail_on}, {"failed", failed}}.dump(2)
	    << "\n";
}

} // namespace

int RunAuditCommand(const tenancy::EngineConfig &config, const AuditCommandOptions &options) {
	bool gate = options.fail_on != "none";
	Severity threshold = gate ? tenancy::ParseSeverity(options.fail_on) : Severity::Critical;
	bool color = UseColor(options.color);
	const std::string &conninfo = config.admin_conninfo.empty() ? config.conninfo : config.admin_conninfo;
	std::vector<Finding> findings;
	int status = Guard([&] { findings = tenancy::RunAudit(conninfo, {options.app_role, options.probe}); });
	if (status != 0)
		return status;
	bool failed = gate && tenancy::AnyAtOrAbove(findings, threshold);
	if (options.json)
		PrintJson(findings, options.fail_on, failed, std::cout);
	else
		PrintReadable(findings, color, std::cout);
	return failed ? kExitFindings : 0;
}

} // namespace pg_tenancy::cli
