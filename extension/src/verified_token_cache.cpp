// verified_token_cache.cpp: see verified_token_cache.hpp.
#include "verified_token_cache.hpp"

#include "pg_tenancy/token/crypto.hpp"
#include "pg_tenancy/token/cpp_only.hpp"

namespace pg_tenancy {

bool VerifiedTokenCache::ConstantTimeEqual::operator()(std::string_view a, std::string_view b) const noexcept {
	return token::ConstantTimeEqual(a, b);
}

const token::ContextClaims *VerifiedTokenCache::Find(std::string_view token) noexcept {
	try {
		auto it = index_.find(token);
		if (it == index_.end())
			return nullptr;
		entries_.splice(entries_.begin(), entries_, it->second);
		return &it->second->claims;
	} catch (...) {
		return nullptr; // verify the signature instead
	}
}

void VerifiedTokenCache::Remember(std::string_view token, const token::ContextClaims &claims) {
	if (token.empty() || token.size() > kMaxTokenBytesKept || index_.count(token))
		return;
	while (!entries_.empty() && (index_.size() >= kCapacity || token_bytes_ + token.size() > kMaxTokenBytesKept))
		EvictLeastRecentlyUsed();
	entries_.push_front(Entry{std::string(token), claims});
	try {
		index_.emplace(entries_.front().token, entries_.begin());
	} catch (...) {
		entries_.pop_front();
		throw;
	}
	token_bytes_ += token.size();
}

void VerifiedTokenCache::EvictLeastRecentlyUsed() noexcept {
	token_bytes_ -= entries_.back().token.size();
	index_.erase(entries_.back().token);
	entries_.pop_back();
}

void VerifiedTokenCache::Clear() noexcept {
	index_.clear();
	entries_.clear();
	token_bytes_ = 0;
}

} // namespace pg_tenancy
