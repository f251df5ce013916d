// base64url.cpp: strict unpadded base64url. OpenSSL's EVP_DecodeBlock tolerates
// whitespace and padding, and a token must have a single spelling, so this
// validates the alphabet and the canonical form itself.
#include "pg_tenancy/token/base64url.hpp"

#include <array>

#include "pg_tenancy/token/cpp_only.hpp"

namespace pg_tenancy::token {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> MakeDecodeTable() {
	std::array<std::int8_t, 256> table{};
	for (auto &entry : table)
		entry = -1;
	for (int i = 0; i < 64; i++)
		table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
	return table;
}

constexpr auto kDecodeTable = MakeDecodeTable();

} // namespace

std::string Base64UrlEncode(std::string_view bytes) {
	std::string out;
	out.reserve((bytes.size() * 4 + 2) / 3);
	std::size_t i = 0;
	for (; i + 3 <= bytes.size(); i += 3) {
		std::uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
		                  (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
		out += kAlphabet[(v >> 18) & 63];
		out += kAlphabet[(v >> 12) & 63];
		out += kAlphabet[(v >> 6) & 63];
		out += kAlphabet[v & 63];
	}
	std::size_t rest = bytes.size() - i;
	if (rest == 1) {
		std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
		out += kAlphabet[(v >> 18) & 63];
		out += kAlphabet[(v >> 12) & 63];
	} else if (rest == 2) {
		std::uint32_t v =
		    (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
		out += kAlphabet[(v >> 18) & 63];
		out += kAlphabet[(v >> 12) & 63];
		out += kAlphabet[(v >> 6) & 63];
	}
	return out;
}

bool Base64UrlDecode(std::string_view text, std::string &out) {
	if (text.size() % 4 == 1)
		return false;
	out.clear();
	out.reserve(text.size() * 3 / 4);
	std::uint32_t acc = 0;
	int bits = 0;
	for (char c : text) {
		std::int8_t v = kDecodeTable[static_cast<unsigned char>(c)];
		if (v < 0)
			return false;
		acc = (acc << 6) | static_cast<std::uint32_t>(v);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out += static_cast<char>((acc >> bits) & 0xFF);
		}
	}
	// Leftover bits must be zero, otherwise two spellings decode to the same bytes.
	return (acc & ((1u << bits) - 1)) == 0;
}

} // namespace pg_tenancy::token
