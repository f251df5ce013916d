// tenancy::RunAudit(): the audit as a library call, on the engine tests' database.
#include <boost/test/unit_test.hpp>

#include <stdexcept>

#include "engine_fixture.hpp"
#include "pg_tenancy/engine/audit.hpp"
#include "pg_tenancy/engine/errors.hpp"

using namespace engine_test;
using tenancy::Severity;

BOOST_AUTO_TEST_SUITE(audit)

BOOST_AUTO_TEST_CASE(severity_names_round_trip) {
	for (Severity s : {Severity::Info, Severity::Medium, Severity::High, Severity::Critical})
		BOOST_TEST(static_cast<int>(tenancy::ParseSeverity(tenancy::SeverityName(s))) == static_cast<int>(s));
	BOOST_CHECK_THROW(tenancy::ParseSeverity("severe"), std::invalid_argument);
	BOOST_CHECK_THROW(tenancy::ParseSeverity("HIGH"), std::invalid_argument);
	BOOST_TEST((Severity::Critical > Severity::High));
}

BOOST_AUTO_TEST_CASE(the_test_database_is_set_up_right) {
	tenancy::Engine engine(Config()); // creates the fixture
	auto findings = tenancy::RunAudit(SuperConninfo(), {"engine_app", true});
	for (const auto &f : findings)
		BOOST_TEST_MESSAGE(tenancy::SeverityName(f.severity) << " " << f.rule << " " << f.object << ": " << f.detail);
	BOOST_TEST(!tenancy::AnyAtOrAbove(findings, Severity::High));
	// The probe ran and says what it checked.
	bool summary = false;
	for (const auto &f : findings)
		summary = summary || (f.rule == "P999" && f.detail.find("0 problem(s)") != std::string::npos);
	BOOST_TEST(summary);
}

BOOST_AUTO_TEST_CASE(a_mistake_is_found_and_sorted_first) {
	tenancy::Engine engine(Config());
	Super("GRANT TRUNCATE ON tickets TO engine_app");
	auto findings = tenancy::RunAudit(SuperConninfo(), {"engine_app", false});
	Super("REVOKE TRUNCATE ON tickets FROM engine_app");
	BOOST_REQUIRE(!findings.empty());
	BOOST_TEST(findings.front().rule == "T204");
	BOOST_TEST(tenancy::SeverityName(findings.front().severity) == std::string("high"));
	BOOST_TEST(findings.front().remedy.find("REVOKE TRUNCATE") != std::string::npos);
	BOOST_TEST(tenancy::AnyAtOrAbove(findings, Severity::High));
	BOOST_TEST(!tenancy::AnyAtOrAbove(findings, Severity::Critical));
}

BOOST_AUTO_TEST_CASE(refusals_are_typed) {
	// The probe needs an application role; the application role may not audit.
	BOOST_CHECK_THROW(tenancy::RunAudit(SuperConninfo(), {"", true}), std::invalid_argument);
	BOOST_CHECK_THROW(tenancy::RunAudit(AppConninfo(), {"engine_app", false}), tenancy::MissingPermission);
	BOOST_CHECK_THROW(tenancy::RunAudit("dbname=" + std::string(kDatabase) + " port=1", {}),
	                  tenancy::DatabaseUnavailable);
}

BOOST_AUTO_TEST_SUITE_END()
