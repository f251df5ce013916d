// soak.cpp: a bounded fault soak of the engine with a commit ledger.
//
// Worker threads run tenant transactions for many organizations, half through a
// PgBouncer in transaction mode and half directly, while a chaos thread
// terminates random backends, restarts the server once and rotates the keyring
// (new key trusted, engine switched, old key withdrawn). Every outcome the engine
// reports is written to a ledger; at the end the ledger and the database must
// agree exactly, no read may have seen another organization's row or missed a
// commit reported earlier, no idle pooled connection may carry state, and the
// process's RSS growth after warm-up must stay under a bound.
//
// Prints one line:
//   soak: committed=N verified=N unknown=N unknown_reconciled=N ... foreign_rows=0 dirty_connections=0 rss_growth_kib=N
// and exits 1 on any mismatch. Run by tests/soak/run.sh inside a cluster.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <CLI/CLI.hpp>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger.hpp"
#include "pg_tenancy/engine/engine.hpp"
#include "pg_tenancy/token/keyring.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace tok = pg_tenancy::token;

struct Options {
	int seconds = 90;
	int threads = 8;
	int orgs = 24;
	int kill_interval_ms = 300;
	std::string database = "tenancy_soak";
	std::string work_dir = "/tmp";
	std::string server_keyring;
	std::string restart_command;
	int pgbouncer_port = 0;
	long max_rss_growth_kib = 16384;
	bool drop_ledger_entry = false;
};

struct Counters {
	std::atomic<long> reads{0}, foreign_rows{0}, lost_reads{0}, untyped_errors{0};
	std::atomic<long> not_a_member{0}, invalid_token{0}, context_lost{0}, commit_unknown{0}, unavailable{0},
	    database_errors{0};
	std::atomic<long> terminated{0}, restarts{0}, rotations{0}, dirty_connections{0}, inspected{0};
};

long RssKib() {
	std::ifstream status("/proc/self/status");
	std::string line;
	while (std::getline(status, line))
		if (line.rfind("VmRSS:", 0) == 0)
			return std::atol(line.c_str() + 6);
	return -1;
}

