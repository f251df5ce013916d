// The extension's per-backend cache of verified tokens (pure C++, compiled from
// extension/src): exact-bytes keys, eviction of what was not used recently, the byte bound.
#include <boost/test/unit_test.hpp>

#include <map>
#include <random>
#include <string>
#include <string_view>

#include "../../extension/src/verified_token_cache.hpp"

using pg_tenancy::VerifiedTokenCache;
using pg_tenancy::token::ContextClaims;

namespace {

ContextClaims ClaimsWithJti(const std::string &jti) {
	ContextClaims claims;
	claims.jti = jti;
	return claims;
}

std::string TokenNumber(std::size_t i, std::size_t size = 400) {
	std::string token = "header.payload-" + std::to_string(i) + ".";
	token.resize(size, 's');
	return token;
}

} // namespace

BOOST_AUTO_TEST_SUITE(verified_token_cache)

BOOST_AUTO_TEST_CASE(finds_only_the_exact_token) {
	VerifiedTokenCache cache;
	const std::string token = TokenNumber(1);
	BOOST_TEST(cache.Find(token) == nullptr);
	cache.Remember(token, ClaimsWithJti("one"));
	const VerifiedTokenCache::Entry *found = cache.Find(token);
	BOOST_TEST_REQUIRE(found != nullptr);
	BOOST_TEST(found->claims.jti == "one");
	std::string last_byte_changed = token;
	last_byte_changed.back() = 't';
	BOOST_TEST(cache.Find(last_byte_changed) == nullptr);
	BOOST_TEST(cache.Find(token.substr(0, token.size() - 1)) == nullptr);
	BOOST_TEST(cache.Find(token + "s") == nullptr);
	BOOST_TEST(cache.Find("") == nullptr);
}

BOOST_AUTO_TEST_CASE(evicts_one_not_used_recently_at_capacity) {
	VerifiedTokenCache cache;
	for (std::size_t i = 0; i < VerifiedTokenCache::kCapacity; i++)
		cache.Remember(TokenNumber(i), ClaimsWithJti(std::to_string(i)));
	BOOST_TEST(cache.Size() == VerifiedTokenCache::kCapacity);
	BOOST_TEST(cache.Find(TokenNumber(0)) != nullptr); // now the most recently used
	cache.Remember(TokenNumber(VerifiedTokenCache::kCapacity), ClaimsWithJti("new"));
	BOOST_TEST(cache.Size() == VerifiedTokenCache::kCapacity);
	BOOST_TEST(cache.Find(TokenNumber(0)) != nullptr);
	BOOST_TEST(cache.Find(TokenNumber(1)) == nullptr); // the oldest not used since went
	BOOST_TEST(cache.Find(TokenNumber(2)) != nullptr);
	BOOST_TEST(cache.Find(TokenNumber(VerifiedTokenCache::kCapacity))->claims.jti == "new");
	BOOST_TEST(cache.Evictions() == 1u);
}

BOOST_AUTO_TEST_CASE(keeps_at_most_its_byte_bound) {
	VerifiedTokenCache cache;
	const std::size_t size = 4096; // the longest token enter() accepts
	const std::size_t fit = VerifiedTokenCache::kMaxTokenBytesKept / size;
	for (std::size_t i = 0; i < fit + 10; i++)
		cache.Remember(TokenNumber(i, size), ClaimsWithJti(std::to_string(i)));
	BOOST_TEST(cache.Size() == fit);
	BOOST_TEST(cache.Find(TokenNumber(9, size)) == nullptr);
	BOOST_TEST(cache.Find(TokenNumber(10, size)) != nullptr);
	BOOST_TEST(cache.Find(TokenNumber(fit + 9, size)) != nullptr);
}

BOOST_AUTO_TEST_CASE(remembering_twice_keeps_one_entry_and_clear_forgets_all) {
	VerifiedTokenCache cache;
	cache.Remember(TokenNumber(1), ClaimsWithJti("first"));
	cache.Remember(TokenNumber(1), ClaimsWithJti("second"));
	BOOST_TEST(cache.Size() == 1u);
	BOOST_TEST(cache.Find(TokenNumber(1))->claims.jti == "first");
	cache.Clear();
	BOOST_TEST(cache.Size() == 0u);
	BOOST_TEST(cache.Find(TokenNumber(1)) == nullptr);
	cache.Remember(TokenNumber(2), ClaimsWithJti("after"));
	BOOST_TEST(cache.Find(TokenNumber(2))->claims.jti == "after");
}

