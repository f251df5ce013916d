// Identity key sets: which JWKs are used, skipped or refused, and file rules.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "identity_test.hpp"
#include "pg_tenancy/token/base64url.hpp"
#include "pg_tenancy/token/keyring.hpp"

using namespace identity_test;
using namespace tenancy::identity;
using nlohmann::json;

namespace {

const SigningKey &Rsa() {
	static SigningKey key = SigningKey::Rsa(2048, "rsa-1");
	return key;
}
const SigningKey &Ec() {
	static SigningKey key = SigningKey::P256("ec-1");
	return key;
}

bool Refused(const json &jwks, const std::string &fragment) {
	try {
		KeySet::ParseJwks(jwks.dump());
	} catch (const KeySetError &e) {
		if (std::string(e.what()).find(fragment) != std::string::npos)
			return true;
		BOOST_TEST_MESSAGE("unexpected message: " << e.what());
		return false;
	}
	return false;
}

json With(json jwk, const std::string &member, const json &value) {
	jwk[member] = value;
	return jwk;
}

} // namespace

BOOST_AUTO_TEST_SUITE(key_set)

BOOST_AUTO_TEST_CASE(keys_are_pinned_to_one_algorithm) {
	json rsa_no_alg = Rsa().Jwk(false);
	KeySet set = KeySet::ParseJwks(Jwks({rsa_no_alg, With(Rsa().Jwk(), "alg", "PS256"), Ec().Jwk(false)}).dump());
	BOOST_TEST(set.Keys().size() == 3u);
	BOOST_TEST(AlgorithmName(set.Keys()[0].alg) == "RS256"); // RSA without "alg" (Azure AD publishes none)
	BOOST_TEST(AlgorithmName(set.Keys()[1].alg) == "PS256");
	BOOST_TEST(AlgorithmName(set.Keys()[2].alg) == "ES256");
	BOOST_TEST(KeyBits(set.Keys()[0]) == 2048);
	BOOST_TEST(!set.HasSecrets());
}

BOOST_AUTO_TEST_CASE(keys_not_for_signatures_are_skipped) {
	json enc = With(Rsa().Jwk(false), "use", "enc");
	enc["kid"] = "enc-1";
	json oaep = With(Rsa().Jwk(false), "alg", "RSA-OAEP");
	oaep["kid"] = "oaep-1";
	json rs512 = With(Rsa().Jwk(), "alg", "RS512");
	rs512["kid"] = "rs512";
	json ops = With(Rsa().Jwk(), "key_ops", json::array({"encrypt"}));
	ops["kid"] = "ops";
	json p384 = SigningKey::P384("p384").Jwk(false);
	json x25519 = {{"kty", "OKP"}, {"crv", "X25519"}, {"x", pg_tenancy::token::Base64UrlEncode(std::string(32, 'x'))}};
	json weird = {{"kty", "EC-future"}, {"kid", "w"}};
	KeySet set = KeySet::ParseJwks(Jwks({enc, oaep, rs512, ops, p384, x25519, weird, Ec().Jwk()}).dump());
	BOOST_TEST(set.Keys().size() == 1u);
	BOOST_TEST(set.Skipped() == 7u);
	BOOST_TEST(Refused(Jwks({enc}), "holds no key pg_tenancy can verify with"));
}

