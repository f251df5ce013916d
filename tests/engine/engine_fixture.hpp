// engine_fixture.hpp: a throwaway database for the engine tests, on the server
// tests/run-all.sh starts (PGHOST/PGPORT/PGUSER/PGPASSWORD from pg_virtualenv,
// TENANCY_KEYRING for the signing keyring the server trusts).
#pragma once

#include <string>

#include <pqxx/connection>

#include "pg_tenancy/engine/engine.hpp"
#include "pg_tenancy/token/keyring.hpp"

namespace engine_test {

constexpr const char *kDatabase = "tenancy_engine_test";
constexpr const char *kIssuer = "https://id.test.example";
constexpr const char *kAudience = "tickets-api";

// Connection strings: superuser (setup and checks), the application role, and
// the engine's privileged role.
std::string SuperConninfo();
std::string AppConninfo();
std::string AdminConninfo();

// A fresh engine configuration for the test database.
tenancy::EngineConfig Config();

// Runs SQL as the superuser (setup and verification only; it bypasses RLS).
pqxx::result Super(const std::string &sql);

// A user registered through the engine, and an organization they own.
struct Member {
	tenancy::Identity identity;
	tenancy::Uuid org;
};
Member NewOwner(tenancy::Engine &engine, const std::string &name);
tenancy::Identity NewUser(tenancy::Engine &engine, const std::string &name);
void AddMember(const tenancy::Uuid &user, const tenancy::Uuid &org);
void RemoveMember(const tenancy::Uuid &user, const tenancy::Uuid &org);

// Identity keyring for Authenticate() (written once per test run).
const pg_tenancy::token::Keyring &IdentityKeyring();
std::string IdentityKeyringFile();

// A unique suffix for names.
std::string Unique(const std::string &prefix);

// Waits (up to `seconds`) until `predicate` holds.
bool Eventually(const std::function<bool()> &predicate, double seconds = 5);

} // namespace engine_test
