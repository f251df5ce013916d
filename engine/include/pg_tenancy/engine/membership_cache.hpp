// membership_cache.hpp: positive answers to "is this user a member of that
// organization?", kept for a short TTL and dropped whole on any membership or
// role change. Only an optimisation: tenancy.enter() re-checks in the database.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "pg_tenancy/engine/ids.hpp"

namespace tenancy {

class MembershipCache {
  public:
	using Clock = std::chrono::steady_clock;
	explicit MembershipCache(std::chrono::seconds ttl) : ttl_(ttl) {}

	bool Contains(const Uuid &user, const Uuid &org);
	// Read before looking a membership up; pass it to Remember().
	std::uint64_t Generation() const;
	// Stores the answer unless the cache was cleared since `generation`.
	void Remember(const Uuid &user, const Uuid &org, std::uint64_t generation);
	void Clear();
	// While disabled (e.g. the change listener is disconnected), nothing is
	// remembered and nothing is found.
	void SetEnabled(bool enabled);
	std::size_t Size() const;

  private:
	struct Key {
		Uuid user, org;
		bool operator==(const Key &o) const { return user == o.user && org == o.org; }
	};
	struct KeyHash {
		std::size_t operator()(const Key &k) const noexcept { return UuidHash()(k.user) * 31 + UuidHash()(k.org); }
	};

	const std::chrono::seconds ttl_;
	mutable std::mutex mutex_;
	bool enabled_ = false;
	std::uint64_t generation_ = 0;
	std::unordered_map<Key, Clock::time_point, KeyHash> entries_;
};

} // namespace tenancy