BOOST_AUTO_TEST_CASE(a_token_in_use_outlives_a_stream_of_tokens_used_once) {
	// What the engine's pool looks like: a few tokens reused at every request
	// among many used once: the hot tokens are never the ones evicted.
	VerifiedTokenCache cache;
	const std::string hot = TokenNumber(1000000);
	cache.Remember(hot, ClaimsWithJti("hot"));
	for (std::size_t i = 0; i < 5 * VerifiedTokenCache::kCapacity; i++) {
		BOOST_TEST_REQUIRE(cache.Find(hot) != nullptr);
		cache.Remember(TokenNumber(i), ClaimsWithJti(std::to_string(i)));
	}
	BOOST_TEST(cache.Find(hot)->claims.jti == "hot");
	BOOST_TEST(cache.Size() == VerifiedTokenCache::kCapacity);
}

BOOST_AUTO_TEST_CASE(tokens_differing_in_one_byte_are_told_apart) {
	VerifiedTokenCache cache;
	std::string a = TokenNumber(7), b = a, c = a;
	a[0] = 'A';
	b[0] = 'B';
	c[0] = 'C';
	cache.Remember(a, ClaimsWithJti("a"));
	cache.Remember(b, ClaimsWithJti("b"));
	BOOST_TEST(cache.Size() == 2u);
	BOOST_TEST(cache.Find(a)->claims.jti == "a");
	BOOST_TEST(cache.Find(b)->claims.jti == "b");
	BOOST_TEST(cache.Find(c) == nullptr);
}

BOOST_AUTO_TEST_CASE(forgetting_a_token_frees_its_bytes_and_prepared_context_only) {
	VerifiedTokenCache cache;
	auto *first = cache.Remember(TokenNumber(1), ClaimsWithJti("one"));
	auto *second = cache.Remember(TokenNumber(2), ClaimsWithJti("two"));
	BOOST_TEST_REQUIRE((first != nullptr && second != nullptr));
	BOOST_TEST(cache.Prepare(first, 7, 3, "value-one", std::string(200, 'r')));
	BOOST_TEST(cache.Prepare(second, 7, 3, "value-two", std::string(100, 'r')));
	const std::uint64_t stamp = cache.Stamp();
	cache.Forget(first);
	BOOST_TEST(cache.Stamp() != stamp);
	BOOST_TEST(cache.Find(TokenNumber(1)) == nullptr);
	BOOST_TEST(cache.Size() == 1u);
	BOOST_TEST(cache.TokenBytes() == TokenNumber(2).size());
	BOOST_TEST(cache.PreparedCount() == 1u);
	BOOST_TEST(cache.PreparedBytes() == std::string("value-two").size() + 100);
	const auto *kept = cache.Find(TokenNumber(2));
	BOOST_TEST_REQUIRE(kept != nullptr);
	BOOST_TEST(kept->prepared.valid);
	BOOST_TEST(kept->prepared.value == "value-two");
	BOOST_TEST(cache.Evictions() == 0u); // forgotten, not pushed out for room
	// Room it held is room again: the cache fills to capacity afterwards.
	for (std::size_t i = 10; i < 10 + VerifiedTokenCache::kCapacity - 1; i++)
		cache.Remember(TokenNumber(i), ClaimsWithJti("filler"));
	BOOST_TEST(cache.Size() == VerifiedTokenCache::kCapacity);
	BOOST_TEST(cache.Evictions() == 0u);
	BOOST_TEST(cache.Find(TokenNumber(2)) != nullptr);
}

BOOST_AUTO_TEST_CASE(agrees_with_a_model_through_random_remembers_finds_and_clears) {
	// Every answer is checked against a map of every token remembered since the
	// last Clear(): a found token always carries its own claims, nothing
	// cleared is ever found, and every token the cache counts can be found.
	VerifiedTokenCache cache;
	std::map<std::string, std::string> model; // token -> jti, a superset of the cache
	std::mt19937 random(20261202);
	for (int step = 0; step < 200000; step++) {
		const std::size_t n = random() % (3 * VerifiedTokenCache::kCapacity);
		const std::string token = TokenNumber(n, 200 + n % 7 * 600);
		const int action = static_cast<int>(random() % 100);
		if (action < 50) {
			const auto *found = cache.Find(token);
			if (found != nullptr) {
				BOOST_TEST_REQUIRE(model.count(token) == 1u);
				BOOST_TEST_REQUIRE(found->claims.jti == model[token]);
			}
		} else if (action < 52) {
			if (auto *entry = cache.Find(token)) {
				cache.Forget(entry);
				model.erase(token);
				BOOST_TEST_REQUIRE(cache.Find(token) == nullptr);
			}
		} else if (action < 99) {
			if (cache.Find(token) == nullptr)
				model[token] = std::to_string(step);
			cache.Remember(token, ClaimsWithJti(model[token]));
			BOOST_TEST_REQUIRE(cache.Find(token) != nullptr);
		} else {
			cache.Clear();
			model.clear();
		}
		BOOST_TEST_REQUIRE(cache.Size() <= VerifiedTokenCache::kCapacity);
	}
	std::size_t found = 0;
	for (const auto &[token, jti] : model)
		if (const auto *entry = cache.Find(token)) {
			BOOST_TEST_REQUIRE(entry->claims.jti == jti);
			found++;
		}
	BOOST_TEST(found == cache.Size());
}

