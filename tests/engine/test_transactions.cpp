// Tenant transactions: isolation, the organization flows and every typed error.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <fstream>
#include <sys/stat.h>

#include "engine_fixture.hpp"
#include "pg_tenancy/token/keyring.hpp"

using namespace engine_test;

namespace {
std::string Org(const tenancy::Uuid &org) {
	return tenancy::ToString(org);
}
} // namespace

BOOST_AUTO_TEST_SUITE(transactions)

BOOST_AUTO_TEST_CASE(each_tenant_sees_only_its_rows) {
	tenancy::Engine engine(Config());
	Member acme = NewOwner(engine, "acme");
	Member globex = NewOwner(engine, "globex");
	{
		auto tx = engine.Transaction(acme.identity, acme.org);
		tx.ExecParams("INSERT INTO tickets (title) VALUES ($1), ($2)", "a1", "a2");
		tx.Commit();
	}
	{
		auto tx = engine.Transaction(globex.identity, globex.org);
		tx.ExecParams("INSERT INTO tickets (title) VALUES ($1)", "g1");
		tx.Commit();
	}
	auto tx = engine.Transaction(acme.identity, acme.org);
	pqxx::result rows = tx.Exec("SELECT title, organization_id::text FROM tickets ORDER BY title");
	BOOST_REQUIRE_EQUAL(rows.size(), 2u);
	for (const auto &row : rows)
		BOOST_TEST(row[1].as<std::string>() == Org(acme.org));
	BOOST_TEST(
	    tx.ExecParams("SELECT count(*) FROM tickets WHERE organization_id = $1", Org(globex.org))[0][0].as<int>() == 0);
	BOOST_TEST(tx.organization().has_value());
	tx.Commit();
	BOOST_TEST(!tx.active());
	BOOST_CHECK_THROW(tx.Exec("SELECT 1"), tenancy::ContextLost);
}

BOOST_AUTO_TEST_CASE(organization_flows) {
	tenancy::Engine engine(Config());
	tenancy::Identity carol = NewUser(engine, "carol");
	BOOST_TEST(pg_tenancy::engine::Organizations(engine).MyOrganizations(carol).empty());
	tenancy::Uuid first = pg_tenancy::engine::Organizations(engine).CreateOrganization(carol, "Carol One");
	tenancy::Uuid second = pg_tenancy::engine::Organizations(engine).CreateOrganization(carol, "Carol Two");
	auto orgs = pg_tenancy::engine::Organizations(engine).MyOrganizations(carol);
	BOOST_REQUIRE_EQUAL(orgs.size(), 2u);
	BOOST_TEST(orgs[0].id == first);
	BOOST_TEST(orgs[0].name == "Carol One");
	BOOST_TEST(orgs[0].role_code == "owner");
	BOOST_TEST(orgs[1].id == second);
	// The new owner can work in the new organization at once.
	auto tx = engine.Transaction(carol, second);
	BOOST_TEST(tx.Exec("SELECT tenancy.has_permission('org.manage')")[0][0].as<bool>());
	tx.Commit();
	// Bad input: clear errors, nothing stored.
	BOOST_CHECK_THROW(pg_tenancy::engine::Organizations(engine).CreateOrganization(carol, "   "),
	                  tenancy::DatabaseError);
	BOOST_CHECK_THROW(engine.RegisterUser("bad code!", "x@test.example"), tenancy::DatabaseError);
	std::string code = Unique("dup");
	engine.RegisterUser(code, code + "@test.example");
	try {
		engine.RegisterUser(code, "other@test.example");
		BOOST_FAIL("duplicate user accepted");
	} catch (const tenancy::DatabaseError &e) {
		BOOST_TEST(e.sqlstate() == "23505");
	}
	BOOST_TEST(pg_tenancy::engine::Organizations(engine).MyOrganizations(carol).size() == 2u);
}

