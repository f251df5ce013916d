// test_round_trips.cpp: what a tenant transaction costs on the wire, counted at
// a loopback proxy (one ReadyForQuery per round trip).
#include <boost/test/unit_test.hpp>
#include <pqxx/connection>
#include <pqxx/transaction>

#include "engine_fixture.hpp"
#include "protocol_counter.hpp"

using namespace engine_test;

BOOST_AUTO_TEST_SUITE(round_trips)

BOOST_AUTO_TEST_CASE(a_one_statement_tenant_transaction_is_two_round_trips) {
	ProtocolCounter counter;
	tenancy::EngineConfig config = Config();
	config.conninfo = counter.Through(AppConninfo());
	config.pool_size = 1;
	tenancy::Engine engine(config);
	Member acme = NewOwner(engine, "wire");
	const std::string org = tenancy::ToString(acme.org);
	auto one_statement = [&] {
		auto tx = engine.Transaction(acme.identity, acme.org);
		pqxx::result r = tx.ExecParams("SELECT tenancy.current_org()::text = $1", org);
		tx.Commit();
		return r[0][0].as<bool>();
	};
	BOOST_TEST(one_statement()); // warm: connection open, membership and token cached

	long before = counter.round_trips();
	BOOST_TEST(one_statement());
	BOOST_TEST(counter.round_trips() - before == 2); // pipeline (BEGIN, enter, statement), commit bundle

	before = counter.round_trips();
	{
		auto tx = engine.Transaction(acme.identity, acme.org);
		tx.Exec("SELECT 1");
		tx.ExecParams("SELECT $1::int", 2);
		tx.Exec("SELECT 3");
		tx.Commit();
	}
	BOOST_TEST(counter.round_trips() - before == 4); // each further statement is one more

	before = counter.round_trips();
	{
		auto tx = engine.Transaction(acme.identity, acme.org);
		tx.Rollback();
	}
	{
		auto tx = engine.Transaction(acme.identity, acme.org);
		tx.Commit();
	}
	BOOST_TEST(counter.round_trips() - before == 0); // nothing ran: nothing sent

	// What hand-written libpqxx pays for one statement: BEGIN, the statement, COMMIT.
	pqxx::connection raw(counter.Through(AppConninfo()));
	before = counter.round_trips();
	{
		pqxx::work work(raw);
		work.exec("SELECT 1");
		work.commit();
	}
	BOOST_TEST(counter.round_trips() - before == 3);
}

BOOST_AUTO_TEST_CASE(errors_in_the_pipeline_are_typed_and_the_connection_checked_before_reuse) {
	ProtocolCounter counter;
	tenancy::EngineConfig config = Config();
	config.conninfo = counter.Through(AppConninfo());
	config.pool_size = 1;
	tenancy::Engine engine(config);
	Member acme = NewOwner(engine, "wire-errors");
	// The statement fails: its SQLSTATE comes through; the transaction is rolled
	// back and the connection, found clean, goes back to the pool.
	{
		auto tx = engine.Transaction(acme.identity, acme.org);
		try {
			tx.Exec("SELECT 1/0");
			BOOST_FAIL("division by zero was not reported");
		} catch (const tenancy::DatabaseError &e) {
			BOOST_TEST(e.sqlstate() == "22012");
		}
		BOOST_TEST(!tx.active());
	}
	BOOST_TEST(engine.Stats().discarded == 0u);
	BOOST_TEST(engine.Stats().idle == 1u);
	// A statement with several commands cannot be pipelined: a clear syntax error.
	{
		auto tx = engine.Transaction(acme.identity, acme.org);
		try {
			tx.Exec("SELECT 1; SELECT 2");
			BOOST_FAIL("a multi-command first statement was accepted");
		} catch (const tenancy::DatabaseError &e) {
			BOOST_TEST(e.sqlstate() == "42601");
		}
	}
	// The next transaction works (on the same connection).
	auto tx = engine.Transaction(acme.identity, acme.org);
	BOOST_TEST(tx.Exec("SELECT tenancy.current_org() IS NOT NULL")[0][0].as<bool>());
	tx.Commit();
}

BOOST_AUTO_TEST_SUITE_END()
