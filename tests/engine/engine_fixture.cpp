// engine_fixture.cpp: see engine_fixture.hpp. The global fixture builds the
// database once per test binary.
#include "engine_fixture.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <pqxx/nontransaction>
#include <pqxx/transaction>

namespace engine_test {
namespace {

std::string Env(const char *name) {
	const char *value = std::getenv(name);
	if (!value || !*value)
		throw std::runtime_error(std::string(name) +
		                         " is not set: run the engine tests through tests/run-all.sh, which starts a server");
	return value;
}

std::string identity_keyring_file;
pg_tenancy::token::Keyring identity_keyring;

} // namespace

std::string SuperConninfo() {
	return std::string("dbname=") + kDatabase;
}
std::string AppConninfo() {
	return std::string("dbname=") + kDatabase + " user=engine_app password=engine_app";
}
std::string AdminConninfo() {
	return std::string("dbname=") + kDatabase + " user=engine_admin password=engine_admin";
}

tenancy::EngineConfig Config() {
	tenancy::EngineConfig config;
	config.conninfo = AppConninfo();
	config.admin_conninfo = AdminConninfo();
	config.keyring_file = Env("TENANCY_KEYRING");
	config.identity_keyring_file = IdentityKeyringFile();
	config.identity_issuer = kIssuer;
	config.identity_audience = kAudience;
	config.pool_size = 4;
	config.lease_timeout = std::chrono::milliseconds(3000);
	return config;
}

pqxx::result Super(const std::string &sql) {
	pqxx::connection connection(SuperConninfo());
	pqxx::nontransaction work(connection);
	return work.exec(sql);
}

std::string Unique(const std::string &prefix) {
	static std::atomic<int> counter{0};
	return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

tenancy::Identity NewUser(tenancy::Engine &engine, const std::string &name) {
	std::string code = Unique(name);
	return tenancy::Identity{engine.RegisterUser(code, code + "@test.example")};
}

Member NewOwner(tenancy::Engine &engine, const std::string &name) {
	tenancy::Identity who = NewUser(engine, name);
	return Member{who, pg_tenancy::engine::Organizations(engine).CreateOrganization(who, name + " Inc")};
}

void AddMember(const tenancy::Uuid &user, const tenancy::Uuid &org) {
	std::string o = tenancy::ToString(org);
	Super("INSERT INTO tenancy.roles (organization_id, code, name, permissions) VALUES ('" + o +
	      "', 'member', 'Member', '[\"tickets.*\"]') ON CONFLICT DO NOTHING");
	Super("INSERT INTO tenancy.memberships (organization_id, user_id, role_id) SELECT '" + o + "', '" +
	      tenancy::ToString(user) + "', id FROM tenancy.roles WHERE organization_id = '" + o + "' AND code = 'member'");
}

void RemoveMember(const tenancy::Uuid &user, const tenancy::Uuid &org) {
	Super("DELETE FROM tenancy.memberships WHERE organization_id = '" + tenancy::ToString(org) + "' AND user_id = '" +
	      tenancy::ToString(user) + "'");
}

const pg_tenancy::token::Keyring &IdentityKeyring() {
	return identity_keyring;
}
std::string IdentityKeyringFile() {
	return identity_keyring_file;
}

bool Eventually(const std::function<bool()> &predicate, double seconds) {
	auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int>(seconds * 1000));
	while (std::chrono::steady_clock::now() < deadline) {
		if (predicate())
			return true;
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
	return predicate();
}

// Builds the database once for the whole test binary.
struct Database {
	Database() {
		{
			pqxx::connection server("dbname=postgres");
			pqxx::nontransaction work(server);
			work.exec(std::string("DROP DATABASE IF EXISTS ") + kDatabase + " WITH (FORCE)");
			work.exec(std::string("CREATE DATABASE ") + kDatabase);
			for (const char *role : {"engine_app", "engine_admin"}) {
				if (work.exec(std::string("SELECT 1 FROM pg_roles WHERE rolname = '") + role + "'").empty())
					work.exec(std::string("CREATE ROLE ") + role);
				work.exec(std::string("ALTER ROLE ") + role + " LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '" + role + "'");
			}
		}
		Super("CREATE EXTENSION pg_tenancy");
		Super("SELECT tenancy.register_permission('tickets.read', 'Read tickets')");
		Super("SELECT tenancy.register_permission('tickets.write', 'Write tickets')");
		Super("GRANT EXECUTE ON FUNCTION tenancy.lookup_membership(uuid, uuid), tenancy.register_user(text, text), "
		      "tenancy.link_identity(uuid, text, text), tenancy.resolve_identity(text, text) TO engine_admin");
		Super("CREATE TABLE tickets (id bigserial PRIMARY KEY, organization_id uuid NOT NULL, title text NOT NULL, "
		      "written_for uuid)");
		Super("SELECT tenancy.protect('tickets')");
		Super("GRANT SELECT, INSERT, UPDATE, DELETE ON tickets TO engine_app");
		Super("GRANT USAGE ON SEQUENCE tickets_id_seq TO engine_app");

		identity_keyring.Add(pg_tenancy::token::GenerateHs256Key("idp-hs"));
		identity_keyring.Add(pg_tenancy::token::GenerateEd25519Key("idp-ed"));
		identity_keyring_file = "/tmp/pg_tenancy_identity_" + std::to_string(getpid()) + ".keyring";
		std::ofstream out(identity_keyring_file);
		out << identity_keyring.ToText();
		out.close();
		chmod(identity_keyring_file.c_str(), 0600);
	}
	~Database() { std::remove(identity_keyring_file.c_str()); }
};

BOOST_TEST_GLOBAL_FIXTURE(Database);

} // namespace engine_test
