// Each condition its own error (issue 11, items 12-14): what a request handler
// catches, whether a retry can help, and what a failed statement costs the pool.
#include <boost/test/unit_test.hpp>

#include <cctype>
#include <ctime>
#include <type_traits>

#include "engine_fixture.hpp"
#include "pg_tenancy/engine/identity_token.hpp"

using namespace engine_test;
namespace engine = pg_tenancy::engine;

namespace {

std::int64_t Now() {
	return static_cast<std::int64_t>(std::time(nullptr));
}

// The engine's own configuration with one pooled connection, so the pool's
// counters tell whether a connection was kept.
// A role name Unique() makes, as an SQL identifier.
std::string RoleName(const std::string &prefix) {
	std::string name = Unique(prefix);
	for (char &c : name)
		c = std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
	return name;
}

engine::EngineConfig OneConnection() {
	engine::EngineConfig config = Config();
	config.pool_size = 1;
	return config;
}

} // namespace

BOOST_AUTO_TEST_SUITE(conditions)

// 11.12: a user-only transaction that touches organization data can never
// succeed on retry; it is not ContextLost.
BOOST_AUTO_TEST_CASE(user_only_transaction_on_tenant_data_is_wrong_context) {
	engine::Engine db(Config());
	Member acme = NewOwner(db, "wrongctx");
	engine::TenantTransaction tx = db.UserTransaction(acme.identity);
	try {
		tx.Exec("SELECT count(*) FROM tickets");
		BOOST_FAIL("no error");
	} catch (const engine::ContextLost &) {
		BOOST_FAIL("a wrong kind of context is not a lost one");
	} catch (const engine::WrongContext &e) {
		BOOST_TEST(!e.retryable());
	}
	// And the other way: a user-only function in an organization's context.
	engine::TenantTransaction in_org = db.Transaction(acme.identity, acme.org);
	BOOST_CHECK_THROW(in_org.Exec("SELECT tenancy.create_organization('x')"), engine::WrongContext);
}

BOOST_AUTO_TEST_CASE(malformed_ids_are_invalid_input) {
	BOOST_CHECK_THROW(engine::ParseUuid("not-a-uuid", "X-Organization-Id"), engine::InvalidInput);
	try {
		engine::ParseUuid("", "X-Organization-Id");
		BOOST_FAIL("no error");
	} catch (const engine::Error &e) { // what a request boundary catches
		BOOST_TEST(std::string(e.what()).find("X-Organization-Id") != std::string::npos);
	}
}

BOOST_AUTO_TEST_CASE(conflicts_are_retryable_and_read_cleanly) {
	engine::Engine db(Config());
	Member acme = NewOwner(db, "conflicts");
	for (const char *state : {"40001", "40P01"}) {
		for (bool first : {true, false}) { // the pipelined first statement and a later one
			engine::TenantTransaction tx = db.Transaction(acme.identity, acme.org);
			if (!first)
				tx.Exec("SELECT 1");
			try {
				tx.Exec(std::string("DO $$BEGIN RAISE EXCEPTION 'conflict here' USING ERRCODE = '") + state +
				        "'; END$$");
				BOOST_FAIL("no error");
			} catch (const engine::TransactionConflict &e) {
				BOOST_TEST(e.sqlstate() == state);
				BOOST_TEST(e.retryable());
				BOOST_TEST(std::string(e.what()) == "conflict here");
			}
		}
	}
	// Refusals are not retryable; a lost context is.
	BOOST_TEST(!engine::NotAMember("x").retryable());
	BOOST_TEST(engine::ContextLost("x").retryable());
	BOOST_TEST(!engine::CommitOutcomeUnknown("x").retryable());
}

