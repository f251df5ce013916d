// Engine::Authenticate: inbound bearer tokens.
#include <boost/test/unit_test.hpp>

#include <ctime>

#include "engine_fixture.hpp"
#include "pg_tenancy/token/context_token.hpp"
#include "pg_tenancy/engine/identity_token.hpp"

using namespace engine_test;
namespace tok = pg_tenancy::token;

namespace {
std::int64_t Now() {
	return static_cast<std::int64_t>(std::time(nullptr));
}
tenancy::Uuid SomeUser() {
	return tenancy::ParseUuid("5f0c1e9e-8a55-4c0e-9a51-7d1f0a7e9b2c");
}
} // namespace

BOOST_AUTO_TEST_SUITE(authentication)

BOOST_AUTO_TEST_CASE(valid_bearer_tokens_give_the_user) {
	tenancy::Engine engine(Config());
	for (const char *kid : {"idp-hs", "idp-ed"}) {
		std::string jwt = tenancy::identity::MintIdentityToken(IdentityKeyring().SigningKey(kid), SomeUser(), kIssuer,
		                                                       kAudience, Now(), Now() + 300);
		BOOST_TEST(engine.Authenticate("Bearer " + jwt).user_id == SomeUser());
		BOOST_TEST(engine.Authenticate(jwt).user_id == SomeUser());
	}
}

BOOST_AUTO_TEST_CASE(bad_bearer_tokens_are_unauthenticated) {
	tenancy::Engine engine(Config());
	const tok::Key &key = IdentityKeyring().SigningKey("idp-hs");
	std::string expired =
	    tenancy::identity::MintIdentityToken(key, SomeUser(), kIssuer, kAudience, Now() - 600, Now() - 300);
	std::string wrong_audience =
	    tenancy::identity::MintIdentityToken(key, SomeUser(), kIssuer, "other-api", Now(), Now() + 60);
	std::string wrong_issuer =
	    tenancy::identity::MintIdentityToken(key, SomeUser(), "https://evil.example", kAudience, Now(), Now() + 60);
	tok::ContextClaims claims;
	claims.user = SomeUser();
	claims.issued_at = Now();
	claims.expires_at = Now() + 60;
	claims.jti = "j";
	std::string context_token = tok::MintContextToken(key, claims);
	for (const std::string &bad : {std::string(), std::string("Bearer "), std::string("garbage"), expired,
	                               wrong_audience, wrong_issuer, context_token, expired + "x"})
		BOOST_CHECK_THROW(engine.Authenticate(bad), tenancy::Unauthenticated);
	try {
		engine.Authenticate(expired);
	} catch (const tenancy::Unauthenticated &e) {
		BOOST_TEST(std::string(e.what()).find("expired") != std::string::npos);
		BOOST_TEST(std::string(e.what()).find(expired.substr(0, 20)) == std::string::npos);
	}
}

BOOST_AUTO_TEST_CASE(configuration_errors_are_clear) {
	tenancy::EngineConfig config = Config();
	config.keyring_file = "/nonexistent/keyring";
	BOOST_CHECK_THROW(tenancy::Engine{config}, tenancy::ConfigurationError);
	config = Config();
	config.identity_audience.clear();
	BOOST_CHECK_THROW(tenancy::Engine{config}, tenancy::ConfigurationError);
	config = Config();
	config.signing_kid = "no-such-kid";
	BOOST_CHECK_THROW(tenancy::Engine{config}, tenancy::ConfigurationError);
	config = Config();
	BOOST_CHECK_THROW(config.Set("pool_size", "0"), tenancy::ConfigurationError);
	BOOST_CHECK_THROW(config.Set("pool_size", "ten"), tenancy::ConfigurationError);
	BOOST_CHECK_THROW(config.Set("no_such_key", "1"), tenancy::ConfigurationError);
	config.Set("token_ttl", "30");
	BOOST_TEST(config.token_ttl.count() == 30);
}

BOOST_AUTO_TEST_SUITE_END()
