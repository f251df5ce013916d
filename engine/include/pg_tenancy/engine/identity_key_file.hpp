// identity_key_file.hpp: the identity key set file, reloaded when it changes.
//
// The file is stat()ed at most once per check interval (default: a second, the
// same rule as the server's context keyring), so a key removed from the file
// stops verifying within a second, and a provider's new key works as soon as the
// new document is saved. Replace the file atomically (write a temporary file,
// then rename it over the old one).
//
// Fail closed: when the changed file cannot be read or parsed, no token verifies
// (Current() throws KeySetError naming the problem) until the file is fixed.
// Keeping the previous keys instead would keep a key someone just removed (say,
// because it leaked) working for as long as the new file stays broken.
#pragma once

#include "pg_tenancy/engine/namespace.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <ctime>

#include "pg_tenancy/engine/identity_keys.hpp"

namespace pg_tenancy::engine::identity {

class KeySetFile {
  public:
	// Loads the file now; throws KeySetError if it is unusable.
	explicit KeySetFile(std::string path, std::chrono::milliseconds check_interval = std::chrono::milliseconds(1000));

	// The current key set; throws KeySetError while the file is unusable.
	std::shared_ptr<const KeySet> Current();
	const std::string &path() const noexcept { return path_; }

  private:
	struct Stamp {
		bool exists = false;
		dev_t dev = 0;
		ino_t ino = 0;
		off_t size = 0;
		struct timespec mtime {};
		bool operator==(const Stamp &o) const noexcept;
	};
	Stamp StatFile() const noexcept;

	const std::string path_;
	const std::chrono::milliseconds check_interval_;
	std::mutex mutex_;
	Stamp stamp_;
	std::shared_ptr<const KeySet> keys_; // null while the file is unusable
	std::string error_;
	std::chrono::steady_clock::time_point checked_at_;
};

} // namespace pg_tenancy::engine::identity
