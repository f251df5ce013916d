// identity_keys.hpp: the keys that verify inbound bearer tokens (the identity
// key set), read from a JWKS document (RFC 7517, what identity providers
// publish) or from a pg_tenancy keyring file (HS256/EdDSA, the original format).
//
// Every key is pinned to exactly one algorithm when it is loaded, so a token can
// never choose how it is checked: an RSA, EC or OKP public key can never be used
// as an HMAC secret, and an HMAC secret never as a public key.
//
//   kty  | accepted as                                  | pinned to
//   -----+----------------------------------------------+------------------------------
//   RSA  | n, e; at least 2048 and at most 8192 bits    | "alg" if given (RS256, PS256), else RS256
//   EC   | crv P-256, x, y (32 bytes each, on the curve) | ES256
//   OKP  | crv Ed25519, x (32 bytes)                     | EdDSA
//   oct  | k, at least 32 bytes                          | HS256
//
// A key with "use" other than "sig", or of a type, curve or algorithm not listed
// (RSA-OAEP encryption keys, P-384, RS512, ...) is skipped: providers publish
// such keys next to their signing keys. A key of a listed type that is malformed
// or too weak (RSA below 2048 bits, "alg":"ES256" on another curve, a private
// key member such as "d") makes the whole document invalid: KeySetError.
#pragma once

#include "pg_tenancy/engine/namespace.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pg_tenancy/engine/errors.hpp"

namespace pg_tenancy::engine::identity {

enum class Algorithm { HS256, EdDSA, RS256, PS256, ES256 };

const char *AlgorithmName(Algorithm alg) noexcept;
// False for "none" and every name not listed above.
bool ParseAlgorithm(std::string_view name, Algorithm &out) noexcept;

// An identity key set could not be read or parsed. The message names the file
// and the key (by kid or position), never key material.
class KeySetError : public ConfigurationError {
  public:
	using ConfigurationError::ConfigurationError;
};

struct PublicKeyHandle; // OpenSSL's EVP_PKEY, owned

struct Key {
	std::string kid; // may be empty in a JWKS without kids
	Algorithm alg = Algorithm::RS256;
	std::string secret;                    // HS256: the HMAC secret
	std::string raw_public;                // EdDSA: the 32-byte public key
	std::shared_ptr<PublicKeyHandle> pkey; // RS256, PS256, ES256
};

constexpr std::size_t kMaxKeySetBytes = 1 << 20;
constexpr std::size_t kMaxKidBytes = 256;

class KeySet {
  public:
	// A JWKS document: {"keys":[...]}. Throws KeySetError.
	static KeySet ParseJwks(std::string_view json);
	// A pg_tenancy keyring (see pg_tenancy/token/keyring.hpp). Throws KeySetError.
	static KeySet ParseKeyring(std::string_view text);
	// Either format: a document whose first non-blank character is '{' is JWKS.
	static KeySet Parse(std::string_view text);
	// Reads and parses `path` (at most 1 MiB). A JWKS of public keys may be
	// world-readable; a keyring, or a JWKS with "oct" secrets, must be private
	// (mode 0600, or root-owned 0640), as keyring files always were. Throws KeySetError.
	static KeySet LoadFile(const std::string &path);

	// The key a token's header selects: by kid and algorithm; without a kid, the
	// only key of that algorithm. Null when there is none or no single one.
	enum class Lookup { Found, UnknownKid, AlgorithmMismatch, NoKidAmbiguous };
	const Key *Select(std::string_view kid, bool has_kid, Algorithm alg, Lookup &why) const noexcept;

	const std::vector<Key> &Keys() const noexcept { return keys_; }
	std::size_t Skipped() const noexcept { return skipped_; }
	bool HasSecrets() const noexcept;
	void Add(Key key); // throws KeySetError on a repeated (kid, alg)

  private:
	std::vector<Key> keys_;
	std::size_t skipped_ = 0;
};

// For tests and diagnostics: the number of bits of an RSA key, or 0.
int KeyBits(const Key &key) noexcept;

} // namespace pg_tenancy::engine::identity
