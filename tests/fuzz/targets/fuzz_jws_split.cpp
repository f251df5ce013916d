// fuzz_jws_split.cpp: the compact JWS splitter and JOSE header parser. Invariants:
// the three parts are non-empty, dot-free, and reassemble to the token exactly; a
// header that parses names an allowed algorithm and a valid kid.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "jws.hpp"

using fuzz_support::Require;
using namespace pg_tenancy::token;

namespace {
bool AnyType(const std::optional<std::string> &) {
	return true;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
	std::string_view token(reinterpret_cast<const char *>(data), size);
	detail::SplitToken parts;
	TokenError e = detail::Split(token, parts);
	if (e != TokenError::None) {
		Require(e == TokenError::Malformed || e == TokenError::Oversized, "unexpected split error");
		return 0;
	}
	Require(size <= kMaxTokenBytes, "oversized token split");
	for (std::string_view part : {parts.header_b64, parts.payload_b64, parts.signature_b64})
		Require(!part.empty() && part.find('.') == std::string_view::npos, "bad part");
	std::string joined = std::string(parts.header_b64) + "." + std::string(parts.payload_b64);
	Require(parts.signing_input == joined, "signing input is not header.payload");
	Require(joined + "." + std::string(parts.signature_b64) == token, "parts do not reassemble the token");
	try {
		detail::JoseHeader header;
		if (detail::ParseHeader(parts.header_b64, AnyType, header) == TokenError::None)
			Require(IsValidKid(header.kid), "header accepted with an invalid kid");
	} catch (const std::bad_alloc &) {
	}
	return 0;
}
