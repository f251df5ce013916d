// Forwarding contexts: round trips, key separation from user tokens, and every
// rejection path a worker relies on.
#include <boost/test/unit_test.hpp>

#include "pg_tenancy/token/context_token.hpp"
#include "pg_tenancy/token/forward_token.hpp"
#include "test_support.hpp"

using namespace pg_tenancy::token;
using test_support::CraftHs256;

namespace {

constexpr std::int64_t kNow = 1800000000;
const char *kUser = "11111111-1111-4111-8111-111111111111";
const char *kOrg = "22222222-2222-4222-8222-222222222222";
const char *kRole = "33333333-3333-4333-8333-333333333333";

struct ForwardFixture {
	Keyring ring;
	Key forward = GenerateForwardingKey("fwd");
	Key context = GenerateHs256Key("ctx");
	ForwardVerifyOptions options{kNow, 5, 60};

	ForwardFixture() {
		ring.Add(context);
		ring.Add(forward);
	}

	ForwardClaims Claims() const {
		ForwardClaims c;
		ParseUuid(kUser, c.user);
		ParseUuid(kOrg, c.org);
		ParseUuid(kRole, c.role);
		c.role_code = "agent";
		c.permissions = "tickets.read,tickets.write";
		c.distributed_transaction = "0:42:1800000000123456";
		c.issued_at = kNow;
		c.expires_at = kNow + 30;
		c.jti = "j1";
		return c;
	}
	TokenError Verify(const std::string &token) const { return VerifyForwardToken(token, ring, options).error; }
	std::string Craft(const std::string &header, const std::string &payload, const std::string &secret) const {
		return CraftHs256(header, payload, secret);
	}
	std::string Payload(const std::string &dtx = "0:42:7", const std::string &extra = "") const {
		return std::string(R"({"sub":")") + kUser + R"(","org":")" + kOrg + R"(","role":")" + kRole +
		       R"(","rcode":"agent","perms":"tickets.read","dtx":")" + dtx + R"(","iat":)" + std::to_string(kNow) +
		       R"(,"exp":)" + std::to_string(kNow + 30) + R"(,"jti":"j")" + extra + "}";
	}
	std::string Header(const std::string &kid = "fwd", const std::string &typ = kForwardTokenType) const {
		return R"({"alg":"HS256","kid":")" + kid + R"(","typ":")" + typ + R"("})";
	}
};

} // namespace

BOOST_AUTO_TEST_SUITE(forward_token)

BOOST_FIXTURE_TEST_CASE(round_trip_keeps_every_claim, ForwardFixture) {
	std::string token = MintForwardToken(forward, Claims());
	ForwardVerifyResult verified = VerifyForwardToken(token, ring, options);
	BOOST_REQUIRE_EQUAL(verified.error, TokenError::None);
	BOOST_CHECK_EQUAL(UuidToString(verified.claims.user), kUser);
	BOOST_CHECK_EQUAL(UuidToString(verified.claims.org), kOrg);
	BOOST_CHECK_EQUAL(UuidToString(verified.claims.role), kRole);
	BOOST_CHECK_EQUAL(verified.claims.role_code, "agent");
	BOOST_CHECK_EQUAL(verified.claims.permissions, "tickets.read,tickets.write");
	BOOST_CHECK_EQUAL(verified.claims.distributed_transaction, "0:42:1800000000123456");
	BOOST_CHECK_EQUAL(DecodeVerifiedForwardToken(token).claims.jti, "j1");
}