void Sleep(int ms) {
	std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

pqxx::result Super(const std::string &conninfo, const std::string &sql) {
	pqxx::connection connection(conninfo);
	pqxx::nontransaction work(connection);
	return work.exec(sql);
}

// Runs `fn` until it stops throwing (the server may be restarting), up to 60 s.
template <typename Fn> auto Retrying(Fn &&fn) -> decltype(fn()) {
	for (int attempt = 0;; attempt++) {
		try {
			return fn();
		} catch (const std::exception &) {
			if (attempt >= 300)
				throw;
			Sleep(200);
		}
	}
}

// Writes a keyring file atomically, owned like `like` (the server's keyring belongs
// to the postgres OS user and must stay mode 0600).
void WriteKeyring(const std::string &path, const tok::Keyring &ring, const std::string &like) {
	std::string temp = path + ".new";
	{
		std::ofstream out(temp, std::ios::trunc);
		out << ring.ToText();
		if (!out)
			throw std::runtime_error("cannot write " + temp);
	}
	chmod(temp.c_str(), 0600);
	struct stat st;
	if (!like.empty() && stat(like.c_str(), &st) == 0 && chown(temp.c_str(), st.st_uid, st.st_gid) != 0)
		throw std::runtime_error("cannot chown " + temp);
	if (std::rename(temp.c_str(), path.c_str()) != 0)
		throw std::runtime_error("cannot rename " + temp);
}

tok::Keyring RingOf(std::initializer_list<tok::Key> keys) {
	tok::Keyring ring;
	for (const tok::Key &key : keys)
		ring.Add(key);
	return ring;
}

class Soak {
  public:
	explicit Soak(Options options) : options_(std::move(options)) {}

	int Run();

  private:
	std::string SuperConninfo() const { return "dbname=" + options_.database; }
	tenancy::EngineConfig Config(bool through_bouncer, const std::string &keyring_file) const;
	void SetUpDatabase();
	std::shared_ptr<tenancy::Engine> CurrentEngine(bool through_bouncer);
	void RotateKeyring();
	void Worker(int index);
	void OneTransaction(tenancy::Engine &engine, std::mt19937_64 &random);
	void Chaos();
	void InspectPools();
	std::map<std::int64_t, soak::Stored> ReadDatabase();

	Options options_;
	soak::Ledger ledger_;
	Counters counters_;
	std::atomic<bool> stop_{false};
	std::atomic<std::int64_t> next_txn_{1};
	std::vector<std::pair<tenancy::Identity, tenancy::Uuid>> orgs_; // owner, organization
	std::mutex engines_mutex_;
	std::shared_ptr<tenancy::Engine> direct_, bounced_;
	std::vector<tok::Key> keys_;
	Clock::time_point start_;
};

tenancy::EngineConfig Soak::Config(bool through_bouncer, const std::string &keyring_file) const {
	tenancy::EngineConfig config;
	config.conninfo = "dbname=" + options_.database + " user=engine_app password=engine_app";
	if (through_bouncer)
		config.conninfo += " host=127.0.0.1 port=" + std::to_string(options_.pgbouncer_port);
	config.admin_conninfo = "dbname=" + options_.database + " user=engine_admin password=engine_admin";
	config.keyring_file = keyring_file;
	config.pool_size = 6; // more than the threads per engine, so idle connections get inspected
	config.lease_timeout = std::chrono::milliseconds(3000);
	config.prepared_statements = !through_bouncer; // PgBouncer 1.18 cannot keep them
	return config;
}

void Soak::SetUpDatabase() {
	{
		pqxx::connection server("dbname=postgres");
		pqxx::nontransaction work(server);
		work.exec("DROP DATABASE IF EXISTS " + options_.database + " WITH (FORCE)");
		work.exec("CREATE DATABASE " + options_.database);
		for (const char *role : {"engine_app", "engine_admin"}) {
			if (work.exec(std::string("SELECT 1 FROM pg_roles WHERE rolname = '") + role + "'").empty())
				work.exec(std::string("CREATE ROLE ") + role);
			work.exec(std::string("ALTER ROLE ") + role + " LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '" + role + "'");
		}
	}
	std::string s = SuperConninfo();
	Super(s, "CREATE EXTENSION pg_tenancy");
	Super(s, "GRANT EXECUTE ON FUNCTION tenancy.lookup_membership(uuid, uuid), tenancy.register_user(text, text) "
	         "TO engine_admin");
	// txn_id is the ledger's key: every row of one transaction carries it.
	Super(s, "CREATE TABLE soak_rows (id bigserial PRIMARY KEY, organization_id uuid NOT NULL, txn_id bigint NOT NULL, "
	         "seq int NOT NULL)");
	Super(s, "SELECT tenancy.protect('soak_rows')");
	Super(s, "GRANT SELECT, INSERT ON soak_rows TO engine_app");
	Super(s, "GRANT USAGE ON SEQUENCE soak_rows_id_seq TO engine_app");
}

std::shared_ptr<tenancy::Engine> Soak::CurrentEngine(bool through_bouncer) {
	std::lock_guard<std::mutex> lock(engines_mutex_);
	return through_bouncer ? bounced_ : direct_;
}

void Soak::OneTransaction(tenancy::Engine &engine, std::mt19937_64 &random) {
	const auto &[owner, org] = orgs_[random() % orgs_.size()];
	int kind = static_cast<int>(random() % 10);
	std::int64_t txn = 0;
	try {
		if (kind >= 8) {
			// A read: only this organization's rows, and every commit reported so far.
			std::vector<std::int64_t> committed = ledger_.CommittedOf(org);
			auto tx = engine.Transaction(owner, org);
			pqxx::result rows = tx.Exec("SELECT organization_id::text, txn_id FROM soak_rows");
			std::unordered_set<std::int64_t> seen;
			std::string mine = tenancy::ToString(org);
			for (const auto &row : rows) {
				if (row[0].as<std::string>() != mine)
					counters_.foreign_rows++;
				seen.insert(row[1].as<std::int64_t>());
			}
			for (std::int64_t id : committed)
				counters_.lost_reads += !seen.count(id);
			tx.Commit();
			counters_.reads++;
			return;
		}
		int rows = 1 + static_cast<int>(random() % 3);
		txn = next_txn_++;
		ledger_.Begin(txn, org, rows);
		auto tx = engine.Transaction(owner, org);
		tx.ExecParams("INSERT INTO soak_rows (txn_id, seq) SELECT $1, g FROM generate_series(1, $2) g", txn, rows);
		if (kind == 6) {
			tx.Rollback();
			ledger_.Record(txn, soak::Outcome::Aborted);
		} else if (kind == 7) {
			tx.Exec("SELECT 1 / 0"); // throws: the transaction must leave nothing behind
		} else {
			tx.Commit();
			ledger_.Record(txn, soak::Outcome::Committed);
		}
	} catch (const tenancy::CommitOutcomeUnknown &) {
		counters_.commit_unknown++;
		if (txn) // a read's commit outcome does not matter
			ledger_.Record(txn, soak::Outcome::Unknown);
	} catch (const tenancy::Error &e) {
		// Every other typed error means nothing was committed.
		if (txn)
			ledger_.Record(txn, soak::Outcome::Aborted);
		if (dynamic_cast<const tenancy::NotAMember *>(&e))
			counters_.not_a_member++;
		else if (dynamic_cast<const tenancy::InvalidToken *>(&e))
			counters_.invalid_token++;
		else if (dynamic_cast<const tenancy::ContextLost *>(&e))
			counters_.context_lost++;
		else if (dynamic_cast<const tenancy::DatabaseUnavailable *>(&e))
			counters_.unavailable++;
		else if (kind != 7)
			counters_.database_errors++;
		if (kind != 7)
			Sleep(20);
	} catch (const std::exception &e) {
		// The engine promises typed errors; anything else is reported, and its
		// outcome is reconciled like an unknown one.
		if (counters_.untyped_errors++ < 5)
			std::cerr << "soak: untyped error: " << e.what() << "\n";
		if (txn)
			ledger_.Record(txn, soak::Outcome::Unknown);
		Sleep(20);
	}
}

void Soak::Worker(int index) {
	std::mt19937_64 random(1000 + index);
	while (!stop_) {
		std::shared_ptr<tenancy::Engine> engine = CurrentEngine(index % 2 == 1);
		OneTransaction(*engine, random);
	}
}

void Soak::RotateKeyring() {
	// 1. The server trusts the old and the new key (it notices a changed file within a second).
	tok::Key next = tok::GenerateEd25519Key("soak-" + std::to_string(keys_.size()));
	tok::Key old = keys_.back();
	WriteKeyring(options_.server_keyring, RingOf({tok::PublicPart(old), tok::PublicPart(next)}),
	             options_.server_keyring);
	Retrying([&] { return Super(SuperConninfo(), "SELECT pg_reload_conf()"); });
	Sleep(1500);
	// 2. The engines sign with the new key from now on.
	std::string app_keyring = options_.work_dir + "/soak-app-" + next.kid + ".keyring";
	WriteKeyring(app_keyring, RingOf({next}), "");
	auto direct = std::make_shared<tenancy::Engine>(Config(false, app_keyring));
	auto bounced = std::make_shared<tenancy::Engine>(Config(true, app_keyring));
	{
		std::lock_guard<std::mutex> lock(engines_mutex_);
		direct_.swap(direct);
		bounced_.swap(bounced);
	}
	// 3. Once no transaction of the old engines is in flight, the old key goes.
	while (direct.use_count() > 1 || bounced.use_count() > 1)
		Sleep(10);
	direct.reset();
	bounced.reset();
	WriteKeyring(options_.server_keyring, RingOf({tok::PublicPart(next)}), options_.server_keyring);
	keys_.push_back(next);
	counters_.rotations++;
}

void Soak::Chaos() {
	std::mt19937_64 random(7);
	bool restarted = false, rotated = false;
	auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start_).count() / options_.seconds; };
	while (!stop_) {
		Sleep(options_.kill_interval_ms / 2 + static_cast<int>(random() % options_.kill_interval_ms));
		if (stop_)
			break;
		try {
			if (!restarted && elapsed() > 0.4 && !options_.restart_command.empty()) {
				restarted = true;
				int status = std::system(options_.restart_command.c_str());
				if (status == 0)
					counters_.restarts++;
				else
					std::cerr << "soak: restart command failed (status " << status << ")\n";
				continue;
			}
			if (!rotated && elapsed() > 0.6 && !options_.server_keyring.empty()) {
				rotated = true;
				RotateKeyring();
				continue;
			}
			pqxx::result r = Super(SuperConninfo(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
			                                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
			                                        "AND usename IN ('engine_app', 'engine_admin') "
			                                        "ORDER BY random() LIMIT 1");
			counters_.terminated += static_cast<long>(r.size());
		} catch (const std::exception &) {
			// The server may be restarting; try again next round.
		}
	}
}

