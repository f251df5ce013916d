// Tokens minted by independent libraries (PyJWT + cryptography, Node jose) for
// every accepted algorithm verify against the JWKS those libraries exported, and
// every rejection case gets its documented error. Runs when
// $TENANCY_IDENTITY_FIXTURES is set (ctest's identity_interop sets it, after
// identity_fixtures minted them); skipped otherwise.
#include <boost/test/unit_test.hpp>

#include <ctime>
#include <set>

#include "identity_test.hpp"
#include "interop_fixtures.hpp"

using namespace identity_test;
using namespace tenancy::identity;
namespace utf = boost::unit_test;

namespace {

boost::test_tools::assertion_result HasFixtures(utf::test_unit_id) {
	boost::test_tools::assertion_result result(!FixtureDirectory().empty());
	result.message() << "TENANCY_IDENTITY_FIXTURES is not set";
	return result;
}

void CheckLibrary(const std::string &library) {
	KeySet keys = KeySet::LoadFile(InteropJwks(library));
	BOOST_TEST(keys.Skipped() >= 1u); // its P-384 (and encryption) keys are skipped, not used
	VerifyOptions options;
	options.issuer = "https://id.test.example";
	options.audience = "tickets-api";
	options.now = static_cast<std::int64_t>(std::time(nullptr));
	std::set<std::string> accepted;
	std::size_t rejections = 0;
	for (const InteropCase &c : InteropCases(library)) {
		BOOST_TEST_CONTEXT(c.name) {
			VerifyResult r = VerifyIdentityToken(c.token, keys, options);
			BOOST_TEST(ErrorName(r.error) == c.expect);
			if (c.expect == "None") {
				BOOST_TEST(r.subject == c.subject);
				if (r.ok())
					accepted.insert(AlgorithmName(r.alg));
			} else {
				rejections++;
			}
		}
	}
	BOOST_TEST(accepted == (std::set<std::string>{"EdDSA", "ES256", "HS256", "PS256", "RS256"}));
	BOOST_TEST(rejections >= 10u);
}

} // namespace

BOOST_AUTO_TEST_SUITE(interop, *utf::precondition(HasFixtures))

BOOST_AUTO_TEST_CASE(pyjwt_tokens) {
	CheckLibrary("pyjwt");
}

BOOST_AUTO_TEST_CASE(jose_tokens) {
	CheckLibrary("jose");
}

BOOST_AUTO_TEST_CASE(rsa_1024_jwks_is_refused) {
	try {
		KeySet::LoadFile(FixtureDirectory() + "/pyjwt.rsa1024.jwks.json");
		BOOST_FAIL("a 1024-bit RSA key was accepted");
	} catch (const KeySetError &e) {
		BOOST_TEST(std::string(e.what()).find("1024 bits; at least 2048 are required") != std::string::npos);
	}
}

BOOST_AUTO_TEST_SUITE_END()
