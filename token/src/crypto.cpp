// crypto.cpp: thin adapters over OpenSSL libcrypto (HMAC-SHA256, Ed25519, CSPRNG).
#include "pg_tenancy/token/crypto.hpp"

#include <map>
#include <memory>
#include <mutex>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "pg_tenancy/token/errors.hpp"
#include "pg_tenancy/token/cpp_only.hpp"

namespace pg_tenancy::token {
namespace {

struct PkeyDeleter {
	void operator()(EVP_PKEY *key) const noexcept { EVP_PKEY_free(key); }
};
struct MdCtxDeleter {
	void operator()(EVP_MD_CTX *ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

const unsigned char *Bytes(std::string_view s) noexcept {
	return reinterpret_cast<const unsigned char *>(s.data());
}

PkeyPtr PrivateKey(std::string_view private_key) {
	if (private_key.size() != kEd25519KeyBytes)
		throw CryptoError("Ed25519 private key must be 32 bytes");
	PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, Bytes(private_key), private_key.size()));
	if (!key)
		throw CryptoError("OpenSSL rejected the Ed25519 private key");
	return key;
}

// SHA-256, fetched from the provider once per process: EVP_sha256() makes every
// digest look the algorithm up again (EVP_MD_fetch was over half of the cost of
// hashing a token). Falls back to the implicit fetch if the explicit one fails.
const EVP_MD *Sha256Digest() noexcept {
	static EVP_MD *const fetched = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
	return fetched ? fetched : EVP_sha256();
}

// HMAC, likewise fetched once: HMAC() fetches the MAC and the digest per call.
EVP_MAC *HmacMac() noexcept {
	static EVP_MAC *const fetched = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
	return fetched;
}

struct MacCtxDeleter {
	void operator()(EVP_MAC_CTX *ctx) const noexcept { EVP_MAC_CTX_free(ctx); }
};

// Ed25519 public keys, parsed once per process: EVP_PKEY_new_raw_public_key()
// looks its key management up in the provider's method store on every call,
// which was most of a verification (and a third of a new backend's first
// enter() with an EdDSA token). A keyring holds a few public keys; a full
// cache is emptied and fills again. Shared by threads (the engine): OpenSSL
// keys may be used concurrently once built, and each caller holds a reference.
class PublicKeyCache {
  public:
	PkeyPtr Get(std::string_view public_key) noexcept {
		try {
			std::lock_guard<std::mutex> lock(mutex_);
			auto found = keys_.find(public_key);
			if (found == keys_.end()) {
				PkeyPtr key(
				    EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(public_key), public_key.size()));
				if (!key)
					return nullptr;
				if (keys_.size() >= kMaxKeys)
					keys_.clear();
				found = keys_.emplace(std::string(public_key), std::move(key)).first;
			}
			if (EVP_PKEY_up_ref(found->second.get()) != 1)
				return nullptr;
			return PkeyPtr(found->second.get());
		} catch (...) {
			return nullptr; // out of memory: the verification fails closed
		}
	}

  private:
	static constexpr std::size_t kMaxKeys = 32;
	std::mutex mutex_;
	std::map<std::string, PkeyPtr, std::less<>> keys_;
};

// Never destroyed: a destructor run at exit could free keys after OpenSSL's
// own clean-up (registered later, so run first) has torn it down.
PublicKeyCache &PublicKeys() {
	static PublicKeyCache *const cache = new PublicKeyCache;
	return *cache;
}

} // namespace

std::string HmacSha256(std::string_view key, std::string_view data) {
	unsigned char out[EVP_MAX_MD_SIZE];
	std::size_t out_len = 0;
	EVP_MAC *mac = HmacMac();
	std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx(mac ? EVP_MAC_CTX_new(mac) : nullptr);
	char digest_name[] = "SHA2-256";
	const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
	                             OSSL_PARAM_construct_end()};
	if (!ctx || EVP_MAC_init(ctx.get(), Bytes(key), key.size(), params) != 1 ||
	    EVP_MAC_update(ctx.get(), Bytes(data), data.size()) != 1 ||
	    EVP_MAC_final(ctx.get(), out, &out_len, sizeof out) != 1)
		throw CryptoError("HMAC-SHA256 failed");
	return std::string(reinterpret_cast<char *>(out), out_len);
}

std::string Ed25519Sign(std::string_view private_key, std::string_view data) {
	PkeyPtr key = PrivateKey(private_key);
	MdCtxPtr ctx(EVP_MD_CTX_new());
	if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1)
		throw CryptoError("Ed25519 signing could not start");
	std::string signature(kEd25519SignatureBytes, '\0');
	std::size_t sig_len = signature.size();
	if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char *>(&signature[0]), &sig_len, Bytes(data),
	                   data.size()) != 1 ||
	    sig_len != kEd25519SignatureBytes)
		throw CryptoError("Ed25519 signing failed");
	return signature;
}

std::string Ed25519PublicFromPrivate(std::string_view private_key) {
	PkeyPtr key = PrivateKey(private_key);
	std::string pub(kEd25519KeyBytes, '\0');
	std::size_t len = pub.size();
	if (EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char *>(&pub[0]), &len) != 1 ||
	    len != kEd25519KeyBytes)
		throw CryptoError("could not derive the Ed25519 public key");
	return pub;
}

bool Ed25519Verify(std::string_view public_key, std::string_view data, std::string_view signature) noexcept {
	if (public_key.size() != kEd25519KeyBytes || signature.size() != kEd25519SignatureBytes)
		return false;
	PkeyPtr key = PublicKeys().Get(public_key);
	MdCtxPtr ctx(EVP_MD_CTX_new());
	if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1)
		return false;
	return EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(data), data.size()) == 1;
}

void PrepareEd25519PublicKey(std::string_view public_key) noexcept {
	if (public_key.size() == kEd25519KeyBytes)
		(void)PublicKeys().Get(public_key);
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) noexcept {
	return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string RandomBytes(std::size_t count) {
	std::string out(count, '\0');
	if (count > 0 && RAND_bytes(reinterpret_cast<unsigned char *>(&out[0]), static_cast<int>(count)) != 1)
		throw CryptoError("the system random number generator is unavailable");
	return out;
}

std::string Sha256(std::string_view data) {
	unsigned char out[SHA256_DIGEST_LENGTH];
	if (!EVP_Digest(data.data(), data.size(), out, nullptr, Sha256Digest(), nullptr))
		throw CryptoError("SHA-256 failed");
	return std::string(reinterpret_cast<char *>(out), sizeof out);
}

void WarmUpCrypto() noexcept {
	try {
		const std::string key(kEd25519KeyBytes, '\x01');
		(void)HmacSha256(key, "warm-up");
		(void)Sha256("warm-up");
		const std::string public_key = Ed25519PublicFromPrivate(key);
		(void)Ed25519Verify(public_key, "warm-up", Ed25519Sign(key, "warm-up"));
	} catch (...) {
		// Only an optimisation: the first real use will report any problem.
	}
}

} // namespace pg_tenancy::token
