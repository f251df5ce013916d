// protocol_counter.cpp: see protocol_counter.hpp.
#include "protocol_counter.hpp"

#include <arpa/inet.h>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace engine_test {
namespace {

int ConnectUpstream() {
	const char *host = std::getenv("PGHOST");
	const char *port_text = std::getenv("PGPORT");
	int port = port_text ? std::atoi(port_text) : 5432;
	if (host && host[0] == '/') {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		sockaddr_un address{};
		address.sun_family = AF_UNIX;
		std::snprintf(address.sun_path, sizeof address.sun_path, "%s/.s.PGSQL.%d", host, port);
		if (connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
			close(fd);
			return -1;
		}
		return fd;
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	sockaddr_in address{};
	address.sin_family = AF_INET;
	address.sin_port = htons(static_cast<uint16_t>(port));
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

bool WriteAll(int fd, const char *data, ssize_t size) {
	while (size > 0) {
		ssize_t n = write(fd, data, static_cast<size_t>(size));
		if (n <= 0)
			return false;
		data += n;
		size -= n;
	}
	return true;
}

// Walks the server's typed messages (type byte, 4-byte length) across reads.
struct MessageScanner {
	unsigned char header[5];
	int header_have = 0;
	long body_left = 0;

	template <typename OnType> void Feed(const unsigned char *data, ssize_t size, OnType &&on_type) {
		for (ssize_t i = 0; i < size;) {
			if (body_left > 0) {
				long take = std::min<long>(body_left, size - i);
				body_left -= take;
				i += take;
				continue;
			}
			header[header_have++] = data[i++];
			if (header_have == 5) {
				on_type(header[0]);
				long length = (long(header[1]) << 24) | (long(header[2]) << 16) | (long(header[3]) << 8) | header[4];
				body_left = length - 4;
				header_have = 0;
			}
		}
	}
};

} // namespace

ProtocolCounter::ProtocolCounter() {
	listener_ = socket(AF_INET, SOCK_STREAM, 0);
	sockaddr_in address{};
	address.sin_family = AF_INET;
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t length = sizeof address;
	if (bind(listener_, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 || listen(listener_, 16) != 0 ||
	    getsockname(listener_, reinterpret_cast<sockaddr *>(&address), &length) != 0)
		throw std::runtime_error("protocol counter: cannot listen on loopback");
	port_ = ntohs(address.sin_port);
	acceptor_ = std::thread([this] { Accept(); });
}

ProtocolCounter::~ProtocolCounter() {
	stopping_ = true;
	shutdown(listener_, SHUT_RDWR);
	close(listener_);
	acceptor_.join();
	for (std::thread &relay : relays_)
		relay.join();
}

std::string ProtocolCounter::Through(const std::string &conninfo) const {
	return conninfo + " host=127.0.0.1 port=" + std::to_string(port_) + " sslmode=disable gssencmode=disable";
}

void ProtocolCounter::Accept() {
	while (!stopping_) {
		int client = accept(listener_, nullptr, nullptr);
		if (client < 0)
			return;
		relays_.emplace_back([this, client] { Relay(client); });
	}
}

void ProtocolCounter::Relay(int client) {
	int server = ConnectUpstream();
	if (server < 0) {
		close(client);
		return;
	}
	MessageScanner scanner;
	unsigned char buffer[65536];
	pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
	while (!stopping_) {
		if (poll(fds, 2, 200) < 0)
			break;
		if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(client, buffer, sizeof buffer);
			if (n <= 0 || !WriteAll(server, reinterpret_cast<char *>(buffer), n))
				break;
		}
		if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(server, buffer, sizeof buffer);
			if (n <= 0)
				break;
			scanner.Feed(buffer, n, [this](unsigned char type) {
				if (type == 'Z')
					ready_for_query_++;
			});
			if (!WriteAll(client, reinterpret_cast<char *>(buffer), n))
				break;
		}
	}
	close(client);
	close(server);
}

} // namespace engine_test
