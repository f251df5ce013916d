// identity_options.hpp: the identity settings of `tenancy exec --bearer` as
// command-line flags. They override --config and the environment, as every
// other flag does.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "pg_tenancy/engine/config.hpp"

namespace pg_tenancy::cli {

struct IdentityFlags {
	std::string keyring; // identity_keyring_file
	std::string issuer;
	std::string audience;
	std::string user_claim;
	std::string subject_mapping;
	std::string clock_skew;
	std::vector<CLI::Option *> given; // the flags above, in order: which were used
};

void AddIdentityFlags(CLI::App *cmd, IdentityFlags &flags);

// Applies the flags that were given, then checks that a bearer token has what
// verifying it takes. Throws CLI::ValidationError naming the flag at fault.
void ApplyIdentityFlags(const IdentityFlags &flags, bool have_bearer, tenancy::EngineConfig &config);

} // namespace pg_tenancy::cli
