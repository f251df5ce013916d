// engine_bench.cpp: the engine against raw libpqxx on the same mixed workload,
// and the server-side cost of tenancy.enter(). Run by bench/inside.sh inside
// the benchmark cluster (PG* environment, TENANCY_KEYRING set).
//
//   engine arm: engine.Transaction(who, org) on t_tenancy (pooled, context
//               entered, hygiene check at commit), no WHERE organization_id;
//   raw arm:    a libpqxx connection per thread, pqxx::work on t_limit with a
//               hand-written WHERE organization_id = $1, no context.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "pg_tenancy/engine/engine.hpp"

namespace {

struct Tenant {
	tenancy::Identity who;
	tenancy::Uuid org;
	std::string org_text;
	std::string token_hs, token_ed;
	long long min_id = 0, max_id = 0;
};

using Clock = std::chrono::steady_clock;

// One step of the mixed workload; the same weights as the pgbench mixed script.
template <typename Exec> void MixedStep(std::mt19937 &random, const Tenant &t, Exec &&exec) {
	long long id = std::uniform_int_distribution<long long>(t.min_id, t.max_id)(random);
	int r = static_cast<int>(random() % 100);
	if (r < 40)
		exec(0, id);
	else if (r < 70)
		exec(1, id);
	else if (r < 80)
		exec(2, id);
	else if (r < 90)
		exec(3, id);
	else
		exec(4, id);
}

const char *kRawSql[] = {
    "SELECT * FROM t_limit WHERE id = $1 AND organization_id = $2",
    "SELECT id, title, created_at FROM t_limit WHERE organization_id = $2 AND $1::bigint IS NOT NULL "
    "ORDER BY created_at DESC LIMIT 50",
    "SELECT count(*) FROM t_limit WHERE organization_id = $2 AND $1::bigint IS NOT NULL",
    "UPDATE t_limit SET status = CASE status WHEN 'open' THEN 'closed' ELSE 'open' END WHERE id = $1 "
    "AND organization_id = $2",
    "INSERT INTO t_limit (id, organization_id, title, status, created_at) "
    "SELECT nextval('bench_ticket_ids'), $2, 'new', 'open', now() WHERE $1::bigint IS NOT NULL",
};
const char *kTenantSql[] = {
    "SELECT * FROM t_tenancy WHERE id = $1",
    "SELECT id, title, created_at FROM t_tenancy WHERE $1::bigint IS NOT NULL ORDER BY created_at DESC LIMIT 50",
    "SELECT count(*) FROM t_tenancy WHERE $1::bigint IS NOT NULL",
    "UPDATE t_tenancy SET status = CASE status WHEN 'open' THEN 'closed' ELSE 'open' END WHERE id = $1",
    "INSERT INTO t_tenancy (id, title, status, created_at) "
    "SELECT nextval('bench_ticket_ids'), 'new', 'open', now() WHERE $1::bigint IS NOT NULL",
};

double RunEngine(tenancy::Engine &engine, const std::vector<Tenant> &tenants, int threads, double seconds) {
	std::atomic<long> done{0};
	std::vector<std::thread> pool;
	auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
	for (int t = 0; t < threads; t++)
		pool.emplace_back([&, t] {
			std::mt19937 random(17 + t);
			while (Clock::now() < deadline) {
				const Tenant &tenant = tenants[random() % tenants.size()];
				auto tx = engine.Transaction(tenant.who, tenant.org);
				MixedStep(random, tenant, [&](int q, long long id) { tx.ExecParams(kTenantSql[q], id); });
				tx.Commit();
				done++;
			}
		});
	for (auto &thread : pool)
		thread.join();
	return done / seconds;
}

double RunRaw(const std::string &conninfo, const std::vector<Tenant> &tenants, int threads, double seconds) {
	std::atomic<long> done{0};
	std::vector<std::thread> pool;
	auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
	for (int t = 0; t < threads; t++)
		pool.emplace_back([&, t] {
			pqxx::connection connection(conninfo);
			std::mt19937 random(17 + t);
			while (Clock::now() < deadline) {
				const Tenant &tenant = tenants[random() % tenants.size()];
				pqxx::work work(connection);
				MixedStep(random, tenant,
				          [&](int q, long long id) { work.exec_params(kRawSql[q], id, tenant.org_text); });
				work.commit();
				done++;
			}
		});
	for (auto &thread : pool)
		thread.join();
	return done / seconds;
}

// Mean server execution time of SELECT tenancy.enter($1), from pg_stat_statements.
double EnterMicros(const std::string &super, const std::string &app, const std::vector<Tenant> &tenants, bool eddsa,
                   bool cold, int iterations) {
	pqxx::connection admin(super);
	pqxx::nontransaction(admin).exec("SELECT pg_stat_statements_reset()");
	std::unique_ptr<pqxx::connection> connection;
	for (int i = 0; i < iterations; i++) {
		if (cold || !connection)
			connection = std::make_unique<pqxx::connection>(app);
		const Tenant &t = tenants[i % tenants.size()];
		pqxx::work work(*connection);
		work.exec_params("SELECT tenancy.enter($1)", eddsa ? t.token_ed : t.token_hs);
		work.abort();
	}
	pqxx::nontransaction query(admin);
	pqxx::result r = query.exec("SELECT sum(total_exec_time) / sum(calls) * 1000 FROM pg_stat_statements "
	                            "WHERE query = 'SELECT tenancy.enter($1)'");
	return r[0][0].is_null() ? -1 : r[0][0].as<double>();
}

double Median(std::vector<double> v) {
	std::sort(v.begin(), v.end());
	return v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
	CLI::App app{"pg_tenancy engine benchmark"};
	std::string mode = "quick", database = "tenancy_bench";
	app.add_option("--mode", mode)->check(CLI::IsMember({"quick", "full"}));
	app.add_option("--database", database);
	CLI11_PARSE(app, argc, argv);
	const bool full = mode == "full";
	const int threads = 4, reps = 3;
	const double seconds = full ? 10 : 2;
	const std::string super = "dbname=" + database;
	const std::string app_conninfo = "dbname=" + database + " user=bench_app password=bench_app";

	std::vector<Tenant> tenants;
	{
		pqxx::connection connection(super);
		pqxx::nontransaction work(connection);
		for (const auto &row : work.exec("SELECT user_id::text, org_id::text, token_hs, token_ed, min_id, max_id "
		                                 "FROM bench_ctx ORDER BY idx"))
			tenants.push_back({tenancy::Identity{tenancy::ParseUuid(row[0].c_str())},
			                   tenancy::ParseUuid(row[1].c_str()), row[1].c_str(), row[2].c_str(), row[3].c_str(),
			                   row[4].as<long long>(), row[5].as<long long>()});
	}

	tenancy::EngineConfig config;
	config.conninfo = app_conninfo;
	config.admin_conninfo = super;
	config.ApplyEnvironment(); // TENANCY_KEYRING
	config.conninfo = app_conninfo;
	config.admin_conninfo = super;
	config.pool_size = threads;
	config.signing_kid = "bench-hs";
	tenancy::Engine engine(config);
	engine.WaitForChangeListener(std::chrono::seconds(5));
	RunEngine(engine, tenants, threads, 1); // warm the pool and the membership cache

	std::vector<double> engine_tps, raw_tps, ratios;
	for (int rep = 0; rep < reps; rep++) {
		bool engine_first = rep % 2 == 0; // interleave the order
		double e = 0, r = 0;
		if (engine_first) {
			e = RunEngine(engine, tenants, threads, seconds);
			r = RunRaw(app_conninfo, tenants, threads, seconds);
		} else {
			r = RunRaw(app_conninfo, tenants, threads, seconds);
			e = RunEngine(engine, tenants, threads, seconds);
		}
		engine_tps.push_back(e);
		raw_tps.push_back(r);
		ratios.push_back(e / r);
	}
	std::printf("engine mixed workload, %d threads, %d x %.0f s interleaved:\n", threads, reps, seconds);
	std::printf("  raw libpqxx, hand-written filter: %8.0f tx/s (median)\n", Median(raw_tps));
	std::printf("  engine (context, pool, hygiene):  %8.0f tx/s (median)\n", Median(engine_tps));
	std::printf("  throughput ratio engine/raw: %.3f (min %.3f, max %.3f)\n", Median(ratios),
	            *std::min_element(ratios.begin(), ratios.end()), *std::max_element(ratios.begin(), ratios.end()));
	std::printf("  round trips per transaction: engine 4 (BEGIN, enter, query, commit+checks), raw 3 (BEGIN, query, "
	            "COMMIT)\n");
	int iterations = full ? 5000 : 500;
	std::printf("tenancy.enter() server time (pg_stat_statements mean):\n");
	std::printf("  HS256 warm: %6.1f us   EdDSA warm: %6.1f us\n",
	            EnterMicros(super, app_conninfo, tenants, false, false, iterations),
	            EnterMicros(super, app_conninfo, tenants, true, false, iterations));
	std::printf("  HS256 cold: %6.1f us   EdDSA cold: %6.1f us   (first call in a new backend)\n",
	            EnterMicros(super, app_conninfo, tenants, false, true, iterations / 10),
	            EnterMicros(super, app_conninfo, tenants, true, true, iterations / 10));
	return 0;
}