void Soak::InspectPools() {
	for (bool through_bouncer : {false, true}) {
		std::shared_ptr<tenancy::Engine> engine = CurrentEngine(through_bouncer);
		engine->InspectIdleConnections([&](pqxx::connection &connection) {
			try {
				pqxx::nontransaction work(connection);
				pqxx::row r = work.exec1("SELECT tenancy.context() IS NULL, cardinality(tenancy.session_leftovers()), "
				                         "(SELECT count(*) FROM pg_cursors)");
				counters_.inspected++;
				if (!r[0].as<bool>() || r[1].as<int>() != 0 || r[2].as<int>() != 0)
					counters_.dirty_connections++;
			} catch (const std::exception &) {
				// A backend terminated by the chaos thread: broken, not dirty; the pool drops it.
			}
		});
	}
}

std::map<std::int64_t, soak::Stored> Soak::ReadDatabase() {
	return Retrying([&] {
		std::map<std::int64_t, soak::Stored> stored;
		pqxx::result rows = Super(SuperConninfo(), "SELECT txn_id, organization_id::text, count(*) FROM soak_rows "
		                                           "GROUP BY 1, 2");
		for (const auto &row : rows) {
			soak::Stored &s = stored[row[0].as<std::int64_t>()];
			if (s.rows != 0)
				s.org = tenancy::Uuid{}; // one transaction under two organizations: never equal to the ledger's
			else
				s.org = tenancy::ParseUuid(row[1].as<std::string>());
			s.rows += row[2].as<int>();
		}
		return stored;
	});
}

