// keyring_files.cpp: see keyring_files.hpp.
#include "keyring_files.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace pg_tenancy::cli {

token::Keyring LoadOrEmpty(const std::string &path) {
	struct stat st;
	if (stat(path.c_str(), &st) != 0 && errno == ENOENT)
		return token::Keyring();
	return token::Keyring::LoadFile(path);
}

void WriteKeyring(const std::string &path, const token::Keyring &ring) {
	std::string temp = path + ".tmp-XXXXXX";
	int fd = mkstemp(&temp[0]); // mkstemp creates the file with mode 0600
	if (fd < 0)
		throw std::runtime_error("could not create a file next to " + path + ": " + std::strerror(errno));
	std::string text = ring.ToText();
	bool ok = fchmod(fd, 0600) == 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
	          fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(temp.c_str(), path.c_str()) != 0) {
		int saved = errno;
		unlink(temp.c_str());
		throw std::runtime_error("could not write " + path + ": " + std::strerror(saved));
	}
}

} // namespace pg_tenancy::cli