BOOST_FIXTURE_TEST_CASE(keys_never_cross_uses, ForwardFixture) {
	// A forwarding key cannot mint a user's token, nor a context key a forwarding context.
	BOOST_CHECK_THROW(MintForwardToken(context, Claims()), KeyringError);
	BOOST_CHECK_THROW(ring.SigningKey("fwd"), KeyringError);
	BOOST_CHECK_EQUAL(ring.SigningKey().kid, "ctx");
	BOOST_CHECK_EQUAL(ring.ForwardingKey()->kid, "fwd");
	// Same bytes, other key: a forwarding context signed with the context key's secret is unknown.
	BOOST_CHECK_EQUAL(Verify(Craft(Header("ctx"), Payload(), context.secret)), TokenError::UnknownKey);
	// A user context token signed with the forwarding secret does not verify as a user token...
	std::string user_header = R"({"alg":"HS256","kid":"fwd","typ":"tenancy-context+jwt"})";
	std::string user_payload = std::string(R"({"sub":")") + kUser + R"(","org":")" + kOrg + R"(","iat":)" +
	                           std::to_string(kNow) + R"(,"exp":)" + std::to_string(kNow + 30) + R"(,"jti":"j"})";
	VerifyOptions user_options{kNow, 5, 600};
	BOOST_CHECK_EQUAL(VerifyContextToken(Craft(user_header, user_payload, forward.secret), ring, user_options).error,
	                  TokenError::UnknownKey);
	// ...and a user's token is not a forwarding context, whatever key signed it.
	BOOST_CHECK_EQUAL(Verify(Craft(user_header, user_payload, forward.secret)), TokenError::WrongType);
}

BOOST_FIXTURE_TEST_CASE(rejects_what_a_worker_must_not_accept, ForwardFixture) {
	BOOST_CHECK_EQUAL(Verify(Craft(Header(), Payload(), forward.secret)), TokenError::None);
	BOOST_CHECK_EQUAL(Verify(Craft(Header(), Payload(), std::string(32, 'x'))), TokenError::BadSignature);
	BOOST_CHECK_EQUAL(Verify(Craft(Header("fwd", "tenancy-context+jwt"), Payload(), forward.secret)),
	                  TokenError::WrongType);
	for (const char *dtx : {"", "1:2", "1:2:3:4", "a:1:2", "1::2", "1:2:-", "1:2:3 "})
		BOOST_CHECK_MESSAGE(Verify(Craft(Header(), Payload(dtx), forward.secret)) == TokenError::BadClaim, dtx);
	BOOST_CHECK_EQUAL(Verify(Craft(Header(), Payload("-1:2:-3"), forward.secret)), TokenError::None);
	BOOST_CHECK_EQUAL(Verify(Craft(Header(), Payload("0:42:7", R"(,"extra":"x")"), forward.secret)),
	                  TokenError::BadClaim);
	std::string missing_role = Payload();
	missing_role.replace(missing_role.find(R"("rcode":"agent",)"), 16, "");
	BOOST_CHECK_EQUAL(Verify(Craft(Header(), missing_role, forward.secret)), TokenError::MissingClaim);
	std::string control = Payload();
	control.replace(control.find("agent"), 5, "ag\\u0000t");
	BOOST_CHECK_EQUAL(Verify(Craft(Header(), control, forward.secret)), TokenError::BadClaim);
}

BOOST_FIXTURE_TEST_CASE(lives_only_as_long_as_allowed, ForwardFixture) {
	ForwardClaims c = Claims();
	std::string token = MintForwardToken(forward, c);
	options.now = kNow + 36; // exp + leeway passed
	BOOST_CHECK_EQUAL(Verify(token), TokenError::Expired);
	options.now = kNow;
	options.max_lifetime = 10;
	BOOST_CHECK_EQUAL(Verify(token), TokenError::LifetimeTooLong);
	options.max_lifetime = 0; // a worker must always bound the lifetime
	BOOST_CHECK_EQUAL(Verify(token), TokenError::LifetimeTooLong);
}

BOOST_AUTO_TEST_CASE(keyring_lines_mark_forwarding_keys) {
	std::string secret = Base64UrlEncode(std::string(32, 'k'));
	Keyring ring = Keyring::Parse("ctx HS256 secret:" + secret + "\nfwd HS256 secret:" + secret + " use:forward\n");
	BOOST_CHECK(ring.Find("ctx")->use == KeyUse::Context);
	BOOST_CHECK(ring.Find("fwd")->use == KeyUse::Forward);
	BOOST_CHECK(Keyring::Parse(ring.ToText()).Find("fwd")->use == KeyUse::Forward);
	BOOST_CHECK_THROW(Keyring::Parse("fwd HS256 secret:" + secret + " use:other\n"), KeyringError);
	Key ed = GenerateEd25519Key("ed");
	BOOST_CHECK_THROW(Keyring::Parse("ed EdDSA public:" + Base64UrlEncode(ed.public_key) + " use:forward\n"),
	                  KeyringError);
}

BOOST_AUTO_TEST_SUITE_END()
