// signing_keys.hpp: private keys for the identity tests, made and used through
// OpenSSL, with their public halves as JWKs. Test-only: the engine never signs
// with anything but HS256/EdDSA keyring keys.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

namespace identity_test {

struct PkeyFree {
	void operator()(EVP_PKEY *p) const noexcept { EVP_PKEY_free(p); }
};

class SigningKey {
  public:
	static SigningKey Rsa(int bits, std::string kid, std::string alg = "RS256");
	static SigningKey P256(std::string kid);
	static SigningKey P384(std::string kid);
	static SigningKey Ed25519(std::string kid);
	static SigningKey Hmac(std::string kid, std::string secret);

	// The public JWK (for oct: the secret), with "alg" and "use" unless told not to.
	nlohmann::json Jwk(bool with_alg = true) const;
	// A signature over `input` in JWS form, under this key's algorithm (or `alg`).
	std::string Sign(const std::string &input, const std::string &alg = "") const;
	// header.payload.signature with exactly these JSON texts.
	std::string Token(const std::string &header_json, const std::string &payload_json,
	                  const std::string &alg = "") const;

	std::string kid, alg, secret;
	std::shared_ptr<EVP_PKEY> pkey;
};

nlohmann::json Jwks(std::initializer_list<nlohmann::json> keys);

} // namespace identity_test
