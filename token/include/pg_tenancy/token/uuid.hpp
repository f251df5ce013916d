// uuid.hpp: a 16-byte UUID value and its canonical text form (8-4-4-4-12 hex).
#pragma once

#include <array>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

namespace pg_tenancy::token {

struct Uuid {
	std::array<std::uint8_t, 16> bytes{};
	bool operator==(const Uuid &other) const { return bytes == other.bytes; }
	bool operator!=(const Uuid &other) const { return !(*this == other); }
};

// Accepts only the canonical hyphenated form, either case; returns false otherwise.
bool ParseUuid(std::string_view text, Uuid &out) noexcept;

// Lower-case canonical form.
std::string UuidToString(const Uuid &uuid);
// The same into a buffer (36 characters and a NUL), for callers that must not allocate.
void FormatUuid(const std::uint8_t (&bytes)[16], char (&out)[37]) noexcept;
std::ostream &operator<<(std::ostream &out, const Uuid &uuid);

} // namespace pg_tenancy::token

#include "pg_tenancy/token/cpp_only.hpp"
