// connection_pool.cpp: see connection_pool.hpp.
#include "pg_tenancy/engine/connection_pool.hpp"

#include <pqxx/except>
#include <pqxx/nontransaction>

#include "pg_tenancy/engine/errors.hpp"

namespace pg_tenancy::engine {

PooledConnection::PooledConnection(ConnectionPool *pool, std::unique_ptr<pqxx::connection> connection, bool reused)
    : pool_(pool), connection_(std::move(connection)), reused_(reused) {}

PooledConnection::PooledConnection(PooledConnection &&other) noexcept
    : pool_(other.pool_), connection_(std::move(other.connection_)), reused_(other.reused_), clean_(other.clean_) {
	other.pool_ = nullptr;
}

PooledConnection &PooledConnection::operator=(PooledConnection &&other) noexcept {
	if (this != &other) {
		Release();
		pool_ = other.pool_;
		connection_ = std::move(other.connection_);
		reused_ = other.reused_;
		clean_ = other.clean_;
		other.pool_ = nullptr;
	}
	return *this;
}

PooledConnection::~PooledConnection() {
	Release();
}

void PooledConnection::Release() noexcept {
	if (pool_ && connection_)
		pool_->Return(std::move(connection_), clean_);
	pool_ = nullptr;
	clean_ = false;
}

ConnectionPool::ConnectionPool(std::string conninfo, std::size_t size, std::chrono::milliseconds lease_timeout,
                               std::function<void(pqxx::connection &)> prepare)
    : conninfo_(std::move(conninfo)), size_(size), lease_timeout_(lease_timeout), prepare_(std::move(prepare)) {
	if (size_ == 0)
		throw ConfigurationError("the connection pool needs a size of at least 1");
	idle_.reserve(size_); // so Return(), which is noexcept, never allocates
}

ConnectionPool::~ConnectionPool() {
	std::lock_guard<std::mutex> lock(mutex_);
	idle_.clear();
}

std::unique_ptr<pqxx::connection> ConnectionPool::Open() {
	try {
		auto connection = std::make_unique<pqxx::connection>(conninfo_);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
		// libpqxx 6 would otherwise silently reconnect after a lost connection and
		// run the next statement outside our transaction, without its context.
		connection->inhibit_reactivation(true);
#pragma GCC diagnostic pop
		if (prepare_)
			prepare_(*connection);
		return connection;
	} catch (const pqxx::broken_connection &e) {
		throw DatabaseUnavailable(std::string("could not connect to the database: ") + e.what());
	} catch (const pqxx::sql_error &e) {
		throw DatabaseUnavailable(std::string("could not prepare a database connection: ") + e.what());
	} catch (const pqxx::failure &e) {
		throw DatabaseUnavailable(std::string("could not prepare a database connection: ") + e.what());
	}
}

PooledConnection ConnectionPool::Lease() {
	std::unique_lock<std::mutex> lock(mutex_);
	if (!available_.wait_for(lock, lease_timeout_, [&] { return !idle_.empty() || leased_ < size_; }))
		throw DatabaseUnavailable("no database connection became free within " +
		                          std::to_string(lease_timeout_.count()) + " ms");
	leased_++;
	if (!idle_.empty()) {
		auto connection = std::move(idle_.back());
		idle_.pop_back();
		return PooledConnection(this, std::move(connection), true);
	}
	lock.unlock();
	try {
		auto connection = Open();
		std::lock_guard<std::mutex> relock(mutex_);
		opened_++;
		return PooledConnection(this, std::move(connection), false);
	} catch (...) {
		std::lock_guard<std::mutex> relock(mutex_);
		leased_--;
		available_.notify_one();
		throw;
	}
}

void ConnectionPool::Return(std::unique_ptr<pqxx::connection> connection, bool clean) noexcept {
	bool keep = clean && connection && connection->is_open();
	std::lock_guard<std::mutex> lock(mutex_);
	leased_--;
	if (keep) {
		idle_.push_back(std::move(connection));
	} else {
		discarded_++;
		connection.reset(); // closes it
	}
	available_.notify_one();
}

PoolStats ConnectionPool::Stats() const {
	std::lock_guard<std::mutex> lock(mutex_);
	return PoolStats{opened_, discarded_, idle_.size(), leased_};
}

void ConnectionPool::ForEachIdle(const std::function<void(pqxx::connection &)> &inspect) {
	std::lock_guard<std::mutex> lock(mutex_);
	for (auto it = idle_.begin(); it != idle_.end();) {
		inspect(**it);
		// Whatever the inspector did, the connection goes back only if it is as
		// clean as a returned lease must be.
		bool clean = false;
		try {
			pqxx::nontransaction check(**it);
			check.exec("SELECT tenancy.assert_session_clean()");
			clean = true;
		} catch (const std::exception &) {
		}
		if (clean) {
			++it;
		} else {
			discarded_++;
			it = idle_.erase(it);
		}
	}
}

} // namespace pg_tenancy::engine
