// keyring_files.hpp: reading and atomically rewriting keyring files with mode 0600.
#pragma once

#include <string>

#include "pg_tenancy/token/keyring.hpp"

namespace pg_tenancy::cli {

// The keyring at `path`, or an empty one if the file does not exist yet.
token::Keyring LoadOrEmpty(const std::string &path);

// Writes `ring` to `path` through a private temporary file and rename(2), so a
// reader never sees a half-written keyring and the file is never world-readable.
void WriteKeyring(const std::string &path, const token::Keyring &ring);

} // namespace pg_tenancy::cli
