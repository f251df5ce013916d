// cache_statistics.hpp: what one of this backend's caches holds and how it
// served tenancy.enter(), as plain data (tenancy.backend_cache_stats()).
#pragma once

#include <cstdint>

namespace pg_tenancy {

struct CacheStatistics {
	bool enabled;            // the cache may answer now
	std::int64_t entries;    // held now
	std::int64_t capacity;   // most entries it holds; -1 when only bytes bound it
	std::int64_t hits;       // answers it gave since the backend started
	std::int64_t misses;     // look-ups it could not answer (work done instead)
	std::int64_t evictions;  // entries pushed out for room; -1 when not counted apart
	std::int64_t bytes;      // memory it holds now
	std::int64_t byte_limit; // most memory it holds; -1 when only entries bound it
};

} // namespace pg_tenancy
