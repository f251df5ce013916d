// The extension's per-backend cache of verified tokens (pure C++, compiled from
// extension/src): exact-bytes keys, least-recently-used eviction, the byte bound.
#include <boost/test/unit_test.hpp>

#include <string>

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
	const ContextClaims *found = cache.Find(token);
	BOOST_TEST_REQUIRE(found != nullptr);
	BOOST_TEST(found->jti == "one");
	std::string last_byte_changed = token;
	last_byte_changed.back() = 't';
	BOOST_TEST(cache.Find(last_byte_changed) == nullptr);
	BOOST_TEST(cache.Find(token.substr(0, token.size() - 1)) == nullptr);
	BOOST_TEST(cache.Find(token + "s") == nullptr);
	BOOST_TEST(cache.Find("") == nullptr);
}

BOOST_AUTO_TEST_CASE(evicts_the_least_recently_used_at_capacity) {
	VerifiedTokenCache cache;
	for (std::size_t i = 0; i < VerifiedTokenCache::kCapacity; i++)
		cache.Remember(TokenNumber(i), ClaimsWithJti(std::to_string(i)));
	BOOST_TEST(cache.Size() == VerifiedTokenCache::kCapacity);
	BOOST_TEST(cache.Find(TokenNumber(0)) != nullptr); // now the most recently used
	cache.Remember(TokenNumber(VerifiedTokenCache::kCapacity), ClaimsWithJti("new"));
	BOOST_TEST(cache.Size() == VerifiedTokenCache::kCapacity);
	BOOST_TEST(cache.Find(TokenNumber(0)) != nullptr);
	BOOST_TEST(cache.Find(TokenNumber(1)) == nullptr); // the least recently used went
	BOOST_TEST(cache.Find(TokenNumber(2)) != nullptr);
	BOOST_TEST(cache.Find(TokenNumber(VerifiedTokenCache::kCapacity))->jti == "new");
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
	BOOST_TEST(cache.Find(TokenNumber(1))->jti == "first");
	cache.Clear();
	BOOST_TEST(cache.Size() == 0u);
	BOOST_TEST(cache.Find(TokenNumber(1)) == nullptr);
	cache.Remember(TokenNumber(2), ClaimsWithJti("after"));
	BOOST_TEST(cache.Find(TokenNumber(2))->jti == "after");
}

BOOST_AUTO_TEST_SUITE_END()
