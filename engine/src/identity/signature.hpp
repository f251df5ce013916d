// signature.hpp: public keys from JWK components and JWS signature checks for
// identity tokens, all through OpenSSL EVP (nothing here implements cryptography).
#pragma once

#include <openssl/evp.h>
#include <string>
#include <string_view>

#include "pg_tenancy/engine/identity_keys.hpp"

namespace pg_tenancy::engine::identity {

struct PublicKeyHandle {
	EVP_PKEY *pkey = nullptr;
	explicit PublicKeyHandle(EVP_PKEY *p) noexcept : pkey(p) {}
	~PublicKeyHandle() { EVP_PKEY_free(pkey); }
	PublicKeyHandle(const PublicKeyHandle &) = delete;
	PublicKeyHandle &operator=(const PublicKeyHandle &) = delete;
};

constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;
constexpr std::size_t kP256CoordinateBytes = 32;

// Big-endian unsigned integers as JWK carries them. Throw std::invalid_argument
// with a reason (no key material) when the key is malformed or too weak.
std::shared_ptr<PublicKeyHandle> RsaPublicKey(std::string_view modulus, std::string_view exponent);
std::shared_ptr<PublicKeyHandle> P256PublicKey(std::string_view x, std::string_view y);

// True only for a valid signature by `key` under its pinned algorithm. ES256
// signatures are the JWS form (r || s, 64 bytes); HS256 is compared in constant time.
bool VerifySignature(const Key &key, std::string_view signing_input, std::string_view signature) noexcept;

} // namespace pg_tenancy::engine::identity
