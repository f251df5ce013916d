// fuzz_keyring.cpp: the keyring text parser. It may only fail with KeyringError,
// and a keyring it accepts serialises and re-parses to the same keys.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "pg_tenancy/token/errors.hpp"

using fuzz_support::Require;
using namespace pg_tenancy::token;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
	std::string_view text(reinterpret_cast<const char *>(data), size);
	Keyring ring;
	try {
		ring = Keyring::Parse(text);
	} catch (const KeyringError &) {
		return 0;
	}
	Keyring again = Keyring::Parse(ring.ToText());
	Require(again.Keys().size() == ring.Keys().size(), "key count changes on re-parse");
	for (std::size_t i = 0; i < ring.Keys().size(); i++) {
		const Key &a = ring.Keys()[i], &b = again.Keys()[i];
		Require(IsValidKid(a.kid), "accepted an invalid kid");
		Require(a.kid == b.kid && a.alg == b.alg && a.secret == b.secret && a.public_key == b.public_key &&
		            a.private_key == b.private_key,
		        "key changes on re-parse");
		Require(a.alg == Algorithm::HS256 ? a.secret.size() >= kMinHmacSecretBytes
		                                  : a.public_key.size() == kEd25519KeyBytes,
		        "accepted a key of the wrong size");
	}
	return 0;
}
