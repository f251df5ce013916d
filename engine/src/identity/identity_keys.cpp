// identity_keys.cpp: JWKS and keyring documents into pinned keys (see identity_keys.hpp).
#include "pg_tenancy/engine/identity_keys.hpp"

#include <optional>
#include <stdexcept>

#include "pg_tenancy/token/base64url.hpp"
#include "pg_tenancy/token/crypto.hpp"
#include "pg_tenancy/token/errors.hpp"
#include "pg_tenancy/token/keyring.hpp"
#include "signature.hpp"
#include "strict_json.hpp"

namespace pg_tenancy::engine::identity {
namespace {

namespace tok = pg_tenancy::token;
using json = nlohmann::json;

bool IsValidIdentityKid(std::string_view kid) noexcept {
	if (kid.empty() || kid.size() > kMaxKidBytes)
		return false;
	for (char c : kid)
		if (c < 0x21 || c > 0x7e) // printable ASCII: providers use base64, hex and '=' padding
			return false;
	return true;
}

// A JWK member decoded from base64url; `where` names the key in messages.
std::string Decoded(const json &jwk, const char *member, const std::string &where) {
	auto it = jwk.find(member);
	if (it == jwk.end() || !it->is_string())
		throw KeySetError(where + ": member \"" + member + "\" is required and must be a string");
	std::string bytes;
	if (!tok::Base64UrlDecode(it->get<std::string>(), bytes))
		throw KeySetError(where + ": member \"" + member + "\" is not unpadded base64url");
	return bytes;
}

std::optional<std::string> OptionalString(const json &jwk, const char *member, const std::string &where) {
	auto it = jwk.find(member);
	if (it == jwk.end())
		return std::nullopt;
	if (!it->is_string())
		throw KeySetError(where + ": member \"" + member + "\" must be a string");
	return it->get<std::string>();
}

// Whether a JWK may verify signatures at all ("use" and "key_ops").
bool IsForSignatures(const json &jwk, const std::string &where) {
	if (auto use = OptionalString(jwk, "use", where); use && *use != "sig")
		return false;
	auto ops = jwk.find("key_ops");
	if (ops == jwk.end())
		return true;
	if (!ops->is_array())
		throw KeySetError(where + ": member \"key_ops\" must be an array");
	for (const json &op : *ops)
		if (op.is_string() && op.get<std::string>() == "verify")
			return true;
	return false;
}

// The algorithm a JWK is pinned to, or nullopt for a key we do not use.
std::optional<Algorithm> PinnedAlgorithm(const std::string &kty, const std::optional<std::string> &alg, const json &jwk,
                                         const std::string &where) {
	Algorithm natural;
	std::optional<std::string> crv = OptionalString(jwk, "crv", where);
	if (kty == "RSA")
		natural = Algorithm::RS256;
	else if (kty == "EC")
		natural = Algorithm::ES256;
	else if (kty == "OKP")
		natural = Algorithm::EdDSA;
	else if (kty == "oct")
		natural = Algorithm::HS256;
	else
		return std::nullopt; // an unknown key type
	Algorithm named = natural;
	if (alg && !ParseAlgorithm(*alg, named))
		return std::nullopt; // RS512, RSA-OAEP, HS384, ...: not ours to use
	bool consistent = named == natural || (kty == "RSA" && named == Algorithm::PS256);
	if (!consistent)
		throw KeySetError(where + ": \"alg\":\"" + *alg + "\" cannot be used with a key of type " + kty);
	if (kty == "EC" && crv != std::string("P-256")) {
		if (alg)
			throw KeySetError(where + ": ES256 needs curve P-256");
		return std::nullopt; // P-384, P-521, secp256k1: not ours
	}
	if (kty == "OKP" && crv != std::string("Ed25519")) {
		if (crv == std::string("Ed448") || crv == std::string("X25519") || crv == std::string("X448"))
			return std::nullopt;
		throw KeySetError(where + ": an OKP key needs \"crv\":\"Ed25519\"");
	}
	return named;
}

Key ParseJwk(const json &jwk, std::size_t index, bool &skipped) {
	std::string where = "key " + std::to_string(index + 1);
	skipped = false;
	if (!jwk.is_object())
		throw KeySetError(where + " is not a JSON object");
	Key key;
	if (auto kid = OptionalString(jwk, "kid", where)) {
		if (!IsValidIdentityKid(*kid))
			throw KeySetError(where + ": kid must be 1 to 256 printable ASCII characters");
		key.kid = *kid;
		where += " (kid \"" + key.kid + "\")";
	}
	std::optional<std::string> kty = OptionalString(jwk, "kty", where);
	if (!kty)
		throw KeySetError(where + ": member \"kty\" is required");
	if (*kty != "oct")
		for (const char *secret : {"d", "p", "q", "dp", "dq", "qi", "oth"})
			if (jwk.contains(secret))
				throw KeySetError(where + " holds a private key; give pg_tenancy only the public half");
	std::optional<Algorithm> alg = PinnedAlgorithm(*kty, OptionalString(jwk, "alg", where), jwk, where);
	if (!alg || !IsForSignatures(jwk, where)) {
		skipped = true;
		return key;
	}
	key.alg = *alg;
	try {
		switch (key.alg) {
		case Algorithm::RS256:
		case Algorithm::PS256:
			key.pkey = RsaPublicKey(Decoded(jwk, "n", where), Decoded(jwk, "e", where));
			break;
		case Algorithm::ES256:
			key.pkey = P256PublicKey(Decoded(jwk, "x", where), Decoded(jwk, "y", where));
			break;
		case Algorithm::EdDSA:
			key.raw_public = Decoded(jwk, "x", where);
			if (key.raw_public.size() != tok::kEd25519KeyBytes)
				throw std::invalid_argument("an Ed25519 key must be exactly 32 bytes");
			break;
		case Algorithm::HS256:
			key.secret = Decoded(jwk, "k", where);
			if (key.secret.size() < tok::kMinHmacSecretBytes)
				throw std::invalid_argument("an HS256 secret must be at least 32 bytes");
			break;
		}
	} catch (const std::invalid_argument &e) {
		throw KeySetError(where + ": " + e.what());
	}
	return key;
}

} // namespace

const char *AlgorithmName(Algorithm alg) noexcept {
	switch (alg) {
	case Algorithm::HS256:
		return "HS256";
	case Algorithm::EdDSA:
		return "EdDSA";
	case Algorithm::RS256:
		return "RS256";
	case Algorithm::PS256:
		return "PS256";
	case Algorithm::ES256:
		return "ES256";
	}
	return "?";
}

bool ParseAlgorithm(std::string_view name, Algorithm &out) noexcept {
	for (Algorithm alg : {Algorithm::HS256, Algorithm::EdDSA, Algorithm::RS256, Algorithm::PS256, Algorithm::ES256})
		if (name == AlgorithmName(alg)) {
			out = alg;
			return true;
		}
	return false;
}

KeySet KeySet::ParseJwks(std::string_view text) {
	json doc;
	switch (ParseStrictObject(text, doc)) {
	case StrictJsonError::None:
		break;
	case StrictJsonError::Duplicate:
		throw KeySetError("JWKS repeats a member name");
	case StrictJsonError::Syntax:
	case StrictJsonError::NotAnObject:
		throw KeySetError("JWKS is not a JSON object");
	}
	auto keys = doc.find("keys");
	if (keys == doc.end() || !keys->is_array())
		throw KeySetError("JWKS has no \"keys\" array");
	KeySet set;
	for (std::size_t i = 0; i < keys->size(); i++) {
		bool skipped = false;
		Key key = ParseJwk((*keys)[i], i, skipped);
		if (skipped)
			set.skipped_++;
		else
			set.Add(std::move(key));
	}
	if (set.keys_.empty())
		throw KeySetError("JWKS holds no key pg_tenancy can verify with (RS256, PS256, ES256, EdDSA or HS256)");
	return set;
}

KeySet KeySet::ParseKeyring(std::string_view text) {
	tok::Keyring ring;
	try {
		ring = tok::Keyring::Parse(text);
	} catch (const tok::KeyringError &e) {
		throw KeySetError(e.what());
	}
	KeySet set;
	for (const tok::Key &entry : ring.Keys()) {
		if (entry.use != tok::KeyUse::Context)
			continue; // a server-to-server forwarding key never verifies a user
		Key key;
		key.kid = entry.kid;
		key.alg = entry.alg == tok::Algorithm::HS256 ? Algorithm::HS256 : Algorithm::EdDSA;
		key.secret = entry.secret;
		key.raw_public = entry.public_key;
		set.Add(std::move(key));
	}
	if (set.keys_.empty())
		throw KeySetError("the identity keyring holds no keys");
	return set;
}

namespace {
bool LooksLikeJwks(std::string_view text) {
	std::size_t first = text.find_first_not_of(" \t\r\n");
	return first != std::string_view::npos && text[first] == '{';
}
} // namespace

KeySet KeySet::Parse(std::string_view text) {
	return LooksLikeJwks(text) ? ParseJwks(text) : ParseKeyring(text);
}

KeySet KeySet::LoadFile(const std::string &path) {
	try {
		std::string text = tok::ReadKeyFile(path, false);
		KeySet set = Parse(text);
		// A JWKS of public keys may be world-readable. A keyring (it may hold
		// EdDSA private keys) or a JWKS with an HMAC secret may not.
		if (!LooksLikeJwks(text) || set.HasSecrets())
			(void)tok::ReadKeyFile(path, true);
		return set;
	} catch (const tok::KeyringError &e) {
		throw KeySetError(e.what());
	} catch (const KeySetError &e) {
		throw KeySetError("identity key file \"" + path + "\": " + e.what());
	}
}

bool KeySet::HasSecrets() const noexcept {
	for (const Key &key : keys_)
		if (!key.secret.empty())
			return true;
	return false;
}

void KeySet::Add(Key key) {
	for (const Key &other : keys_)
		if (other.kid == key.kid && other.alg == key.alg)
			throw KeySetError(key.kid.empty() ? std::string("two ") + AlgorithmName(key.alg) + " keys have no kid"
			                                  : "two " + std::string(AlgorithmName(key.alg)) + " keys have kid \"" +
			                                        key.kid + "\"");
	keys_.push_back(std::move(key));
}

const Key *KeySet::Select(std::string_view kid, bool has_kid, Algorithm alg, Lookup &why) const noexcept {
	const Key *found = nullptr;
	bool kid_known = false;
	std::size_t candidates = 0;
	for (const Key &key : keys_) {
		if (has_kid && key.kid != kid)
			continue;
		kid_known = true;
		if (key.alg != alg)
			continue;
		candidates++;
		found = &key;
	}
	if (candidates == 1) {
		why = Lookup::Found;
		return found;
	}
	if (has_kid)
		why = kid_known ? Lookup::AlgorithmMismatch : Lookup::UnknownKid;
	else
		why = candidates == 0 ? Lookup::UnknownKid : Lookup::NoKidAmbiguous;
	return nullptr;
}

} // namespace pg_tenancy::engine::identity
