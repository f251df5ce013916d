// Strict base64url: round trips, and every non-canonical spelling is refused.
#include <boost/test/unit_test.hpp>

#include "pg_tenancy/token/base64url.hpp"

using pg_tenancy::token::Base64UrlDecode;
using pg_tenancy::token::Base64UrlEncode;

BOOST_AUTO_TEST_SUITE(base64url)

BOOST_AUTO_TEST_CASE(rfc4648_vectors_round_trip) {
	const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	const char *coded[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
	for (int i = 0; i < 7; i++) {
		BOOST_TEST(Base64UrlEncode(plain[i]) == coded[i]);
		std::string out;
		BOOST_TEST(Base64UrlDecode(coded[i], out));
		BOOST_TEST(out == plain[i]);
	}
}

BOOST_AUTO_TEST_CASE(url_alphabet_is_used) {
	std::string bytes("\xfb\xff\xbf", 3);
	BOOST_TEST(Base64UrlEncode(bytes) == "-_-_");
	std::string out;
	BOOST_TEST(Base64UrlDecode("-_-_", out));
	BOOST_TEST(out == bytes);
}

BOOST_AUTO_TEST_CASE(non_canonical_spellings_are_rejected) {
	std::string out;
	BOOST_TEST(!Base64UrlDecode("Zg==", out));                  // padding
	BOOST_TEST(!Base64UrlDecode("+/+/", out));                  // standard alphabet
	BOOST_TEST(!Base64UrlDecode("Zm9 v", out));                 // whitespace
	BOOST_TEST(!Base64UrlDecode("Zh", out));                    // non-zero trailing bits ("Zg" is canonical)
	BOOST_TEST(!Base64UrlDecode("Z", out));                     // impossible length
	BOOST_TEST(!Base64UrlDecode("Zm9v\n", out));                // newline
	BOOST_TEST(!Base64UrlDecode(std::string("Zm\0v", 4), out)); // embedded NUL
}

BOOST_AUTO_TEST_SUITE_END()
