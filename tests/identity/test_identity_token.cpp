// Identity (bearer) tokens: every algorithm, key pinning and confusion, header
// attacks, issuer, audience, subject and times, and that context tokens and
// identity tokens can never stand in for each other.
#include <boost/test/unit_test.hpp>

#include "identity_test.hpp"
#include "pg_tenancy/token/base64url.hpp"
#include "pg_tenancy/token/context_token.hpp"

using namespace identity_test;
using namespace tenancy::identity;
namespace tok = pg_tenancy::token;
using E = IdentityError;

namespace {

struct Keys {
	SigningKey rsa = SigningKey::Rsa(2048, "rsa-1");
	SigningKey pss = SigningKey::Rsa(2048, "pss-1", "PS256");
	SigningKey ec = SigningKey::P256("ec-1");
	SigningKey ed = SigningKey::Ed25519("ed-1");
	SigningKey hs = SigningKey::Hmac("hs-1", std::string(32, 'h'));
	KeySet set = KeySet::ParseJwks(Jwks({rsa.Jwk(), pss.Jwk(), ec.Jwk(), ed.Jwk(), hs.Jwk()}).dump());

	E Verify(const std::string &token, const VerifyOptions &options = Options()) const {
		return VerifyIdentityToken(token, set, options).error;
	}
	E VerifyWith(const KeySet &keys, const std::string &token) const {
		return VerifyIdentityToken(token, keys, Options()).error;
	}
	std::string Signed(const SigningKey &key, const std::string &claims = Claims()) const {
		return key.Token(Header(key.alg, key.kid), claims);
	}
};

const Keys &K() {
	static Keys keys; // RSA key generation is slow: once per binary
	return keys;
}

} // namespace

BOOST_AUTO_TEST_SUITE(identity_token)

BOOST_AUTO_TEST_CASE(every_algorithm_verifies_with_its_pinned_key) {
	for (const SigningKey *key : {&K().rsa, &K().pss, &K().ec, &K().ed, &K().hs}) {
		BOOST_TEST_CONTEXT(key->alg) {
			VerifyResult r = VerifyIdentityToken(K().Signed(*key), K().set, Options());
			BOOST_TEST(r.error == E::None);
			BOOST_TEST(r.subject == kUser);
			BOOST_TEST(r.issuer == kIssuer);
			BOOST_TEST(r.kid == key->kid);
			BOOST_TEST(AlgorithmName(r.alg) == key->alg);
		}
	}
}

BOOST_AUTO_TEST_CASE(keyring_format_still_works) {
	tok::Keyring ring;
	tok::Key hs;
	hs.kid = "idp-hs";
	hs.alg = tok::Algorithm::HS256;
	hs.secret = std::string(32, 'i');
	ring.Add(hs);
	ring.Add(tok::GenerateEd25519Key("idp-ed"));
	tok::Keyring public_ring;
	for (const tok::Key &key : ring.Keys())
		public_ring.Add(tok::PublicPart(key));
	KeySet set = KeySet::Parse(public_ring.ToText());
	tok::Uuid user;
	tok::ParseUuid(kUser, user);
	for (const char *kid : {"idp-hs", "idp-ed"}) {
		std::string token = MintIdentityToken(ring.SigningKey(kid), user, kIssuer, kAudience, kNow, kNow + 60);
		VerifyResult r = VerifyIdentityToken(token, set, Options());
		BOOST_TEST(r.error == E::None);
		BOOST_TEST(r.subject == kUser);
	}
}

BOOST_AUTO_TEST_CASE(key_confusion_is_refused_both_ways) {
	// HS256 "signed" with the RSA/EC/OKP public key's bytes, naming that key.
	for (const SigningKey *key : {&K().rsa, &K().ec, &K().ed}) {
		SigningKey as_hmac = SigningKey::Hmac(key->kid, key->Jwk(false).dump());
		BOOST_TEST(K().Verify(as_hmac.Token(Header("HS256", key->kid), Claims())) == E::AlgorithmMismatch);
		// Without a kid the HMAC key is the only HS256 key: the public-key bytes are not it.
		BOOST_TEST(K().Verify(as_hmac.Token(Header("HS256", ""), Claims())) == E::BadSignature);
	}
	// The other way: an HMAC key named by an asymmetric algorithm.
	BOOST_TEST(K().Verify(K().rsa.Token(Header("RS256", "hs-1"), Claims())) == E::AlgorithmMismatch);
	// RS256 and PS256 keys are pinned to one padding each; ES256 key to ES256.
	BOOST_TEST(K().Verify(K().rsa.Token(Header("PS256", "rsa-1"), Claims(), "PS256")) == E::AlgorithmMismatch);
	BOOST_TEST(K().Verify(K().pss.Token(Header("RS256", "pss-1"), Claims(), "RS256")) == E::AlgorithmMismatch);
	BOOST_TEST(K().Verify(K().ed.Token(Header("ES256", "ed-1"), Claims(), "EdDSA")) == E::AlgorithmMismatch);
	// A set of public keys only: an HS256 token has no key at all.
	KeySet public_only = KeySet::ParseJwks(Jwks({K().rsa.Jwk()}).dump());
	SigningKey from_n = SigningKey::Hmac("rsa-1", K().rsa.Jwk()["n"].get<std::string>());
	BOOST_TEST(K().VerifyWith(public_only, from_n.Token(Header("HS256", "rsa-1"), Claims())) == E::AlgorithmMismatch);
	BOOST_TEST(K().VerifyWith(public_only, from_n.Token(Header("HS256", ""), Claims())) == E::UnknownKey);
}

