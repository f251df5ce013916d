// main.cpp: the `tenancy` command-line tool.
//
//   tenancy keygen --alg HS256|EdDSA --kid KID --keyring FILE [--server-keyring FILE]
//   tenancy token mint --keyring FILE --user UUID [--org UUID] [--kid KID] [--ttl SECONDS]
//
// Exit codes: 0 success, 1 runtime failure, 2 usage error (CLI11's convention).
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <ctime>
#include <iostream>

#include "keyring_files.hpp"
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
};

void RunKeygen(const KeygenOptions &o) {
	token::Key key = o.alg == "HS256" ? token::GenerateHs256Key(o.kid) : token::GenerateEd25519Key(o.kid);
	token::Keyring ring = cli::LoadOrEmpty(o.keyring);
	ring.Add(key);
	if (!o.server_keyring.empty()) {
		token::Keyring server = cli::LoadOrEmpty(o.server_keyring);
		server.Add(token::PublicPart(key));
		cli::WriteKeyring(o.server_keyring, server);
	}
	cli::WriteKeyring(o.keyring, ring);
	std::cout << "added " << token::AlgorithmName(key.alg) << " key \"" << key.kid << "\" to " << o.keyring;
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
	CLI::App app{"pg_tenancy command-line tool: keys and context tokens"};
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
	mint_cmd->add_option("--issued-offset", mint.issued_offset,
	                     "Shift iat by this many seconds (negative: in the past); for tests");

	try {
		app.parse(argc, argv);
		if (keygen_cmd->parsed())
			RunKeygen(keygen);
		else if (mint_cmd->parsed())
			RunMint(mint);
	} catch (const CLI::ParseError &e) {
		return app.exit(e);
	} catch (const std::exception &e) {
		std::cerr << "tenancy: " << e.what() << "\n";
		return 1;
	}
	return 0;
}
