// verified_token_cache.cpp: see verified_token_cache.hpp.
#include "verified_token_cache.hpp"

#include "pg_tenancy/token/crypto.hpp"
#include "pg_tenancy/token/cpp_only.hpp"

namespace pg_tenancy {

bool VerifiedTokenCache::ConstantTimeEqual::operator()(std::string_view a, std::string_view b) const noexcept {
	return token::ConstantTimeEqual(a, b);
}

VerifiedTokenCache::Entry *VerifiedTokenCache::Find(std::string_view token) noexcept {
	try {
		auto it = index_.find(token);
		if (it == index_.end())
			return nullptr;
		entries_.splice(entries_.begin(), entries_, it->second);
		return &*it->second;
	} catch (...) {
		return nullptr; // verify the signature instead
	}
}

VerifiedTokenCache::Entry *VerifiedTokenCache::Remember(std::string_view token, const token::ContextClaims &claims) {
	if (token.empty() || token.size() > kMaxTokenBytesKept)
		return nullptr;
	if (Entry *existing = Find(token))
		return existing;
	while (!entries_.empty() && (index_.size() >= kCapacity || token_bytes_ + token.size() > kMaxTokenBytesKept))
		EvictLeastRecentlyUsed();
	entries_.push_front(Entry{std::string(token), claims, {}});
	try {
		index_.emplace(entries_.front().token, entries_.begin());
	} catch (...) {
		entries_.pop_front();
		throw;
	}
	token_bytes_ += token.size();
	stamp_++;
	return &entries_.front();
}

bool VerifiedTokenCache::Prepare(Entry *entry, std::uint64_t generation, std::uint64_t catalog_invalidations,
                                 std::string_view value, std::string_view record) noexcept {
	DropPrepared(*entry);
	const std::size_t bytes = value.size() + record.size();
	if (bytes > kMaxPreparedBytes || prepared_bytes_ + bytes > kMaxPreparedBytesKept)
		return false;
	try {
		entry->prepared.value.assign(value);
		entry->prepared.record.assign(record);
	} catch (...) {
		DropPrepared(*entry);
		return false;
	}
	entry->prepared.generation = generation;
	entry->prepared.catalog_invalidations = catalog_invalidations;
	entry->prepared.valid = true;
	prepared_bytes_ += bytes;
	prepared_count_++;
	return true;
}

void VerifiedTokenCache::DropPrepared(Entry &entry) noexcept {
	if (entry.prepared.valid) {
		prepared_bytes_ -= entry.prepared.value.size() + entry.prepared.record.size();
		prepared_count_--;
	}
	entry.prepared = PreparedContext{};
}

void VerifiedTokenCache::EvictLeastRecentlyUsed() noexcept {
	stamp_++;
	evictions_++;
	DropPrepared(entries_.back());
	token_bytes_ -= entries_.back().token.size();
	index_.erase(entries_.back().token);
	entries_.pop_back();
}

void VerifiedTokenCache::Forget(Entry *entry) noexcept {
	auto found = index_.find(entry->token);
	if (found == index_.end() || &*found->second != entry)
		return;
	const auto node = found->second;
	stamp_++;
	DropPrepared(*node);
	token_bytes_ -= node->token.size();
	index_.erase(found);
	entries_.erase(node);
}

void VerifiedTokenCache::Clear() noexcept {
	stamp_++;
	index_.clear();
	entries_.clear();
	token_bytes_ = 0;
	prepared_bytes_ = 0;
	prepared_count_ = 0;
}

} // namespace pg_tenancy
