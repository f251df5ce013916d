// Identity (bearer) tokens: issuer, audience, subject and type checks, and that
// context tokens and identity tokens can never stand in for each other.
#include <boost/test/unit_test.hpp>

#include "pg_tenancy/token/context_token.hpp"
#include "pg_tenancy/token/identity_token.hpp"
#include "test_support.hpp"

using namespace pg_tenancy::token;
using test_support::CraftHs256;

namespace {

constexpr std::int64_t kNow = 1800000000;
const char *kUser = "11111111-1111-4111-8111-111111111111";

struct IdentityFixture {
	Keyring ring;
	std::string secret = std::string(32, 'i');
	IdentityOptions options;
	Uuid user;

	IdentityFixture() {
		Key hs;
		hs.kid = "idp-hs";
		hs.alg = Algorithm::HS256;
		hs.secret = secret;
		ring.Add(hs);
		ring.Add(GenerateEd25519Key("idp-ed"));
		options.issuer = "https://id.example";
		options.audience = "tickets-api";
		options.now = kNow;
		ParseUuid(kUser, user);
	}
	TokenError Verify(const std::string &token) const { return VerifyIdentityToken(token, ring, options).error; }
	std::string Craft(const std::string &payload, const std::string &typ = R"(,"typ":"JWT")") const {
		return CraftHs256(R"({"alg":"HS256","kid":"idp-hs")" + typ + "}", payload, secret);
	}
	std::string Claims(const std::string &aud = R"("tickets-api")", const std::string &extra = "") const {
		return std::string(R"({"iss":"https://id.example","aud":)") + aud + R"(,"sub":")" + kUser + R"(","iat":)" +
		       std::to_string(kNow) + R"(,"exp":)" + std::to_string(kNow + 300) + extra + "}";
	}
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(identity_token, IdentityFixture)

BOOST_AUTO_TEST_CASE(minted_tokens_verify_with_both_algorithms) {
	for (const char *kid : {"idp-hs", "idp-ed"}) {
		std::string token =
		    MintIdentityToken(ring.SigningKey(kid), user, options.issuer, options.audience, kNow, kNow + 60);
		IdentityResult r = VerifyIdentityToken(token, ring, options);
		BOOST_TEST(r.ok());
		BOOST_TEST(UuidToString(r.user) == kUser);
	}
}

BOOST_AUTO_TEST_CASE(provider_style_claims_are_accepted) {
	BOOST_TEST(Verify(Craft(Claims(R"(["other", "tickets-api"])"))) == TokenError::None);
	BOOST_TEST(Verify(Craft(Claims(R"("tickets-api")", R"(,"email":"a@b.c","roles":["x"],"ext":{"k":1})"))) ==
	           TokenError::None);
	BOOST_TEST(Verify(Craft(Claims(), "")) == TokenError::None);                   // no typ
	BOOST_TEST(Verify(Craft(Claims(), R"(,"typ":"at+jwt")")) == TokenError::None); // RFC 9068
}

BOOST_AUTO_TEST_CASE(issuer_audience_and_subject_are_enforced) {
	BOOST_TEST(Verify(Craft(Claims(R"("someone-else")"))) == TokenError::BadClaim);
	BOOST_TEST(Verify(Craft(Claims(R"(["a", "b"])"))) == TokenError::BadClaim);
	BOOST_TEST(Verify(Craft(Claims(R"([])"))) == TokenError::BadClaim);
	BOOST_TEST(Verify(Craft(Claims(R"([1, "tickets-api"])"))) == TokenError::BadClaim);
	std::string wrong_iss = Claims();
	wrong_iss.replace(wrong_iss.find("id.example"), 10, "evil.exampl");
	BOOST_TEST(Verify(Craft(wrong_iss)) == TokenError::BadClaim);
	std::string bad_sub = Claims();
	bad_sub.replace(bad_sub.find(kUser), 36, std::string(36, 'x'));
	BOOST_TEST(Verify(Craft(bad_sub)) == TokenError::BadClaim);
	BOOST_TEST(Verify(Craft(R"({"iss":"https://id.example","aud":"tickets-api","exp":1900000000})")) ==
	           TokenError::MissingClaim);
	IdentityOptions unconfigured = options;
	unconfigured.audience.clear();
	BOOST_TEST(!VerifyIdentityToken(Craft(Claims()), ring, unconfigured).ok());
}

BOOST_AUTO_TEST_CASE(times_are_enforced) {
	std::string expired = std::string(R"({"iss":"https://id.example","aud":"tickets-api","sub":")") + kUser +
	                      R"(","exp":)" + std::to_string(kNow - 31) + "}";
	BOOST_TEST(Verify(Craft(expired)) == TokenError::Expired);
	BOOST_TEST(Verify(Craft(Claims(R"("tickets-api")", R"(,"nbf":)" + std::to_string(kNow + 60)))) ==
	           TokenError::NotYetValid);
	std::string huge_exp = std::string(R"({"iss":"https://id.example","aud":"tickets-api","sub":")") + kUser +
	                       R"(","exp":9223372036854775807})";
	BOOST_TEST(Verify(Craft(huge_exp)) == TokenError::None); // no overflow in the leeway arithmetic
	std::string float_exp =
	    std::string(R"({"iss":"https://id.example","aud":"tickets-api","sub":")") + kUser + R"(","exp":1.9e9})";
	BOOST_TEST(Verify(Craft(float_exp)) == TokenError::BadClaim);
}

BOOST_AUTO_TEST_CASE(duplicates_anywhere_are_rejected) {
	BOOST_TEST(Verify(Craft(Claims(R"("tickets-api")", R"(,"sub":"22222222-2222-4222-8222-222222222222")"))) ==
	           TokenError::DuplicateMember);
	BOOST_TEST(Verify(Craft(Claims(R"("tickets-api")", R"(,"ext":{"a":1,"a":2})"))) == TokenError::DuplicateMember);
}

BOOST_AUTO_TEST_CASE(context_and_identity_tokens_do_not_substitute) {
	ContextClaims c;
	c.user = user;
	c.issued_at = kNow;
	c.expires_at = kNow + 60;
	c.jti = "j";
	std::string context_token = MintContextToken(ring.SigningKey("idp-hs"), c);
	BOOST_TEST(Verify(context_token) == TokenError::WrongType);
	std::string identity_token =
	    MintIdentityToken(ring.SigningKey("idp-hs"), user, options.issuer, options.audience, kNow, kNow + 60);
	VerifyOptions context_options{kNow, 5, 600};
	BOOST_TEST(VerifyContextToken(identity_token, ring, context_options).error == TokenError::WrongType);
}

BOOST_AUTO_TEST_CASE(header_attacks_are_rejected) {
	BOOST_TEST(Verify(CraftHs256(R"({"alg":"none","kid":"idp-hs"})", Claims(), secret)) ==
	           TokenError::UnsupportedAlgorithm);
	BOOST_TEST(Verify(CraftHs256(R"({"alg":"HS256","kid":"idp-hs","jku":"https://evil"})", Claims(), secret)) ==
	           TokenError::Malformed);
	BOOST_TEST(Verify(CraftHs256(R"({"alg":"HS256","kid":"idp-ed"})", Claims(), ring.Find("idp-ed")->public_key)) ==
	           TokenError::AlgorithmMismatch);
	BOOST_TEST(Verify(CraftHs256(R"({"alg":"HS256","kid":"idp-hs"})", Claims(), std::string(32, 'x'))) ==
	           TokenError::BadSignature);
}

BOOST_AUTO_TEST_SUITE_END()
