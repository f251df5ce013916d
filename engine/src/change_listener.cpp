// change_listener.cpp: see change_listener.hpp.
#include "pg_tenancy/engine/change_listener.hpp"

#include <chrono>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/notification>

namespace pg_tenancy::engine {
namespace {

constexpr const char *kChannel = "tenancy_membership_changed";

class ClearOnNotify : public pqxx::notification_receiver {
  public:
	ClearOnNotify(pqxx::connection_base &connection, MembershipCache &cache, std::atomic<std::size_t> &count)
	    : pqxx::notification_receiver(connection, kChannel), cache_(cache), count_(count) {}
	void operator()(const std::string &, int) override {
		cache_.Clear();
		count_++;
	}

  private:
	MembershipCache &cache_;
	std::atomic<std::size_t> &count_;
};

} // namespace

ChangeListener::ChangeListener(std::string conninfo, MembershipCache &cache)
    : conninfo_(std::move(conninfo)), cache_(cache), thread_([this] { Run(); }) {}

ChangeListener::~ChangeListener() {
	stop_ = true;
	if (thread_.joinable())
		thread_.join();
}

bool ChangeListener::WaitUntilListening(std::chrono::milliseconds timeout) const {
	auto deadline = std::chrono::steady_clock::now() + timeout;
	while (!listening_ && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	return listening_;
}

void ChangeListener::Run() {
	auto backoff = std::chrono::milliseconds(100);
	while (!stop_) {
		try {
			pqxx::connection connection(conninfo_);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
			connection.inhibit_reactivation(true);
#pragma GCC diagnostic pop
			ClearOnNotify receiver(connection, cache_, notifications_);
			connection.get_notifs(); // make sure LISTEN has been sent
			// Whatever changed while we were not listening is unknown: start empty.
			cache_.SetEnabled(true);
			listening_ = true;
			backoff = std::chrono::milliseconds(100);
			while (!stop_)
				connection.await_notification(0, 200000);
		} catch (const std::exception &) {
			// Lost the connection (or never got it): stop trusting the cache.
		}
		listening_ = false;
		cache_.SetEnabled(false);
		for (auto waited = std::chrono::milliseconds(0); !stop_ && waited < backoff;
		     waited += std::chrono::milliseconds(50))
			std::this_thread::sleep_for(std::chrono::milliseconds(50));
		backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
	}
	cache_.SetEnabled(false);
}

} // namespace pg_tenancy::engine
