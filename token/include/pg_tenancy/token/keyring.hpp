// keyring.hpp: the keys that sign and verify context tokens.
//
// Text format, one key per line (blank lines and lines starting with '#' are ignored):
//
//     <kid> HS256 secret:<base64url, at least 32 bytes>
//     <kid> EdDSA public:<base64url, 32 bytes>     (verify only: what the server needs)
//     <kid> EdDSA private:<base64url, 32 bytes>    (sign and verify: what the engine needs)
//     <kid> HS256 secret:<base64url> use:forward   (server-to-server: see forward_token.hpp)
//
// Each key is pinned to its algorithm, so a token can never pick how it is checked.
// Several keys may be live at once: that is how keys rotate without downtime.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pg_tenancy::token {

enum class Algorithm { HS256, EdDSA };

// What a key is for. A use:forward key signs only the forwarding contexts a
// Citus coordinator sends its workers: it never signs or verifies a user's
// context token, and a context key never verifies a forwarding context.
enum class KeyUse { Context, Forward };

const char *AlgorithmName(Algorithm alg) noexcept;

struct Key {
	std::string kid;
	Algorithm alg = Algorithm::HS256;
	std::string secret;      // HS256 only
	std::string public_key;  // EdDSA only: raw 32 bytes
	std::string private_key; // EdDSA only, may be empty: raw 32-byte seed
	KeyUse use = KeyUse::Context;

	bool CanSign() const noexcept { return alg == Algorithm::HS256 || !private_key.empty(); }
};

constexpr std::size_t kMinHmacSecretBytes = 32;
constexpr std::size_t kMaxKidLength = 64;

class Keyring {
  public:
	// Throws KeyringError naming the offending line (never its key material).
	static Keyring Parse(std::string_view text);

	// Reads a keyring file, refusing one that other OS users could read or change
	// (the same rule PostgreSQL applies to ssl_key_file). Throws KeyringError.
	static Keyring LoadFile(const std::string &path);

	const Key *Find(std::string_view kid) const noexcept;
	// The context key named `kid`, or the first context key that can sign when
	// `kid` is empty. Throws KeyringError if there is none.
	const Key &SigningKey(std::string_view kid = {}) const;
	// The first use:forward key, or nullptr.
	const Key *ForwardingKey() const noexcept;
	const std::vector<Key> &Keys() const noexcept { return keys_; }
	bool Empty() const noexcept { return keys_.empty(); }

	// Serialise back to the text format (used by key generation).
	std::string ToText() const;
	void Add(Key key);

  private:
	std::vector<Key> keys_;
};

bool IsValidKid(std::string_view kid) noexcept;

constexpr std::size_t kMaxKeyringBytes = 1 << 20;
// The contents of a key file (at most 1 MiB, a regular file). With
// `must_be_private`, refuses a file other OS users could read or change: owned
// by this user and mode 0600, or owned by root and at most 0640 (PostgreSQL's
// rule for ssl_key_file). Throws KeyringError.
std::string ReadKeyFile(const std::string &path, bool must_be_private);

// Fresh keys from the CSPRNG.
Key GenerateHs256Key(std::string kid);
Key GenerateEd25519Key(std::string kid);
// An HS256 use:forward key (the same line goes into every node's keyring).
Key GenerateForwardingKey(std::string kid);
// The same key without its private half (what to give the database server).
Key PublicPart(const Key &key);

} // namespace pg_tenancy::token

#include "pg_tenancy/token/cpp_only.hpp"
