// Pool hygiene: a connection goes back to the pool only clean, and the next
// lease works after errors, terminated backends and a server restart.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <thread>

#include <pqxx/transaction>

#include "engine_fixture.hpp"

using namespace engine_test;

namespace {

// Every idle connection: no context, no leftovers.
void CheckIdleConnectionsClean(tenancy::Engine &engine) {
	int checked = 0;
	engine.InspectIdleConnections([&](pqxx::connection &connection) {
		pqxx::nontransaction work(connection);
		BOOST_TEST(work.exec("SELECT tenancy.context() IS NULL")[0][0].as<bool>());
		BOOST_TEST(work.exec("SELECT cardinality(tenancy.session_leftovers())")[0][0].as<int>() == 0);
		BOOST_TEST(work.exec("SELECT count(*) FROM pg_cursors")[0][0].as<int>() == 0);
		checked++;
	});
	BOOST_TEST(checked > 0);
}

int BackendPid(tenancy::TenantTransaction &tx) {
	return tx.Exec("SELECT pg_backend_pid()")[0][0].as<int>();
}

} // namespace

BOOST_AUTO_TEST_SUITE(pool_hygiene)

BOOST_AUTO_TEST_CASE(committed_and_rolled_back_connections_come_back_clean) {
	tenancy::Engine engine(Config());
	Member acme = NewOwner(engine, "acme");
	engine.Transaction(acme.identity, acme.org).Commit();
	{
		auto tx = engine.Transaction(acme.identity, acme.org);
		tx.Exec("INSERT INTO tickets (title) VALUES ('rolled back')");
		tx.Rollback();
	}
	{
		auto tx = engine.Transaction(acme.identity, acme.org); // destroyed without commit: rolled back
		tx.Exec("INSERT INTO tickets (title) VALUES ('abandoned')");
	}
	BOOST_TEST(Super("SELECT count(*) FROM tickets WHERE title IN ('rolled back', 'abandoned')")[0][0].as<int>() == 0);
	BOOST_TEST(engine.Stats().discarded == 0u);
	CheckIdleConnectionsClean(engine);
}

BOOST_AUTO_TEST_CASE(session_state_gets_the_connection_discarded_not_reused) {
	tenancy::Engine engine(Config());
	Member acme = NewOwner(engine, "acme");
	const char *dirty[] = {
	    "SET work_mem = '8MB'",
	    "CREATE TEMP TABLE leftover AS SELECT * FROM tickets",
	    "DECLARE held CURSOR WITH HOLD FOR SELECT * FROM tickets",
	    "PREPARE stmt AS SELECT * FROM tickets",
	    "SELECT pg_advisory_lock(42)",
	};
	for (const char *statement : dirty) {
		BOOST_TEST_CONTEXT(statement) {
			std::size_t before = engine.Stats().discarded;
			auto tx = engine.Transaction(acme.identity, acme.org);
			tx.Exec("INSERT INTO tickets (title) VALUES ('kept')");
			tx.Exec(statement);
			tx.Commit();                                        // the work is committed...
			BOOST_TEST(engine.Stats().discarded == before + 1); // ...but the connection is gone
		}
	}
	BOOST_TEST(Super("SELECT count(*) FROM tickets WHERE title = 'kept'")[0][0].as<int>() == 5);
	// Clearing the context mid-way is caught at commit (nothing is committed).
	{
		auto tx = engine.Transaction(acme.identity, acme.org);
		tx.Exec("INSERT INTO tickets (title) VALUES ('not kept')");
		tx.Exec("SET SESSION tenancy.context = ''");
		BOOST_CHECK_THROW(tx.Commit(), tenancy::ContextLost);
	}
	BOOST_TEST(Super("SELECT count(*) FROM tickets WHERE title = 'not kept'")[0][0].as<int>() == 0);
	// LISTEN is simply undone.
	{
		std::size_t before = engine.Stats().discarded;
		auto tx = engine.Transaction(acme.identity, acme.org);
		tx.Exec("LISTEN some_channel");
		tx.Commit();
		BOOST_TEST(engine.Stats().discarded == before);
	}
	CheckIdleConnectionsClean(engine);
}

BOOST_AUTO_TEST_CASE(errors_mid_transaction_discard_the_connection) {
	tenancy::Engine engine(Config());
	Member acme = NewOwner(engine, "acme");
	{
		auto tx = engine.Transaction(acme.identity, acme.org);
		tx.Exec("PREPARE survivor AS SELECT 1"); // not undone by ROLLBACK
		BOOST_CHECK_THROW(tx.Exec("SELECT no_such_column FROM tickets"), tenancy::DatabaseError);
	}
	BOOST_TEST(engine.Stats().discarded == 1u);
	auto tx = engine.Transaction(acme.identity, acme.org);
	BOOST_TEST(tx.Exec("SELECT count(*) FROM pg_prepared_statements WHERE from_sql")[0][0].as<int>() == 0);
	tx.Commit();
}

