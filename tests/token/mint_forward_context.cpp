// mint_forward_context: a test tool that signs a forwarding context exactly as a
// Citus coordinator's tenancy.enter() would, so the worker side can be tested
// without Citus (tests/cluster/checks.sh). Not installed.
//
//   mint_forward_context KEYRING USER ORG ROLE ROLE_CODE PERMISSIONS DTX [TTL]
#include <cstdlib>
#include <ctime>
#include <iostream>

#include "pg_tenancy/token/context_token.hpp"
#include "pg_tenancy/token/errors.hpp"
#include "pg_tenancy/token/forward_token.hpp"

using namespace pg_tenancy::token;

int main(int argc, char **argv) {
	if (argc != 8 && argc != 9) {
		std::cerr << "usage: mint_forward_context KEYRING USER ORG ROLE ROLE_CODE PERMISSIONS DTX [TTL]\n";
		return 2;
	}
	try {
		// The test runs as root against the server's keyring (owned by postgres).
		Keyring ring = Keyring::Parse(ReadKeyFile(argv[1], false));
		const Key *key = ring.ForwardingKey();
		if (!key)
			throw KeyringError("the keyring has no use:forward key");
		ForwardClaims claims;
		if (!ParseUuid(argv[2], claims.user) || !ParseUuid(argv[3], claims.org) || !ParseUuid(argv[4], claims.role))
			throw TokenLibraryError("USER, ORG and ROLE must be UUIDs");
		claims.role_code = argv[5];
		claims.permissions = argv[6];
		claims.distributed_transaction = argv[7];
		claims.issued_at = static_cast<std::int64_t>(std::time(nullptr));
		claims.expires_at = claims.issued_at + (argc == 9 ? std::atoll(argv[8]) : 30);
		claims.jti = NewJti();
		std::cout << MintForwardToken(*key, claims) << "\n";
		return 0;
	} catch (const std::exception &e) {
		std::cerr << "mint_forward_context: " << e.what() << "\n";
		return 1;
	}
}
