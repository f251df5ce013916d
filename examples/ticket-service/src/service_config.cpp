// service_config.cpp: reading and checking the ticket service's settings.
#include "service_config.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include "pg_tenancy/engine/errors.hpp"

namespace tickets {
namespace {

std::string Trim(const std::string &text) {
	const char *space = " \t\r\n";
	auto first = text.find_first_not_of(space);
	if (first == std::string::npos)
		return "";
	return text.substr(first, text.find_last_not_of(space) - first + 1);
}

long Number(const std::string &key, const std::string &value, long low, long high) {
	char *end = nullptr;
	errno = 0;
	long number = std::strtol(value.c_str(), &end, 10);
	if (value.empty() || *end != '\0' || errno != 0 || number < low || number > high)
		throw tenancy::ConfigurationError(key + " must be a whole number from " + std::to_string(low) + " to " +
		                                  std::to_string(high));
	return number;
}

} // namespace

void ServiceConfig::Set(const std::string &key, const std::string &value) {
	if (key == "listen_host")
		listen_host = value;
	else if (key == "listen_port")
		listen_port = static_cast<int>(Number(key, value, 1, 65535));
	else if (key == "worker_threads")
		worker_threads = static_cast<std::size_t>(Number(key, value, 1, 256));
	else if (key == "max_body_bytes")
		max_body_bytes = static_cast<std::size_t>(Number(key, value, 1024, 16 * 1024 * 1024));
	else if (key == "request_timeout_s")
		request_timeout_s = static_cast<int>(Number(key, value, 1, 300));
	else if (key == "keep_alive_timeout_s")
		keep_alive_timeout_s = static_cast<int>(Number(key, value, 1, 300));
	else if (key == "admin_key_file")
		admin_key_file = value;
	else
		engine.Set(key, value); // throws for keys nobody knows
}

ServiceConfig ServiceConfig::FromFile(const std::string &path) {
	std::ifstream in(path);
	if (!in)
		throw tenancy::ConfigurationError("could not read configuration file " + path);
	ServiceConfig config;
	std::string line;
	for (int number = 1; std::getline(in, line); number++) {
		std::string text = Trim(line);
		if (text.empty() || text[0] == '#')
			continue;
		auto equals = text.find('=');
		if (equals == std::string::npos)
			throw tenancy::ConfigurationError(path + ":" + std::to_string(number) + ": expected key = value");
		config.Set(Trim(text.substr(0, equals)), Trim(text.substr(equals + 1)));
	}
	return config;
}

void ServiceConfig::ApplyEnvironment() {
	engine.ApplyEnvironment();
	const std::pair<const char *, const char *> names[] = {{"TICKETS_LISTEN_HOST", "listen_host"},
	                                                       {"TICKETS_LISTEN_PORT", "listen_port"},
	                                                       {"TICKETS_WORKER_THREADS", "worker_threads"},
	                                                       {"TICKETS_ADMIN_KEY_FILE", "admin_key_file"}};
	for (const auto &[variable, key] : names)
		if (const char *value = std::getenv(variable); value && *value)
			Set(key, value);
}

void ServiceConfig::Validate() const {
	engine.Validate();
	if (engine.identity_keyring_file.empty())
		throw tenancy::ConfigurationError("identity_keyring_file is required: it verifies the bearer tokens");
	if (engine.pool_size < worker_threads)
		throw tenancy::ConfigurationError("pool_size must be at least worker_threads, or workers wait for connections");
}

std::string ServiceConfig::LoadAdminKey() const {
	if (admin_key_file.empty())
		return "";
	struct stat info {};
	if (stat(admin_key_file.c_str(), &info) != 0 || (info.st_mode & 077) != 0)
		throw tenancy::ConfigurationError("admin_key_file must exist and be readable by its owner only (mode 0600)");
	std::ifstream in(admin_key_file);
	std::stringstream text;
	text << in.rdbuf();
	std::string key = Trim(text.str());
	if (key.size() < 32)
		throw tenancy::ConfigurationError("the admin key must be at least 32 characters");
	return key;
}

} // namespace tickets
