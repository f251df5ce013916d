// membership_cache.cpp: see membership_cache.hpp.
#include "pg_tenancy/engine/membership_cache.hpp"

namespace pg_tenancy::engine {

bool MembershipCache::Contains(const Uuid &user, const Uuid &org) {
	std::lock_guard<std::mutex> lock(mutex_);
	if (!enabled_)
		return false;
	auto it = entries_.find(Key{user, org});
	if (it == entries_.end())
		return false;
	if (Clock::now() >= it->second.expires) {
		entries_.erase(it);
		return false;
	}
	return true;
}

std::uint64_t MembershipCache::Generation() const {
	std::lock_guard<std::mutex> lock(mutex_);
	return generation_;
}

void MembershipCache::Remember(const Uuid &user, const Uuid &org, std::uint64_t generation) {
	std::lock_guard<std::mutex> lock(mutex_);
	if (enabled_ && ttl_.count() > 0 && generation == generation_)
		entries_[Key{user, org}].expires = Clock::now() + ttl_;
}

std::string MembershipCache::Token(const Uuid &user, const Uuid &org, std::int64_t valid_until) {
	std::lock_guard<std::mutex> lock(mutex_);
	if (!enabled_)
		return {};
	auto it = entries_.find(Key{user, org});
	if (it == entries_.end() || Clock::now() >= it->second.expires || it->second.token_expires_at < valid_until)
		return {};
	return it->second.token;
}

void MembershipCache::RememberToken(const Uuid &user, const Uuid &org, const std::string &token,
                                    std::int64_t expires_at) {
	std::lock_guard<std::mutex> lock(mutex_);
	auto it = entries_.find(Key{user, org});
	if (enabled_ && it != entries_.end()) {
		it->second.token = token;
		it->second.token_expires_at = expires_at;
	}
}

void MembershipCache::Clear() {
	std::lock_guard<std::mutex> lock(mutex_);
	generation_++;
	entries_.clear();
}

void MembershipCache::SetEnabled(bool enabled) {
	std::lock_guard<std::mutex> lock(mutex_);
	enabled_ = enabled;
	generation_++;
	entries_.clear();
}

std::size_t MembershipCache::Size() const {
	std::lock_guard<std::mutex> lock(mutex_);
	return entries_.size();
}

} // namespace pg_tenancy::engine
