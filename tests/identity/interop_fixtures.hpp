// interop_fixtures.hpp: the tokens tests/identity/interop/make_fixtures.sh mints
// with PyJWT and jose, read from $TENANCY_IDENTITY_FIXTURES.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pg_tenancy/engine/identity_token.hpp"

namespace identity_test {

struct InteropCase {
	std::string name, token, expect, subject;
};

inline std::string FixtureDirectory() {
	const char *dir = std::getenv("TENANCY_IDENTITY_FIXTURES");
	return dir && *dir ? dir : "";
}

inline std::vector<InteropCase> InteropCases(const std::string &library) {
	std::ifstream in(FixtureDirectory() + "/" + library + ".cases.json");
	if (!in)
		throw std::runtime_error("no fixtures for " + library + " in $TENANCY_IDENTITY_FIXTURES");
	std::vector<InteropCase> cases;
	for (const auto &c : nlohmann::json::parse(in))
		cases.push_back({c.at("name"), c.at("token"), c.at("expect"), c.at("subject")});
	return cases;
}

inline std::string InteropJwks(const std::string &library) {
	return FixtureDirectory() + "/" + library + ".jwks.json";
}

// The enumerator's name, as the fixtures spell expectations.
inline const char *ErrorName(tenancy::identity::IdentityError e) {
	using E = tenancy::identity::IdentityError;
	switch (e) {
#define NAME(x)                                                                                                        \
	case E::x:                                                                                                         \
		return #x;
		NAME(None)
		NAME(Oversized)
		NAME(Malformed)
		NAME(ForbiddenHeader)
		NAME(UnsupportedAlgorithm)
		NAME(UnknownKey)
		NAME(AmbiguousKey)
		NAME(AlgorithmMismatch)
		NAME(WrongType)
		NAME(BadSignature)
		NAME(MissingClaim)
		NAME(WrongIssuer)
		NAME(WrongAudience)
		NAME(BadSubject)
		NAME(BadTimeClaim)
		NAME(Expired)
		NAME(NotYetValid)
		NAME(Misconfigured)
		NAME(Internal)
#undef NAME
	}
	return "?";
}

} // namespace identity_test