// 11.13: a role that is merely a member of a BYPASSRLS role could SET ROLE into
// it from tenant SQL and read every organization.
BOOST_AUTO_TEST_CASE(member_of_a_bypassrls_role_is_refused) {
	const std::string bypass = RoleName("bypass_parent");
	const std::string middle = RoleName("bypass_middle");
	const std::string app = RoleName("bypass_member");
	Super("CREATE ROLE " + bypass + " NOLOGIN BYPASSRLS");
	Super("CREATE ROLE " + middle + " NOLOGIN NOINHERIT IN ROLE " + bypass);
	Super("CREATE ROLE " + app + " LOGIN PASSWORD '" + app + "' IN ROLE engine_app, " + middle);
	engine::EngineConfig config = Config();
	config.conninfo = "dbname=" + std::string(kDatabase) + " user=" + app + " password=" + app;
	config.listen_for_changes = false;
	{
		engine::Engine db(config);
		engine::Identity someone = NewUser(db, "bypass");
		try {
			db.UserTransaction(someone).Exec("SELECT 1");
			BOOST_FAIL("a member of a BYPASSRLS role was accepted");
		} catch (const engine::ConfigurationError &e) {
			BOOST_TEST(std::string(e.what()).find(bypass) != std::string::npos);
		}
	}
	// Once the membership is revoked the same role is accepted.
	Super("REVOKE " + middle + " FROM " + app);
	{
		engine::Engine db(config);
		engine::Identity someone = NewUser(db, "bypass_after");
		engine::TenantTransaction tx = db.UserTransaction(someone);
		tx.Exec("SELECT 1");
		tx.Commit();
	}
	Super("DROP OWNED BY " + app + "; DROP ROLE " + app + "; DROP ROLE " + middle + "; DROP ROLE " + bypass);
}

// 11.14: the isolation level is set by the pipeline's BEGIN, before enter().
BOOST_AUTO_TEST_CASE(isolation_level_per_transaction) {
	engine::Engine db(Config());
	Member acme = NewOwner(db, "isolation");
	const std::pair<engine::IsolationLevel, const char *> levels[] = {
	    {engine::IsolationLevel::ReadCommitted, "read committed"},
	    {engine::IsolationLevel::RepeatableRead, "repeatable read"},
	    {engine::IsolationLevel::Serializable, "serializable"}};
	for (const auto &[level, name] : levels) {
		engine::TenantTransaction tx = db.Transaction(acme.identity, acme.org, level);
		BOOST_TEST(tx.Exec("SELECT current_setting('transaction_isolation')")[0][0].as<std::string>() == name);
		BOOST_CHECK_THROW(tx.SetIsolationLevel(engine::IsolationLevel::Serializable), std::logic_error);
		tx.Commit();
	}
	engine::TenantTransaction tx = db.UserTransaction(acme.identity);
	tx.SetIsolationLevel(engine::IsolationLevel::RepeatableRead);
	BOOST_TEST(tx.Exec("SELECT current_setting('transaction_isolation')")[0][0].as<std::string>() == "repeatable read");
	tx.Commit();
}

// 11.14: the level is not only reported but holds: under REPEATABLE READ the
// snapshot taken by the pipeline's first statement (tenancy.enter()) still
// hides a row another transaction commits afterwards; READ COMMITTED sees it.
BOOST_AUTO_TEST_CASE(repeatable_read_keeps_the_snapshot_of_enter) {
	engine::Engine db(Config());
	Member acme = NewOwner(db, "snapshot");
	auto count = [](engine::TenantTransaction &tx) { return tx.Exec("SELECT count(*) FROM tickets")[0][0].as<int>(); };
	for (auto [level, sees_new_row] : {std::pair{engine::IsolationLevel::ReadCommitted, true},
	                                   std::pair{engine::IsolationLevel::RepeatableRead, false}}) {
		engine::TenantTransaction reader = db.Transaction(acme.identity, acme.org, level);
		int before = count(reader);
		engine::TenantTransaction writer = db.Transaction(acme.identity, acme.org);
		writer.ExecParams("INSERT INTO tickets (title, written_for) VALUES ($1, $2)", "snapshot",
		                  engine::ToString(acme.org));
		writer.Commit();
		BOOST_TEST(count(reader) == before + (sees_new_row ? 1 : 0));
		reader.Commit();
	}
}

// 11.14: a refused statement aborts the transaction but keeps the connection.
BOOST_AUTO_TEST_CASE(statement_errors_keep_the_connection) {
	engine::Engine db(OneConnection());
	Member acme = NewOwner(db, "keep");
	for (bool first : {true, false}) {
		engine::TenantTransaction tx = db.Transaction(acme.identity, acme.org);
		if (!first)
			tx.Exec("SELECT 1");
		BOOST_CHECK_THROW(tx.Exec("SELECT 1/0"), engine::DatabaseError);
		BOOST_TEST(!tx.active());
		BOOST_CHECK_THROW(tx.Exec("SELECT 1"), engine::TransactionAborted);
		tx.Rollback();
	}
	// Commit() after a failure rolls back and says so.
	{
		engine::TenantTransaction tx = db.Transaction(acme.identity, acme.org);
		BOOST_CHECK_THROW(tx.Exec("SELECT 1/0"), engine::DatabaseError);
		BOOST_CHECK_THROW(tx.Commit(), engine::TransactionAborted);
	}
	// Dropped without Rollback(): the destructor rolls back the same way.
	{
		engine::TenantTransaction tx = db.Transaction(acme.identity, acme.org);
		BOOST_CHECK_THROW(tx.ExecParams("SELECT $1::int", "x"), engine::DatabaseError);
	}
	engine::TenantTransaction tx = db.Transaction(acme.identity, acme.org);
	BOOST_TEST(tx.Exec("SELECT count(*) FROM tickets")[0][0].as<int>() >= 0);
	tx.Commit();
	BOOST_TEST(db.Stats().opened == 1u);
	BOOST_TEST(db.Stats().discarded == 0u);
}

