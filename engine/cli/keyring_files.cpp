// keyring_files.cpp: see keyring_files.hpp.
#include "keyring_files.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>
#include <fstream>
#include <sstream>

#include "pg_tenancy/token/errors.hpp"

namespace pg_tenancy::cli {

token::Keyring LoadForUpdate(const std::string &path) {
	struct stat st;
	if (stat(path.c_str(), &st) != 0) {
		if (errno == ENOENT)
			return token::Keyring();
		throw token::KeyringError("could not access keyring file \"" + path + "\": " + std::strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		throw token::KeyringError("keyring file \"" + path + "\" is not a regular file");
	if (st.st_mode & S_IRWXO)
		throw token::KeyringError("keyring file \"" + path + "\" is accessible to other users; run chmod o-rwx on it");
	std::ifstream in(path, std::ios::binary);
	std::ostringstream text;
	text << in.rdbuf();
	if (!in)
		throw token::KeyringError("could not read keyring file \"" + path + "\"");
	return token::Keyring::Parse(text.str());
}

void WriteKeyring(const std::string &path, const token::Keyring &ring) {
	std::string temp = path + ".tmp-XXXXXX";
	int fd = mkstemp(&temp[0]); // mkstemp creates the file with mode 0600
	if (fd < 0)
		throw std::runtime_error("could not create a file next to " + path + ": " + std::strerror(errno));
	std::string text = ring.ToText();
	struct stat existing;
	bool keep = stat(path.c_str(), &existing) == 0;
	bool ok = (keep ? fchown(fd, existing.st_uid, existing.st_gid) == 0 &&
	                      fchmod(fd, existing.st_mode & (S_IRWXU | S_IRWXG)) == 0
	                : fchmod(fd, 0600) == 0) &&
	          write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(temp.c_str(), path.c_str()) != 0) {
		int saved = errno;
		unlink(temp.c_str());
		throw std::runtime_error("could not write " + path + ": " + std::strerror(saved));
	}
}

} // namespace pg_tenancy::cli