BOOST_AUTO_TEST_CASE(a_prepared_context_stays_with_its_token_until_evicted_or_cleared) {
	VerifiedTokenCache cache;
	VerifiedTokenCache::Entry *entry = cache.Remember(TokenNumber(1), ClaimsWithJti("one"));
	BOOST_TEST_REQUIRE(entry != nullptr);
	BOOST_TEST(!entry->prepared.valid);
	BOOST_TEST(cache.Prepare(entry, 7, 70, "value", "record"));
	const VerifiedTokenCache::Entry *found = cache.Find(TokenNumber(1));
	BOOST_TEST_REQUIRE(found != nullptr);
	BOOST_TEST(found->prepared.valid);
	BOOST_TEST(found->prepared.generation == 7u);
	BOOST_TEST(found->prepared.catalog_invalidations == 70u);
	BOOST_TEST(found->prepared.value == "value");
	BOOST_TEST(found->prepared.record == "record");
	BOOST_TEST(cache.PreparedBytes() == 11u);
	// Prepared again (a new generation): replaced, counted once.
	BOOST_TEST(cache.Prepare(cache.Find(TokenNumber(1)), 8, 80, "value2", "record2"));
	BOOST_TEST(cache.Find(TokenNumber(1))->prepared.generation == 8u);
	BOOST_TEST(cache.PreparedBytes() == 13u);
	// Remembering the same token again keeps the entry and its context.
	BOOST_TEST(cache.Remember(TokenNumber(1), ClaimsWithJti("again"))->prepared.valid);
	// Evicted with its token (used since the clock hand last passed, it is
	// spared once: two capacities of new tokens push it out).
	for (std::size_t i = 2; i < 2 * VerifiedTokenCache::kCapacity + 2; i++)
		cache.Remember(TokenNumber(i), ClaimsWithJti(std::to_string(i)));
	BOOST_TEST(cache.Find(TokenNumber(1)) == nullptr);
	BOOST_TEST(cache.PreparedBytes() == 0u);
	// Cleared with the cache.
	const std::string recent = TokenNumber(2 * VerifiedTokenCache::kCapacity);
	VerifiedTokenCache::Entry *kept = cache.Find(recent);
	BOOST_TEST_REQUIRE(kept != nullptr);
	BOOST_TEST(cache.Prepare(kept, 1, 1, "v", "r"));
	cache.Clear();
	BOOST_TEST(cache.PreparedBytes() == 0u);
	BOOST_TEST(cache.Remember(recent, ClaimsWithJti("again"))->prepared.valid == false);
}

BOOST_AUTO_TEST_CASE(a_prepared_context_too_long_or_over_the_budget_is_not_kept) {
	VerifiedTokenCache cache;
	VerifiedTokenCache::Entry *entry = cache.Remember(TokenNumber(1), ClaimsWithJti("one"));
	BOOST_TEST(cache.Prepare(entry, 1, 1, "short", "record"));
	const std::string too_long(VerifiedTokenCache::kMaxPreparedBytes, 'p');
	BOOST_TEST(!cache.Prepare(entry, 2, 1, too_long, "record"));
	BOOST_TEST(!cache.Find(TokenNumber(1))->prepared.valid); // the old one is gone too
	BOOST_TEST(cache.PreparedBytes() == 0u);
	const std::string large(VerifiedTokenCache::kMaxPreparedBytes / 2, 'p');
	const std::size_t fit = VerifiedTokenCache::kMaxPreparedBytesKept / large.size();
	std::size_t kept = 0;
	for (std::size_t i = 0; i < fit + 5; i++)
		kept += cache.Prepare(cache.Remember(TokenNumber(100 + i), ClaimsWithJti("x")), 1, 1, large, "") ? 1 : 0;
	BOOST_TEST(kept == fit);
	BOOST_TEST(cache.PreparedBytes() <= VerifiedTokenCache::kMaxPreparedBytesKept);
}

