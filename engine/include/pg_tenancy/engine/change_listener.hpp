// change_listener.hpp: a background thread that LISTENs on
// tenancy_membership_changed and clears the membership cache on every
// notification. While its connection is down the cache is disabled.
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "pg_tenancy/engine/membership_cache.hpp"
#include "pg_tenancy/engine/namespace.hpp"

namespace pg_tenancy::engine {

class ChangeListener {
  public:
	ChangeListener(std::string conninfo, MembershipCache &cache);
	~ChangeListener();
	ChangeListener(const ChangeListener &) = delete;
	ChangeListener &operator=(const ChangeListener &) = delete;

	// Blocks until the listener is connected (or `timeout` passes); true if it is.
	bool WaitUntilListening(std::chrono::milliseconds timeout) const;
	std::size_t NotificationsSeen() const noexcept { return notifications_.load(); }

  private:
	void Run();

	const std::string conninfo_;
	MembershipCache &cache_;
	std::atomic<bool> stop_{false};
	std::atomic<bool> listening_{false};
	std::atomic<std::size_t> notifications_{0};
	std::thread thread_;
};

} // namespace pg_tenancy::engine
