// crypto.hpp: the few primitives tokens need, all delegated to OpenSSL libcrypto.
// Nothing here implements cryptography; it only adapts OpenSSL's C API.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pg_tenancy::token {

constexpr std::size_t kEd25519KeyBytes = 32;
constexpr std::size_t kEd25519SignatureBytes = 64;
constexpr std::size_t kHmacSha256Bytes = 32;

// Throws CryptoError if OpenSSL fails (out of memory, bad key length).
std::string HmacSha256(std::string_view key, std::string_view data);
std::string Ed25519Sign(std::string_view private_key, std::string_view data);
std::string Ed25519PublicFromPrivate(std::string_view private_key);
// False for any signature that does not verify, including malformed input.
bool Ed25519Verify(std::string_view public_key, std::string_view data, std::string_view signature) noexcept;
// Parses an Ed25519 public key into the process's cache of them now (for a
// server: in the postmaster, so backends inherit it), instead of in its first
// Ed25519Verify(). Never throws; a key OpenSSL rejects is simply not cached.
void PrepareEd25519PublicKey(std::string_view public_key) noexcept;
// Constant-time comparison (CRYPTO_memcmp); false when lengths differ.
bool ConstantTimeEqual(std::string_view a, std::string_view b) noexcept;
// Bytes from OpenSSL's CSPRNG; throws CryptoError if it is not seeded.
std::string RandomBytes(std::size_t count);
std::string Sha256(std::string_view data);

// Runs each primitive once, so that OpenSSL loads its providers and algorithm
// implementations now (for a server: in the postmaster, before backends fork)
// rather than in the first request. Never throws.
void WarmUpCrypto() noexcept;

} // namespace pg_tenancy::token

#include "pg_tenancy/token/cpp_only.hpp"
