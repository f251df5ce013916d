// signature.cpp: see signature.hpp.
#include "signature.hpp"

#include <memory>
#include <stdexcept>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "pg_tenancy/token/crypto.hpp"

namespace pg_tenancy::engine::identity {
namespace {

namespace tok = pg_tenancy::token;

struct BnFree {
	void operator()(BIGNUM *bn) const noexcept { BN_free(bn); }
};
struct ParamBldFree {
	void operator()(OSSL_PARAM_BLD *bld) const noexcept { OSSL_PARAM_BLD_free(bld); }
};
struct ParamFree {
	void operator()(OSSL_PARAM *params) const noexcept { OSSL_PARAM_free(params); }
};
struct PkeyCtxFree {
	void operator()(EVP_PKEY_CTX *ctx) const noexcept { EVP_PKEY_CTX_free(ctx); }
};
struct MdCtxFree {
	void operator()(EVP_MD_CTX *ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigFree {
	void operator()(ECDSA_SIG *sig) const noexcept { ECDSA_SIG_free(sig); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

const unsigned char *Bytes(std::string_view s) noexcept {
	return reinterpret_cast<const unsigned char *>(s.data());
}

BnPtr ToBignum(std::string_view bytes) {
	BnPtr bn(BN_bin2bn(Bytes(bytes), static_cast<int>(bytes.size()), nullptr));
	if (!bn)
		throw std::bad_alloc();
	return bn;
}

// Builds a public EVP_PKEY of `type` from parameters and checks it (for EC: the
// point is on the curve).
std::shared_ptr<PublicKeyHandle> FromData(const char *type, OSSL_PARAM_BLD *bld, const char *what) {
	std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
	PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
	EVP_PKEY *raw = nullptr;
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
	    EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 || !raw)
		throw std::invalid_argument(what);
	auto handle = std::make_shared<PublicKeyHandle>(raw);
	PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, raw, nullptr));
	if (!check || EVP_PKEY_public_check(check.get()) != 1)
		throw std::invalid_argument(what);
	return handle;
}

std::string_view StripLeadingZeros(std::string_view bytes) {
	while (!bytes.empty() && bytes.front() == '\0')
		bytes.remove_prefix(1);
	return bytes;
}

// JWS ES256 signatures are r || s; OpenSSL verifies DER.
bool RawEcdsaToDer(std::string_view raw, std::string &der) {
	if (raw.size() != 2 * kP256CoordinateBytes)
		return false;
	std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
	BIGNUM *r = BN_bin2bn(Bytes(raw.substr(0, kP256CoordinateBytes)), kP256CoordinateBytes, nullptr);
	BIGNUM *s = BN_bin2bn(Bytes(raw.substr(kP256CoordinateBytes)), kP256CoordinateBytes, nullptr);
	if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
		BN_free(r);
		BN_free(s);
		return false;
	}
	int len = i2d_ECDSA_SIG(sig.get(), nullptr);
	if (len <= 0)
		return false;
	der.assign(static_cast<std::size_t>(len), '\0');
	unsigned char *out = reinterpret_cast<unsigned char *>(&der[0]);
	return i2d_ECDSA_SIG(sig.get(), &out) == len;
}

bool VerifyWithPkey(const Key &key, std::string_view input, std::string_view signature) {
	if (!key.pkey || !key.pkey->pkey)
		return false;
	EVP_PKEY *pkey = key.pkey->pkey;
	bool rsa = key.alg == Algorithm::RS256 || key.alg == Algorithm::PS256;
	// The key type is fixed when the key is loaded; checked again here so a key
	// can only ever verify the kind of signature it was made for.
	if (rsa ? EVP_PKEY_is_a(pkey, "RSA") != 1 : EVP_PKEY_is_a(pkey, "EC") != 1)
		return false;
	if (rsa && EVP_PKEY_get_bits(pkey) < kMinRsaBits)
		return false;
	std::string der;
	if (key.alg == Algorithm::ES256) {
		if (!RawEcdsaToDer(signature, der))
			return false;
		signature = der;
	} else if (signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(pkey))) {
		return false;
	}
	std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
	EVP_PKEY_CTX *pctx = nullptr; // owned by ctx
	if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, pkey) != 1)
		return false;
	if (key.alg == Algorithm::PS256 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1)) // RFC 7518 3.5: salt as long as the hash
		return false;
	if (key.alg == Algorithm::RS256 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		return false;
	return EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(input), input.size()) == 1;
}

} // namespace

std::shared_ptr<PublicKeyHandle> RsaPublicKey(std::string_view modulus, std::string_view exponent) {
	modulus = StripLeadingZeros(modulus);
	exponent = StripLeadingZeros(exponent);
	std::size_t bits = modulus.size() * 8;
	if (!modulus.empty())
		for (unsigned char top = static_cast<unsigned char>(modulus.front()); !(top & 0x80); top <<= 1)
			bits--;
	if (bits < static_cast<std::size_t>(kMinRsaBits))
		throw std::invalid_argument("RSA key has " + std::to_string(bits) + " bits; at least 2048 are required");
	if (bits > static_cast<std::size_t>(kMaxRsaBits))
		throw std::invalid_argument("RSA key has more than 8192 bits");
	// e odd, at least 3 and below 2^32: every real key uses 65537.
	if (exponent.empty() || exponent.size() > 4 || !(exponent.back() & 1) ||
	    (exponent.size() == 1 && static_cast<unsigned char>(exponent[0]) < 3))
		throw std::invalid_argument("RSA public exponent must be odd, at least 3 and below 2^32");
	BnPtr n = ToBignum(modulus), e = ToBignum(exponent);
	std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
	if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1)
		throw std::bad_alloc();
	return FromData("RSA", bld.get(), "OpenSSL rejected the RSA key");
}

std::shared_ptr<PublicKeyHandle> P256PublicKey(std::string_view x, std::string_view y) {
	if (x.size() != kP256CoordinateBytes || y.size() != kP256CoordinateBytes)
		throw std::invalid_argument("a P-256 key needs x and y of exactly 32 bytes each");
	std::string point = "\x04" + std::string(x) + std::string(y); // uncompressed SEC1 point
	std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
	if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
		throw std::bad_alloc();
	return FromData("EC", bld.get(), "the EC key is not a point on P-256");
}

bool VerifySignature(const Key &key, std::string_view signing_input, std::string_view signature) noexcept {
	try {
		switch (key.alg) {
		case Algorithm::HS256:
			// An HMAC key is only ever a secret from an oct JWK or a keyring line;
			// never derived from a public key.
			return !key.secret.empty() && !key.pkey &&
			       tok::ConstantTimeEqual(tok::HmacSha256(key.secret, signing_input), signature);
		case Algorithm::EdDSA:
			return !key.pkey && tok::Ed25519Verify(key.raw_public, signing_input, signature);
		case Algorithm::RS256:
		case Algorithm::PS256:
		case Algorithm::ES256:
			return key.secret.empty() && VerifyWithPkey(key, signing_input, signature);
		}
	} catch (...) {
	}
	return false;
}

int KeyBits(const Key &key) noexcept {
	return key.pkey && key.pkey->pkey ? EVP_PKEY_get_bits(key.pkey->pkey) : 0;
}

} // namespace pg_tenancy::engine::identity
