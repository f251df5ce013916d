// Known-answer tests: the primitives reproduce the RFC vectors exactly.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "pg_tenancy/token/base64url.hpp"
#include "pg_tenancy/token/crypto.hpp"
#include "test_support.hpp"

using namespace pg_tenancy::token;
using test_support::HexToBytes;

namespace {
std::string Decode(const std::string &b64) {
	std::string out;
	BOOST_REQUIRE(Base64UrlDecode(b64, out));
	return out;
}
} // namespace

BOOST_AUTO_TEST_SUITE(crypto_kat)

// RFC 7515 appendix A.1: the HS256 example JWS.
BOOST_AUTO_TEST_CASE(rfc7515_a1_hs256) {
	std::string key = Decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
	std::string input =
	    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
	    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
	BOOST_TEST(Base64UrlEncode(HmacSha256(key, input)) == "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
}

// RFC 8037 appendix A.1-A.4: the Ed25519 JWS example.
BOOST_AUTO_TEST_CASE(rfc8037_a4_ed25519) {
	std::string d = Decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
	std::string x = Decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
	BOOST_TEST(Ed25519PublicFromPrivate(d) == x);
	std::string input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
	std::string expected = "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
	BOOST_TEST(Base64UrlEncode(Ed25519Sign(d, input)) == expected);
	BOOST_TEST(Ed25519Verify(x, input, Decode(expected)));
	std::string tampered = input;
	tampered.back() = 'h';
	BOOST_TEST(!Ed25519Verify(x, tampered, Decode(expected)));
}

// RFC 8032 section 7.1, TEST 1 (empty message).
BOOST_AUTO_TEST_CASE(rfc8032_test1_empty_message) {
	std::string secret = HexToBytes("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
	std::string pub = HexToBytes("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
	std::string sig = HexToBytes("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e"
	                             "39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
	BOOST_TEST(Ed25519PublicFromPrivate(secret) == pub);
	BOOST_TEST(Ed25519Sign(secret, "") == sig);
	BOOST_TEST(Ed25519Verify(pub, "", sig));
}

BOOST_AUTO_TEST_CASE(malformed_ed25519_inputs_do_not_verify) {
	std::string pub(32, '\x01');
	BOOST_TEST(!Ed25519Verify(pub, "m", std::string(63, 'a')));
	BOOST_TEST(!Ed25519Verify(std::string(31, 'a'), "m", std::string(64, 'a')));
	BOOST_TEST(!Ed25519Verify(pub, "m", std::string(64, '\0')));
	BOOST_CHECK_THROW(Ed25519Sign(std::string(31, 'a'), "m"), CryptoError);
}

// Public keys are parsed once per process and kept (at most 32, then the
// cache starts again): past that, from several threads at once, each key
// still verifies its own signatures and no other key's.
BOOST_AUTO_TEST_CASE(ed25519_verify_past_the_parsed_key_cache) {
	constexpr int kKeys = 40;
	std::vector<std::string> publics, signatures;
	for (int i = 0; i < kKeys; i++) {
		const std::string secret = RandomBytes(kEd25519KeyBytes);
		publics.push_back(Ed25519PublicFromPrivate(secret));
		signatures.push_back(Ed25519Sign(secret, "message " + std::to_string(i)));
	}
	PrepareEd25519PublicKey(publics[0]);
	PrepareEd25519PublicKey("too short"); // ignored
	std::atomic<int> wrong{0};
	std::vector<std::thread> threads;
	for (int t = 0; t < 4; t++)
		threads.emplace_back([&, t] {
			for (int round = 0; round < 3; round++)
				for (int i = 0; i < kKeys; i++) {
					const int k = (i + t * 7) % kKeys;
					const std::string message = "message " + std::to_string(k);
					if (!Ed25519Verify(publics[k], message, signatures[k]))
						wrong++;
					if (Ed25519Verify(publics[(k + 1) % kKeys], message, signatures[k]))
						wrong++;
				}
		});
	for (std::thread &thread : threads)
		thread.join();
	BOOST_TEST(wrong.load() == 0);
}

BOOST_AUTO_TEST_CASE(constant_time_equal_semantics) {
	BOOST_TEST(ConstantTimeEqual("abc", "abc"));
	BOOST_TEST(!ConstantTimeEqual("abc", "abd"));
	BOOST_TEST(!ConstantTimeEqual("abc", "abcd"));
	BOOST_TEST(ConstantTimeEqual("", ""));
}

BOOST_AUTO_TEST_CASE(random_bytes_differ) {
	BOOST_TEST(RandomBytes(32).size() == 32u);
	BOOST_TEST(RandomBytes(32) != RandomBytes(32));
}

BOOST_AUTO_TEST_SUITE_END()
