// verified_token_cache.cpp: see verified_token_cache.hpp.
#include "verified_token_cache.hpp"

#include <functional>

#include "pg_tenancy/token/crypto.hpp"
#include "pg_tenancy/token/cpp_only.hpp"

namespace pg_tenancy {

const token::ContextClaims *VerifiedTokenCache::Find(std::string_view token) noexcept {
	std::size_t hash = std::hash<std::string_view>{}(token);
	for (Entry &entry : entries_) {
		// Constant time over the bytes: how much of a cached token a guess
		// matches must not show in the time enter() takes.
		if (entry.hash == hash && token::ConstantTimeEqual(entry.token, token)) {
			entry.last_used = ++uses_;
			return &entry.claims;
		}
	}
	return nullptr;
}

void VerifiedTokenCache::Remember(std::string_view token, const token::ContextClaims &claims) {
	Entry entry{std::hash<std::string_view>{}(token), std::string(token), claims, ++uses_};
	if (entries_.size() < kCapacity) {
		entries_.push_back(std::move(entry));
		return;
	}
	Entry *oldest = &entries_.front();
	for (Entry &candidate : entries_)
		if (candidate.last_used < oldest->last_used)
			oldest = &candidate;
	*oldest = std::move(entry);
}

void VerifiedTokenCache::Clear() noexcept {
	entries_.clear();
}

} // namespace pg_tenancy
