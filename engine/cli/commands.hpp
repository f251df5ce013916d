// commands.hpp: the `tenancy` subcommands that talk to the database.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "pg_tenancy/engine/config.hpp"

namespace pg_tenancy::cli {

struct ExecOptions {
	std::string user;
	std::string org;    // empty: user-only context
	std::string bearer; // alternative to user: an identity token
	std::vector<std::string> commands;
};

// Each returns the process exit code; errors are printed to stderr.
int RunUserAdd(const tenancy::EngineConfig &config, const std::string &code, const std::string &email);
int RunUserLink(const tenancy::EngineConfig &config, const std::string &user, const std::string &issuer,
                const std::string &subject);
int RunOrgCreate(const tenancy::EngineConfig &config, const std::string &user, const std::string &name);
int RunOrgList(const tenancy::EngineConfig &config, const std::string &user);
int RunExec(const tenancy::EngineConfig &config, const ExecOptions &options);
int RunDemo(const tenancy::EngineConfig &config);

// Organization management, as --user in --org.
struct OrgOptions {
	std::string user;
	std::string org;
};
int RunInvite(const tenancy::EngineConfig &config, const OrgOptions &who, const std::string &email,
              const std::string &role, int ttl_hours);
int RunAccept(const tenancy::EngineConfig &config, const std::string &user, const std::string &token);
int RunInvitationList(const tenancy::EngineConfig &config, const OrgOptions &who);
int RunInvitationRevoke(const tenancy::EngineConfig &config, const OrgOptions &who, const std::string &id);
int RunMemberList(const tenancy::EngineConfig &config, const OrgOptions &who);
int RunMemberSetRole(const tenancy::EngineConfig &config, const OrgOptions &who, const std::string &member,
                     const std::string &role);
int RunMemberRemove(const tenancy::EngineConfig &config, const OrgOptions &who, const std::string &member);
int RunLeave(const tenancy::EngineConfig &config, const OrgOptions &who);
int RunRoleList(const tenancy::EngineConfig &config, const OrgOptions &who);
int RunRoleCreate(const tenancy::EngineConfig &config, const OrgOptions &who, const std::string &code,
                  const std::string &name, const std::vector<std::string> &permissions);
int RunRoleUpdate(const tenancy::EngineConfig &config, const OrgOptions &who, const std::string &code,
                  const std::string &name, const std::vector<std::string> &permissions, bool set_permissions);
int RunRoleDelete(const tenancy::EngineConfig &config, const OrgOptions &who, const std::string &code,
                  const std::string &reassign_to);
int RunTransfer(const tenancy::EngineConfig &config, const OrgOptions &who, const std::string &new_owner,
                const std::string &my_new_role);

// `tenancy audit`: tenancy.audit() (and tenancy.probe()) as a deployment gate.
struct AuditCommandOptions {
	std::string app_role; // empty: every role with privileges on tenant tables
	bool probe = false;
	bool json = false;
	std::string fail_on = "high"; // info, medium, high, critical or none
	std::string color = "auto";   // auto, always, never
};
int RunAuditCommand(const tenancy::EngineConfig &config, const AuditCommandOptions &options);

// Runs `body`, printing any error (with its SQLSTATE when it has one); returns the exit code.
int Guard(const std::function<void()> &body);

// Exit codes shared by all subcommands.
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitDenied = 3;          // not a member, missing permission, wrong kind of context
constexpr int kExitUnauthenticated = 4; // bad bearer or context token
constexpr int kExitUnavailable = 5;     // database unavailable, context lost
constexpr int kExitFindings = 6;        // tenancy audit: a finding reached --fail-on

} // namespace pg_tenancy::cli
