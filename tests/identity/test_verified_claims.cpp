// The bearer token's other claims (issue 11, item 14): typed, read-only access
// to what a verified token says, and nothing from a token that did not verify.
#include <boost/test/unit_test.hpp>

#include <type_traits>

#include "identity_test.hpp"

using namespace identity_test;
using namespace tenancy::identity;
using tenancy::VerifiedClaims;
using E = IdentityError;

namespace {

const SigningKey &ClaimsKey() {
	static SigningKey key = SigningKey::P256("ec-claims");
	return key;
}
const KeySet &ClaimsKeys() {
	static KeySet keys = KeySet::ParseJwks(Jwks({ClaimsKey().Jwk()}).dump());
	return keys;
}

// What Keycloak, Auth0 and Okta tokens carry besides the registered claims.
const std::string kProviderClaims =
    R"(,"email":"ada@example.com","email_verified":true,"name":"Ada Lovelace","scope":"tickets:read tickets:write",)"
    R"("auth_time":1799999000,"groups":["support","billing"],"empty_list":[],)"
    R"("https://tickets.example/roles":["agent"],)"
    R"("realm_access":{"roles":["admin","user"]},"address":{"locality":"London","geo":{"floor":3}},)"
    R"("verified_str":"true","float_age":3.0,"big":9223372036854775808,"negative":-5,"mixed":["a",1],)"
    R"("number_as_text":"42","one":1,"nothing":null)";

VerifyResult Verify(const std::string &claims, const VerifyOptions &options = Options()) {
	return VerifyIdentityToken(ClaimsKey().Token(Header("ES256", "ec-claims"), claims), ClaimsKeys(), options);
}

VerifiedClaims Verified() {
	VerifyResult r = Verify(Claims(kProviderClaims));
	BOOST_REQUIRE(r.error == E::None);
	return r.claims; // a copy outlives the result
}

} // namespace

BOOST_AUTO_TEST_SUITE(verified_claims)

BOOST_AUTO_TEST_CASE(present_claims_have_their_values) {
	VerifiedClaims claims = Verified();
	BOOST_TEST(!claims.empty());
	BOOST_TEST(claims.String("email").value_or("") == "ada@example.com");
	BOOST_TEST(claims.String("name").value_or("") == "Ada Lovelace");
	BOOST_TEST(claims.String("scope").value_or("") == "tickets:read tickets:write");
	BOOST_TEST(claims.Bool("email_verified").value_or(false));
	BOOST_TEST(claims.Int("auth_time").value_or(0) == 1799999000);
	BOOST_TEST(claims.Int("negative").value_or(0) == -5);
	BOOST_TEST((claims.StringArray("groups").value_or(std::vector<std::string>{}) ==
	            std::vector<std::string>{"support", "billing"}));
	BOOST_TEST(claims.StringArray("empty_list").has_value());
	BOOST_TEST(claims.StringArray("empty_list")->empty());
	// A namespaced custom claim is one name, slashes and all.
	BOOST_TEST((claims.StringArray("https://tickets.example/roles").value_or(std::vector<std::string>{}) ==
	            std::vector<std::string>{"agent"}));
	// The registered claims are there too, and the raw JSON is the token's.
	BOOST_TEST(claims.String("sub").value_or("") == kUser);
	BOOST_TEST(claims.String("iss").value_or("") == kIssuer);
	BOOST_TEST(claims.Int("exp").value_or(0) == kNow + 300);
	BOOST_TEST(claims.Json().at("address").at("locality").get<std::string>() == "London");
	BOOST_TEST(claims.Json().size() == nlohmann::json::parse(Claims(kProviderClaims)).size());
}

BOOST_AUTO_TEST_CASE(absent_claims_are_nullopt) {
	VerifiedClaims claims = Verified();
	BOOST_TEST(!claims.Has("phone_number"));
	BOOST_TEST(!claims.String("phone_number").has_value());
	BOOST_TEST(!claims.Int("phone_number").has_value());
	BOOST_TEST(!claims.Bool("phone_number").has_value());
	BOOST_TEST(!claims.StringArray("phone_number").has_value());
	// Names match exactly: no case folding, no trimming.
	BOOST_TEST(!claims.String("Email").has_value());
	BOOST_TEST(!claims.String("email ").has_value());
	BOOST_TEST(!claims.String("").has_value());
	// JSON null is present but of no accessor's type.
	BOOST_TEST(claims.Has("nothing"));
	BOOST_TEST(!claims.String("nothing").has_value());
}

