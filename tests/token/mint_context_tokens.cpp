// mint_context_tokens: a test tool that signs many context tokens in one
// process, as the engine would (the CLI starts a process per token, too slow
// for the thousands tests/cluster/backend_caches.sh needs). Not installed.
//
//   mint_context_tokens KEYRING TTL < "USER ORG" lines > one token per line
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <string>

#include "pg_tenancy/token/context_token.hpp"
#include "pg_tenancy/token/errors.hpp"

using namespace pg_tenancy::token;

int main(int argc, char **argv) {
	if (argc != 3) {
		std::cerr << "usage: mint_context_tokens KEYRING TTL < \"USER ORG\" lines\n";
		return 2;
	}
	try {
		Keyring ring = Keyring::Parse(ReadKeyFile(argv[1], false));
		const Key &key = ring.SigningKey(); // throws when no key can sign
		std::string user, org;
		while (std::cin >> user >> org) {
			ContextClaims claims;
			Uuid org_id;
			if (!ParseUuid(user, claims.user) || !ParseUuid(org, org_id))
				throw TokenLibraryError("USER and ORG must be UUIDs");
			claims.org = org_id;
			claims.issued_at = static_cast<std::int64_t>(std::time(nullptr));
			claims.expires_at = claims.issued_at + std::atoll(argv[2]);
			claims.jti = NewJti();
			std::cout << MintContextToken(key, claims) << "\n";
		}
		return 0;
	} catch (const std::exception &e) {
		std::cerr << "mint_context_tokens: " << e.what() << "\n";
		return 1;
	}
}
