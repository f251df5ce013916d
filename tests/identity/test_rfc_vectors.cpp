// Known-answer tests: the published JWS examples of RFC 7515 (A.1 HS256, A.2
// RS256, A.3 ES256) and RFC 8037 (A.4 Ed25519) verify against their JWKs, and a
// changed byte does not. Their payloads are not pg_tenancy claim sets, so a
// verified signature shows up as the claim check's MissingClaim/Malformed.
#include <boost/test/unit_test.hpp>

#include "identity_test.hpp"

using namespace tenancy::identity;
using E = IdentityError;

namespace {

const char *kRfc7515Payload =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

E Check(const std::string &jwk, const std::string &token) {
	KeySet set = KeySet::ParseJwks(R"({"keys":[)" + jwk + "]}");
	return VerifyIdentityToken(token, set, identity_test::Options()).error;
}

std::string Tampered(std::string token) {
	std::size_t at = token.find('.') + 5; // a payload character
	token[at] = token[at] == 'A' ? 'B' : 'A';
	return token;
}

} // namespace

BOOST_AUTO_TEST_SUITE(rfc_vectors)

BOOST_AUTO_TEST_CASE(rfc7515_a1_hs256) {
	std::string jwk =
	    R"({"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"})";
	std::string token = std::string("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.") + kRfc7515Payload +
	                    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	BOOST_TEST(Check(jwk, token) == E::MissingClaim); // the signature verified; the claims are not ours
	BOOST_TEST(Check(jwk, Tampered(token)) == E::BadSignature);
}

BOOST_AUTO_TEST_CASE(rfc7515_a2_rs256) {
	std::string jwk =
	    R"({"kty":"RSA","e":"AQAB","n":")"
	    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-"
	    "yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-"
	    "KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_"
	    "h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ\"}";
	std::string token =
	    std::string("eyJhbGciOiJSUzI1NiJ9.") + kRfc7515Payload +
	    ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_"
	    "O8W2Fp5jujGbds9uJdbF9CUAr7t"
	    "1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--"
	    "xi12jz"
	    "DwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_"
	    "IoypGlUPQGe"
	    "77Rw";
	BOOST_TEST(Check(jwk, token) == E::MissingClaim);
	BOOST_TEST(Check(jwk, Tampered(token)) == E::BadSignature);
	// The same key named PS256 does not accept a PKCS#1 v1.5 signature.
	std::string as_pss = jwk;
	as_pss.insert(1, R"("alg":"PS256",)");
	BOOST_TEST(Check(as_pss, token) == E::UnknownKey); // no RS256 key, no kid
}

BOOST_AUTO_TEST_CASE(rfc7515_a3_es256) {
	std::string jwk = R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
	                  R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})";
	std::string token = std::string("eyJhbGciOiJFUzI1NiJ9.") + kRfc7515Payload +
	                    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
	BOOST_TEST(Check(jwk, token) == E::MissingClaim);
	BOOST_TEST(Check(jwk, Tampered(token)) == E::BadSignature);
}

BOOST_AUTO_TEST_CASE(rfc8037_a4_ed25519) {
	std::string jwk = R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})";
	std::string token = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
	                    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
	BOOST_TEST(Check(jwk, token) == E::Malformed); // verified; its payload is text, not claims
	BOOST_TEST(Check(jwk, Tampered(token)) == E::BadSignature);
}

BOOST_AUTO_TEST_SUITE_END()
