// commands.cpp: database subcommands of `tenancy`, on top of the engine.
#include "commands.hpp"

#include <algorithm>
#include <ctime>
#include <functional>
#include <iostream>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/transaction>

#include "pg_tenancy/engine/engine.hpp"

namespace pg_tenancy::cli {
namespace {

using tenancy::Engine;
using tenancy::EngineConfig;

// The exit code for an error (see commands.hpp).
int ExitCodeFor(const std::exception &e) {
	if (dynamic_cast<const tenancy::NotAMember *>(&e) || dynamic_cast<const tenancy::MissingPermission *>(&e) ||
	    dynamic_cast<const tenancy::WrongContext *>(&e))
		return kExitDenied;
	if (dynamic_cast<const tenancy::Unauthenticated *>(&e) || dynamic_cast<const tenancy::InvalidToken *>(&e) ||
	    dynamic_cast<const tenancy::InvitationInvalid *>(&e))
		return kExitUnauthenticated;
	if (dynamic_cast<const tenancy::DatabaseUnavailable *>(&e) || dynamic_cast<const tenancy::ContextLost *>(&e))
		return kExitUnavailable;
	if (dynamic_cast<const tenancy::ConfigurationError *>(&e) || dynamic_cast<const tenancy::InvalidInput *>(&e) ||
	    dynamic_cast<const std::invalid_argument *>(&e))
		return kExitUsage;
	return kExitFailure;
}

} // namespace

int Guard(const std::function<void()> &body) {
	try {
		body();
		return 0;
	} catch (const std::exception &e) {
		std::cerr << "tenancy: ";
		if (auto *database = dynamic_cast<const tenancy::DatabaseError *>(&e))
			std::cerr << "database error " << database->sqlstate() << ": ";
		std::cerr << e.what() << "\n";
		return ExitCodeFor(e);
	}
}

namespace {

void PrintTable(const pqxx::result &result, std::ostream &out) {
	if (result.columns() == 0) {
		out << "(" << result.affected_rows() << " rows affected)\n";
		return;
	}
	std::vector<std::size_t> width(result.columns());
	for (pqxx::row::size_type c = 0; c < result.columns(); c++)
		width[c] = std::string(result.column_name(c)).size();
	for (const auto &row : result)
		for (pqxx::row::size_type c = 0; c < result.columns(); c++)
			width[c] = std::max(width[c], row[c].is_null() ? 0 : std::string(row[c].c_str()).size());
	auto cell = [&](const std::string &text, std::size_t c) {
		out << (c ? " | " : " ") << text << std::string(width[c] - text.size(), ' ');
	};
	for (pqxx::row::size_type c = 0; c < result.columns(); c++)
		cell(result.column_name(c), c);
	out << "\n";
	for (pqxx::row::size_type c = 0; c < result.columns(); c++)
		out << (c ? "-+-" : "-") << std::string(width[c], '-');
	out << "-\n";
	for (const auto &row : result) {
		for (pqxx::row::size_type c = 0; c < result.columns(); c++)
			cell(row[c].is_null() ? "" : row[c].c_str(), c);
		out << "\n";
	}
	out << "(" << result.size() << (result.size() == 1 ? " row)\n" : " rows)\n");
}

tenancy::Identity Who(Engine &engine, const std::string &user, const std::string &bearer) {
	if (!bearer.empty())
		return engine.Authenticate(bearer);
	if (user.empty())
		throw std::invalid_argument("give --user or --bearer");
	return tenancy::Identity{tenancy::ParseUuid(user, "--user")};
}

} // namespace

int RunUserAdd(const EngineConfig &config, const std::string &code, const std::string &email) {
	return Guard([&] {
		Engine engine(config);
		std::cout << tenancy::ToString(engine.RegisterUser(code, email)) << "\n";
	});
}

int RunUserLink(const EngineConfig &config, const std::string &user, const std::string &issuer,
                const std::string &subject) {
	return Guard([&] {
		Engine engine(config);
		engine.LinkIdentity(tenancy::ParseUuid(user, "--user"), issuer, subject);
	});
}

int RunOrgCreate(const EngineConfig &config, const std::string &user, const std::string &name) {
	return Guard([&] {
		Engine engine(config);
		std::cout << tenancy::ToString(tenancy::Organizations(engine).CreateOrganization(Who(engine, user, ""), name))
		          << "\n";
	});
}

int RunOrgList(const EngineConfig &config, const std::string &user) {
	return Guard([&] {
		Engine engine(config);
		for (const auto &org : tenancy::Organizations(engine).MyOrganizations(Who(engine, user, "")))
			std::cout << tenancy::ToString(org.id) << "\t" << org.role_code << "\t" << org.name << "\n";
	});
}

int RunExec(const EngineConfig &config, const ExecOptions &options) {
	return Guard([&] {
		Engine engine(config);
		tenancy::Identity who = Who(engine, options.user, options.bearer);
		tenancy::TenantTransaction tx = options.org.empty()
		                                    ? engine.UserTransaction(who)
		                                    : engine.Transaction(who, tenancy::ParseUuid(options.org, "--org"));
		for (const std::string &sql : options.commands)
			PrintTable(tx.Exec(sql), std::cout);
		tx.Commit();
	});
}

int RunDemo(const EngineConfig &config) {
	return Guard([&] {
		Engine engine(config);
		auto step = [](const std::string &text) { std::cout << "\n== " << text << "\n"; };
		step("set up: a protected table (as the admin role)");
		{
			pqxx::connection admin(config.admin_conninfo.empty() ? config.conninfo : config.admin_conninfo);
			pqxx::work work(admin);
			work.exec("CREATE TABLE IF NOT EXISTS demo_tickets (id serial PRIMARY KEY, organization_id uuid NOT NULL, "
			          "title text NOT NULL)");
			work.exec("SELECT tenancy.protect('demo_tickets')");
			work.exec("GRANT SELECT, INSERT, UPDATE, DELETE ON demo_tickets TO PUBLIC");
			work.exec("GRANT USAGE ON SEQUENCE demo_tickets_id_seq TO PUBLIC");
			work.commit();
			std::cout << "demo_tickets is protected: RLS forced, tenant policies, organization_id defaults to "
			             "tenancy.current_org()\n";
		}
		step("register two users");
		std::string stamp = std::to_string(std::time(nullptr));
		auto alice = tenancy::Identity{engine.RegisterUser("demo-alice-" + stamp, "alice-" + stamp + "@acme.example")};
		auto bob = tenancy::Identity{engine.RegisterUser("demo-bob-" + stamp, "bob-" + stamp + "@globex.example")};
		std::cout << "alice " << tenancy::ToString(alice.user_id) << "\nbob   " << tenancy::ToString(bob.user_id)
		          << "\n";
		step("each creates an organization (user-only context)");
		tenancy::Uuid acme = tenancy::Organizations(engine).CreateOrganization(alice, "Acme");
		tenancy::Uuid globex = tenancy::Organizations(engine).CreateOrganization(bob, "Globex");
		std::cout << "Acme   " << tenancy::ToString(acme) << "\nGlobex " << tenancy::ToString(globex) << "\n";
		step("each writes tickets in their own context");
		{
			auto tx = engine.Transaction(alice, acme);
			tx.Exec("INSERT INTO demo_tickets (title) VALUES ('Printer on fire'), ('Coffee machine broken')");
			tx.Commit();
		}
		{
			auto tx = engine.Transaction(bob, globex);
			tx.Exec("INSERT INTO demo_tickets (title) VALUES ('Secret merger plan')");
			tx.Commit();
		}
		step("alice, in Acme: SELECT title FROM demo_tickets  (no WHERE clause)");
		{
			auto tx = engine.Transaction(alice, acme);
			PrintTable(tx.Exec("SELECT title FROM demo_tickets ORDER BY id"), std::cout);
			tx.Commit();
		}
		step("alice asks for Globex: refused before any query runs");
		try {
			engine.Transaction(alice, globex);
		} catch (const tenancy::NotAMember &e) {
			std::cout << "NotAMember: " << e.what() << "\n";
		}
		tenancy::PoolStats stats = engine.Stats();
		std::cout << "\npool: " << stats.opened << " opened, " << stats.discarded << " discarded, " << stats.idle
		          << " idle\n";
	});
}

namespace {

struct Session {
	Engine engine;
	tenancy::Organizations orgs{engine};
	tenancy::Identity who;
	tenancy::Uuid org;
	Session(const EngineConfig &config, const OrgOptions &options)
	    : engine(config), who{tenancy::ParseUuid(options.user, "--user")},
	      org(tenancy::ParseUuid(options.org, "--org")) {}
};

std::string Join(const std::vector<std::string> &items) {
	std::string out;
	for (const auto &item : items)
		out += (out.empty() ? "" : ", ") + item;
	return out;
}

} // namespace

int RunInvite(const EngineConfig &config, const OrgOptions &options, const std::string &email, const std::string &role,
              int ttl_hours) {
	return Guard([&] {
		Session s(config, options);
		std::string token = s.orgs.Invite(s.who, s.org, email, role, std::chrono::hours(ttl_hours));
		std::cerr << "invitation for " << email << " as " << role << ", valid " << ttl_hours
		          << " h; the token is shown only now:\n";
		std::cout << token << "\n";
	});
}

int RunAccept(const EngineConfig &config, const std::string &user, const std::string &token) {
	return Guard([&] {
		Engine engine(config);
		tenancy::Identity who{tenancy::ParseUuid(user, "--user")};
		std::cout << tenancy::ToString(tenancy::Organizations(engine).AcceptInvitation(who, token)) << "\n";
	});
}

int RunInvitationList(const EngineConfig &config, const OrgOptions &options) {
	return Guard([&] {
		Session s(config, options);
		for (const auto &i : s.orgs.ListInvitations(s.who, s.org))
			std::cout << tenancy::ToString(i.id) << "\t" << i.status << "\t" << i.role_code << "\t" << i.email << "\t"
			          << i.expires_at << "\n";
	});
}

int RunInvitationRevoke(const EngineConfig &config, const OrgOptions &options, const std::string &id) {
	return Guard([&] {
		Session s(config, options);
		s.orgs.RevokeInvitation(s.who, s.org, tenancy::ParseUuid(id, "--id"));
		std::cout << "revoked\n";
	});
}

int RunMemberList(const EngineConfig &config, const OrgOptions &options) {
	return Guard([&] {
		Session s(config, options);
		for (const auto &m : s.orgs.ListMembers(s.who, s.org))
			std::cout << tenancy::ToString(m.user_id) << "\t" << m.role_code << "\t" << m.code << "\t" << m.email
			          << "\n";
	});
}

int RunMemberSetRole(const EngineConfig &config, const OrgOptions &options, const std::string &member,
                     const std::string &role) {
	return Guard([&] {
		Session s(config, options);
		s.orgs.SetMemberRole(s.who, s.org, tenancy::ParseUuid(member, "--member"), role);
		std::cout << "role changed to " << role << "\n";
	});
}

int RunMemberRemove(const EngineConfig &config, const OrgOptions &options, const std::string &member) {
	return Guard([&] {
		Session s(config, options);
		s.orgs.RemoveMember(s.who, s.org, tenancy::ParseUuid(member, "--member"));
		std::cout << "removed\n";
	});
}

int RunLeave(const EngineConfig &config, const OrgOptions &options) {
	return Guard([&] {
		Session s(config, options);
		s.orgs.LeaveOrganization(s.who, s.org);
		std::cout << "left the organization\n";
	});
}

int RunRoleList(const EngineConfig &config, const OrgOptions &options) {
	return Guard([&] {
		Session s(config, options);
		for (const auto &r : s.orgs.ListRoles(s.who, s.org))
			std::cout << r.code << (r.is_system ? " (system)" : "") << "\t" << r.members << " member(s)\t" << r.name
			          << "\t" << Join(r.permissions) << "\n";
	});
}

int RunRoleCreate(const EngineConfig &config, const OrgOptions &options, const std::string &code,
                  const std::string &name, const std::vector<std::string> &permissions) {
	return Guard([&] {
		Session s(config, options);
		s.orgs.CreateRole(s.who, s.org, code, name, permissions);
		std::cout << "role " << code << " created: " << Join(permissions) << "\n";
	});
}

int RunRoleUpdate(const EngineConfig &config, const OrgOptions &options, const std::string &code,
                  const std::string &name, const std::vector<std::string> &permissions, bool set_permissions) {
	return Guard([&] {
		Session s(config, options);
		s.orgs.UpdateRole(s.who, s.org, code, name.empty() ? std::nullopt : std::optional<std::string>(name),
		                  set_permissions ? std::optional<std::vector<std::string>>(permissions) : std::nullopt);
		std::cout << "role " << code << " updated\n";
	});
}

int RunRoleDelete(const EngineConfig &config, const OrgOptions &options, const std::string &code,
                  const std::string &reassign_to) {
	return Guard([&] {
		Session s(config, options);
		s.orgs.DeleteRole(s.who, s.org, code,
		                  reassign_to.empty() ? std::nullopt : std::optional<std::string>(reassign_to));
		std::cout << "role " << code << " deleted\n";
	});
}

int RunTransfer(const EngineConfig &config, const OrgOptions &options, const std::string &new_owner,
                const std::string &my_new_role) {
	return Guard([&] {
		Session s(config, options);
		s.orgs.TransferOwnership(s.who, s.org, tenancy::ParseUuid(new_owner, "--to"), my_new_role);
		std::cout << "ownership transferred; your role is now " << my_new_role << "\n";
	});
}

} // namespace pg_tenancy::cli
