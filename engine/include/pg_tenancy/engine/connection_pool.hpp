// connection_pool.hpp: a thread-safe pool of libpqxx connections.
//
// The pool never repairs a connection it has doubts about: whoever leases one
// says at release whether it is still clean, and anything else is closed. New
// connections are opened lazily, up to the configured size.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <pqxx/connection>

#include "pg_tenancy/engine/namespace.hpp"

namespace pg_tenancy::engine {

struct PoolStats {
	std::size_t opened = 0;    // connections opened since the pool was created
	std::size_t discarded = 0; // connections closed because of doubt
	std::size_t idle = 0;
	std::size_t leased = 0;
};

class ConnectionPool;

// A leased connection; goes back to the pool (or is closed) when destroyed.
class PooledConnection {
  public:
	PooledConnection() = default;
	PooledConnection(PooledConnection &&other) noexcept;
	PooledConnection &operator=(PooledConnection &&other) noexcept;
	PooledConnection(const PooledConnection &) = delete;
	PooledConnection &operator=(const PooledConnection &) = delete;
	~PooledConnection();

	pqxx::connection &operator*() const { return *connection_; }
	pqxx::connection *operator->() const { return connection_.get(); }
	explicit operator bool() const noexcept { return connection_ != nullptr; }
	// Was this connection used before (as opposed to opened for this lease)?
	bool reused() const noexcept { return reused_; }
	// Mark the connection clean: it goes back to the pool. Without this call it
	// is closed on release.
	void MarkClean() noexcept { clean_ = true; }

  private:
	friend class ConnectionPool;
	PooledConnection(ConnectionPool *pool, std::unique_ptr<pqxx::connection> connection, bool reused);
	void Release() noexcept;

	ConnectionPool *pool_ = nullptr;
	std::unique_ptr<pqxx::connection> connection_;
	bool reused_ = false;
	bool clean_ = false;
};

class ConnectionPool {
  public:
	// `prepare` runs on every new connection (e.g. to prepare statements).
	ConnectionPool(std::string conninfo, std::size_t size, std::chrono::milliseconds lease_timeout,
	               std::function<void(pqxx::connection &)> prepare = {});
	~ConnectionPool();
	ConnectionPool(const ConnectionPool &) = delete;
	ConnectionPool &operator=(const ConnectionPool &) = delete;

	// Waits up to the lease timeout; throws DatabaseUnavailable.
	PooledConnection Lease();
	PoolStats Stats() const;
	// For diagnostics and tests: runs `inspect` on every idle connection, then
	// closes any that tenancy.assert_session_clean() no longer accepts.
	void ForEachIdle(const std::function<void(pqxx::connection &)> &inspect);

  private:
	friend class PooledConnection;
	void Return(std::unique_ptr<pqxx::connection> connection, bool clean) noexcept;
	std::unique_ptr<pqxx::connection> Open();

	const std::string conninfo_;
	const std::size_t size_;
	const std::chrono::milliseconds lease_timeout_;
	const std::function<void(pqxx::connection &)> prepare_;

	mutable std::mutex mutex_;
	std::condition_variable available_;
	std::vector<std::unique_ptr<pqxx::connection>> idle_;
	std::size_t leased_ = 0;
	std::size_t opened_ = 0;
	std::size_t discarded_ = 0;
};

} // namespace pg_tenancy::engine
