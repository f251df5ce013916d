// keyring.cpp: parsing, loading and generating keyrings (format in keyring.hpp).
#include "pg_tenancy/token/keyring.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "pg_tenancy/token/base64url.hpp"
#include "pg_tenancy/token/crypto.hpp"
#include "pg_tenancy/token/errors.hpp"
#include "pg_tenancy/token/cpp_only.hpp"

namespace pg_tenancy::token {
namespace {

std::string LineError(std::size_t line, const std::string &what) {
	return "keyring line " + std::to_string(line) + ": " + what;
}

std::string DecodeKeyMaterial(std::string_view text, std::size_t line) {
	std::string bytes;
	if (!Base64UrlDecode(text, bytes))
		throw KeyringError(LineError(line, "key material is not valid unpadded base64url"));
	return bytes;
}

Key ParseKeyLine(std::string_view kid, std::string_view alg, std::string_view material, std::size_t line) {
	if (!IsValidKid(kid))
		throw KeyringError(LineError(line, "kid must be 1 to 64 characters from [A-Za-z0-9._-]"));
	Key key;
	key.kid = std::string(kid);
	auto colon = material.find(':');
	if (colon == std::string_view::npos)
		throw KeyringError(LineError(line, "key material must start with secret:, public: or private:"));
	std::string_view kind = material.substr(0, colon);
	std::string bytes = DecodeKeyMaterial(material.substr(colon + 1), line);
	if (alg == "HS256") {
		key.alg = Algorithm::HS256;
		if (kind != "secret")
			throw KeyringError(LineError(line, "an HS256 key must be given as secret:<base64url>"));
		if (bytes.size() < kMinHmacSecretBytes)
			throw KeyringError(LineError(line, "an HS256 secret must be at least 32 bytes"));
		key.secret = std::move(bytes);
	} else if (alg == "EdDSA") {
		key.alg = Algorithm::EdDSA;
		if (bytes.size() != kEd25519KeyBytes)
			throw KeyringError(LineError(line, "an Ed25519 key must be exactly 32 bytes"));
		if (kind == "public") {
			key.public_key = std::move(bytes);
		} else if (kind == "private") {
			key.public_key = Ed25519PublicFromPrivate(bytes);
			key.private_key = std::move(bytes);
		} else {
			throw KeyringError(
			    LineError(line, "an EdDSA key must be given as public:<base64url> or private:<base64url>"));
		}
	} else {
		throw KeyringError(LineError(line, "algorithm must be HS256 or EdDSA"));
	}
	return key;
}

} // namespace

const char *AlgorithmName(Algorithm alg) noexcept {
	return alg == Algorithm::HS256 ? "HS256" : "EdDSA";
}

bool IsValidKid(std::string_view kid) noexcept {
	if (kid.empty() || kid.size() > kMaxKidLength)
		return false;
	for (char c : kid) {
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		          c == '-';
		if (!ok)
			return false;
	}
	return true;
}

Keyring Keyring::Parse(std::string_view text) {
	Keyring ring;
	std::size_t line_no = 0;
	std::size_t pos = 0;
	while (pos <= text.size()) {
		std::size_t end = text.find('\n', pos);
		if (end == std::string_view::npos)
			end = text.size();
		std::string_view line = text.substr(pos, end - pos);
		pos = end + 1;
		line_no++;
		if (!line.empty() && line.back() == '\r')
			line.remove_suffix(1);
		std::vector<std::string_view> fields;
		std::size_t i = 0;
		while (i < line.size()) {
			while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
				i++;
			std::size_t start = i;
			while (i < line.size() && line[i] != ' ' && line[i] != '\t')
				i++;
			if (i > start)
				fields.push_back(line.substr(start, i - start));
		}
		if (fields.empty() || fields[0][0] == '#')
			continue;
		if (fields.size() != 3 && fields.size() != 4)
			throw KeyringError(LineError(
			    line_no, "expected three fields: <kid> <algorithm> <kind>:<key>, and optionally use:forward"));
		Key key = ParseKeyLine(fields[0], fields[1], fields[2], line_no);
		if (fields.size() == 4) {
			if (fields[3] != "use:forward")
				throw KeyringError(LineError(line_no, "the optional fourth field must be use:forward"));
			if (key.alg != Algorithm::HS256)
				throw KeyringError(LineError(line_no, "a use:forward key must be an HS256 secret held by every node"));
			key.use = KeyUse::Forward;
		}
		ring.Add(std::move(key));
	}
	return ring;
}

void Keyring::Add(Key key) {
	if (Find(key.kid))
		throw KeyringError("keyring has two keys with kid \"" + key.kid + "\"");
	keys_.push_back(std::move(key));
}

std::string ReadKeyFile(const std::string &path, bool must_be_private) {
	struct stat st;
	if (stat(path.c_str(), &st) != 0)
		throw KeyringError("could not access keyring file \"" + path + "\": " + std::strerror(errno));
	if (!S_ISREG(st.st_mode))
		throw KeyringError("keyring file \"" + path + "\" is not a regular file");
	// Same rule as PostgreSQL's ssl_key_file: owned by us and private, or owned by root and
	// at most group-readable.
	if (must_be_private) {
		if (st.st_uid == geteuid()) {
			if (st.st_mode & (S_IRWXG | S_IRWXO))
				throw KeyringError("keyring file \"" + path + "\" has group or world access; run chmod 600 on it");
		} else if (st.st_uid == 0) {
			if (st.st_mode & (S_IWGRP | S_IXGRP | S_IRWXO))
				throw KeyringError("keyring file \"" + path + "\" owned by root must be at most mode 0640");
		} else {
			throw KeyringError("keyring file \"" + path + "\" must be owned by this user or by root");
		}
	}
	if (st.st_size > static_cast<off_t>(kMaxKeyringBytes))
		throw KeyringError("keyring file \"" + path + "\" is larger than 1 MiB");
	std::ifstream in(path, std::ios::binary);
	if (!in)
		throw KeyringError("could not open keyring file \"" + path + "\"");
	std::ostringstream content;
	content << in.rdbuf();
	if (content.str().size() > kMaxKeyringBytes)
		throw KeyringError("keyring file \"" + path + "\" is larger than 1 MiB");
	return content.str();
}

Keyring Keyring::LoadFile(const std::string &path) {
	return Parse(ReadKeyFile(path, true));
}

const Key *Keyring::Find(std::string_view kid) const noexcept {
	for (const Key &key : keys_)
		if (key.kid == kid)
			return &key;
	return nullptr;
}

const Key &Keyring::SigningKey(std::string_view kid) const {
	for (const Key &key : keys_)
		if ((kid.empty() || key.kid == kid) && key.CanSign() && key.use == KeyUse::Context)
			return key;
	if (kid.empty())
		throw KeyringError("the keyring has no key that can sign (an HS256 secret or an EdDSA private key)");
	throw KeyringError("the keyring has no signing key with kid \"" + std::string(kid) + "\"");
}

const Key *Keyring::ForwardingKey() const noexcept {
	for (const Key &key : keys_)
		if (key.use == KeyUse::Forward)
			return &key;
	return nullptr;
}

std::string Keyring::ToText() const {
	std::string out = "# pg_tenancy keyring: <kid> <algorithm> <kind>:<base64url key>\n";
	for (const Key &key : keys_) {
		out += key.kid + " " + AlgorithmName(key.alg) + " ";
		if (key.alg == Algorithm::HS256)
			out += "secret:" + Base64UrlEncode(key.secret);
		else if (!key.private_key.empty())
			out += "private:" + Base64UrlEncode(key.private_key);
		else
			out += "public:" + Base64UrlEncode(key.public_key);
		if (key.use == KeyUse::Forward)
			out += " use:forward";
		out += "\n";
	}
	return out;
}

namespace {
Key NewKey(std::string kid, Algorithm alg) {
	if (!IsValidKid(kid))
		throw KeyringError("kid must be 1 to 64 characters from [A-Za-z0-9._-]");
	Key key;
	key.kid = std::move(kid);
	key.alg = alg;
	return key;
}
} // namespace

Key GenerateHs256Key(std::string kid) {
	Key key = NewKey(std::move(kid), Algorithm::HS256);
	key.secret = RandomBytes(kMinHmacSecretBytes);
	return key;
}

Key GenerateForwardingKey(std::string kid) {
	Key key = GenerateHs256Key(std::move(kid));
	key.use = KeyUse::Forward;
	return key;
}

Key GenerateEd25519Key(std::string kid) {
	Key key = NewKey(std::move(kid), Algorithm::EdDSA);
	key.private_key = RandomBytes(kEd25519KeyBytes);
	key.public_key = Ed25519PublicFromPrivate(key.private_key);
	return key;
}

Key PublicPart(const Key &key) {
	Key pub = key;
	pub.private_key.clear();
	return pub;
}

} // namespace pg_tenancy::token
