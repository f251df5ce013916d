// Through PgBouncer in transaction-pooling mode: two applications interleaving
// transactions for different tenants share server connections, and never each
// other's context or rows. tests/run-in-cluster.sh starts the bouncer and sets
// TENANCY_PGBOUNCER_PORT.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <atomic>
#include <iostream>
#include <thread>

#include "engine_fixture.hpp"

using namespace engine_test;

BOOST_AUTO_TEST_SUITE(pgbouncer)

BOOST_AUTO_TEST_CASE(two_applications_through_one_bouncer) {
	const char *port = std::getenv("TENANCY_PGBOUNCER_PORT");
	BOOST_REQUIRE_MESSAGE(port, "TENANCY_PGBOUNCER_PORT is not set: run through tests/run-all.sh");
	tenancy::Engine setup(Config());
	Member acme = NewOwner(setup, "bouncer-acme");
	Member globex = NewOwner(setup, "bouncer-globex");

	tenancy::EngineConfig config = Config();
	config.conninfo =
	    std::string("host=127.0.0.1 port=") + port + " dbname=" + kDatabase + " user=engine_app password=engine_app";
	config.prepared_statements = false; // PgBouncer 1.18 cannot keep them in transaction mode
	config.pool_size = 4;
	tenancy::Engine app_a(config), app_b(config);

	std::atomic<int> foreign{0}, wrong_context{0}, done{0}, errors{0};
	auto run = [&](tenancy::Engine &engine, const Member &me, const std::string &tag) {
		std::string org = tenancy::ToString(me.org);
		for (int i = 0; i < 150; i++) {
			try {
				auto tx = engine.Transaction(me.identity, me.org);
				if (tx.Exec("SELECT tenancy.current_org()::text")[0][0].as<std::string>() != org)
					wrong_context++;
				tx.ExecParams("INSERT INTO tickets (title, written_for) VALUES ($1, $2)", tag + std::to_string(i), org);
				for (const auto &row : tx.Exec("SELECT organization_id::text FROM tickets"))
					if (row[0].as<std::string>() != org)
						foreign++;
				tx.Commit();
				done++;
			} catch (const std::exception &e) {
				BOOST_TEST_MESSAGE("error: " << e.what());
				errors++;
			}
		}
	};
	std::thread a1([&] { run(app_a, acme, "a"); }), a2([&] { run(app_a, acme, "a"); });
	std::thread b1([&] { run(app_b, globex, "b"); }), b2([&] { run(app_b, globex, "b"); });
	a1.join();
	a2.join();
	b1.join();
	b2.join();

	// Between transactions the bouncer's server connections carry no context.
	pqxx::connection direct(config.conninfo);
	pqxx::nontransaction work(direct);
	for (int i = 0; i < 5; i++)
		BOOST_TEST(work.exec("SELECT tenancy.context() IS NULL")[0][0].as<bool>());

	std::cout << "pgbouncer: " << done << " transactions, errors=" << errors << " foreign_rows=" << foreign
	          << " wrong_context=" << wrong_context << "\n";
	BOOST_TEST(errors == 0);
	BOOST_TEST(done == 600);
	BOOST_TEST(foreign == 0);
	BOOST_TEST(wrong_context == 0);
	BOOST_TEST(
	    Super("SELECT count(*) FROM tickets WHERE organization_id IS DISTINCT FROM written_for")[0][0].as<int>() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
