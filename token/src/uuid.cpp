// uuid.cpp: canonical UUID text <-> bytes.
#include "pg_tenancy/token/uuid.hpp"

#include <algorithm>
#include <ostream>

#include "pg_tenancy/token/cpp_only.hpp"

namespace pg_tenancy::token {
namespace {

int HexValue(char c) noexcept {
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

} // namespace

bool ParseUuid(std::string_view text, Uuid &out) noexcept {
	if (text.size() != 36)
		return false;
	std::size_t byte = 0;
	for (std::size_t i = 0; i < 36;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (text[i] != '-')
				return false;
			i++;
			continue;
		}
		int hi = HexValue(text[i]);
		int lo = HexValue(text[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out.bytes[byte++] = static_cast<std::uint8_t>((hi << 4) | lo);
		i += 2;
	}
	return byte == 16;
}

void FormatUuid(const std::uint8_t (&bytes)[16], char (&out)[37]) noexcept {
	static const char kHex[] = "0123456789abcdef";
	std::size_t pos = 0;
	for (std::size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[pos++] = '-';
		out[pos++] = kHex[bytes[i] >> 4];
		out[pos++] = kHex[bytes[i] & 15];
	}
	out[pos] = '\0';
}

std::string UuidToString(const Uuid &uuid) {
	std::uint8_t bytes[16];
	std::copy(uuid.bytes.begin(), uuid.bytes.end(), bytes);
	char text[37];
	FormatUuid(bytes, text);
	return std::string(text, 36);
}

std::ostream &operator<<(std::ostream &out, const Uuid &uuid) {
	return out << UuidToString(uuid);
}

} // namespace pg_tenancy::token
