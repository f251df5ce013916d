// verified_claims_access.hpp: how the verifier (identity_token.cpp) hands out
// the claims of a token it has fully checked. Not installed: application code
// cannot make a VerifiedClaims from JSON nobody verified.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <utility>

#include "pg_tenancy/engine/verified_claims.hpp"

namespace pg_tenancy::engine::detail {

struct VerifiedClaimsAccess {
	static VerifiedClaims FromVerified(nlohmann::json claims) {
		return VerifiedClaims(std::make_shared<const nlohmann::json>(std::move(claims)));
	}
};

} // namespace pg_tenancy::engine::detail
