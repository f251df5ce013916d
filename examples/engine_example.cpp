// engine_example.cpp: the request cycle of a multi-organization app, with the
// pg_tenancy engine. Build: part of the CMake build (target engine_example).
// Run:   TENANCY_CONNINFO=... TENANCY_ADMIN_CONNINFO=... TENANCY_KEYRING=... ./engine_example
// It needs a database with pg_tenancy and a protected table
//   tickets (id bigserial, organization_id uuid, title text)
// and prints what each tenant sees.
#include <ctime>
#include <iostream>
#include <unistd.h>

#include "pg_tenancy/engine/engine.hpp"

int main() {
	try {
		tenancy::EngineConfig config;
		config.ApplyEnvironment(); // TENANCY_CONNINFO, TENANCY_ADMIN_CONNINFO, TENANCY_KEYRING, ...
		tenancy::Engine engine(config);
		pg_tenancy::engine::Organizations organizations(engine); // the organization flows

		// Sign-up: register users (privileged), then each creates an organization.
		std::string stamp = std::to_string(std::time(nullptr)) + "-" + std::to_string(getpid());
		tenancy::Identity ada{engine.RegisterUser("ada-" + stamp, "ada-" + stamp + "@example.com")};
		tenancy::Identity bob{engine.RegisterUser("bob-" + stamp, "bob-" + stamp + "@example.com")};
		tenancy::Uuid ada_org = organizations.CreateOrganization(ada, "Analytical Engines Ltd");
		tenancy::Uuid bob_org = organizations.CreateOrganization(bob, "Bob's Bakery");

		// A request from Ada for her organization (in a web app: from the
		// Authorization and X-Organization-Id headers).
		{
			tenancy::TenantTransaction tx = engine.Transaction(ada, ada_org);
			tx.ExecParams("INSERT INTO tickets (title) VALUES ($1)", "Difference engine jams");
			tx.Commit();
		}
		{
			tenancy::TenantTransaction tx = engine.Transaction(bob, bob_org);
			tx.ExecParams("INSERT INTO tickets (title) VALUES ($1)", "Oven too hot");
			tx.Commit();
		}

		// No WHERE organization_id = ... anywhere: the context does it.
		tenancy::TenantTransaction tx = engine.Transaction(ada, ada_org);
		for (const auto &row : tx.Exec("SELECT title FROM tickets ORDER BY id"))
			std::cout << "Ada sees: " << row[0].c_str() << "\n";
		tx.Commit();

		// The organization switcher.
		for (const auto &org : organizations.MyOrganizations(ada))
			std::cout << "Ada belongs to: " << org.name << " (" << org.role_code << ")\n";

		// Asking for someone else's organization fails before any query runs.
		try {
			engine.Transaction(ada, bob_org);
			std::cerr << "unexpected: Ada entered Bob's organization\n";
			return 1;
		} catch (const tenancy::NotAMember &e) {
			std::cout << "Ada in Bob's Bakery: refused (" << e.what() << ")\n";
		}
		return 0;
	} catch (const tenancy::Error &e) {
		std::cerr << "engine_example: " << e.what() << "\n";
		return 1;
	}
}
