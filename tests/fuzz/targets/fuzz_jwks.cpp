// fuzz_jwks.cpp: the engine's identity key set parser (JWKS documents and
// keyring text). Invariants: it throws only KeySetError; an accepted set has no
// two keys with the same (kid, algorithm), and parsing it again gives the same
// keys (or refuses an RSA key OpenSSL's probabilistic check passed the first time).
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "pg_tenancy/engine/identity_keys.hpp"

using fuzz_support::Require;
namespace identity = tenancy::identity;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
	std::string_view text(reinterpret_cast<const char *>(data), size);
	identity::KeySet keys;
	try {
		keys = identity::KeySet::Parse(text);
	} catch (const identity::KeySetError &) {
		return 0;
	}
	const auto &list = keys.Keys();
	for (std::size_t i = 0; i < list.size(); i++)
		for (std::size_t j = i + 1; j < list.size(); j++)
			Require(!(list[i].kid == list[j].kid && list[i].alg == list[j].alg), "repeated (kid, alg) accepted");
	identity::KeySet again;
	try {
		again = identity::KeySet::Parse(text);
	} catch (const identity::KeySetError &e) {
		// OpenSSL's RSA public-key check (SP 800-56B) runs Miller-Rabin with random
		// bases: for a modulus that is not a product of two large primes (fuzzed
		// bytes), one base may expose a factor and the next not, so such a key
		// can pass once and be refused the next time. A real modulus always passes.
		Require(std::string_view(e.what()).find("OpenSSL rejected the RSA key") != std::string_view::npos,
		        "parse is not deterministic");
		return 0;
	}
	Require(again.Keys().size() == list.size() && again.Skipped() == keys.Skipped(), "parse is not deterministic");
	return 0;
}
