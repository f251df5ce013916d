// Keyring parsing, file permission rules and generation.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "pg_tenancy/token/base64url.hpp"
#include "pg_tenancy/token/errors.hpp"
#include "pg_tenancy/token/keyring.hpp"
#include "test_support.hpp"

using namespace pg_tenancy::token;

namespace {
const std::string kSecret = Base64UrlEncode(std::string(32, 'k'));
const std::string kEdPrivate = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const std::string kEdPublic = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

std::string WriteTemp(const std::string &text, mode_t mode) {
	char path[] = "/tmp/pg_tenancy_keyring_XXXXXX";
	int fd = mkstemp(path);
	BOOST_REQUIRE(fd >= 0);
	BOOST_REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
	close(fd);
	chmod(path, mode);
	return path;
}
} // namespace

BOOST_AUTO_TEST_SUITE(keyring)

BOOST_AUTO_TEST_CASE(parses_all_key_kinds_with_comments) {
	Keyring ring = Keyring::Parse("# comment\n\n"
	                              "hs-1 HS256 secret:" +
	                              kSecret +
	                              "\r\n"
	                              "  ed-pub\tEdDSA public:" +
	                              kEdPublic +
	                              "\n"
	                              "ed-priv EdDSA private:" +
	                              kEdPrivate + "\n");
	BOOST_TEST(ring.Keys().size() == 3u);
	BOOST_TEST(ring.Find("hs-1")->alg == Algorithm::HS256);
	BOOST_TEST(!ring.Find("ed-pub")->CanSign());
	BOOST_TEST(ring.Find("ed-priv")->CanSign());
	std::string pub;
	BOOST_REQUIRE(Base64UrlDecode(kEdPublic, pub));
	BOOST_TEST(ring.Find("ed-priv")->public_key == pub);
	BOOST_TEST(ring.SigningKey().kid == "hs-1");
	BOOST_TEST(ring.SigningKey("ed-priv").kid == "ed-priv");
	BOOST_CHECK_THROW(ring.SigningKey("ed-pub"), KeyringError);
	BOOST_TEST(ring.Find("nope") == nullptr);
}

BOOST_AUTO_TEST_CASE(rejects_bad_lines) {
	const std::string bad[] = {
	    "k HS256 secret:" + Base64UrlEncode(std::string(31, 'k')), // secret too short
	    "k HS512 secret:" + kSecret,                               // algorithm not supported
	    "k none secret:" + kSecret,
	    "k HS256 public:" + kSecret,                                   // wrong kind for HS256
	    "k EdDSA secret:" + kEdPublic,                                 // wrong kind for EdDSA
	    "k EdDSA public:" + Base64UrlEncode(std::string(31, 'x')),     // wrong length
	    "k HS256 secret:" + kSecret + "==",                            // padded base64
	    "k HS256 " + kSecret,                                          // no kind
	    "k/../x HS256 secret:" + kSecret,                              // kid with path characters
	    std::string(65, 'k') + " HS256 secret:" + kSecret,             // kid too long
	    "k HS256",                                                     // too few fields
	    "k HS256 secret:" + kSecret + " extra",                        // too many fields
	    "k HS256 secret:" + kSecret + "\nk EdDSA public:" + kEdPublic, // duplicate kid
	};
	for (const auto &text : bad)
		BOOST_CHECK_THROW(Keyring::Parse(text), KeyringError);
}

BOOST_AUTO_TEST_CASE(errors_never_echo_key_material) {
	try {
		Keyring::Parse("k HS256 secret:" + Base64UrlEncode(std::string(31, 'z')));
		BOOST_FAIL("expected a KeyringError");
	} catch (const KeyringError &e) {
		BOOST_TEST(std::string(e.what()).find(Base64UrlEncode(std::string(31, 'z'))) == std::string::npos);
		BOOST_TEST(std::string(e.what()).find("line 1") != std::string::npos);
	}
}

BOOST_AUTO_TEST_CASE(file_permissions_are_enforced) {
	std::string text = "k HS256 secret:" + kSecret + "\n";
	std::string private_file = WriteTemp(text, 0600);
	BOOST_TEST(Keyring::LoadFile(private_file).Find("k") != nullptr);
	std::string readable_file = WriteTemp(text, 0644);
	BOOST_CHECK_THROW(Keyring::LoadFile(readable_file), KeyringError);
	BOOST_CHECK_THROW(Keyring::LoadFile("/nonexistent/keyring"), KeyringError);
	BOOST_CHECK_THROW(Keyring::LoadFile("/tmp"), KeyringError);
	std::remove(private_file.c_str());
	std::remove(readable_file.c_str());
}

BOOST_AUTO_TEST_CASE(generated_keys_round_trip_through_text) {
	Keyring ring;
	ring.Add(GenerateHs256Key("gen-hs"));
	ring.Add(GenerateEd25519Key("gen-ed"));
	Keyring again = Keyring::Parse(ring.ToText());
	BOOST_TEST(again.Find("gen-hs")->secret == ring.Find("gen-hs")->secret);
	BOOST_TEST(again.Find("gen-ed")->private_key == ring.Find("gen-ed")->private_key);
	Key pub = PublicPart(*ring.Find("gen-ed"));
	BOOST_TEST(!pub.CanSign());
	BOOST_TEST(pub.public_key == ring.Find("gen-ed")->public_key);
	BOOST_CHECK_THROW(GenerateHs256Key("bad kid"), KeyringError);
}

BOOST_AUTO_TEST_SUITE_END()
