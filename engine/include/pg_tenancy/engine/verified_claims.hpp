// verified_claims.hpp: the claims of a bearer token that verified (email,
// name, scope, roles, a provider's custom claims), for application code.
//
//     tenancy::Identity who = engine.Authenticate(request.header("Authorization"));
//     std::optional<std::string> email = who.claims.String("email");
//     bool verified = who.claims.Bool("email_verified").value_or(false);
//     auto roles = who.claims.StringArray({"realm_access", "roles"}); // nested (Keycloak)
//
// Only the engine makes a VerifiedClaims that holds anything, and only from a
// token whose signature, issuer, audience and times all checked out; there is
// no constructor from JSON or text, so claims nobody verified cannot pose as
// verified ones. Read-only, immutable, and cheap to copy (the claims are shared).
//
// Accessors return std::nullopt when the claim is absent or has another JSON type
// (an "email_verified" sent as the string "true" is not a Bool, 3.0 is not an
// Int, an array with one number in it is not a StringArray): no conversions,
// so a provider's type change cannot turn into a different answer. Has() tells
// "absent" from "another type"; Json() gives everything else.
//
// A name is a top-level claim name exactly as the token spells it (so the
// namespaced "https://example.com/roles" is one name); a path in braces walks
// nested objects, {"address", "locality"}.
#pragma once

#include "pg_tenancy/engine/namespace.hpp"

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pg_tenancy::engine {

namespace detail {
struct VerifiedClaimsAccess; // the engine's verifier: the only maker of non-empty claims
}

class VerifiedClaims {
  public:
	using Path = std::initializer_list<std::string_view>;

	// No claims: an Identity the application made itself (a trusted caller's user id).
	VerifiedClaims() noexcept = default;

	// True for the default: no verified token behind it.
	bool empty() const noexcept { return claims_ == nullptr; }

	bool Has(std::string_view name) const noexcept { return Has(Path{name}); }
	bool Has(Path path) const noexcept;

	std::optional<std::string> String(std::string_view name) const { return String(Path{name}); }
	std::optional<std::string> String(Path path) const;
	// A JSON integer that fits in 64 bits (a number with a fraction or exponent is not one).
	std::optional<std::int64_t> Int(std::string_view name) const { return Int(Path{name}); }
	std::optional<std::int64_t> Int(Path path) const;
	std::optional<bool> Bool(std::string_view name) const { return Bool(Path{name}); }
	std::optional<bool> Bool(Path path) const;
	// An array whose every element is a string (an empty array is an empty vector).
	std::optional<std::vector<std::string>> StringArray(std::string_view name) const { return StringArray(Path{name}); }
	std::optional<std::vector<std::string>> StringArray(Path path) const;

	// The whole verified claims object ({} when empty()); include
	// <nlohmann/json.hpp> to use it.
	const nlohmann::json &Json() const noexcept;

  private:
	friend struct detail::VerifiedClaimsAccess;
	explicit VerifiedClaims(std::shared_ptr<const nlohmann::json> claims) noexcept : claims_(std::move(claims)) {}
	const nlohmann::json *Find(Path path) const noexcept;

	std::shared_ptr<const nlohmann::json> claims_;
};

} // namespace pg_tenancy::engine
