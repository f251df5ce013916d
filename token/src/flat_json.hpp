// flat_json.hpp: parses a JSON object whose members are all strings or integers,
// as JOSE headers and our claim sets are. Duplicate member names, nesting, floats,
// booleans, nulls and trailing data are all rejected: RFC 7515 section 4 lets a
// parser reject duplicates, and for a security token accepting "the last one" is
// exactly the ambiguity attackers use.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>

#include "pg_tenancy/token/cpp_only.hpp"

namespace pg_tenancy::token::detail {

using FlatValue = std::variant<std::string, std::int64_t>;
using FlatObject = std::map<std::string, FlatValue, std::less<>>;

enum class FlatJsonError { None, Syntax, Duplicate, Unsupported };

FlatJsonError ParseFlatObject(std::string_view text, FlatObject &out) noexcept;
std::string SerializeFlatObject(const FlatObject &object);

} // namespace pg_tenancy::token::detail