BOOST_AUTO_TEST_CASE(none_and_unknown_algorithms_are_refused) {
	std::string claims = tok::Base64UrlEncode(Claims());
	for (const char *alg : {"none", "None", "NONE", "RS512", "ES384", "HS512", "", "RS256 "})
		BOOST_TEST_CONTEXT(alg) {
			std::string header = tok::Base64UrlEncode(std::string(R"({"alg":")") + alg + R"(","kid":"rsa-1"})");
			BOOST_TEST(K().Verify(header + "." + claims + ".") == E::UnsupportedAlgorithm); // unsigned
			BOOST_TEST(K().Verify(header + "." + claims + ".AAAA") == E::UnsupportedAlgorithm);
		}
	BOOST_TEST(K().Verify(tok::Base64UrlEncode(R"({"kid":"rsa-1"})") + "." + claims + ".AAAA") == E::Malformed);
}

BOOST_AUTO_TEST_CASE(kids_select_keys) {
	BOOST_TEST(K().Verify(K().rsa.Token(Header("RS256", "no-such-kid"), Claims())) == E::UnknownKey);
	// No kid: accepted only when exactly one key has the token's algorithm.
	VerifyResult without_kid = VerifyIdentityToken(K().rsa.Token(Header("RS256", ""), Claims()), K().set, Options());
	BOOST_TEST(without_kid.error == E::None);
	BOOST_TEST(without_kid.kid == K().rsa.kid); // the key that verified it
	SigningKey rsa2 = SigningKey::Rsa(2048, "rsa-2");
	KeySet two = KeySet::ParseJwks(Jwks({K().rsa.Jwk(), rsa2.Jwk()}).dump());
	BOOST_TEST(K().VerifyWith(two, K().rsa.Token(Header("RS256", ""), Claims())) == E::AmbiguousKey);
	BOOST_TEST(K().VerifyWith(two, rsa2.Token(Header("RS256", "rsa-2"), Claims())) == E::None);
	// The right kid, another key's signature.
	BOOST_TEST(K().VerifyWith(two, rsa2.Token(Header("RS256", "rsa-1"), Claims())) == E::BadSignature);
}

BOOST_AUTO_TEST_CASE(tampering_is_detected) {
	for (const SigningKey *key : {&K().rsa, &K().pss, &K().ec, &K().ed, &K().hs}) {
		BOOST_TEST_CONTEXT(key->alg) {
			std::string token = K().Signed(*key);
			std::size_t dot = token.find('.');
			std::string payload_swapped = token;
			std::string other = tok::Base64UrlEncode(Claims(R"(,"admin":1)"));
			payload_swapped.replace(dot + 1, token.find('.', dot + 1) - dot - 1, other);
			BOOST_TEST(K().Verify(payload_swapped) == E::BadSignature);
			std::string sig_flipped = token;
			char &c = sig_flipped[sig_flipped.size() - 5];
			c = c == 'A' ? 'B' : 'A';
			BOOST_TEST(K().Verify(sig_flipped) == E::BadSignature);
			BOOST_TEST(K().Verify(token.substr(0, token.rfind('.') + 1) + "AAAA") == E::BadSignature);
			BOOST_TEST(K().Verify(token + "x") != E::None);
		}
	}
	// ES256 in DER form (what OpenSSL produces) is not the JWS form.
	std::string input = tok::Base64UrlEncode(Header("ES256", "ec-1")) + "." + tok::Base64UrlEncode(Claims());
	std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX *)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
	BOOST_REQUIRE(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, K().ec.pkey.get()) == 1);
	std::size_t len = 128;
	std::string der(len, '\0');
	BOOST_REQUIRE(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char *>(&der[0]), &len,
	                             reinterpret_cast<const unsigned char *>(input.data()), input.size()) == 1);
	der.resize(len);
	BOOST_TEST(K().Verify(input + "." + tok::Base64UrlEncode(der)) == E::BadSignature);
}

