// main.cpp: the `tenancy` command-line tool.
//
//   tenancy keygen --alg HS256|EdDSA --kid KID --keyring FILE [--server-keyring FILE]
//   tenancy keygen --forward --kid KID --keyring FILE   (Citus: server-to-server key)
//   tenancy token mint --keyring FILE --user UUID [--org UUID] [--kid KID] [--ttl SECONDS]
//   tenancy user add --code CODE --email EMAIL
//   tenancy user link --user UUID --issuer ISS --subject SUB
//   tenancy org create --user UUID --name NAME
//   tenancy org list --user UUID
//   tenancy exec (--user UUID | --bearer JWT [--identity-keyring FILE] [--identity-issuer ISS]
//                [--identity-audience AUD] [--identity-user-claim NAME] [--identity-subject-mapping uuid|linked]
//                [--clock-skew SECONDS]) [--org UUID] -c SQL [-c SQL ...]
//   tenancy demo
//   tenancy invite|accept|invitations|members|roles|transfer ... (organization management)
//   tenancy audit [--app-role ROLE] [--probe] [--json] [--fail-on SEVERITY] [--color WHEN]
//
// Database commands read their settings from --config FILE (or TENANCY_CONFIG),
// then the environment (TENANCY_CONNINFO, TENANCY_ADMIN_CONNINFO, TENANCY_KEYRING,
// ...), then the command line. Exit codes: 0 success, 1 failure, 2 usage,
// 3 not a member / permission denied, 4 unauthenticated, 5 database unavailable,
// 6 `tenancy audit` found a problem at or above --fail-on.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <ctime>
#include <iostream>

#include "commands.hpp"
#include "identity_options.hpp"
#include "keyring_files.hpp"
#include "pg_tenancy/engine/errors.hpp"
#include "pg_tenancy/token/context_token.hpp"
#include "pg_tenancy/token/errors.hpp"

namespace {

using namespace pg_tenancy;

const char *EnvOr(const char *name, const char *fallback) {
	const char *value = std::getenv(name);
	return value && *value ? value : fallback;
}

struct KeygenOptions {
	std::string alg = "HS256";
	std::string kid;
	std::string keyring = EnvOr("TENANCY_KEYRING", "");
	std::string server_keyring;
	bool forward = false;
};

void RunKeygen(const KeygenOptions &o) {
	if (o.forward && o.alg != "HS256")
		throw CLI::ValidationError("--forward", "a forwarding key is an HS256 secret; drop --alg EdDSA");
	token::Key key = o.forward          ? token::GenerateForwardingKey(o.kid)
	                 : o.alg == "HS256" ? token::GenerateHs256Key(o.kid)
	                                    : token::GenerateEd25519Key(o.kid);
	token::Keyring ring = cli::LoadForUpdate(o.keyring);
	ring.Add(key);
	if (!o.server_keyring.empty()) {
		token::Keyring server = cli::LoadForUpdate(o.server_keyring);
		server.Add(token::PublicPart(key));
		cli::WriteKeyring(o.server_keyring, server);
	}
	cli::WriteKeyring(o.keyring, ring);
	std::cout << "added " << token::AlgorithmName(key.alg) << (o.forward ? " use:forward" : "") << " key \"" << key.kid
	          << "\" to " << o.keyring;
	if (!o.server_keyring.empty())
		std::cout << " (verification half in " << o.server_keyring << ")";
	std::cout << "\n";
}

struct MintOptions {
	std::string keyring = EnvOr("TENANCY_KEYRING", "");
	std::string kid;
	std::string user;
	std::string org;
	std::int64_t ttl = 60;
	std::int64_t issued_offset = 0;
};

token::Uuid RequireUuid(const std::string &text, const char *what) {
	token::Uuid uuid;
	if (!token::ParseUuid(text, uuid))
		throw CLI::ValidationError(std::string(what), "must be a UUID such as 5f0c1e9e-8a55-4c0e-9a51-7d1f0a7e9b2c");
	return uuid;
}

void RunMint(const MintOptions &o) {
	token::Keyring ring = token::Keyring::LoadFile(o.keyring);
	token::ContextClaims claims;
	claims.user = RequireUuid(o.user, "--user");
	if (!o.org.empty())
		claims.org = RequireUuid(o.org, "--org");
	claims.issued_at = static_cast<std::int64_t>(std::time(nullptr)) + o.issued_offset;
	claims.expires_at = claims.issued_at + o.ttl;
	claims.jti = token::NewJti();
	std::cout << token::MintContextToken(ring.SigningKey(o.kid), claims) << "\n";
}

} // namespace

