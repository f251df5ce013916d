// Many threads, many organizations, one pool: every row lands in the
// organization whose context wrote it, and every read sees only its own tenant.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <random>
#include <atomic>
#include <iostream>
#include <thread>
#include <vector>

#include "engine_fixture.hpp"

using namespace engine_test;

namespace {
constexpr int kThreads = 8;
constexpr int kOrganizations = 50;
constexpr int kTransactionsPerThread = 300;
} // namespace

BOOST_AUTO_TEST_SUITE(concurrency)

BOOST_AUTO_TEST_CASE(threads_by_organizations_never_mix) {
	tenancy::EngineConfig config = Config();
	config.pool_size = 6; // fewer connections than threads: leases are shared and contended
	tenancy::Engine engine(config);
	Super("TRUNCATE tickets");

	// One owner per organization, plus one user who belongs to all of them.
	std::vector<Member> owners;
	tenancy::Identity roamer = NewUser(engine, "roamer");
	for (int i = 0; i < kOrganizations; i++) {
		owners.push_back(NewOwner(engine, "org" + std::to_string(i)));
		AddMember(roamer.user_id, owners.back().org);
	}

	std::atomic<int> committed{0}, reads{0}, foreign_rows_seen{0}, unexpected_errors{0};
	std::vector<std::thread> threads;
	for (int t = 0; t < kThreads; t++) {
		threads.emplace_back([&, t] {
			std::mt19937 random(1234 + t);
			for (int i = 0; i < kTransactionsPerThread; i++) {
				const Member &target = owners[random() % owners.size()];
				const tenancy::Identity &who = (random() % 2) ? roamer : target.identity;
				std::string org = tenancy::ToString(target.org);
				try {
					auto tx = engine.Transaction(who, target.org);
					if (random() % 3 == 0) {
						tx.ExecParams("INSERT INTO tickets (title, written_for) VALUES ($1, $2)",
						              "t" + std::to_string(t) + "-" + std::to_string(i), org);
					} else {
						pqxx::result rows = tx.Exec("SELECT organization_id::text FROM tickets");
						for (const auto &row : rows)
							if (row[0].as<std::string>() != org)
								foreign_rows_seen++;
						reads++;
					}
					tx.Commit();
					committed++;
				} catch (const std::exception &e) {
					BOOST_TEST_MESSAGE("unexpected error: " << e.what());
					unexpected_errors++;
				}
			}
		});
	}
	for (auto &thread : threads)
		thread.join();

	int mismatched =
	    Super("SELECT count(*) FROM tickets WHERE organization_id IS DISTINCT FROM written_for")[0][0].as<int>();
	int written = Super("SELECT count(*) FROM tickets")[0][0].as<int>();
	tenancy::PoolStats stats = engine.Stats();
	BOOST_TEST_MESSAGE("concurrency: " << committed << " transactions committed (" << reads << " reads, " << written
	                                   << " rows written) by " << kThreads << " threads over " << kOrganizations
	                                   << " organizations; " << stats.opened << " connections opened, "
	                                   << stats.discarded << " discarded");
	std::cout << "concurrency totals: committed=" << committed << " reads=" << reads << " written=" << written
	          << " foreign_rows_seen=" << foreign_rows_seen << " mismatched=" << mismatched
	          << " errors=" << unexpected_errors << " connections_opened=" << stats.opened << "\n";
	BOOST_TEST(unexpected_errors == 0);
	BOOST_TEST(committed == kThreads * kTransactionsPerThread);
	BOOST_TEST(foreign_rows_seen == 0);
	BOOST_TEST(mismatched == 0);
	BOOST_TEST(written > 0);
	BOOST_TEST(stats.opened <= config.pool_size);
}

BOOST_AUTO_TEST_SUITE_END()
