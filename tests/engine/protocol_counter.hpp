// protocol_counter.hpp: a loopback proxy in front of the test server that counts
// round trips: every ReadyForQuery message the server sends ends one (the
// client waits for it before it can go on). Connect through conninfo().
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace engine_test {

class ProtocolCounter {
  public:
	ProtocolCounter(); // upstream: PGHOST/PGPORT (TCP host or socket directory)
	~ProtocolCounter();
	ProtocolCounter(const ProtocolCounter &) = delete;
	ProtocolCounter &operator=(const ProtocolCounter &) = delete;

	// Adds host/port (and no SSL, so the stream is plain) to `conninfo`.
	std::string Through(const std::string &conninfo) const;
	// ReadyForQuery messages seen so far, over all connections.
	long round_trips() const { return ready_for_query_.load(); }

  private:
	void Accept();
	void Relay(int client);

	int listener_ = -1;
	int port_ = 0;
	std::atomic<bool> stopping_{false};
	std::atomic<long> ready_for_query_{0};
	std::thread acceptor_;
	std::vector<std::thread> relays_;
};

} // namespace engine_test