BOOST_AUTO_TEST_CASE(terminated_backend_mid_transaction_is_context_lost) {
	tenancy::Engine engine(Config());
	Member acme = NewOwner(engine, "acme");
	auto tx = engine.Transaction(acme.identity, acme.org);
	tx.Exec("INSERT INTO tickets (title) VALUES ('never committed')");
	Super("SELECT pg_terminate_backend(" + std::to_string(BackendPid(tx)) + ")");
	BOOST_CHECK_THROW(tx.Exec("SELECT count(*) FROM tickets"), tenancy::ContextLost);
	BOOST_CHECK_THROW(tx.Commit(), tenancy::ContextLost);
	auto next = engine.Transaction(acme.identity, acme.org);
	BOOST_TEST(next.Exec("SELECT count(*) FROM tickets WHERE title = 'never committed'")[0][0].as<int>() == 0);
	next.Commit();
}

BOOST_AUTO_TEST_CASE(sequence_state_does_not_reach_the_next_tenant) {
	tenancy::EngineConfig config = Config();
	config.pool_size = 1; // the same connection serves both tenants
	tenancy::Engine engine(config);
	Member acme = NewOwner(engine, "acme");
	Member globex = NewOwner(engine, "globex");
	{
		auto tx = engine.Transaction(acme.identity, acme.org);
		tx.Exec("INSERT INTO tickets (title) VALUES ('acme secret id')");
		tx.Commit();
	}
	auto tx = engine.Transaction(globex.identity, globex.org);
	try {
		tx.Exec("SELECT lastval()");
		BOOST_FAIL("lastval() answered on a reused connection");
	} catch (const tenancy::DatabaseError &e) {
		BOOST_TEST(e.sqlstate() == "55000");
	}
	BOOST_TEST(engine.Stats().opened == 1u);
}

BOOST_AUTO_TEST_CASE(deallocate_all_does_not_break_the_next_user) {
	tenancy::EngineConfig config = Config();
	config.pool_size = 1;
	tenancy::Engine engine(config);
	Member acme = NewOwner(engine, "acme");
	{
		auto tx = engine.Transaction(acme.identity, acme.org);
		tx.Exec("DEALLOCATE ALL");
		tx.Commit();
	}
	auto tx = engine.Transaction(acme.identity, acme.org);
	BOOST_TEST(tx.Exec("SELECT tenancy.current_org()::text")[0][0].as<std::string>() == tenancy::ToString(acme.org));
	tx.Commit();
}

BOOST_AUTO_TEST_CASE(commit_or_rollback_sent_through_exec_is_caught) {
	tenancy::Engine engine(Config());
	Member acme = NewOwner(engine, "acme");
	for (const char *statement : {"COMMIT", "ROLLBACK"}) {
		BOOST_TEST_CONTEXT(statement) {
			auto tx = engine.Transaction(acme.identity, acme.org);
			tx.Exec(statement);
			BOOST_CHECK_THROW(tx.Commit(), tenancy::ContextLost);
		}
	}
}

