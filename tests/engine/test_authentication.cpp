// Engine::Authenticate: inbound bearer tokens.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <ctime>
#include <fstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "../identity/interop_fixtures.hpp"
#include "../identity/signing_keys.hpp"
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

// Bearer tokens from identity providers: tokens minted by PyJWT and Node jose
// (tests/identity/interop), a JWKS file, linked subjects and key rotation.
namespace {

namespace utf = boost::unit_test;

boost::test_tools::assertion_result HasFixtures(utf::test_unit_id) {
	boost::test_tools::assertion_result result(!identity_test::FixtureDirectory().empty());
	result.message() << "TENANCY_IDENTITY_FIXTURES is not set";
	return result;
}

tenancy::EngineConfig JwksConfig(const std::string &jwks_file) {
	tenancy::EngineConfig config = Config();
	config.identity_keyring_file = jwks_file;
	config.identity_issuer = kIssuer;
	config.identity_audience = kAudience;
	return config;
}

std::string UnauthenticatedMessage(const tenancy::Engine &engine, const std::string &token) {
	try {
		engine.Authenticate("Bearer " + token);
	} catch (const tenancy::Unauthenticated &e) {
		return e.what();
	}
	return "(accepted)";
}

void WriteAtomically(const std::string &path, const std::string &text) {
	std::string tmp = path + ".tmp";
	{
		std::ofstream out(tmp);
		out << text;
	}
	chmod(tmp.c_str(), 0600);
	BOOST_REQUIRE(std::rename(tmp.c_str(), path.c_str()) == 0);
}

} // namespace

BOOST_AUTO_TEST_SUITE(provider_tokens, *utf::precondition(HasFixtures))

BOOST_AUTO_TEST_CASE(pyjwt_and_jose_tokens_authenticate_through_a_jwks_file) {
	for (const char *library : {"pyjwt", "jose"}) {
		tenancy::Engine engine(JwksConfig(identity_test::InteropJwks(library)));
		std::size_t accepted = 0;
		for (const identity_test::InteropCase &c : identity_test::InteropCases(library)) {
			BOOST_TEST_CONTEXT(c.name) {
				if (c.expect == "None" && c.subject == tenancy::ToString(SomeUser())) {
					BOOST_TEST(engine.Authenticate("Bearer " + c.token).user_id == SomeUser());
					accepted++;
				} else if (c.expect != "None") {
					std::string message = UnauthenticatedMessage(engine, c.token);
					BOOST_TEST(message.rfind("invalid bearer token: ", 0) == 0u);
					BOOST_TEST(message.find(c.token.substr(0, 40)) == std::string::npos); // never echoed
				} else {
					// A provider subject that is not a uuid needs identity_subject_mapping = linked.
					BOOST_TEST(UnauthenticatedMessage(engine, c.token).find("not a pg_tenancy user id") !=
					           std::string::npos);
				}
			}
		}
		BOOST_TEST(accepted >= 5u); // every algorithm
	}
}

BOOST_AUTO_TEST_CASE(linked_subjects_map_to_their_user) {
	tenancy::EngineConfig config = JwksConfig(identity_test::InteropJwks("pyjwt"));
	config.identity_subject_mapping = tenancy::EngineConfig::SubjectMapping::Linked;
	tenancy::Engine engine(config);
	tenancy::Identity user = NewUser(engine, "linked");
	std::string linked_token, uuid_token;
	for (const identity_test::InteropCase &c : identity_test::InteropCases("pyjwt")) {
		if (c.name == "pyjwt:RS256:linked_subject")
			linked_token = c.token;
		if (c.name == "pyjwt:ES256")
			uuid_token = c.token;
	}
	BOOST_REQUIRE(!linked_token.empty() && !uuid_token.empty());
	BOOST_TEST(UnauthenticatedMessage(engine, linked_token).find("no pg_tenancy user is linked") != std::string::npos);
	engine.LinkIdentity(user.user_id, kIssuer, "auth0|interop-user");
	BOOST_TEST(engine.Authenticate(linked_token).user_id == user.user_id);
	// In linked mode a uuid subject is just another subject: not trusted as a user id.
	BOOST_TEST(UnauthenticatedMessage(engine, uuid_token).find("no pg_tenancy user is linked") != std::string::npos);
	BOOST_CHECK_THROW(engine.LinkIdentity(NewUser(engine, "other").user_id, kIssuer, "auth0|interop-user"),
	                  tenancy::DatabaseError);
	Super("SELECT tenancy.unlink_identity('" + std::string(kIssuer) + "', 'auth0|interop-user')");
	BOOST_TEST(UnauthenticatedMessage(engine, linked_token).find("no pg_tenancy user is linked") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(identity_key_rotation)

BOOST_AUTO_TEST_CASE(rotating_the_jwks_file_needs_no_restart) {
	using identity_test::SigningKey;
	std::string path = "/tmp/pg_tenancy_engine_jwks_" + std::to_string(getpid()) + ".json";
	SigningKey old_key = SigningKey::Rsa(2048, "kc-2026-01");
	SigningKey new_key = SigningKey::P256("kc-2026-02");
	auto claims = [] {
		return std::string(R"({"iss":")") + kIssuer + R"(","aud":")" + kAudience + R"(","sub":")" +
		       tenancy::ToString(SomeUser()) + R"(","exp":)" + std::to_string(Now() + 600) + "}";
	};
	std::string old_token = old_key.Token(R"({"alg":"RS256","kid":"kc-2026-01","typ":"JWT"})", claims());
	std::string new_token = new_key.Token(R"({"alg":"ES256","kid":"kc-2026-02","typ":"JWT"})", claims());
	WriteAtomically(path, identity_test::Jwks({old_key.Jwk()}).dump());
	tenancy::Engine engine(JwksConfig(path));
	BOOST_TEST(engine.Authenticate(old_token).user_id == SomeUser());
	BOOST_TEST(UnauthenticatedMessage(engine, new_token).find("kid") != std::string::npos);

	WriteAtomically(path, identity_test::Jwks({old_key.Jwk(), new_key.Jwk()}).dump());
	BOOST_TEST(Eventually([&] { return UnauthenticatedMessage(engine, new_token) == "(accepted)"; }, 3));
	WriteAtomically(path, identity_test::Jwks({new_key.Jwk()}).dump());
	auto removed_at = std::chrono::steady_clock::now();
	BOOST_TEST(Eventually([&] { return UnauthenticatedMessage(engine, old_token) != "(accepted)"; }, 3));
	auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - removed_at);
	BOOST_TEST(took.count() < 1500); // within the one-second check interval (and a scheduling margin)
	BOOST_TEST(engine.Authenticate(new_token).user_id == SomeUser());

	// A broken file fails closed: no token verifies until it is fixed.
	WriteAtomically(path, "{\"keys\": [");
	std::this_thread::sleep_for(std::chrono::milliseconds(1100));
	BOOST_CHECK_THROW(engine.Authenticate(new_token), tenancy::ConfigurationError);
	WriteAtomically(path, identity_test::Jwks({new_key.Jwk()}).dump());
	std::this_thread::sleep_for(std::chrono::milliseconds(1100));
	BOOST_TEST(engine.Authenticate(new_token).user_id == SomeUser());
	std::remove(path.c_str());
}

