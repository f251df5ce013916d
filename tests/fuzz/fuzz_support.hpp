// fuzz_support.hpp: shared pieces of the libFuzzer targets: a fixed keyring (never
// used outside fuzzing), a fixed clock, and a check that aborts so libFuzzer
// records the input when an invariant (not just memory safety) is broken.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pg_tenancy/token/base64url.hpp"
#include "pg_tenancy/token/crypto.hpp"
#include "pg_tenancy/token/errors.hpp"
#include "pg_tenancy/token/keyring.hpp"

namespace fuzz_support {

// Seconds since the epoch the targets treat as "now"; seeds use iat/exp around it.
constexpr std::int64_t kNow = 1800000000;

// HS256 secret: 32 bytes 0x00..0x1f; EdDSA private seed: 32 bytes 0x20..0x3f.
inline const pg_tenancy::token::Keyring &FixedKeyring() {
	static const pg_tenancy::token::Keyring ring =
	    pg_tenancy::token::Keyring::Parse("fz-hs HS256 secret:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
	                                      "fz-ed EdDSA private:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8\n");
	return ring;
}

// Aborts with a message: libFuzzer saves the input as a crash.
[[noreturn]] inline void InvariantBroken(const char *what) {
	std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
	std::abort();
}

inline void Require(bool condition, const char *what) {
	if (!condition)
		InvariantBroken(what);
}

// A compact JWS over exactly these header and payload texts, signed by `key`:
// lets the fuzzer reach claim parsing, which a random signature never would.
inline std::string SignExactly(const pg_tenancy::token::Key &key, std::string_view header, std::string_view payload) {
	using namespace pg_tenancy::token;
	std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
	std::string signature =
	    key.alg == Algorithm::HS256 ? HmacSha256(key.secret, input) : Ed25519Sign(key.private_key, input);
	return input + "." + Base64UrlEncode(signature);
}

// Structured inputs: byte 0 picks the mode (and, for signing, the key); the rest
// is "<header JSON>\n<payload JSON>".
struct StructuredInput {
	bool raw = true;
	const pg_tenancy::token::Key *key = nullptr;
	std::string_view header, payload, raw_token;
};

inline StructuredInput Interpret(const std::uint8_t *data, std::size_t size) {
	StructuredInput in;
	if (size == 0)
		return in;
	std::string_view rest(reinterpret_cast<const char *>(data + 1), size - 1);
	const auto &keys = FixedKeyring().Keys();
	switch (data[0] % 3) {
	case 0:
		in.raw_token = rest;
		return in;
	default: {
		std::size_t nl = rest.find('\n');
		if (nl == std::string_view::npos) {
			in.raw_token = rest;
			return in;
		}
		in.raw = false;
		in.key = &keys[data[0] % 3 == 1 ? 0 : 1];
		in.header = rest.substr(0, nl);
		in.payload = rest.substr(nl + 1);
		return in;
	}
	}
}

} // namespace fuzz_support
