// main.cpp: tenancy-tickets, the seed's ticket system as an HTTP service on
// the pg_tenancy engine.
//
//   tenancy-tickets [--config FILE] [--listen-host H] [--listen-port P] [--worker-threads N]
//
// Settings come from --config FILE (or TICKETS_CONFIG), then the environment,
// then the command line (service_config.hpp). SIGTERM or SIGINT stop accepting,
// let requests in progress finish, and exit 0.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <pthread.h>
#include <thread>

#include "pg_tenancy/engine/errors.hpp"
#include "server.hpp"
#include "service_config.hpp"

namespace {

// Blocks SIGTERM and SIGINT in every thread started after this call; one
// thread waits for them and stops the server.
sigset_t BlockStopSignals() {
	sigset_t signals;
	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &signals, nullptr);
	return signals;
}

} // namespace

int main(int argc, char **argv) {
	CLI::App app{"tenancy-tickets: a multi-organization ticket service on pg_tenancy"};
	const char *env_config = std::getenv("TICKETS_CONFIG");
	std::string config_file = env_config ? env_config : "";
	std::string host, port, threads;
	app.add_option("--config", config_file, "key = value settings file [env TICKETS_CONFIG]");
	app.add_option("--listen-host", host, "address to listen on (default 127.0.0.1)");
	app.add_option("--listen-port", port, "port to listen on (default 8080)");
	app.add_option("--worker-threads", threads, "requests served at once (default 8)");
	CLI11_PARSE(app, argc, argv);

	tickets::ServiceConfig config;
	try {
		if (!config_file.empty())
			config = tickets::ServiceConfig::FromFile(config_file);
		config.ApplyEnvironment();
		if (!host.empty())
			config.Set("listen_host", host);
		if (!port.empty())
			config.Set("listen_port", port);
		if (!threads.empty())
			config.Set("worker_threads", threads);
		config.Validate();
	} catch (const tenancy::Error &e) {
		std::cerr << "tenancy-tickets: " << e.what() << "\n";
		return 2;
	}

	sigset_t stop_signals = BlockStopSignals();
	try {
		tenancy::Engine engine(config.engine);
		httplib::Server server;
		tickets::ConfigureServer(server, engine, config);
		if (!server.bind_to_port(config.listen_host, config.listen_port)) {
			std::cerr << "tenancy-tickets: cannot listen on " << config.listen_host << ":" << config.listen_port
			          << "\n";
			return 1;
		}
		std::thread stopper([&server, stop_signals] {
			int signal = 0;
			sigwait(&stop_signals, &signal);
			std::cerr << "tenancy-tickets: stopping (signal " << signal << ")\n";
			server.stop();
		});
		std::cerr << "tenancy-tickets: listening on " << config.listen_host << ":" << config.listen_port << "\n";
		// Returns after stop() once the workers finished, or false if accepting failed.
		bool stopped_cleanly = server.listen_after_bind();
		pthread_kill(stopper.native_handle(), SIGTERM); // wakes the stopper if the server ended on its own
		stopper.join();
		if (!stopped_cleanly) {
			std::cerr << "tenancy-tickets: accepting connections failed; exiting\n";
			return 1;
		}
		std::cerr << "tenancy-tickets: stopped\n";
		return 0;
	} catch (const tenancy::Error &e) {
		std::cerr << "tenancy-tickets: " << e.what() << "\n";
		return 1;
	}
}
