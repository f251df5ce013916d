// Context tokens: minting round trips, and every rejection path of the verifier.
#include <boost/test/unit_test.hpp>

#include "pg_tenancy/token/context_token.hpp"
#include "pg_tenancy/token/errors.hpp"
#include "test_support.hpp"

using namespace pg_tenancy::token;
using test_support::B64;
using test_support::CraftHs256;

namespace {

constexpr std::int64_t kNow = 1800000000;
const char *kUser = "11111111-1111-4111-8111-111111111111";
const char *kOrg = "22222222-2222-4222-8222-222222222222";

struct Fixture {
	Keyring ring;
	std::string secret = std::string(32, 's');
	VerifyOptions options;

	Fixture() {
		Key hs;
		hs.kid = "hs";
		hs.alg = Algorithm::HS256;
		hs.secret = secret;
		ring.Add(hs);
		ring.Add(GenerateEd25519Key("ed"));
		options.now = kNow;
		options.leeway = 5;
		options.max_lifetime = 600;
	}

	ContextClaims Claims(bool with_org = true) const {
		ContextClaims c;
		ParseUuid(kUser, c.user);
		if (with_org) {
			Uuid org;
			ParseUuid(kOrg, org);
			c.org = org;
		}
		c.issued_at = kNow;
		c.expires_at = kNow + 60;
		c.jti = "jti-1";
		return c;
	}

	TokenError Verify(const std::string &token) const { return VerifyContextToken(token, ring, options).error; }