BOOST_AUTO_TEST_CASE(weak_or_malformed_keys_refuse_the_document) {
	SigningKey rsa1024 = SigningKey::Rsa(1024, "rsa-1024");
	BOOST_TEST(Refused(Jwks({rsa1024.Jwk(), Ec().Jwk()}), "1024 bits; at least 2048"));
	BOOST_TEST(Refused(Jwks({rsa1024.Jwk(false)}), "at least 2048"));
	BOOST_TEST(Refused(Jwks({With(SigningKey::P384("p384").Jwk(false), "alg", "ES256")}), "ES256 needs curve P-256"));
	BOOST_TEST(Refused(Jwks({With(Ec().Jwk(), "alg", "RS256")}), "cannot be used with a key of type EC"));
	BOOST_TEST(Refused(Jwks({With(Rsa().Jwk(), "alg", "HS256")}), "cannot be used with a key of type RSA"));
	BOOST_TEST(Refused(Jwks({With(Rsa().Jwk(), "alg", "ES256")}), "cannot be used with a key of type RSA"));
	json oct_as_rsa = {
	    {"kty", "oct"}, {"alg", "RS256"}, {"k", pg_tenancy::token::Base64UrlEncode(std::string(32, 'k'))}};
	BOOST_TEST(Refused(Jwks({oct_as_rsa}), "cannot be used with a key of type oct"));
	BOOST_TEST(Refused(Jwks({With(Rsa().Jwk(), "d", "AAAA")}), "holds a private key"));
	BOOST_TEST(Refused(Jwks({With(Ec().Jwk(), "d", "AAAA")}), "holds a private key"));
	BOOST_TEST(Refused(Jwks({With(Rsa().Jwk(), "n", "AAAA")}), "at least 2048"));
	BOOST_TEST(Refused(Jwks({With(Rsa().Jwk(), "e", "AAAB")}), "exponent"));
	BOOST_TEST(Refused(Jwks({With(Rsa().Jwk(), "e", "AQAA")}), "exponent"));
	BOOST_TEST(Refused(Jwks({With(Rsa().Jwk(), "n", "not base64!")}), "not unpadded base64url"));
	json off_curve = Ec().Jwk();
	std::string y;
	pg_tenancy::token::Base64UrlDecode(off_curve["y"].get<std::string>(), y);
	y[31] ^= 1;
	off_curve["y"] = pg_tenancy::token::Base64UrlEncode(y);
	BOOST_TEST(Refused(Jwks({off_curve}), "not a point on P-256"));
	BOOST_TEST(Refused(Jwks({With(Ec().Jwk(), "x", "AAAA")}), "exactly 32 bytes"));
	json short_oct = {{"kty", "oct"}, {"k", pg_tenancy::token::Base64UrlEncode(std::string(31, 'k'))}};
	BOOST_TEST(Refused(Jwks({short_oct}), "at least 32 bytes"));
	BOOST_TEST(Refused(Jwks({json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "AAAA"}}}), "exactly 32 bytes"));
	BOOST_TEST(Refused(Jwks({json{{"n", "AAAA"}}}), "\"kty\" is required"));
	BOOST_TEST(Refused(Jwks({Rsa().Jwk(), Rsa().Jwk()}), "two RS256 keys have kid \"rsa-1\""));
	BOOST_TEST(Refused(Jwks({With(Rsa().Jwk(), "kid", "has space")}), "printable ASCII"));
	BOOST_TEST(Refused(json{{"keys", "x"}}, "no \"keys\" array"));
	BOOST_TEST(Refused(json::array(), "not a JSON object"));
	BOOST_CHECK_THROW(KeySet::ParseJwks(R"({"keys":[],"keys":[]})"), KeySetError);
	BOOST_CHECK_THROW(KeySet::ParseJwks("{\"keys\":["), KeySetError);
}

BOOST_AUTO_TEST_CASE(files_with_secrets_must_be_private) {
	std::string path = "/tmp/pg_tenancy_identity_keyset_" + std::to_string(getpid()) + ".json";
	{
		std::ofstream out(path);
		out << Jwks({Rsa().Jwk()}).dump();
	}
	chmod(path.c_str(), 0644);
	BOOST_TEST(KeySet::LoadFile(path).Keys().size() == 1u); // public keys may be world-readable
	{
		std::ofstream out(path);
		out << Jwks({SigningKey::Hmac("hs", std::string(32, 's')).Jwk()}).dump();
	}
	BOOST_CHECK_THROW(KeySet::LoadFile(path), KeySetError);
	chmod(path.c_str(), 0600);
	BOOST_TEST(KeySet::LoadFile(path).HasSecrets());
	// A keyring may hold EdDSA private keys: always private, as before.
	{
		std::ofstream out(path);
		pg_tenancy::token::Keyring ring;
		ring.Add(pg_tenancy::token::PublicPart(pg_tenancy::token::GenerateEd25519Key("ed")));
		out << ring.ToText();
	}
	chmod(path.c_str(), 0644);
	BOOST_CHECK_THROW(KeySet::LoadFile(path), KeySetError);
	chmod(path.c_str(), 0600);
	BOOST_TEST(KeySet::LoadFile(path).Keys().size() == 1u);
	std::remove(path.c_str());
	BOOST_CHECK_THROW(KeySet::LoadFile(path), KeySetError);
}

BOOST_AUTO_TEST_SUITE_END()
