// fuzz_base64url.cpp: strict base64url. Invariants: whatever decodes re-encodes to
// exactly the same text (one spelling per value), and every byte string round-trips.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"

using fuzz_support::Require;
using pg_tenancy::token::Base64UrlDecode;
using pg_tenancy::token::Base64UrlEncode;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
	std::string_view input(reinterpret_cast<const char *>(data), size);
	std::string decoded;
	if (Base64UrlDecode(input, decoded)) {
		Require(decoded.size() == size * 3 / 4, "decoded length is not 3/4 of the text");
		Require(Base64UrlEncode(decoded) == input, "accepted text is not the canonical spelling");
	}
	std::string encoded = Base64UrlEncode(input);
	std::string back;
	Require(Base64UrlDecode(encoded, back), "own encoding rejected");
	Require(back == input, "bytes do not round-trip");
	return 0;
}