int main(int argc, char **argv) {
	CLI::App app{"pg_tenancy command-line tool: keys, tokens, users, organizations, members, roles and invitations"};
	app.require_subcommand(1);

	KeygenOptions keygen;
	CLI::App *keygen_cmd =
	    app.add_subcommand("keygen", "Generate a signing key and add it to a keyring file (mode 0600)");
	keygen_cmd->add_option("--alg", keygen.alg, "HS256 (shared secret) or EdDSA (Ed25519 key pair)")
	    ->check(CLI::IsMember({"HS256", "EdDSA"}));
	keygen_cmd->add_option("--kid", keygen.kid, "Key id, 1-64 characters from [A-Za-z0-9._-]")->required();
	keygen_cmd->add_option("--keyring", keygen.keyring, "Application keyring (signing keys) [env TENANCY_KEYRING]")
	    ->required(keygen.keyring.empty());
	keygen_cmd->add_option("--server-keyring", keygen.server_keyring,
	                       "Also add what the database needs to verify (the public half for EdDSA)");
	keygen_cmd->add_flag("--forward", keygen.forward,
	                     "A Citus server-to-server key (HS256, use:forward): copy the same line into the keyring "
	                     "of every node");

	MintOptions mint;
	CLI::App *token_cmd = app.add_subcommand("token", "Context tokens");
	token_cmd->require_subcommand(1);
	CLI::App *mint_cmd = token_cmd->add_subcommand("mint", "Print a signed context token");
	mint_cmd->add_option("--keyring", mint.keyring, "Keyring holding the signing key [env TENANCY_KEYRING]")
	    ->required(mint.keyring.empty());
	mint_cmd->add_option("--kid", mint.kid, "Signing key id (default: the first key that can sign)");
	mint_cmd->add_option("--user", mint.user, "User uuid (the sub claim)")->required();
	mint_cmd->add_option("--org", mint.org, "Organization uuid; omit for a user-only context");
	mint_cmd->add_option("--ttl", mint.ttl, "Lifetime in seconds")->check(CLI::Range(1, 86400));
	mint_cmd
	    ->add_option("--issued-offset", mint.issued_offset,
	                 "Shift iat by this many seconds (negative: in the past); for tests")
	    ->check(CLI::Range(-31536000, 31536000)); // a year either way; no overflow

	// Settings shared by the database commands.
	std::string config_file = EnvOr("TENANCY_CONFIG", "");
	std::string conninfo, admin_conninfo, keyring;
	auto add_db_options = [&](CLI::App *cmd) {
		cmd->add_option("--config", config_file, "Configuration file (key = value) [env TENANCY_CONFIG]");
		cmd->add_option("--conninfo", conninfo, "Application role connection string [env TENANCY_CONNINFO]");
		cmd->add_option("--admin-conninfo", admin_conninfo,
		                "Privileged connection for membership checks and registration [env TENANCY_ADMIN_CONNINFO]");
		cmd->add_option("--keyring", keyring, "Keyring that signs context tokens [env TENANCY_KEYRING]");
	};

	std::string code, email, user, name;
	CLI::App *user_cmd = app.add_subcommand("user", "Users");
	user_cmd->require_subcommand(1);
	CLI::App *user_add = user_cmd->add_subcommand("add", "Register a user; prints the new user id");
	user_add->add_option("--code", code, "Unique user code")->required();
	user_add->add_option("--email", email, "Email address (unique, case-insensitively)")->required();
	add_db_options(user_add);
	std::string issuer, subject;
	CLI::App *user_link = user_cmd->add_subcommand(
	    "link", "Link an identity provider's issuer and subject to a user (identity_subject_mapping = linked)");
	user_link->add_option("--user", user, "User id")->required();
	user_link->add_option("--issuer", issuer, "The provider's iss claim, exactly")->required();
	user_link->add_option("--subject", subject, "The provider's user claim (sub), exactly")->required();
	add_db_options(user_link);

	CLI::App *org_cmd = app.add_subcommand("org", "Organizations");
	org_cmd->require_subcommand(1);
	CLI::App *org_create = org_cmd->add_subcommand("create", "Create an organization owned by --user; prints its id");
	org_create->add_option("--user", user, "Owner's user id")->required();
	org_create->add_option("--name", name, "Organization name")->required();
	add_db_options(org_create);
	CLI::App *org_list = org_cmd->add_subcommand("list", "The organizations --user belongs to");
	org_list->add_option("--user", user, "User id")->required();
	add_db_options(org_list);

	cli::ExecOptions exec;
	CLI::App *exec_cmd = app.add_subcommand("exec", "Run SQL as a tenant, in one transaction, printing rows");
	CLI::Option *exec_user = exec_cmd->add_option("--user", exec.user, "User id (trusted caller)");
	// Tokens are secrets: prefer the environment, which other OS users cannot
	// read, to the command line, which ps shows them.
	exec_cmd->add_option("--bearer", exec.bearer, "Identity token instead of --user (verified) [env TENANCY_BEARER]")
	    ->envname("TENANCY_BEARER")
	    ->excludes(exec_user);
	cli::IdentityFlags identity_flags; // how --bearer is verified
	cli::AddIdentityFlags(exec_cmd, identity_flags);
	exec_cmd->add_option("--org", exec.org, "Organization id; omit for a user-only context");
	exec_cmd->add_option("-c,--command", exec.commands, "SQL to run (repeatable)")->required();
	add_db_options(exec_cmd);

	CLI::App *demo_cmd = app.add_subcommand("demo", "Show isolation on a database with pg_tenancy installed");
	add_db_options(demo_cmd);

	// Organization management: every command acts as --user inside --org.
	cli::OrgOptions as;
	auto add_as = [&](CLI::App *cmd) {
		cmd->fallthrough(); // its options may also follow a sub-subcommand
		cmd->add_option("--user", as.user, "Your user id")->required();
		cmd->add_option("--org", as.org, "Organization id")->required();
		add_db_options(cmd);
	};
	std::string invitee_email, role, token, member, id, reassign_to, new_owner, my_role;
	std::vector<std::string> permissions;
	int ttl_hours = 24 * 7;

	CLI::App *invite_cmd = app.add_subcommand("invite", "Invite an email address with a role; prints the token once");
	add_as(invite_cmd);
	invite_cmd->add_option("--email", invitee_email, "Invitee's email address")->required();
	invite_cmd->add_option("--role", role, "Role code to grant")->required();
	invite_cmd->add_option("--ttl-hours", ttl_hours, "Validity in hours (1 minute to 30 days)")
	    ->check(CLI::Range(1, 720));

	std::string accept_user;
	CLI::App *accept_cmd = app.add_subcommand("accept", "Accept an invitation; prints the organization id");
	accept_cmd->add_option("--user", accept_user, "Your user id (the invitation's email must be yours)")->required();
	accept_cmd->add_option("--token", token, "The invitation token [env TENANCY_INVITATION_TOKEN]")
	    ->envname("TENANCY_INVITATION_TOKEN")
	    ->required();
	add_db_options(accept_cmd);

	CLI::App *invitations_cmd = app.add_subcommand("invitations", "List (default) or revoke invitations");
	add_as(invitations_cmd);
	CLI::App *invitations_revoke = invitations_cmd->add_subcommand("revoke", "Revoke a pending invitation");
	invitations_revoke->add_option("--id", id, "Invitation id")->required();

	CLI::App *members_cmd = app.add_subcommand("members", "List (default) or manage members");
	add_as(members_cmd);
	CLI::App *members_set_role = members_cmd->add_subcommand("set-role", "Give a member another role");
	members_set_role->add_option("--member", member, "Member's user id")->required();
	members_set_role->add_option("--role", role, "Role code")->required();
	CLI::App *members_remove = members_cmd->add_subcommand("remove", "Remove a member");
	members_remove->add_option("--member", member, "Member's user id")->required();
	CLI::App *members_leave = members_cmd->add_subcommand("leave", "Leave the organization yourself");

	std::string role_code, role_name;
	CLI::App *roles_cmd = app.add_subcommand("roles", "List (default) or manage roles");
	add_as(roles_cmd);
	CLI::App *roles_create = roles_cmd->add_subcommand("create", "Create a role");
	roles_create->add_option("--code", role_code, "Role code, e.g. support")->required();
	roles_create->add_option("--name", role_name, "Display name")->required();
	roles_create->add_option("-p,--permission", permissions, "A permission (repeatable), e.g. tickets.read");
	CLI::App *roles_update = roles_cmd->add_subcommand("update", "Rename a role or replace its permissions");
	roles_update->add_option("--code", role_code, "Role code")->required();
	roles_update->add_option("--name", role_name, "New display name");
	CLI::Option *update_permissions =
	    roles_update->add_option("-p,--permission", permissions, "New permissions (repeatable; replaces all)");
	CLI::App *roles_delete = roles_cmd->add_subcommand("delete", "Delete a role");
	roles_delete->add_option("--code", role_code, "Role code")->required();
	roles_delete->add_option("--reassign-to", reassign_to, "Move its members to this role first");

	CLI::App *transfer_cmd = app.add_subcommand("transfer", "Transfer ownership to another member");
	add_as(transfer_cmd);
	transfer_cmd->add_option("--to", new_owner, "New owner's user id")->required();
	transfer_cmd->add_option("--my-role", my_role, "The role you take instead")->required();

	cli::AuditCommandOptions audit;
	CLI::App *audit_cmd = app.add_subcommand(
	    "audit", "Report every configuration that would let data cross tenants (connects with --admin-conninfo)");
	audit_cmd->add_option("--app-role", audit.app_role,
	                      "The application's database role (default: every role with privileges on tenant tables)");
	audit_cmd->add_flag("--probe", audit.probe,
	                    "Also run tenancy.probe(): test isolation as --app-role on synthetic organizations, "
	                    "always rolled back (needs a superuser connection)");
	audit_cmd->add_flag("--json", audit.json, "Print JSON instead of a readable list");
	audit_cmd->add_option("--fail-on", audit.fail_on, "Exit 6 if a finding is at least this severe (default: high)")
	    ->check(CLI::IsMember({"info", "medium", "high", "critical", "none"}));
	audit_cmd->add_option("--color", audit.color, "Colour by severity: auto (on a terminal), always or never")
	    ->check(CLI::IsMember({"auto", "always", "never"}));
	add_db_options(audit_cmd);

	try {
		app.parse(argc, argv);
		if (keygen_cmd->parsed()) {
			RunKeygen(keygen);
			return 0;
		}
		if (mint_cmd->parsed()) {
			RunMint(mint);
			return 0;
		}
		// Who runs the SQL is a usage question: answer it before any configuration.
		if (exec_cmd->parsed() && exec.user.empty() && exec.bearer.empty())
			throw CLI::RequiredError("--user or --bearer (or TENANCY_BEARER)");
		tenancy::EngineConfig config =
		    config_file.empty() ? tenancy::EngineConfig() : tenancy::EngineConfig::FromFile(config_file);
		config.ApplyEnvironment();
		if (!conninfo.empty())
			config.conninfo = conninfo;
		if (!admin_conninfo.empty())
			config.admin_conninfo = admin_conninfo;
		if (!keyring.empty())
			config.keyring_file = keyring;
		// One-shot commands need no cache or listener.
		config.listen_for_changes = false;
		config.pool_size = 1;
		if (user_add->parsed())
			return cli::RunUserAdd(config, code, email);
		if (user_link->parsed())
			return cli::RunUserLink(config, user, issuer, subject);
		if (org_create->parsed())
			return cli::RunOrgCreate(config, user, name);
		if (org_list->parsed())
			return cli::RunOrgList(config, user);
		if (exec_cmd->parsed()) {
			cli::ApplyIdentityFlags(identity_flags, !exec.bearer.empty(), config);
			return cli::RunExec(config, exec);
		}
		if (demo_cmd->parsed())
			return cli::RunDemo(config);
		if (invite_cmd->parsed())
			return cli::RunInvite(config, as, invitee_email, role, ttl_hours);
		if (accept_cmd->parsed())
			return cli::RunAccept(config, accept_user, token);
		if (invitations_cmd->parsed())
			return invitations_revoke->parsed() ? cli::RunInvitationRevoke(config, as, id)
			                                    : cli::RunInvitationList(config, as);
		if (members_cmd->parsed()) {
			if (members_set_role->parsed())
				return cli::RunMemberSetRole(config, as, member, role);
			if (members_remove->parsed())
				return cli::RunMemberRemove(config, as, member);
			if (members_leave->parsed())
				return cli::RunLeave(config, as);
			return cli::RunMemberList(config, as);
		}
		if (roles_cmd->parsed()) {
			if (roles_create->parsed())
				return cli::RunRoleCreate(config, as, role_code, role_name, permissions);
			if (roles_update->parsed())
				return cli::RunRoleUpdate(config, as, role_code, role_name, permissions,
				                          update_permissions->count() > 0);
			if (roles_delete->parsed())
				return cli::RunRoleDelete(config, as, role_code, reassign_to);
			return cli::RunRoleList(config, as);
		}
		if (transfer_cmd->parsed())
			return cli::RunTransfer(config, as, new_owner, my_role);
		if (audit_cmd->parsed())
			return cli::RunAuditCommand(config, audit);
	} catch (const CLI::ParseError &e) {
		return app.exit(e) == 0 ? 0 : cli::kExitUsage; // --help exits 0
	} catch (const tenancy::ConfigurationError &e) {
		std::cerr << "tenancy: " << e.what() << "\n";
		return cli::kExitUsage;
	} catch (const token::KeyringError &e) {
		std::cerr << "tenancy: " << e.what() << "\n";
		return cli::kExitUsage;
	} catch (const std::exception &e) {
		std::cerr << "tenancy: " << e.what() << "\n";
		return cli::kExitFailure;
	}
	return 0;
}
