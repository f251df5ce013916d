// The identity key file is reloaded when it changes: a new key works and a
// removed key stops working without a restart; a broken file fails closed.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>
#include <unistd.h>

#include "identity_test.hpp"
#include "pg_tenancy/engine/identity_key_file.hpp"

using namespace identity_test;
using namespace tenancy::identity;
using namespace std::chrono_literals;

namespace {

void WriteAtomically(const std::string &path, const std::string &text) {
	std::string tmp = path + ".tmp";
	{
		std::ofstream out(tmp);
		out << text;
	}
	BOOST_REQUIRE(std::rename(tmp.c_str(), path.c_str()) == 0);
}

IdentityError Verify(KeySetFile &file, const std::string &token) {
	return VerifyIdentityToken(token, *file.Current(), Options()).error;
}

} // namespace

BOOST_AUTO_TEST_SUITE(key_rotation)

BOOST_AUTO_TEST_CASE(rotation_takes_effect_without_restart) {
	std::string path = "/tmp/pg_tenancy_identity_rotation_" + std::to_string(getpid()) + ".json";
	SigningKey old_key = SigningKey::P256("2026-old");
	SigningKey new_key = SigningKey::Rsa(2048, "2026-new");
	std::string old_token = old_key.Token(Header("ES256", old_key.kid), Claims());
	std::string new_token = new_key.Token(Header("RS256", new_key.kid), Claims());
	WriteAtomically(path, Jwks({old_key.Jwk()}).dump());
	KeySetFile file(path, 200ms);
	BOOST_TEST(Verify(file, old_token) == IdentityError::None);
	BOOST_TEST(Verify(file, new_token) == IdentityError::UnknownKey);

	// The provider publishes the new key next to the old one.
	WriteAtomically(path, Jwks({old_key.Jwk(), new_key.Jwk()}).dump());
	std::this_thread::sleep_for(250ms);
	BOOST_TEST(Verify(file, new_token) == IdentityError::None);
	BOOST_TEST(Verify(file, old_token) == IdentityError::None);

	// The old key is withdrawn: its tokens stop verifying at the next check.
	WriteAtomically(path, Jwks({new_key.Jwk()}).dump());
	std::this_thread::sleep_for(250ms);
	BOOST_TEST(Verify(file, old_token) == IdentityError::UnknownKey);
	BOOST_TEST(Verify(file, new_token) == IdentityError::None);

	// A broken document fails closed, naming the problem, until it is fixed.
	WriteAtomically(path, R"({"keys":[{"kty":"RSA","n":"AAAA","e":"AQAB"}]})");
	std::this_thread::sleep_for(250ms);
	try {
		file.Current();
		BOOST_FAIL("a broken key file must not keep the old keys");
	} catch (const KeySetError &e) {
		BOOST_TEST(std::string(e.what()).find("at least 2048") != std::string::npos);
	}
	std::remove(path.c_str());
	std::this_thread::sleep_for(250ms);
	BOOST_CHECK_THROW(file.Current(), KeySetError);
	WriteAtomically(path, Jwks({new_key.Jwk()}).dump());
	std::this_thread::sleep_for(250ms);
	BOOST_TEST(Verify(file, new_token) == IdentityError::None);
	std::remove(path.c_str());
}

BOOST_AUTO_TEST_CASE(the_default_interval_is_one_second) {
	std::string path = "/tmp/pg_tenancy_identity_interval_" + std::to_string(getpid()) + ".json";
	SigningKey key = SigningKey::P256("k1");
	std::string token = key.Token(Header("ES256", key.kid), Claims());
	WriteAtomically(path, Jwks({key.Jwk()}).dump());
	KeySetFile file(path);
	BOOST_TEST(Verify(file, token) == IdentityError::None);
	WriteAtomically(path, Jwks({SigningKey::P256("k2").Jwk()}).dump());
	std::this_thread::sleep_for(1100ms);
	BOOST_TEST(Verify(file, token) == IdentityError::UnknownKey); // removed within a second
	std::remove(path.c_str());
}

BOOST_AUTO_TEST_CASE(an_unusable_file_refuses_to_start) {
	BOOST_CHECK_THROW(KeySetFile("/nonexistent/jwks.json"), KeySetError);
}

BOOST_AUTO_TEST_SUITE_END()
