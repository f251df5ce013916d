// membership_cache.hpp: positive answers to "is this user a member of that
// organization?", kept for a short TTL and dropped whole on any membership or
// role change, with the context token last minted for that pair (reused for
// most of its lifetime, so a request usually costs no signature). Only an
// optimisation: tenancy.enter() re-checks every membership in the database.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "pg_tenancy/engine/ids.hpp"
#include "pg_tenancy/engine/namespace.hpp"

namespace pg_tenancy::engine {

class MembershipCache {
  public:
	using Clock = std::chrono::steady_clock;
	explicit MembershipCache(std::chrono::seconds ttl) : ttl_(ttl) {}

	bool Contains(const Uuid &user, const Uuid &org);
	// Read before looking a membership up; pass it to Remember().
	std::uint64_t Generation() const;
	// Stores the answer unless the cache was cleared since `generation`.
	void Remember(const Uuid &user, const Uuid &org, std::uint64_t generation);
	// The token remembered for the pair if it is still valid until at least
	// `valid_until` (seconds since the epoch); empty otherwise.
	std::string Token(const Uuid &user, const Uuid &org, std::int64_t valid_until);
	// Keeps `token` (which expires at `expires_at`) with the pair's entry, if any.
	void RememberToken(const Uuid &user, const Uuid &org, const std::string &token, std::int64_t expires_at);
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
	struct Entry {
		Clock::time_point expires;
		std::string token;
		std::int64_t token_expires_at = 0;
	};
	std::unordered_map<Key, Entry, KeyHash> entries_;
};

} // namespace pg_tenancy::engine