BOOST_AUTO_TEST_CASE(connection_lost_while_committing_is_outcome_unknown) {
	tenancy::Engine engine(Config());
	Member acme = NewOwner(engine, "acme");
	auto tx = engine.Transaction(acme.identity, acme.org);
	tx.ExecParams("INSERT INTO tickets (title, written_for) VALUES ('committed before the crash', $1)",
	              tenancy::ToString(acme.org));
	// A temporary object makes the check that runs right after COMMIT read
	// pg_depend (catalog writes do not keep their lock to the end of the
	// transaction); a superuser's lock on it holds that check up, after COMMIT,
	// until the backend is killed.
	tx.Exec("CREATE TEMP TABLE held_up (x int)");
	int pid = BackendPid(tx);
	std::atomic<bool> locked{false}, done{false};
	std::thread locker([&] {
		pqxx::connection blocker(SuperConninfo());
		pqxx::work lock(blocker);
		lock.exec("LOCK TABLE pg_catalog.pg_depend IN ACCESS EXCLUSIVE MODE");
		locked = true;
		Eventually([&] { return done.load(); }, 30);
		lock.abort();
	});
	std::thread killer([&] {
		Eventually(
		    [&] {
			    return Super("SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid) +
			                 " AND wait_event_type = 'Lock'")[0][0]
			               .as<int>() == 1;
		    },
		    30);
		Super("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
	});
	bool lock_taken = Eventually([&] { return locked.load(); }, 30);
	BOOST_CHECK(lock_taken);
	BOOST_CHECK_THROW(tx.Commit(), tenancy::CommitOutcomeUnknown);
	done = true;
	killer.join();
	locker.join();
	BOOST_TEST(Super("SELECT count(*) FROM tickets WHERE title = 'committed before the crash'")[0][0].as<int>() == 1);
}

BOOST_AUTO_TEST_CASE(terminated_idle_connections_are_replaced) {
	tenancy::Engine engine(Config());
	Member acme = NewOwner(engine, "acme");
	engine.Transaction(acme.identity, acme.org).Commit();
	BOOST_REQUIRE(engine.Stats().idle >= 1u);
	Super("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'engine_app' AND pid <> "
	      "pg_backend_pid()");
	BOOST_REQUIRE(Eventually([] {
		return Super("SELECT count(*) FROM pg_stat_activity WHERE usename = 'engine_app'")[0][0].as<int>() == 0;
	}));
	auto tx = engine.Transaction(acme.identity, acme.org);
	BOOST_TEST(tx.Exec("SELECT tenancy.current_org()::text")[0][0].as<std::string>() == tenancy::ToString(acme.org));
	tx.Commit();
}

// After a restart every idle connection is dead, not just one: the next
// transaction must still start, closing the dead ones on the way.
BOOST_AUTO_TEST_CASE(several_dead_idle_connections_are_replaced) {
	tenancy::Engine engine(Config());
	Member acme = NewOwner(engine, "acme");
	{
		auto first = engine.Transaction(acme.identity, acme.org);
		auto second = engine.Transaction(acme.identity, acme.org);
		auto third = engine.Transaction(acme.identity, acme.org);
		first.Commit();
		second.Commit();
		third.Commit();
	}
	BOOST_REQUIRE(engine.Stats().idle >= 3u);
	Super("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'engine_app' AND pid <> "
	      "pg_backend_pid()");
	BOOST_REQUIRE(Eventually([] {
		return Super("SELECT count(*) FROM pg_stat_activity WHERE usename = 'engine_app'")[0][0].as<int>() == 0;
	}));
	std::size_t discarded_before = engine.Stats().discarded;
	auto tx = engine.Transaction(acme.identity, acme.org);
	BOOST_TEST(tx.Exec("SELECT tenancy.current_org()::text")[0][0].as<std::string>() == tenancy::ToString(acme.org));
	tx.Commit();
	BOOST_TEST(engine.Stats().discarded >= discarded_before + 1);
}

BOOST_AUTO_TEST_CASE(server_restart) {
	const char *version = std::getenv("PGVERSION");
	BOOST_REQUIRE_MESSAGE(version && std::getenv("PG_CLUSTER_CONF_ROOT"),
	                      "needs the pg_virtualenv cluster started by tests/run-all.sh");
	tenancy::Engine engine(Config());
	BOOST_REQUIRE(engine.WaitForChangeListener(std::chrono::milliseconds(5000)));
	Member acme = NewOwner(engine, "acme");
	engine.Transaction(acme.identity, acme.org).Commit();
	std::string restart = std::string("pg_ctlcluster ") + version + " regress restart -m fast >/dev/null 2>&1";
	BOOST_REQUIRE_EQUAL(std::system(restart.c_str()), 0);
	auto tx = engine.Transaction(acme.identity, acme.org);
	BOOST_TEST(tx.Exec("SELECT tenancy.current_org()::text")[0][0].as<std::string>() == tenancy::ToString(acme.org));
	tx.Commit();
	// The change listener comes back too.
	BOOST_TEST(engine.WaitForChangeListener(std::chrono::milliseconds(10000)));
	CheckIdleConnectionsClean(engine);
}

// Temporary types are looked up before pg_catalog's: CREATE TYPE pg_temp.text
// in a tenant transaction would change what "::text" means for the rest of it
// and, on a reused connection, for the next tenant. The engine's statements in
// the poisoned transaction (its pipelined start, its commit) still work, the
// connection is discarded, and the engine's own SQL on the (single) pooled
// connection afterwards, which casts to text, uuid and jsonb, is unaffected.
BOOST_AUTO_TEST_CASE(temporary_types_named_like_builtins_do_not_reach_the_engine) {
	tenancy::EngineConfig config = Config();
	config.pool_size = 1;
	tenancy::Engine engine(config);
	Member acme = NewOwner(engine, "poisoned");
	pg_tenancy::engine::Organizations orgs(engine);
	std::size_t before = engine.Stats().discarded;
	{
		auto tx = engine.Transaction(acme.identity, acme.org);
		tx.Exec("CREATE TYPE pg_temp.text AS (x int)");
		tx.Exec("CREATE DOMAIN pg_temp.jsonb AS int4[]");
		tx.Exec("CREATE TYPE pg_temp.uuid AS (x int)");
		BOOST_TEST(tx.Exec("SELECT 'text'::regtype::oid <> 'pg_catalog.text'::regtype::oid")[0][0].as<bool>());
		tx.Exec("INSERT INTO tickets (title) VALUES ('written beside poisoned types')");
		tx.Commit();
	}
	BOOST_TEST(engine.Stats().discarded == before + 1);
	BOOST_TEST(Super("SELECT count(*) FROM tickets WHERE title = 'written beside poisoned types'")[0][0].as<int>() ==
	           1);
	orgs.CreateRole(acme.identity, acme.org, "after_poison", "After poison", {"tickets.read"});
	bool listed = false;
	for (const auto &role : orgs.ListRoles(acme.identity, acme.org))
		listed =
		    listed || (role.code == "after_poison" && role.permissions == std::vector<std::string>{"tickets.read"});
	BOOST_TEST(listed);
	BOOST_TEST(orgs.MyOrganizations(acme.identity).size() == 1u);
	BOOST_TEST(engine.Stats().discarded == before + 1);
	CheckIdleConnectionsClean(engine);
}

// The same class without the temporary schema: sessions whose search_path puts
// a schema with types and functions named like pg_catalog's first. Every type
// and function in the engine's SQL is schema-qualified, so none of them is
// picked up (pg_temp can shadow types only; a search_path shadows functions too).
BOOST_AUTO_TEST_CASE(engine_sql_is_schema_qualified) {
	std::string shadow = Unique("shadow");
	for (char &c : shadow)
		c = std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
	Super("CREATE SCHEMA " + shadow);
	Super("CREATE TYPE " + shadow + ".text AS (x int)");
	Super("CREATE TYPE " + shadow + ".uuid AS (x int)");
	Super("CREATE DOMAIN " + shadow + ".jsonb AS int4[]");
	Super("CREATE TYPE " + shadow + ".regrole AS (x int)");
	Super("CREATE FUNCTION " + shadow +
	      ".make_interval(secs double precision) RETURNS interval LANGUAGE sql RETURN interval '1 second'");
	Super("GRANT USAGE ON SCHEMA " + shadow + " TO engine_app, engine_admin");
	tenancy::EngineConfig config = Config();
	std::string options = " options='-c search_path=" + shadow + ",pg_catalog,public'";
	config.conninfo += options;
	config.admin_conninfo += options;
	tenancy::Engine engine(config);
	pg_tenancy::engine::Organizations orgs(engine);
	Member acme = NewOwner(engine, "shadowed"); // RegisterUser, CreateOrganization
	{
		auto tx = engine.Transaction(acme.identity, acme.org);
		BOOST_TEST(tx.Exec("SELECT 'text'::regtype::oid <> 'pg_catalog.text'::regtype::oid")[0][0].as<bool>());
		tx.Commit();
	}
	orgs.CreateRole(acme.identity, acme.org, "shadow_probe", "Shadow probe", {"tickets.read"});
	orgs.UpdateRole(acme.identity, acme.org, "shadow_probe", std::nullopt,
	                std::vector<std::string>{"tickets.read", "tickets.write"});
	bool listed = false;
	for (const auto &role : orgs.ListRoles(acme.identity, acme.org))
		listed = listed || (role.code == "shadow_probe" && role.permissions.size() == 2u);
	BOOST_TEST(listed);
	tenancy::Identity guest = NewUser(engine, "shadowguest");
	std::string email =
	    Super("SELECT email FROM tenancy.users WHERE id = '" + tenancy::ToString(guest.user_id) + "'")[0][0]
	        .as<std::string>();
	std::string token = orgs.Invite(acme.identity, acme.org, email, "shadow_probe", std::chrono::hours(2));
	auto invitations = orgs.ListInvitations(acme.identity, acme.org);
	BOOST_REQUIRE(invitations.size() == 1u);
	BOOST_TEST(invitations[0].status == "pending");
	BOOST_TEST(orgs.AcceptInvitation(guest, token) == acme.org);
	orgs.SetMemberRole(acme.identity, acme.org, guest.user_id, "owner");
	orgs.TransferOwnership(guest, acme.org, acme.identity.user_id, "shadow_probe");
	BOOST_TEST(orgs.ListMembers(acme.identity, acme.org).size() == 2u);
	orgs.RemoveMember(acme.identity, acme.org, guest.user_id);
	BOOST_TEST(orgs.MyOrganizations(acme.identity).size() == 1u);
	BOOST_TEST(engine.Stats().discarded == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