BOOST_AUTO_TEST_CASE(claims_of_another_type_are_nullopt_not_converted) {
	VerifiedClaims claims = Verified();
	BOOST_TEST(claims.Has("verified_str"));
	BOOST_TEST(!claims.Bool("verified_str").has_value());  // "true" is a string
	BOOST_TEST(!claims.Bool("one").has_value());           // 1 is a number
	BOOST_TEST(!claims.Int("float_age").has_value());      // 3.0 is not an integer
	BOOST_TEST(!claims.Int("number_as_text").has_value()); // "42" is a string
	BOOST_TEST(!claims.Int("big").has_value());            // 2^63 does not fit
	BOOST_TEST(!claims.Int("email_verified").has_value()); // true is not 1
	BOOST_TEST(!claims.String("auth_time").has_value());   // a number is not text
	BOOST_TEST(!claims.String("groups").has_value());      // nor is an array
	BOOST_TEST(!claims.StringArray("mixed").has_value());  // one element is a number
	BOOST_TEST(!claims.StringArray("scope").has_value());  // a space-separated string is not split
	BOOST_TEST(!claims.StringArray("realm_access").has_value());
	BOOST_TEST(!claims.String("address").has_value()); // an object
}

BOOST_AUTO_TEST_CASE(nested_claims_by_path) {
	VerifiedClaims claims = Verified();
	BOOST_TEST((claims.StringArray({"realm_access", "roles"}).value_or(std::vector<std::string>{}) ==
	            std::vector<std::string>{"admin", "user"}));
	BOOST_TEST(claims.String({"address", "locality"}).value_or("") == "London");
	BOOST_TEST(claims.Int({"address", "geo", "floor"}).value_or(0) == 3);
	BOOST_TEST(claims.Has({"address", "geo"}));
	BOOST_TEST(!claims.Has({"address", "country"}));
	// A path never walks into a non-object, and the empty path names nothing.
	BOOST_TEST(!claims.String({"email", "domain"}).has_value());
	BOOST_TEST(!claims.String({"groups", "0"}).has_value());
	BOOST_TEST(!claims.Has(VerifiedClaims::Path{}));
	// A top-level name with a slash is not a path.
	BOOST_TEST(!claims.String("address/locality").has_value());
}

BOOST_AUTO_TEST_CASE(only_a_verified_token_has_claims) {
	// No way to make claims from JSON or text nobody verified.
	static_assert(!std::is_constructible_v<VerifiedClaims, nlohmann::json>);
	static_assert(!std::is_constructible_v<VerifiedClaims, const std::string &>);
	static_assert(!std::is_constructible_v<VerifiedClaims, std::shared_ptr<const nlohmann::json>>);
	VerifiedClaims none;
	BOOST_TEST(none.empty());
	BOOST_TEST(none.Json() == nlohmann::json::object());
	BOOST_TEST(!none.String("sub").has_value());

	// Tokens that carry the provider claims but fail one check each: the
	// result has no claims at all, not even the ones that were signed.
	std::string good = ClaimsKey().Token(Header("ES256", "ec-claims"), Claims(kProviderClaims));
	std::string tampered = good;
	tampered[good.find('.') + 5] ^= 1;                   // a payload byte: the signature no longer matches
	SigningKey stranger = SigningKey::P256("ec-claims"); // same kid, other key
	VerifyOptions later = Options();
	later.now = kNow + 3600;
	VerifyOptions other_audience = Options();
	other_audience.audience = "billing-api";
	VerifyOptions other_issuer = Options();
	other_issuer.issuer = "https://other.example/";
	const std::pair<VerifyResult, E> refused[] = {
	    {VerifyIdentityToken(tampered, ClaimsKeys(), Options()), E::BadSignature},
	    {VerifyIdentityToken(stranger.Token(Header("ES256", "ec-claims"), Claims(kProviderClaims)), ClaimsKeys(),
	                         Options()),
	     E::BadSignature},
	    {VerifyIdentityToken(good, ClaimsKeys(), later), E::Expired},
	    {VerifyIdentityToken(good, ClaimsKeys(), other_audience), E::WrongAudience},
	    {VerifyIdentityToken(good, ClaimsKeys(), other_issuer), E::WrongIssuer},
	    {Verify(Claims(kProviderClaims + R"(,"email":"mallory@example.com")")), E::Malformed}, // repeated member
	    {Verify(Claims(R"(,"address":{"locality":"a","locality":"b"})")), E::Malformed},       // repeated, nested
	};
	for (const auto &[result, why] : refused) {
		BOOST_TEST_CONTEXT(IdentityErrorReason(why)) {
			BOOST_TEST(result.error == why);
			BOOST_TEST(result.claims.empty());
			BOOST_TEST(!result.claims.String("email").has_value());
			BOOST_TEST(!result.claims.String("sub").has_value());
			BOOST_TEST(result.claims.Json().empty());
		}
	}
	// The same token with every check passing does have them.
	BOOST_TEST(VerifyIdentityToken(good, ClaimsKeys(), Options()).claims.String("email").value_or("") ==
	           "ada@example.com");
}

BOOST_AUTO_TEST_CASE(claims_are_shared_and_immutable) {
	static_assert(std::is_same_v<decltype(std::declval<const VerifiedClaims &>().Json()), const nlohmann::json &>);
	VerifiedClaims original = Verified();
	VerifiedClaims copy = original;
	BOOST_TEST(&copy.Json() == &original.Json()); // one immutable object, not a deep copy
	original = VerifiedClaims();
	BOOST_TEST(original.empty());
	BOOST_TEST(copy.String("email").value_or("") == "ada@example.com");
}

BOOST_AUTO_TEST_SUITE_END()