BOOST_AUTO_TEST_CASE(header_attacks_are_refused) {
	for (const char *extra : {R"(,"jku":"https://evil.example/jwks")", R"(,"x5u":"https://evil.example/c")",
	                          R"(,"crit":"exp")", R"(,"cty":"JWT")", R"(,"b64":1)"})
		BOOST_TEST_CONTEXT(extra) {
			BOOST_TEST(K().Verify(K().rsa.Token(Header("RS256", "rsa-1", extra), Claims())) == E::ForbiddenHeader);
		}
	// Embedded keys are objects or arrays: not even a flat header.
	std::string jwk = std::string(R"(,"jwk":)") + K().rsa.Jwk().dump();
	BOOST_TEST(K().Verify(K().rsa.Token(Header("RS256", "rsa-1", jwk), Claims())) == E::Malformed);
	BOOST_TEST(K().Verify(K().rsa.Token(Header("RS256", "rsa-1", R"(,"x5c":["MIIB"])"), Claims())) == E::Malformed);
	// Thumbprint hints (Azure AD sends x5t) are allowed and ignored.
	BOOST_TEST(K().Verify(K().rsa.Token(Header("RS256", "rsa-1", R"(,"x5t":"abc")"), Claims())) == E::None);
	BOOST_TEST(K().Verify(K().rsa.Token(R"({"alg":"RS256","kid":"rsa-1","alg":"RS256"})", Claims())) == E::Malformed);
	BOOST_TEST(K().Verify(K().rsa.Token(R"({"alg":"RS256","kid":"rsa-1","typ":"tenancy-context+jwt"})", Claims())) ==
	           E::WrongType);
	BOOST_TEST(K().Verify(K().rsa.Token(R"({"alg":"RS256","kid":"rsa-1","typ":"at+JWT"})", Claims())) == E::None);
	BOOST_TEST(K().Verify(K().rsa.Token(R"({"alg":"RS256","kid":""})", Claims())) == E::Malformed);
}