BOOST_AUTO_TEST_CASE(not_a_member_and_unknown_org_look_the_same) {
	tenancy::Engine engine(Config());
	Member acme = NewOwner(engine, "acme");
	Member globex = NewOwner(engine, "globex");
	std::string not_member, unknown;
	try {
		engine.Transaction(acme.identity, globex.org);
	} catch (const tenancy::NotAMember &e) {
		not_member = e.what();
	}
	try {
		engine.Transaction(acme.identity, tenancy::ParseUuid("00000000-0000-4000-8000-00000000dead"));
	} catch (const tenancy::NotAMember &e) {
		unknown = e.what();
	}
	BOOST_TEST(!not_member.empty());
	BOOST_TEST(not_member == unknown);
	BOOST_TEST(not_member.find(Org(globex.org)) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(removed_member_is_refused_even_with_a_cached_membership) {
	// Without a listener the cache trusts positive answers for its TTL, so only
	// tenancy.enter()'s own re-check can refuse the removed member.
	tenancy::EngineConfig config = Config();
	config.listen_for_changes = false;
	config.membership_cache_ttl = std::chrono::seconds(600);
	tenancy::Engine engine(config);
	Member acme = NewOwner(engine, "acme");
	tenancy::Identity dave = NewUser(engine, "dave");
	AddMember(dave.user_id, acme.org);
	engine.Transaction(dave, acme.org).Commit();
	BOOST_TEST(engine.CachedMemberships() >= 1u);
	RemoveMember(dave.user_id, acme.org);
	BOOST_CHECK_THROW(engine.Transaction(dave, acme.org).Exec("SELECT 1"), tenancy::NotAMember);
	BOOST_TEST(engine.Stats().leased == 0u);
}

BOOST_AUTO_TEST_CASE(membership_changes_clear_the_cache_at_once) {
	tenancy::EngineConfig config = Config();
	config.membership_cache_ttl = std::chrono::seconds(600);
	tenancy::Engine engine(config);
	BOOST_REQUIRE(engine.WaitForChangeListener(std::chrono::milliseconds(5000)));
	Member acme = NewOwner(engine, "acme");
	tenancy::Identity erin = NewUser(engine, "erin");
	AddMember(erin.user_id, acme.org);
	// Notifications from the set-up may still be arriving: once they settle, the
	// answer stays cached.
	BOOST_REQUIRE(Eventually([&] {
		engine.Transaction(erin, acme.org).Commit();
		return engine.CachedMemberships() == 1u;
	}));
	RemoveMember(erin.user_id, acme.org);
	BOOST_TEST(Eventually([&] { return engine.CachedMemberships() == 0; }));
	BOOST_CHECK_THROW(engine.Transaction(erin, acme.org), tenancy::NotAMember);
}

BOOST_AUTO_TEST_CASE(typed_errors) {
	tenancy::Engine engine(Config());
	Member acme = NewOwner(engine, "acme");
	Member globex = NewOwner(engine, "globex");

	// MissingPermission: writing into another organization.
	{
		auto tx = engine.Transaction(acme.identity, acme.org);
		BOOST_CHECK_THROW(
		    tx.ExecParams("INSERT INTO tickets (organization_id, title) VALUES ($1, 'x')", Org(globex.org)),
		    tenancy::MissingPermission);
		BOOST_TEST(!tx.active());
	}
	// ContextLost: the context cleared mid-transaction.
	{
		auto tx = engine.Transaction(acme.identity, acme.org);
		tx.Exec("SELECT tenancy.leave()");
		BOOST_CHECK_THROW(tx.Exec("SELECT count(*) FROM tickets"), tenancy::ContextLost);
	}
	// Serialization failures and deadlocks keep their SQLSTATE, so callers can retry.
	for (const char *state : {"40001", "40P01"}) {
		auto tx = engine.Transaction(acme.identity, acme.org);
		try {
			tx.Exec(std::string("DO $$BEGIN RAISE EXCEPTION 'retry me' USING ERRCODE = '") + state + "'; END$$");
			BOOST_FAIL("no error");
		} catch (const tenancy::DatabaseError &e) {
			BOOST_TEST(e.sqlstate() == state);
		}
	}
	// Any other SQL error keeps its SQLSTATE.
	{
		auto tx = engine.Transaction(acme.identity, acme.org);
		try {
			tx.Exec("SELECT 1/0");
			BOOST_FAIL("no error");
		} catch (const tenancy::DatabaseError &e) {
			BOOST_TEST(e.sqlstate() == "22012");
		}
	}
	// InvalidToken: signed with a key the database does not know.
	{
		std::string path = "/tmp/pg_tenancy_unknown_" + std::to_string(getpid()) + ".keyring";
		pg_tenancy::token::Keyring ring;
		ring.Add(pg_tenancy::token::GenerateHs256Key("unknown-to-the-server"));
		std::ofstream(path) << ring.ToText();
		chmod(path.c_str(), 0600);
		tenancy::EngineConfig config = Config();
		config.keyring_file = path;
		tenancy::Engine stranger(config);
		BOOST_CHECK_THROW(stranger.Transaction(acme.identity, acme.org).Exec("SELECT 1"), tenancy::InvalidToken);
		std::remove(path.c_str());
	}
	// DatabaseUnavailable: nothing listens there.
	{
		tenancy::EngineConfig config = Config();
		config.conninfo = "host=127.0.0.1 port=1 dbname=x user=engine_app connect_timeout=2";
		config.admin_conninfo = AdminConninfo();
		config.listen_for_changes = false;
		tenancy::Engine offline(config);
		BOOST_CHECK_THROW(offline.Transaction(acme.identity, acme.org), tenancy::DatabaseUnavailable);
	}
	// DatabaseUnavailable: the pool is exhausted for longer than the lease timeout.
	{
		tenancy::EngineConfig config = Config();
		config.pool_size = 1;
		config.lease_timeout = std::chrono::milliseconds(200);
		tenancy::Engine small(config);
		auto held = small.Transaction(acme.identity, acme.org);
		BOOST_CHECK_THROW(small.Transaction(acme.identity, acme.org), tenancy::DatabaseUnavailable);
		held.Commit();
		small.Transaction(acme.identity, acme.org).Commit();
	}
}

BOOST_AUTO_TEST_SUITE_END()