BOOST_AUTO_TEST_SUITE_END()

// 11.14: the token's other claims reach the application with the identity, in
// both subject mappings; an identity the application made itself has none.
BOOST_AUTO_TEST_SUITE(identity_claims)

BOOST_AUTO_TEST_CASE(authenticate_hands_over_the_verified_claims) {
	using identity_test::SigningKey;
	std::string path = "/tmp/pg_tenancy_engine_claims_jwks_" + std::to_string(getpid()) + ".json";
	SigningKey key = SigningKey::P256("claims-1");
	WriteAtomically(path, identity_test::Jwks({key.Jwk()}).dump());
	auto token = [&](const std::string &subject, std::int64_t expires_at) {
		return key.Token(R"({"alg":"ES256","kid":"claims-1","typ":"JWT"})",
		                 std::string(R"({"iss":")") + kIssuer + R"(","aud":")" + kAudience + R"(","sub":")" + subject +
		                     R"(","exp":)" + std::to_string(expires_at) +
		                     R"(,"email":"ada@example.com","email_verified":true,"org_count":2,)"
		                     R"("realm_access":{"roles":["agent"]}})");
	};
	{
		tenancy::Engine engine(JwksConfig(path));
		tenancy::Identity who = engine.Authenticate("Bearer " + token(tenancy::ToString(SomeUser()), Now() + 300));
		BOOST_TEST(who.user_id == SomeUser());
		BOOST_TEST(who.claims.String("email").value_or("") == "ada@example.com");
		BOOST_TEST(who.claims.Bool("email_verified").value_or(false));
		BOOST_TEST(who.claims.Int("org_count").value_or(0) == 2);
		BOOST_TEST((who.claims.StringArray({"realm_access", "roles"}).value_or(std::vector<std::string>{}) ==
		            std::vector<std::string>{"agent"}));
		BOOST_TEST(who.claims.String("sub").value_or("") == tenancy::ToString(SomeUser()));
		// The same claims on an expired token never reach the application.
		BOOST_CHECK_THROW(engine.Authenticate(token(tenancy::ToString(SomeUser()), Now() - 300)),
		                  tenancy::Unauthenticated);
		// An identity the application names itself carries no claims.
		BOOST_TEST(tenancy::Identity{SomeUser()}.claims.empty());
	}
	{
		tenancy::EngineConfig config = JwksConfig(path);
		config.identity_subject_mapping = tenancy::EngineConfig::SubjectMapping::Linked;
		tenancy::Engine engine(config);
		tenancy::Identity user = NewUser(engine, "claims");
		std::string subject = "kc|" + Unique("claims");
		engine.LinkIdentity(user.user_id, kIssuer, subject);
		tenancy::Identity who = engine.Authenticate(token(subject, Now() + 300));
		BOOST_TEST(who.user_id == user.user_id);
		BOOST_TEST(who.claims.String("sub").value_or("") == subject); // the provider's subject, not the user id
		BOOST_TEST(who.claims.String("email").value_or("") == "ada@example.com");
	}
	std::remove(path.c_str());
}

BOOST_AUTO_TEST_SUITE_END()