BOOST_AUTO_TEST_CASE(prepared_statement_trouble_still_discards) {
	engine::Engine db(OneConnection());
	Member acme = NewOwner(db, "prepared");
	{
		engine::TenantTransaction tx = db.Transaction(acme.identity, acme.org);
		tx.Exec("SELECT 1");
		BOOST_CHECK_THROW(tx.Exec("EXECUTE no_such_statement"), engine::DatabaseError);
		tx.Rollback();
	}
	BOOST_TEST(db.Stats().discarded == 1u);
	// A session left dirty by a failed transaction is discarded too.
	{
		engine::TenantTransaction tx = db.Transaction(acme.identity, acme.org);
		tx.Exec("PREPARE left_behind AS SELECT 1");
		BOOST_CHECK_THROW(tx.Exec("SELECT 1/0"), engine::DatabaseError);
	}
	BOOST_TEST(db.Stats().discarded == 2u);
}

BOOST_AUTO_TEST_CASE(bearer_scheme_in_any_case) {
	engine::Engine db(Config());
	engine::Uuid user = engine::ParseUuid("5f0c1e9e-8a55-4c0e-9a51-7d1f0a7e9b2c");
	std::string jwt = engine::identity::MintIdentityToken(IdentityKeyring().SigningKey("idp-hs"), user, kIssuer,
	                                                      kAudience, Now(), Now() + 300);
	for (const char *scheme : {"Bearer ", "bearer ", "BEARER ", "bEaReR ", "Bearer   "})
		BOOST_TEST(db.Authenticate(scheme + jwt).user_id == user);
	for (const std::string &refused : {"Basic " + jwt, "Bearer\t" + jwt, "Bearer" + jwt, "Bearerx " + jwt,
	                                   std::string("Bearer "), std::string("Bearer    ")})
		BOOST_CHECK_THROW(db.Authenticate(refused), engine::Unauthenticated);
}

BOOST_AUTO_TEST_CASE(transactions_are_move_assignable_with_optional_organizations) {
	static_assert(std::is_nothrow_move_assignable_v<engine::TenantTransaction>);
	static_assert(std::is_nothrow_move_constructible_v<engine::TenantTransaction>);
	static_assert(!std::is_copy_constructible_v<engine::TenantTransaction>);
	static_assert(!std::is_copy_assignable_v<engine::TenantTransaction>);
	static_assert(std::is_same_v<decltype(std::declval<engine::TenantTransaction>().organization()),
	                             const std::optional<engine::Uuid> &>);
	// A user-only token is std::nullopt, not a null pointer.
	static_assert(
	    std::is_same_v<decltype(&engine::Engine::MintContextToken),
	                   std::string (engine::Engine::*)(const engine::Identity &, const std::optional<engine::Uuid> &)>);
	engine::Engine db(Config());
	Member acme = NewOwner(db, "moves");
	engine::TenantTransaction tx = db.UserTransaction(acme.identity);
	BOOST_TEST(!tx.organization().has_value());
	tx.Exec("SELECT 1");
	engine::TenantTransaction other = db.Transaction(acme.identity, acme.org);
	other.Exec("SELECT 1");
	BOOST_TEST(db.Stats().leased == 2u);
	// Assigning rolls the open transaction back and returns its connection.
	tx = std::move(other);
	BOOST_TEST(db.Stats().leased == 1u);
	BOOST_TEST(!other.active());
	BOOST_TEST((tx.organization() == acme.org));
	// written_for as every engine test writes it: test_pgbouncer checks it matches.
	tx.ExecParams("INSERT INTO tickets (title, written_for) VALUES ($1, $2)", "moved", engine::ToString(acme.org));
	tx.Commit();
	BOOST_TEST(db.Stats().discarded == 0u);
	BOOST_TEST(db.Stats().leased == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
