// verified_token_cache.hpp: the context tokens this backend has already
// verified, so that a token reused for its lifetime (the engine reuses one per
// user and organization) costs no second signature check. Pure C++.
//
// Keyed by the token's exact bytes; bounded; cleared whenever the keyring is
// reloaded, so a key removed from the keyring stops working as before. A hit
// only skips the signature: the caller re-checks the times on every use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pg_tenancy/token/context_token.hpp"

namespace pg_tenancy {

class VerifiedTokenCache {
  public:
	static constexpr std::size_t kCapacity = 64;

	// The claims `token` verified with, or nullptr.
	const token::ContextClaims *Find(std::string_view token) noexcept;
	// Remembers a token whose signature verified, evicting the least recently used.
	void Remember(std::string_view token, const token::ContextClaims &claims);
	void Clear() noexcept;

  private:
	struct Entry {
		std::size_t hash;
		std::string token;
		token::ContextClaims claims;
		std::uint64_t last_used;
	};
	std::vector<Entry> entries_;
	std::uint64_t uses_ = 0;
};

} // namespace pg_tenancy
