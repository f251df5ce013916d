// config.cpp: see config.hpp.
#include "pg_tenancy/engine/config.hpp"

#include <cstdlib>
#include <fstream>
#include <limits>

#include "pg_tenancy/engine/errors.hpp"

namespace pg_tenancy::engine {
namespace {

std::string Trim(const std::string &s) {
	auto begin = s.find_first_not_of(" \t\r");
	if (begin == std::string::npos)
		return "";
	auto end = s.find_last_not_of(" \t\r");
	return s.substr(begin, end - begin + 1);
}

long long ParseNumber(const std::string &key, const std::string &value, long long min, long long max) {
	try {
		std::size_t used = 0;
		long long n = std::stoll(value, &used);
		if (used == value.size() && n >= min && n <= max)
			return n;
	} catch (const std::exception &) {
	}
	throw ConfigurationError(key + " must be a whole number from " + std::to_string(min) + " to " +
	                         std::to_string(max));
}

bool ParseBool(const std::string &key, const std::string &value) {
	if (value == "on" || value == "true" || value == "yes" || value == "1")
		return true;
	if (value == "off" || value == "false" || value == "no" || value == "0")
		return false;
	throw ConfigurationError(key + " must be on or off");
}

} // namespace

void EngineConfig::Set(const std::string &key, const std::string &value) {
	if (key == "conninfo")
		conninfo = value;
	else if (key == "admin_conninfo")
		admin_conninfo = value;
	else if (key == "keyring_file")
		keyring_file = value;
	else if (key == "signing_kid")
		signing_kid = value;
	else if (key == "identity_keyring_file")
		identity_keyring_file = value;
	else if (key == "identity_issuer")
		identity_issuer = value;
	else if (key == "identity_audience")
		identity_audience = value;
	else if (key == "identity_user_claim") {
		if (value.empty())
			throw ConfigurationError("identity_user_claim must name a claim, such as sub");
		identity_user_claim = value;
	} else if (key == "identity_subject_mapping") {
		if (value != "uuid" && value != "linked")
			throw ConfigurationError("identity_subject_mapping must be uuid or linked");
		identity_subject_mapping = value == "uuid" ? SubjectMapping::UserId : SubjectMapping::Linked;
	} else if (key == "token_ttl")
		token_ttl = std::chrono::seconds(ParseNumber(key, value, 1, 3600));
	else if (key == "membership_cache_ttl")
		membership_cache_ttl = std::chrono::seconds(ParseNumber(key, value, 0, 3600));
	else if (key == "clock_skew")
		clock_skew = std::chrono::seconds(ParseNumber(key, value, 0, 300));
	else if (key == "pool_size")
		pool_size = static_cast<std::size_t>(ParseNumber(key, value, 1, 1000));
	else if (key == "lease_timeout_ms")
		lease_timeout = std::chrono::milliseconds(ParseNumber(key, value, 1, 600000));
	else if (key == "listen_for_changes")
		listen_for_changes = ParseBool(key, value);
	else if (key == "prepared_statements")
		prepared_statements = ParseBool(key, value);
	else
		throw ConfigurationError("unknown configuration key \"" + key + "\"");
}

EngineConfig EngineConfig::FromFile(const std::string &path) {
	std::ifstream in(path);
	if (!in)
		throw ConfigurationError("could not read configuration file " + path);
	EngineConfig config;
	std::string line;
	for (int number = 1; std::getline(in, line); number++) {
		std::string text = Trim(line);
		if (text.empty() || text[0] == '#')
			continue;
		auto eq = text.find('=');
		if (eq == std::string::npos)
			throw ConfigurationError(path + ":" + std::to_string(number) + ": expected key = value");
		try {
			config.Set(Trim(text.substr(0, eq)), Trim(text.substr(eq + 1)));
		} catch (const ConfigurationError &e) {
			throw ConfigurationError(path + ":" + std::to_string(number) + ": " + e.what());
		}
	}
	return config;
}

void EngineConfig::ApplyEnvironment() {
	const std::pair<const char *, const char *> variables[] = {
	    {"TENANCY_CONNINFO", "conninfo"},
	    {"TENANCY_ADMIN_CONNINFO", "admin_conninfo"},
	    {"TENANCY_KEYRING", "keyring_file"},
	    {"TENANCY_SIGNING_KID", "signing_kid"},
	    {"TENANCY_IDENTITY_KEYRING", "identity_keyring_file"},
	    {"TENANCY_IDENTITY_ISSUER", "identity_issuer"},
	    {"TENANCY_IDENTITY_AUDIENCE", "identity_audience"},
	    {"TENANCY_IDENTITY_USER_CLAIM", "identity_user_claim"},
	    {"TENANCY_IDENTITY_SUBJECT_MAPPING", "identity_subject_mapping"},
	    {"TENANCY_TOKEN_TTL", "token_ttl"},
	    {"TENANCY_POOL_SIZE", "pool_size"},
	};
	for (const auto &[variable, key] : variables) {
		const char *value = std::getenv(variable);
		if (value && *value) {
			try {
				Set(key, value);
			} catch (const ConfigurationError &e) {
				throw ConfigurationError(std::string(variable) + ": " + e.what());
			}
		}
	}
}

void EngineConfig::Validate() const {
	if (keyring_file.empty())
		throw ConfigurationError("keyring_file is required (the keyring that signs context tokens)");
	if (pool_size == 0)
		throw ConfigurationError("pool_size must be at least 1");
	if (!identity_keyring_file.empty() && (identity_issuer.empty() || identity_audience.empty()))
		throw ConfigurationError("identity_issuer and identity_audience are required with identity_keyring_file");
}

} // namespace pg_tenancy::engine
