// ids.hpp: identifiers the engine deals in.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "pg_tenancy/token/uuid.hpp"
#include "pg_tenancy/engine/namespace.hpp"
#include "pg_tenancy/engine/verified_claims.hpp"

namespace pg_tenancy::engine {

using Uuid = pg_tenancy::token::Uuid;

// Parses a canonical uuid; throws InvalidInput naming `what` otherwise.
Uuid ParseUuid(std::string_view text, const char *what = "id");
inline std::string ToString(const Uuid &uuid) {
	return pg_tenancy::token::UuidToString(uuid);
}

// Who is making a request, once authenticated.
struct Identity {
	Uuid user_id;
	// The bearer token's claims when Engine::Authenticate() made this identity;
	// empty when the application named the user itself (Identity{user_id}).
	VerifiedClaims claims{};
};

struct UuidHash {
	std::size_t operator()(const Uuid &uuid) const noexcept {
		std::size_t h = 0;
		for (auto byte : uuid.bytes)
			h = h * 131 + byte;
		return h;
	}
};

} // namespace pg_tenancy::engine