BOOST_AUTO_TEST_CASE(issuer_audience_and_subject_are_enforced) {
	const SigningKey &key = K().ec;
	auto with = [&](const std::string &claims) { return K().Verify(K().Signed(key, claims)); };
	BOOST_TEST(with(Claims("", R"(["other", "tickets-api"])")) == E::None);
	BOOST_TEST(with(Claims(R"(,"email":"a@b.c","roles":["x"],"ext":{"k":1})")) == E::None);
	BOOST_TEST(with(Claims("", R"("someone-else")")) == E::WrongAudience);
	BOOST_TEST(with(Claims("", R"(["a", "b"])")) == E::WrongAudience);
	BOOST_TEST(with(Claims("", R"([])")) == E::WrongAudience);
	BOOST_TEST(with(Claims("", R"([1, "tickets-api"])")) == E::WrongAudience);
	BOOST_TEST(with(Claims("", R"("Tickets-API")")) == E::WrongAudience);
	std::string wrong_iss = Claims();
	wrong_iss.replace(wrong_iss.find("id.example/"), 11, "id.example");
	BOOST_TEST(with(wrong_iss) == E::WrongIssuer);
	BOOST_TEST(with(R"({"iss":"https://id.example/","aud":"tickets-api","exp":1900000000})") == E::MissingClaim);
	BOOST_TEST(with(R"({"iss":"https://id.example/","sub":"x","exp":1900000000})") == E::MissingClaim);
	BOOST_TEST(with(R"({"aud":"tickets-api","sub":"x","exp":1900000000})") == E::MissingClaim);
	BOOST_TEST(with(R"({"iss":"https://id.example/","aud":"tickets-api","sub":"x"})") == E::MissingClaim);
	BOOST_TEST(with(R"({"iss":"https://id.example/","aud":"tickets-api","sub":"","exp":1900000000})") == E::BadSubject);
	BOOST_TEST(with(R"({"iss":"https://id.example/","aud":"tickets-api","sub":7,"exp":1900000000})") == E::BadSubject);
	BOOST_TEST(with(std::string(R"({"iss":"https://id.example/","aud":"tickets-api","sub":")") + std::string(256, 'a') +
	                R"(","exp":1900000000})") == E::BadSubject);
	BOOST_TEST(with(R"({"iss":"https://id.example/","aud":"tickets-api","sub":"auth0|abc","exp":1900000000})") ==
	           E::None);
	// A configurable user claim.
	VerifyOptions by_oid = Options();
	by_oid.user_claim = "oid";
	VerifyResult r = VerifyIdentityToken(K().Signed(key, Claims(R"(,"oid":"object-7")")), K().set, by_oid);
	BOOST_TEST(r.error == E::None);
	BOOST_TEST(r.subject == "object-7");
	BOOST_TEST(K().Verify(K().Signed(key), by_oid) == E::MissingClaim);
	VerifyOptions unconfigured = Options();
	unconfigured.audience.clear();
	BOOST_TEST(K().Verify(K().Signed(key), unconfigured) == E::Misconfigured);
}

BOOST_AUTO_TEST_CASE(times_are_enforced_with_leeway) {
	const SigningKey &key = K().rsa;
	auto with_times = [&](const std::string &times) {
		return K().Verify(K().Signed(key, std::string(R"({"iss":"https://id.example/","aud":"tickets-api","sub":"u")") +
		                                      times + "}"));
	};
	BOOST_TEST(with_times(",\"exp\":" + std::to_string(kNow - 31)) == E::Expired);
	BOOST_TEST(with_times(",\"exp\":" + std::to_string(kNow - 29)) == E::None); // 30 s leeway
	BOOST_TEST(with_times(",\"exp\":" + std::to_string(kNow + 600) + ",\"nbf\":" + std::to_string(kNow + 60)) ==
	           E::NotYetValid);
	BOOST_TEST(with_times(",\"exp\":" + std::to_string(kNow + 600) + ",\"nbf\":" + std::to_string(kNow + 20)) ==
	           E::None);
	BOOST_TEST(with_times(",\"exp\":" + std::to_string(kNow + 600) + ",\"iat\":" + std::to_string(kNow + 60)) ==
	           E::NotYetValid);
	BOOST_TEST(with_times(",\"exp\":9223372036854775807") == E::None); // no overflow in the leeway arithmetic
	BOOST_TEST(with_times(",\"exp\":1.9e9") == E::BadTimeClaim);
	BOOST_TEST(with_times(",\"exp\":\"1900000000\"") == E::BadTimeClaim);
	BOOST_TEST(with_times(",\"exp\":-1") == E::BadTimeClaim);
	BOOST_TEST(with_times(",\"exp\":18446744073709551615") == E::BadTimeClaim);
	VerifyOptions strict = Options();
	strict.leeway = 0;
	BOOST_TEST(K().Verify(K().Signed(key, std::string(R"({"iss":"https://id.example/","aud":"tickets-api",)") +
	                                          R"("sub":"u","exp":)" + std::to_string(kNow - 1) + "}"),
	                      strict) == E::Expired);
}

BOOST_AUTO_TEST_CASE(duplicates_and_oversized_tokens_are_refused) {
	BOOST_TEST(K().Verify(K().Signed(K().rsa, Claims(R"(,"sub":"22222222-2222-4222-8222-222222222222")"))) ==
	           E::Malformed);
	BOOST_TEST(K().Verify(K().Signed(K().rsa, Claims(R"(,"ext":{"a":1,"a":2})"))) == E::Malformed);
	std::string big = Claims(",\"pad\":\"" + std::string(13000, 'p') + "\"");
	BOOST_TEST(K().Verify(K().Signed(K().ec, big)) == E::Oversized);
	std::string large_but_fine = Claims(",\"pad\":\"" + std::string(9000, 'p') + "\"");
	BOOST_TEST(K().Verify(K().Signed(K().ec, large_but_fine)) == E::None); // providers' tokens exceed 4 KiB
	BOOST_TEST(K().Verify(std::string(20000, 'a')) == E::Oversized);
	for (const char *junk : {"", ".", "..", "a.b", "a.b.c.d", "e30.e30.", "!!.e30.AAAA"})
		BOOST_TEST(K().Verify(junk) == E::Malformed);
}

BOOST_AUTO_TEST_CASE(context_and_identity_tokens_do_not_substitute) {
	tok::Keyring ring;
	ring.Add(tok::GenerateHs256Key("hs-ctx"));
	tok::ContextClaims c;
	tok::ParseUuid(kUser, c.user);
	c.issued_at = kNow;
	c.expires_at = kNow + 60;
	c.jti = "j";
	std::string context_token = tok::MintContextToken(ring.SigningKey("hs-ctx"), c);
	KeySet set = KeySet::Parse(ring.ToText());
	BOOST_TEST(VerifyIdentityToken(context_token, set, Options()).error == E::WrongType);
	std::string identity_token =
	    MintIdentityToken(ring.SigningKey("hs-ctx"), c.user, kIssuer, kAudience, kNow, kNow + 60);
	tok::VerifyOptions context_options{kNow, 5, 600};
	BOOST_TEST((tok::VerifyContextToken(identity_token, ring, context_options).error == tok::TokenError::WrongType));
}

BOOST_AUTO_TEST_SUITE_END()