int Soak::Run() {
	SetUpDatabase();
	keys_.push_back(tok::GenerateHs256Key("soak-0"));
	std::string app_keyring = options_.work_dir + "/soak-app-soak-0.keyring";
	WriteKeyring(app_keyring, RingOf({keys_.back()}), "");
	if (!options_.server_keyring.empty()) {
		WriteKeyring(options_.server_keyring, RingOf({keys_.back()}), options_.server_keyring);
		Super(SuperConninfo(), "SELECT pg_reload_conf()");
		Sleep(1500);
	}
	direct_ = std::make_shared<tenancy::Engine>(Config(false, app_keyring));
	bounced_ = std::make_shared<tenancy::Engine>(Config(true, app_keyring));
	for (int i = 0; i < options_.orgs; i++) {
		std::string code = "soak-" + std::to_string(getpid()) + "-" + std::to_string(i);
		tenancy::Identity owner{direct_->RegisterUser(code, code + "@soak.example")};
		orgs_.emplace_back(owner, pg_tenancy::engine::Organizations(*direct_).CreateOrganization(
		                              owner, "Soak org " + std::to_string(i)));
	}

	start_ = Clock::now();
	std::vector<std::thread> threads;
	for (int i = 0; i < options_.threads; i++)
		threads.emplace_back([this, i] { Worker(i); });
	std::thread chaos([this] { Chaos(); });
	long rss_warm = -1;
	auto deadline = start_ + std::chrono::seconds(options_.seconds);
	while (Clock::now() < deadline) {
		Sleep(1000);
		InspectPools();
		// Warm-up: pools, caches and allocator arenas fill in the first quarter.
		if (rss_warm < 0 && Clock::now() - start_ > std::chrono::seconds(options_.seconds) / 4)
			rss_warm = RssKib();
	}
	stop_ = true;
	chaos.join();
	for (std::thread &t : threads)
		t.join();
	InspectPools();
	long rss_growth = RssKib() - rss_warm;

	std::map<std::int64_t, soak::Stored> database = ReadDatabase();
	soak::Verdict v = ledger_.Verify(database);
	// Self-check: the same comparison with one committed entry forgotten must fail.
	bool self_check_ok = ledger_.DropOneCommitted() && !ledger_.Verify(database).Ok();
	if (options_.drop_ledger_entry)
		v = ledger_.Verify(database); // report the doctored verdict (the run must fail)
	tenancy::PoolStats direct_stats = direct_->Stats(), bounced_stats = bounced_->Stats();
	// The ledger itself grows with every transaction (about 120 bytes each, map
	// node and per-organization list); that is the soak's memory, not the engine's.
	long ledger_kib = (v.committed + v.unknown + v.aborted + v.pending) * 120 / 1024;
	bool rss_ok = rss_growth - ledger_kib <= options_.max_rss_growth_kib;
	bool ok = v.Ok() && counters_.foreign_rows == 0 && counters_.lost_reads == 0 && counters_.dirty_connections == 0 &&
	          rss_ok && v.committed > 0 && counters_.reads > 0 &&
	          (options_.restart_command.empty() || counters_.restarts == 1) &&
	          (options_.server_keyring.empty() || counters_.rotations == 1) && self_check_ok;

	std::printf("soak: committed=%lld verified=%lld unknown=%lld unknown_reconciled=%lld unknown_present=%lld "
	            "aborted=%lld aborted_present=%lld missing=%lld torn=%lld phantom=%lld pending=%lld reads=%ld "
	            "foreign_rows=%ld lost_reads=%ld dirty_connections=%ld rss_growth_kib=%ld\n",
	            (long long)v.committed, (long long)v.verified, (long long)v.unknown, (long long)v.unknown_reconciled,
	            (long long)v.unknown_present, (long long)v.aborted, (long long)v.aborted_present, (long long)v.missing,
	            (long long)v.torn, (long long)v.phantom, (long long)v.pending, counters_.reads.load(),
	            counters_.foreign_rows.load(), counters_.lost_reads.load(), counters_.dirty_connections.load(),
	            rss_growth);
	std::printf("soak: chaos terminated=%ld restarts=%ld rotations=%ld; errors context_lost=%ld commit_unknown=%ld "
	            "unavailable=%ld "
	            "invalid_token=%ld not_a_member=%ld database=%ld untyped=%ld; pools opened=%zu discarded=%zu; "
	            "idle connections inspected=%ld; ledger_kib~%ld rss_bound_kib=%ld; %ds, %d threads, %d orgs\n",
	            counters_.terminated.load(), counters_.restarts.load(), counters_.rotations.load(),
	            counters_.context_lost.load(), counters_.commit_unknown.load(), counters_.unavailable.load(),
	            counters_.invalid_token.load(), counters_.not_a_member.load(), counters_.database_errors.load(),
	            counters_.untyped_errors.load(), direct_stats.opened + bounced_stats.opened,
	            direct_stats.discarded + bounced_stats.discarded, counters_.inspected.load(), ledger_kib,
	            options_.max_rss_growth_kib + ledger_kib, options_.seconds, options_.threads, options_.orgs);
	std::printf("soak: self-check (one committed entry dropped from the ledger) %s\n",
	            self_check_ok ? "detected" : "NOT DETECTED");
	std::printf("soak: %s\n", ok ? "PASS" : "FAIL");
	return ok ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
	Options options;
	CLI::App app{"Fault soak of the pg_tenancy engine with a commit ledger (see tests/soak/run.sh)"};
	app.add_option("--seconds", options.seconds, "How long the workers run")->check(CLI::PositiveNumber);
	app.add_option("--threads", options.threads, "Worker threads (odd ones go through PgBouncer)")
	    ->check(CLI::Range(2, 256));
	app.add_option("--orgs", options.orgs, "Organizations")->check(CLI::Range(2, 10000));
	app.add_option("--kill-interval-ms", options.kill_interval_ms, "Mean time between terminated backends")
	    ->check(CLI::Range(20, 60000));
	app.add_option("--database", options.database, "Database to (re)create");
	app.add_option("--work-dir", options.work_dir, "Where the engine's keyring files go");
	app.add_option("--server-keyring", options.server_keyring,
	               "The server's tenancy.keyring_file (rewritten: the soak rotates keys)");
	app.add_option("--restart-command", options.restart_command, "Shell command that restarts the server once");
	app.add_option("--pgbouncer-port", options.pgbouncer_port, "PgBouncer (transaction mode) in front of the server")
	    ->required();
	app.add_option("--max-rss-growth-kib", options.max_rss_growth_kib, "RSS growth allowed after warm-up");
	app.add_flag("--drop-ledger-entry", options.drop_ledger_entry,
	             "Forget one committed transaction before verifying (the soak must then fail)");
	CLI11_PARSE(app, argc, argv);
	try {
		return Soak(options).Run();
	} catch (const std::exception &e) {
		std::cerr << "soak: " << e.what() << "\n";
		return 2;
	}
}
