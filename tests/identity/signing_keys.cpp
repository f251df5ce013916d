// signing_keys.cpp: see signing_keys.hpp.
#include "signing_keys.hpp"

#include <stdexcept>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include "pg_tenancy/token/base64url.hpp"
#include "pg_tenancy/token/crypto.hpp"

namespace identity_test {
namespace {

using pg_tenancy::token::Base64UrlEncode;

std::shared_ptr<EVP_PKEY> Own(EVP_PKEY *p) {
	if (!p)
		throw std::runtime_error("OpenSSL could not generate a key");
	return std::shared_ptr<EVP_PKEY>(p, PkeyFree());
}

std::string BnParam(EVP_PKEY *p, const char *name, std::size_t width = 0) {
	BIGNUM *bn = nullptr;
	if (EVP_PKEY_get_bn_param(p, name, &bn) != 1)
		throw std::runtime_error(std::string("no key parameter ") + name);
	std::size_t size = width ? width : static_cast<std::size_t>(BN_num_bytes(bn));
	std::string out(size, '\0');
	BN_bn2binpad(bn, reinterpret_cast<unsigned char *>(&out[0]), static_cast<int>(size));
	BN_free(bn);
	return out;
}

std::string DerToRaw(const std::string &der, std::size_t half) {
	const unsigned char *p = reinterpret_cast<const unsigned char *>(der.data());
	ECDSA_SIG *sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
	if (!sig)
		throw std::runtime_error("bad DER signature");
	std::string out(2 * half, '\0');
	BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char *>(&out[0]), static_cast<int>(half));
	BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char *>(&out[half]), static_cast<int>(half));
	ECDSA_SIG_free(sig);
	return out;
}

} // namespace

SigningKey SigningKey::Rsa(int bits, std::string kid, std::string alg) {
	SigningKey key;
	key.kid = std::move(kid);
	key.alg = std::move(alg);
	key.pkey = Own(EVP_RSA_gen(static_cast<unsigned>(bits)));
	return key;
}

SigningKey SigningKey::P256(std::string kid) {
	SigningKey key;
	key.kid = std::move(kid);
	key.alg = "ES256";
	key.pkey = Own(EVP_EC_gen("P-256"));
	return key;
}

SigningKey SigningKey::P384(std::string kid) {
	SigningKey key;
	key.kid = std::move(kid);
	key.alg = "ES384";
	key.pkey = Own(EVP_EC_gen("P-384"));
	return key;
}

SigningKey SigningKey::Ed25519(std::string kid) {
	SigningKey key;
	key.kid = std::move(kid);
	key.alg = "EdDSA";
	key.pkey = Own(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
	return key;
}

SigningKey SigningKey::Hmac(std::string kid, std::string secret) {
	SigningKey key;
	key.kid = std::move(kid);
	key.alg = "HS256";
	key.secret = std::move(secret);
	return key;
}

nlohmann::json SigningKey::Jwk(bool with_alg) const {
	nlohmann::json jwk;
	if (!secret.empty()) {
		jwk = {{"kty", "oct"}, {"k", Base64UrlEncode(secret)}};
	} else if (EVP_PKEY_is_a(pkey.get(), "RSA")) {
		jwk = {{"kty", "RSA"},
		       {"n", Base64UrlEncode(BnParam(pkey.get(), OSSL_PKEY_PARAM_RSA_N))},
		       {"e", Base64UrlEncode(BnParam(pkey.get(), OSSL_PKEY_PARAM_RSA_E))}};
	} else if (EVP_PKEY_is_a(pkey.get(), "EC")) {
		std::size_t width = alg == "ES256" ? 32 : 48;
		jwk = {{"kty", "EC"},
		       {"crv", alg == "ES256" ? "P-256" : "P-384"},
		       {"x", Base64UrlEncode(BnParam(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, width))},
		       {"y", Base64UrlEncode(BnParam(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, width))}};
	} else {
		std::string raw(32, '\0');
		std::size_t len = raw.size();
		EVP_PKEY_get_raw_public_key(pkey.get(), reinterpret_cast<unsigned char *>(&raw[0]), &len);
		jwk = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", Base64UrlEncode(raw)}};
	}
	if (!kid.empty())
		jwk["kid"] = kid;
	if (with_alg) {
		jwk["alg"] = alg;
		jwk["use"] = "sig";
	}
	return jwk;
}

std::string SigningKey::Sign(const std::string &input, const std::string &alg_override) const {
	std::string use = alg_override.empty() ? alg : alg_override;
	if (use == "HS256")
		return pg_tenancy::token::HmacSha256(secret, input);
	std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX *)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
	EVP_PKEY_CTX *pctx = nullptr;
	const EVP_MD *md = use == "EdDSA" ? nullptr : use == "ES384" ? EVP_sha384() : EVP_sha256();
	if (EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, pkey.get()) != 1)
		throw std::runtime_error("sign init failed");
	if (use == "PS256") {
		EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
	}
	std::size_t len = 0;
	const unsigned char *data = reinterpret_cast<const unsigned char *>(input.data());
	if (EVP_DigestSign(ctx.get(), nullptr, &len, data, input.size()) != 1)
		throw std::runtime_error("sign size failed");
	std::string out(len, '\0');
	if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char *>(&out[0]), &len, data, input.size()) != 1)
		throw std::runtime_error("sign failed");
	out.resize(len);
	if (use == "ES256")
		return DerToRaw(out, 32);
	if (use == "ES384")
		return DerToRaw(out, 48);
	return out;
}

std::string SigningKey::Token(const std::string &header_json, const std::string &payload_json,
                              const std::string &alg_override) const {
	std::string input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json);
	return input + "." + Base64UrlEncode(Sign(input, alg_override));
}

nlohmann::json Jwks(std::initializer_list<nlohmann::json> keys) {
	return nlohmann::json{{"keys", nlohmann::json::array_t(keys)}};
}

} // namespace identity_test
