// verified_token_cache.cpp: see verified_token_cache.hpp.
#include "verified_token_cache.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <new>
#include <utility>

#include "pg_tenancy/token/crypto.hpp"
#include "pg_tenancy/token/cpp_only.hpp"

namespace pg_tenancy {

std::uint64_t VerifiedTokenCache::Hash(std::string_view token) noexcept {
	return std::hash<std::string_view>{}(token);
}

VerifiedTokenCache::Entry *VerifiedTokenCache::Find(std::string_view token) noexcept {
	if (size_ == 0 || token.empty())
		return nullptr;
	return FindHashed(token, Hash(token));
}

VerifiedTokenCache::Entry *VerifiedTokenCache::FindHashed(std::string_view token, std::uint64_t hash) noexcept {
	if (size_ == 0)
		return nullptr;
	const auto low = static_cast<std::uint32_t>(hash);
	for (std::size_t probe = 0, slot = low & kIndexMask; probe < kIndexSlots; probe++, slot = (slot + 1) & kIndexMask) {
		const Slot &candidate = index_[slot];
		if (candidate.entry == 0)
			return nullptr;
		if (candidate.hash_low != low)
			continue;
		Entry &entry = entries_[candidate.entry - 1];
		if (entry.hash_ == hash && token::ConstantTimeEqual(entry.token(), token)) {
			entry.referenced_ = true;
			return &entry;
		}
	}
	return nullptr;
}

VerifiedTokenCache::Entry *VerifiedTokenCache::Remember(std::string_view token, const token::ContextClaims &claims) {
	if (token.empty() || token.size() > kMaxTokenBytesKept)
		return nullptr;
	const std::uint64_t hash = Hash(token);
	if (Entry *existing = FindHashed(token, hash))
		return existing;
	if (index_.empty()) {
		// Reserved once: entries never move, and dropping one never allocates.
		entries_.reserve(kCapacity);
		free_.reserve(kCapacity);
		index_.assign(kIndexSlots, Slot{});
	}
	// Everything that can throw before anything changes.
	std::unique_ptr<char[]> bytes(new char[token.size()]);
	std::memcpy(bytes.get(), token.data(), token.size());
	token::ContextClaims copy = claims;
	// Each turn drops one entry; the check only guards against looping forever
	// (no interrupt is checked here) should the counts ever disagree.
	while (size_ > 0 && (size_ >= kCapacity || token_bytes_ + token.size() > kMaxTokenBytesKept))
		if (!EvictOne())
			return nullptr;
	std::size_t position;
	if (!free_.empty()) {
		position = free_.back();
		free_.pop_back();
	} else {
		position = entries_.size();
		entries_.emplace_back(); // within the reserved capacity: no allocation
	}
	Entry &entry = entries_[position];
	entry.claims = std::move(copy);
	entry.prepared = PreparedContext{};
	entry.bytes_ = std::move(bytes);
	entry.token_size_ = token.size();
	entry.hash_ = hash;
	entry.referenced_ = false; // a token used once goes before one used again
	std::size_t slot = entry.hash_ & kIndexMask;
	while (index_[slot].entry != 0)
		slot = (slot + 1) & kIndexMask;
	index_[slot] = Slot{static_cast<std::uint32_t>(entry.hash_), static_cast<std::uint32_t>(position + 1)};
	size_++;
	token_bytes_ += token.size();
	stamp_++;
	return &entry;
}

bool VerifiedTokenCache::Prepare(Entry *entry, std::uint64_t generation, std::uint64_t catalog_invalidations,
                                 std::string_view value, std::string_view record) noexcept {
	const bool had_one = entry->prepared.valid;
	DropPrepared(*entry);
	const std::string_view token = entry->token();
	const std::size_t bytes = value.size() + record.size();
	// The value enter() builds begins with the token: only its rest is copied.
	const bool shares_token = value.substr(0, token.size()) == token;
	const std::size_t rest = shares_token ? value.size() - token.size() : value.size();
	char *fresh = nullptr;
	if (bytes <= kMaxPreparedBytes && prepared_bytes_ + bytes <= kMaxPreparedBytesKept)
		fresh = new (std::nothrow) char[token.size() + rest + 1 + record.size()];
	if (fresh == nullptr) {
		if (had_one) {
			// Give back the old context's bytes: keep only the token.
			if (char *token_only = new (std::nothrow) char[token.size()]) {
				std::memcpy(token_only, token.data(), token.size());
				entry->bytes_.reset(token_only);
			}
		}
		return false;
	}
	// Copied from the views before the old bytes go: they may be the entry's own.
	std::memcpy(fresh, token.data(), token.size());
	std::memcpy(fresh + token.size(), value.data() + (value.size() - rest), rest);
	fresh[token.size() + rest] = '\0';
	char *record_start = fresh + token.size() + rest + 1;
	if (!record.empty())
		std::memcpy(record_start, record.data(), record.size());
	entry->bytes_.reset(fresh);
	entry->prepared.value = std::string_view(shares_token ? fresh : fresh + token.size(), value.size());
	entry->prepared.record = std::string_view(record_start, record.size());
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

std::size_t VerifiedTokenCache::SlotOf(const Entry &entry) const noexcept {
	const auto wanted = static_cast<std::uint32_t>(&entry - entries_.data() + 1);
	std::size_t slot = entry.hash_ & kIndexMask;
	while (index_[slot].entry != wanted)
		slot = (slot + 1) & kIndexMask;
	return slot;
}

void VerifiedTokenCache::EraseSlot(std::size_t hole) noexcept {
	// Backward shift: a later slot of the same run moves into the hole unless
	// its home lies after the hole, so every entry stays reachable from its home
	// without tombstones.
	for (std::size_t next = (hole + 1) & kIndexMask; index_[next].entry != 0; next = (next + 1) & kIndexMask) {
		const std::size_t home = index_[next].hash_low & kIndexMask;
		if (((next - home) & kIndexMask) >= ((next - hole) & kIndexMask)) {
			index_[hole] = index_[next];
			hole = next;
		}
	}
	index_[hole] = Slot{};
}

void VerifiedTokenCache::Drop(Entry &entry) noexcept {
	EraseSlot(SlotOf(entry));
	DropPrepared(entry);
	token_bytes_ -= entry.token_size_;
	entry.bytes_.reset();
	entry.claims = token::ContextClaims{};
	entry.token_size_ = 0;
	entry.hash_ = 0;
	entry.referenced_ = false;
	free_.push_back(static_cast<std::uint32_t>(&entry - entries_.data())); // within the reserved capacity
	size_--;
	stamp_++;
}

bool VerifiedTokenCache::EvictOne() noexcept {
	// Two turns at most: the first clears every reference bit it passes.
	for (std::size_t step = 0; step <= 2 * entries_.size(); step++) {
		if (hand_ >= entries_.size())
			hand_ = 0;
		Entry &entry = entries_[hand_++];
		if (!entry.InUse())
			continue;
		if (entry.referenced_) {
			entry.referenced_ = false;
			continue;
		}
		Drop(entry);
		evictions_++;
		return true;
	}
	return false;
}

void VerifiedTokenCache::Forget(Entry *entry) noexcept {
	const std::less<const Entry *> before;
	if (entry == nullptr || entries_.empty() || before(entry, entries_.data()) ||
	    !before(entry, entries_.data() + entries_.size()) || !entry->InUse())
		return;
	Drop(*entry);
}

void VerifiedTokenCache::Clear() noexcept {
	stamp_++;
	entries_.clear(); // keeps the reserved capacity
	free_.clear();
	std::fill(index_.begin(), index_.end(), Slot{});
	hand_ = 0;
	size_ = 0;
	token_bytes_ = 0;
	prepared_bytes_ = 0;
	prepared_count_ = 0;
}

} // namespace pg_tenancy