BOOST_AUTO_TEST_CASE(the_stamp_moves_whenever_an_entry_may_have_gone) {
	VerifiedTokenCache cache;
	const std::uint64_t empty = cache.Stamp();
	cache.Remember(TokenNumber(1), ClaimsWithJti("one"));
	const std::uint64_t one = cache.Stamp();
	BOOST_TEST(one != empty);
	cache.Find(TokenNumber(1));
	cache.Remember(TokenNumber(1), ClaimsWithJti("one")); // already there
	BOOST_TEST(cache.Stamp() == one);
	cache.Prepare(cache.Find(TokenNumber(1)), 1, 1, "v", "r");
	BOOST_TEST(cache.Stamp() == one);
	cache.Clear();
	BOOST_TEST(cache.Stamp() != one);
}

BOOST_AUTO_TEST_CASE(a_prepared_value_that_begins_with_the_token_reads_back_whole) {
	// enter()'s value is the token, then the role and permissions: the entry
	// keeps the token's bytes once, and the value still reads back exactly,
	// NUL-terminated (it goes to set_config_option() as a C string).
	VerifiedTokenCache cache;
	const std::string token = TokenNumber(3);
	VerifiedTokenCache::Entry *entry = cache.Remember(token, ClaimsWithJti("three"));
	BOOST_TEST_REQUIRE(entry != nullptr);
	const std::string value = token + "|role|member|tickets.read";
	const std::string record(120, '\x07');
	BOOST_TEST_REQUIRE(cache.Prepare(entry, 4, 5, value, record));
	const VerifiedTokenCache::Entry *found = cache.Find(token);
	BOOST_TEST_REQUIRE(found != nullptr);
	BOOST_TEST(found->prepared.value == value);
	BOOST_TEST(found->prepared.value.data()[value.size()] == '\0');
	BOOST_TEST(found->prepared.record == record);
	BOOST_TEST(found->token() == token);
	BOOST_TEST(cache.PreparedBytes() == value.size() + record.size());
	// A value that does not begin with the token is kept whole, NUL-terminated too.
	BOOST_TEST_REQUIRE(cache.Prepare(entry, 6, 5, "other", "rec"));
	BOOST_TEST(entry->prepared.value == "other");
	BOOST_TEST(entry->prepared.value.data()[5] == '\0');
	BOOST_TEST(entry->token() == token);
	// Prepared again from its own views (they point into the entry's bytes).
	const std::string_view own_value = entry->prepared.value, own_record = entry->prepared.record;
	BOOST_TEST_REQUIRE(cache.Prepare(entry, 7, 5, own_value, own_record));
	BOOST_TEST(entry->prepared.value == "other");
	BOOST_TEST(entry->prepared.record == "rec");
	BOOST_TEST(entry->prepared.generation == 7u);
	BOOST_TEST(cache.PreparedCount() == 1u);
	BOOST_TEST(cache.PreparedBytes() == 8u);
}

BOOST_AUTO_TEST_CASE(forgetting_and_evicting_keep_every_other_token_findable) {
	// The index deletes without tombstones (an entry behind the deleted one in
	// its probe run moves up): after any mix of Forget() and evictions, every
	// token still counted is found, with its own claims, and none dropped is.
	VerifiedTokenCache cache;
	std::mt19937 random(4242);
	const std::size_t tokens = 3 * VerifiedTokenCache::kCapacity;
	for (int round = 0; round < 20; round++) {
		for (std::size_t i = 0; i < tokens; i++)
			if (random() % 3 == 0)
				cache.Remember(TokenNumber(i), ClaimsWithJti(std::to_string(i)));
		for (std::size_t i = 0; i < tokens; i++)
			if (random() % 4 == 0)
				if (auto *entry = cache.Find(TokenNumber(i)))
					cache.Forget(entry);
		std::size_t found = 0;
		for (std::size_t i = 0; i < tokens; i++)
			if (const auto *entry = cache.Find(TokenNumber(i))) {
				BOOST_TEST_REQUIRE(entry->claims.jti == std::to_string(i));
				BOOST_TEST_REQUIRE(entry->token() == TokenNumber(i));
				found++;
			}
		BOOST_TEST_REQUIRE(found == cache.Size());
	}
	BOOST_TEST(cache.Evictions() > 0u);
}

BOOST_AUTO_TEST_SUITE_END()
