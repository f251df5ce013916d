// strict_json.hpp: full JSON (nested objects and arrays, as identity providers'
// claims and JWKS documents have), but a member name repeated in any object is
// an error: for a security document "the last one wins" is an ambiguity attackers use.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace pg_tenancy::engine::identity {

enum class StrictJsonError { None, Syntax, Duplicate, NotAnObject };

StrictJsonError ParseStrictObject(std::string_view text, nlohmann::json &out);

} // namespace pg_tenancy::engine::identity
