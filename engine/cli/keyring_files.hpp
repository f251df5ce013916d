// keyring_files.hpp: reading and atomically rewriting keyring files with mode 0600.
#pragma once

#include <string>

#include "pg_tenancy/token/keyring.hpp"

namespace pg_tenancy::cli {

// The keyring at `path` for rewriting, or an empty one if the file does not
// exist yet. Unlike Keyring::LoadFile() it accepts a file owned by another user
// (the server's keyring belongs to postgres), but never one that other users
// can read or write.
token::Keyring LoadForUpdate(const std::string &path);

// Writes `ring` to `path` through a temporary file and rename(2), so a reader
// never sees a half-written keyring. A new file gets mode 0600; an existing one
// keeps its owner, group and mode.
void WriteKeyring(const std::string &path, const token::Keyring &ring);

} // namespace pg_tenancy::cli
