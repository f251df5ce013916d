// identity_options.cpp: see identity_options.hpp.
#include "identity_options.hpp"

#include "pg_tenancy/engine/errors.hpp"

namespace pg_tenancy::cli {
namespace {

struct Flag {
	const char *name;
	const char *config_key; // the configuration key it overrides
	std::string IdentityFlags::*value;
	const char *help;
};

const Flag kFlags[] = {
    {"--identity-keyring", "identity_keyring_file", &IdentityFlags::keyring,
     "JWKS or keyring file that verifies --bearer [config identity_keyring_file, env TENANCY_IDENTITY_KEYRING]"},
    {"--identity-issuer", "identity_issuer", &IdentityFlags::issuer,
     "Issuer (iss) a bearer token must have [config identity_issuer, env TENANCY_IDENTITY_ISSUER]"},
    {"--identity-audience", "identity_audience", &IdentityFlags::audience,
     "Audience (aud) a bearer token must name [config identity_audience, env TENANCY_IDENTITY_AUDIENCE]"},
    {"--identity-user-claim", "identity_user_claim", &IdentityFlags::user_claim,
     "Claim that names the user (default sub) [config identity_user_claim, env TENANCY_IDENTITY_USER_CLAIM]"},
    {"--identity-subject-mapping", "identity_subject_mapping", &IdentityFlags::subject_mapping,
     "How the user claim maps to a user: uuid (it is the user id) or linked (see tenancy user link) "
     "[config identity_subject_mapping, env TENANCY_IDENTITY_SUBJECT_MAPPING]"},
    {"--clock-skew", "clock_skew", &IdentityFlags::clock_skew,
     "Seconds of leeway for a bearer token's exp, nbf and iat (0 to 300, default 30) [config clock_skew]"},
};

std::string ElsewhereHint(const char *config_key, const char *variable) {
	return std::string(" (or ") + config_key + " in --config, or " + variable + ")";
}

} // namespace

void AddIdentityFlags(CLI::App *cmd, IdentityFlags &flags) {
	for (const Flag &flag : kFlags)
		flags.given.push_back(cmd->add_option(flag.name, flags.*flag.value, flag.help));
	cmd->get_option("--identity-keyring")->check(CLI::ExistingFile);
	cmd->get_option("--identity-user-claim")->check([](const std::string &value) {
		return value.empty() ? std::string("must name a claim, such as sub") : std::string();
	});
	cmd->get_option("--identity-subject-mapping")->check(CLI::IsMember({"uuid", "linked"}));
	cmd->get_option("--clock-skew")->check(CLI::Range(0, 300));
}

void ApplyIdentityFlags(const IdentityFlags &flags, bool have_bearer, tenancy::EngineConfig &config) {
	for (std::size_t i = 0; i < flags.given.size(); i++) {
		if (flags.given[i]->count() == 0)
			continue;
		if (!have_bearer)
			throw CLI::ValidationError(kFlags[i].name, "only applies with --bearer (or TENANCY_BEARER)");
		try {
			config.Set(kFlags[i].config_key, flags.*kFlags[i].value);
		} catch (const tenancy::ConfigurationError &e) {
			throw CLI::ValidationError(kFlags[i].name, e.what());
		}
	}
	if (!have_bearer)
		return;
	if (config.identity_keyring_file.empty())
		throw CLI::ValidationError("--identity-keyring",
		                           "is needed to verify --bearer" +
		                               ElsewhereHint("identity_keyring_file", "TENANCY_IDENTITY_KEYRING"));
	if (config.identity_issuer.empty())
		throw CLI::ValidationError("--identity-issuer",
		                           "is needed to verify --bearer" +
		                               ElsewhereHint("identity_issuer", "TENANCY_IDENTITY_ISSUER"));
	if (config.identity_audience.empty())
		throw CLI::ValidationError("--identity-audience",
		                           "is needed to verify --bearer" +
		                               ElsewhereHint("identity_audience", "TENANCY_IDENTITY_AUDIENCE"));
}

} // namespace pg_tenancy::cli
