// verified_token_cache.cpp: see verified_token_cache.hpp.
#include "verified_token_cache.hpp"

#include "pg_tenancy/token/crypto.hpp"
#include "pg_tenancy/token/cpp_only.hpp"

namespace pg_tenancy {

const token::ContextClaims *VerifiedTokenCache::Find(std::string_view token, std::string &digest) noexcept {
	try {
		digest.clear();
		digest = token::Sha256(token);
		auto it = index_.find(digest);
		if (it == index_.end())
			return nullptr;
		entries_.splice(entries_.begin(), entries_, it->second);
		return &it->second->claims;
	} catch (...) {
		return nullptr; // out of memory: verify the signature instead
	}
}

void VerifiedTokenCache::Remember(std::string digest, const token::ContextClaims &claims) {
	if (digest.empty() || index_.count(digest))
		return;
	if (index_.size() >= kCapacity) {
		index_.erase(entries_.back().digest);
		entries_.pop_back();
	}
	entries_.push_front(Entry{std::move(digest), claims});
	index_.emplace(entries_.front().digest, entries_.begin());
}

void VerifiedTokenCache::Clear() noexcept {
	index_.clear();
	entries_.clear();
}

} // namespace pg_tenancy