	std::string Header(const std::string &alg = "HS256", const std::string &kid = "hs") const {
		return R"({"alg":")" + alg + R"(","kid":")" + kid + R"(","typ":"tenancy-context+jwt"})";
	}
	std::string Payload(const std::string &extra = "") const {
		return std::string(R"({"sub":")") + kUser + R"(","org":")" + kOrg + R"(","iat":)" + std::to_string(kNow) +
		       R"(,"exp":)" + std::to_string(kNow + 60) + R"(,"jti":"j")" + extra + "}";
	}
	std::string Craft(const std::string &header, const std::string &payload) const {
		return CraftHs256(header, payload, secret);
	}
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(context_token, Fixture)

BOOST_AUTO_TEST_CASE(hs256_round_trip) {
	std::string token = MintContextToken(ring.SigningKey("hs"), Claims());
	VerifyResult r = VerifyContextToken(token, ring, options);
	BOOST_TEST(r.ok());
	BOOST_TEST(r.kid == "hs");
	BOOST_TEST(UuidToString(r.claims.user) == kUser);
	BOOST_TEST(UuidToString(*r.claims.org) == kOrg);
	BOOST_TEST(r.claims.expires_at == kNow + 60);
	BOOST_TEST(r.claims.jti == "jti-1");
}

BOOST_AUTO_TEST_CASE(eddsa_round_trip_and_user_only_context) {
	std::string token = MintContextToken(ring.SigningKey("ed"), Claims(false));
	VerifyResult r = VerifyContextToken(token, ring, options);
	BOOST_TEST(r.ok());
	BOOST_TEST(!r.claims.org.has_value());
	// The server only needs the public half.
	Keyring server;
	server.Add(PublicPart(*ring.Find("ed")));
	BOOST_TEST(VerifyContextToken(token, server, options).ok());
}

BOOST_AUTO_TEST_CASE(rotation_accepts_every_live_key) {
	Keyring rotated;
	rotated.Add(GenerateHs256Key("new"));
	rotated.Add(*ring.Find("hs"));
	BOOST_TEST(Verify(MintContextToken(rotated.SigningKey("new"), Claims())) == TokenError::UnknownKey);
	BOOST_TEST(VerifyContextToken(MintContextToken(rotated.SigningKey("new"), Claims()), rotated, options).ok());
	BOOST_TEST(VerifyContextToken(MintContextToken(ring.SigningKey("hs"), Claims()), rotated, options).ok());
}

BOOST_AUTO_TEST_CASE(crafted_valid_token_is_accepted) {
	// Guards the helpers below: the same construction with nothing wrong passes.
	BOOST_TEST(Verify(Craft(Header(), Payload())) == TokenError::None);
}

BOOST_AUTO_TEST_CASE(alg_none_is_rejected) {
	std::string header = R"({"alg":"none","kid":"hs","typ":"tenancy-context+jwt"})";
	BOOST_TEST(Verify(B64(header) + "." + B64(Payload()) + ".") == TokenError::Malformed);
	BOOST_TEST(Verify(Craft(header, Payload())) == TokenError::UnsupportedAlgorithm);
	BOOST_TEST(Verify(Craft(Header("None"), Payload())) == TokenError::UnsupportedAlgorithm);
}

BOOST_AUTO_TEST_CASE(unknown_algorithms_are_rejected) {
	for (const char *alg : {"HS512", "RS256", "ES256", "hs256", ""})
		BOOST_TEST(Verify(Craft(Header(alg), Payload())) == TokenError::UnsupportedAlgorithm);
}

BOOST_AUTO_TEST_CASE(key_confusion_is_rejected) {
	// HS256 "signed" with the Ed25519 public key as the HMAC secret: the classic confusion.
	const Key &ed = *ring.Find("ed");
	std::string token = CraftHs256(Header("HS256", "ed"), Payload(), ed.public_key);
	BOOST_TEST(Verify(token) == TokenError::AlgorithmMismatch);
	// And an EdDSA header pointing at the HMAC key.
	BOOST_TEST(Verify(Craft(Header("EdDSA", "hs"), Payload())) == TokenError::AlgorithmMismatch);
}

BOOST_AUTO_TEST_CASE(kid_injection_and_unknown_kids_are_rejected) {
	for (const char *kid : {"missing", "../../../../etc/passwd", "hs' OR '1'='1", "", "hs\\u0000"})
		BOOST_TEST(Verify(Craft(Header("HS256", kid), Payload())) == TokenError::UnknownKey);
	std::string no_kid = R"({"alg":"HS256","typ":"tenancy-context+jwt"})";
	BOOST_TEST(Verify(Craft(no_kid, Payload())) == TokenError::UnknownKey);
}

BOOST_AUTO_TEST_CASE(embedded_key_headers_are_rejected) {
	for (const char *member : {"jku", "jwk", "x5u", "x5c", "crit", "cty"}) {
		std::string header =
		    R"({"alg":"HS256","kid":"hs","typ":"tenancy-context+jwt",")" + std::string(member) + R"(":"x"})";
		BOOST_TEST(Verify(Craft(header, Payload())) == TokenError::Malformed);
	}
}

BOOST_AUTO_TEST_CASE(wrong_type_is_rejected) {
	BOOST_TEST(Verify(Craft(R"({"alg":"HS256","kid":"hs"})", Payload())) == TokenError::WrongType);
	BOOST_TEST(Verify(Craft(R"({"alg":"HS256","kid":"hs","typ":"JWT"})", Payload())) == TokenError::WrongType);
}

BOOST_AUTO_TEST_CASE(signature_failures) {
	std::string token = Craft(Header(), Payload());
	std::string wrong_key = CraftHs256(Header(), Payload(), std::string(32, 'x'));
	BOOST_TEST(Verify(wrong_key) == TokenError::BadSignature);
	std::string truncated = token.substr(0, token.size() - 4);
	BOOST_TEST(Verify(truncated) == TokenError::BadSignature);
	// Swap the payload for another, keep the signature.
	std::string other = Craft(Header(), Payload(R"(,"nbf":1)"));
	std::string spliced = token.substr(0, token.find('.')) +
	                      other.substr(other.find('.'), other.rfind('.') - other.find('.')) +
	                      token.substr(token.rfind('.'));
	BOOST_TEST(Verify(spliced) == TokenError::BadSignature);
	std::string ed_token = MintContextToken(ring.SigningKey("ed"), Claims());
	ed_token[ed_token.size() - 2] = ed_token[ed_token.size() - 2] == 'A' ? 'B' : 'A';
	BOOST_TEST(Verify(ed_token) == TokenError::BadSignature);
}

BOOST_AUTO_TEST_CASE(structure_failures) {
	std::string token = Craft(Header(), Payload());
	BOOST_TEST(Verify("") == TokenError::Malformed);
	BOOST_TEST(Verify("abc") == TokenError::Malformed);
	BOOST_TEST(Verify(token.substr(0, token.rfind('.'))) == TokenError::Malformed);   // two parts
	BOOST_TEST(Verify(token + ".extra") == TokenError::Malformed);                    // four parts
	BOOST_TEST(Verify("." + token.substr(token.find('.'))) == TokenError::Malformed); // empty header
	BOOST_TEST(Verify(std::string(kMaxTokenBytes + 1, 'a')) == TokenError::Oversized);
	std::string padded = B64(Header()) + "==." + B64(Payload()) + ".AAAA";
	BOOST_TEST(Verify(padded) == TokenError::BadBase64);
	std::string bad_sig = token.substr(0, token.rfind('.')) + ".a+b/";
	BOOST_TEST(Verify(bad_sig) == TokenError::BadBase64);
}

BOOST_AUTO_TEST_CASE(json_failures) {
	BOOST_TEST(Verify(Craft("not json", Payload())) == TokenError::BadJson);
	BOOST_TEST(Verify(Craft(Header(), "[1,2]")) == TokenError::BadJson);
	BOOST_TEST(Verify(Craft(Header(), Payload() + "x")) == TokenError::BadJson); // trailing data
	BOOST_TEST(Verify(Craft(Header(), Payload(R"(,"nested":{"a":1})"))) == TokenError::BadJson);
	BOOST_TEST(Verify(Craft(Header(), Payload(R"(,"flag":true)"))) == TokenError::BadJson);
	BOOST_TEST(Verify(Craft(Header(), "{\"sub\":\"\xff\"}")) == TokenError::BadJson); // invalid UTF-8
}

BOOST_AUTO_TEST_CASE(duplicate_members_are_rejected) {
	std::string dup_claim = Payload(std::string(R"(,"org":")") + "33333333-3333-4333-8333-333333333333\"");
	BOOST_TEST(Verify(Craft(Header(), dup_claim)) == TokenError::DuplicateMember);
	std::string dup_header = R"({"alg":"HS256","alg":"none","kid":"hs","typ":"tenancy-context+jwt"})";
	BOOST_TEST(Verify(Craft(dup_header, Payload())) == TokenError::DuplicateMember);
	std::string escaped_dup = Payload(R"(,"s\u0075b":"11111111-1111-4111-8111-111111111111")");
	BOOST_TEST(Verify(Craft(Header(), escaped_dup)) == TokenError::DuplicateMember);
}

BOOST_AUTO_TEST_CASE(claim_failures) {
	auto payload = [](const std::string &body) { return "{" + body + "}"; };
	std::string iat = R"("iat":)" + std::to_string(kNow);
	std::string exp = R"("exp":)" + std::to_string(kNow + 60);
	std::string sub = std::string(R"("sub":")") + kUser + "\"";
	std::string jti = R"("jti":"j")";
	BOOST_TEST(Verify(Craft(Header(), payload(iat + "," + exp + "," + jti))) == TokenError::MissingClaim);
	BOOST_TEST(Verify(Craft(Header(), payload(sub + "," + exp + "," + jti))) == TokenError::MissingClaim);
	BOOST_TEST(Verify(Craft(Header(), payload(sub + "," + iat + "," + jti))) == TokenError::MissingClaim);
	BOOST_TEST(Verify(Craft(Header(), payload(sub + "," + iat + "," + exp))) == TokenError::MissingClaim);
	BOOST_TEST(Verify(Craft(Header(), payload(R"("sub":"not-a-uuid",)" + iat + "," + exp + "," + jti))) ==
	           TokenError::BadClaim);
	BOOST_TEST(Verify(Craft(Header(), payload(sub + R"(,"org":42,)" + iat + "," + exp + "," + jti))) ==
	           TokenError::BadClaim);
	BOOST_TEST(Verify(Craft(Header(), payload(sub + "," + iat + R"(,"exp":"soon",)" + jti))) == TokenError::BadClaim);
	BOOST_TEST(Verify(Craft(Header(), payload(sub + "," + iat + R"(,"exp":1.5e9,)" + jti))) == TokenError::BadJson);
	BOOST_TEST(Verify(Craft(Header(), payload(sub + "," + iat + R"(,"exp":-1,)" + jti))) == TokenError::BadClaim);
	BOOST_TEST(Verify(Craft(Header(), payload(sub + "," + iat + "," + exp + R"(,"jti":"")"))) == TokenError::BadClaim);
	// Found by fuzz_context_value: a jti with an escaped NUL verified, and the server's
	// C-string copy of it was silently shorter. Control characters are refused now.
	BOOST_TEST(Verify(Craft(Header(), payload(sub + "," + iat + "," + exp + R"(,"jti":"a\u0000b")"))) ==
	           TokenError::BadClaim);
	BOOST_TEST(Verify(Craft(Header(), payload(sub + "," + iat + "," + exp + R"(,"jti":"a\nb")"))) ==
	           TokenError::BadClaim);
	ContextClaims nul_jti = Claims();
	nul_jti.jti = std::string("a\0b", 3);
	BOOST_CHECK_THROW(MintContextToken(ring.SigningKey("hs"), nul_jti), TokenLibraryError);
	BOOST_TEST(Verify(Craft(Header(), Payload(R"(,"role":"owner")"))) == TokenError::BadClaim);
	BOOST_TEST(Verify(Craft(Header(), Payload(R"(,"perms":"*")"))) == TokenError::BadClaim);
}

BOOST_AUTO_TEST_CASE(time_checks) {
	ContextClaims c = Claims();
	const Key &key = ring.SigningKey("hs");
	c.issued_at = kNow - 120;
	c.expires_at = kNow - 6;
	BOOST_TEST(Verify(MintContextToken(key, c)) == TokenError::Expired);
	c.expires_at = kNow - 5; // inside the leeway
	BOOST_TEST(Verify(MintContextToken(key, c)) == TokenError::None);
	c = Claims();
	c.issued_at = kNow + 6;
	c.expires_at = kNow + 60;
	BOOST_TEST(Verify(MintContextToken(key, c)) == TokenError::NotYetValid);
	c = Claims();
	c.not_before = kNow + 30;
	BOOST_TEST(Verify(MintContextToken(key, c)) == TokenError::NotYetValid);
	c = Claims();
	c.expires_at = kNow + 601;
	BOOST_TEST(Verify(MintContextToken(key, c)) == TokenError::LifetimeTooLong);
	BOOST_TEST(Verify(Craft(Header(), std::string(R"({"sub":")") + kUser + R"(","iat":10,"exp":10,"jti":"j"})")) ==
	           TokenError::BadClaim);
}

BOOST_AUTO_TEST_CASE(decode_without_verification_still_parses_strictly) {
	std::string token = MintContextToken(ring.SigningKey("hs"), Claims());
	BOOST_TEST(DecodeVerifiedContextToken(token).ok());
	BOOST_TEST(DecodeVerifiedContextToken(Craft(Header(), Payload(R"(,"x":1)"))).error == TokenError::BadClaim);
}

BOOST_AUTO_TEST_CASE(minting_refuses_nonsense) {
	ContextClaims c = Claims();
	c.expires_at = c.issued_at;
	BOOST_CHECK_THROW(MintContextToken(ring.SigningKey("hs"), c), TokenLibraryError);
	Key pub = PublicPart(*ring.Find("ed"));
	BOOST_CHECK_THROW(MintContextToken(pub, Claims()), KeyringError);
	BOOST_TEST(NewJti() != NewJti());
}

BOOST_AUTO_TEST_CASE(reasons_never_contain_token_text) {
	for (int e = static_cast<int>(TokenError::None); e <= static_cast<int>(TokenError::Internal); e++)
		BOOST_TEST(std::string(TokenErrorReason(static_cast<TokenError>(e))).find("eyJ") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
