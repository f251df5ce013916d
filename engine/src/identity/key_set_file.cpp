// key_set_file.cpp: see identity_key_file.hpp.
#include "pg_tenancy/engine/identity_key_file.hpp"

#include <sys/stat.h>

namespace pg_tenancy::engine::identity {

bool KeySetFile::Stamp::operator==(const Stamp &o) const noexcept {
	return exists == o.exists && dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
	       mtime.tv_nsec == o.mtime.tv_nsec;
}

KeySetFile::Stamp KeySetFile::StatFile() const noexcept {
	Stamp stamp;
	struct stat st;
	if (stat(path_.c_str(), &st) == 0) {
		stamp.exists = true;
		stamp.dev = st.st_dev;
		stamp.ino = st.st_ino;
		stamp.size = st.st_size;
		stamp.mtime = st.st_mtim;
	}
	return stamp;
}

KeySetFile::KeySetFile(std::string path, std::chrono::milliseconds check_interval)
    : path_(std::move(path)), check_interval_(check_interval) {
	stamp_ = StatFile();
	keys_ = std::make_shared<const KeySet>(KeySet::LoadFile(path_));
	checked_at_ = std::chrono::steady_clock::now();
}

std::shared_ptr<const KeySet> KeySetFile::Current() {
	std::lock_guard<std::mutex> lock(mutex_);
	auto now = std::chrono::steady_clock::now();
	if (now - checked_at_ >= check_interval_) {
		checked_at_ = now;
		Stamp stamp = StatFile();
		if (!(stamp == stamp_)) {
			stamp_ = stamp;
			keys_.reset(); // fail closed until the new file loads
			try {
				keys_ = std::make_shared<const KeySet>(KeySet::LoadFile(path_));
				error_.clear();
			} catch (const KeySetError &e) {
				error_ = e.what();
			} catch (const std::exception &) {
				error_ = "identity key file \"" + path_ + "\" could not be loaded";
			}
		}
	}
	if (!keys_)
		throw KeySetError("the identity key set is unusable, so no bearer token is accepted: " + error_);
	return keys_;
}

} // namespace pg_tenancy::engine::identity
