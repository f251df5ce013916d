// engine_bench.cpp: the engine against raw libpqxx on the same mixed workload,
// and the server-side cost of tenancy.enter(). Run by bench/inside.sh inside
// the benchmark cluster (PG* environment, TENANCY_KEYRING set).
//
//   engine arm: engine.Transaction(who, org) on t_tenancy (pooled, context
//               entered, hygiene check at commit), no WHERE organization_id;
//   raw arm:    a libpqxx connection per thread, pqxx::work on t_limit with a
//               hand-written WHERE organization_id = $1, no context.
//
// enter() is measured warm with the same token again (the engine reuses one
// per user and organization, so the server's cache of verified tokens hits),
// warm with a new token each call (the signature is checked every time), and
// cold (the first call in a new backend), for HS256 and EdDSA each.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <random>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "pg_tenancy/engine/engine.hpp"
#include "pg_tenancy/token/context_token.hpp"

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

// Mean server execution time of `sql` (one parameter: param_for(i)), from
// pg_stat_statements, over `iterations` calls, each in a transaction rolled back.
// Warm: one backend, whose first call is made before the statistics are reset,
// so it is not counted. Cold: a new backend for every call, so each is the first.
double StatementMicros(const std::string &super, const std::string &app, const std::string &sql,
                       const std::function<std::string(int)> &param_for, bool cold, int iterations) {
	auto run = [&](pqxx::connection &connection, int i) {
		pqxx::work work(connection);
		work.exec_params(sql, param_for(i));
		work.abort();
	};
	pqxx::connection admin(super);
	std::unique_ptr<pqxx::connection> connection;
	if (!cold) {
		connection = std::make_unique<pqxx::connection>(app);
		run(*connection, -1);
	}
	pqxx::nontransaction(admin).exec("SELECT pg_stat_statements_reset()");
	for (int i = 0; i < iterations; i++) {
		if (cold) {
			// The previous backend is gone before the next one starts: one exiting
			// while the measured call runs would share the 2 cores with it.
			if (connection) {
				const int pid = connection->backendpid();
				connection.reset();
				for (int wait = 0; wait < 1000; wait++) {
					pqxx::nontransaction check(admin);
					if (check.exec_params("SELECT 1 FROM pg_stat_activity WHERE pid = $1", pid).empty())
						break;
					check.commit();
					std::this_thread::sleep_for(std::chrono::milliseconds(1));
				}
			}
			connection = std::make_unique<pqxx::connection>(app);
		}
		run(*connection, i);
	}
	pqxx::nontransaction query(admin);
	pqxx::result r = query.exec_params("SELECT sum(total_exec_time) / sum(calls) * 1000 FROM pg_stat_statements "
	                                   "WHERE query = $1",
	                                   sql);
	return r[0][0].is_null() ? -1 : r[0][0].as<double>();
}

constexpr const char *kEnterSql = "SELECT tenancy.enter($1)";
// What any first query of a new backend pays without pg_tenancy (relation cache
// entries, catalog look-ups, page faults): the limit arm's point look-up.
constexpr const char *kPlainPointSql = "SELECT * FROM t_limit WHERE id = $1::bigint";

double Median(std::vector<double> v) {
	std::sort(v.begin(), v.end());
	return v[v.size() / 2];
}

// The engine against raw libpqxx on the mixed workload, interleaved.
void RunEngineArm(const std::vector<Tenant> &tenants, const std::string &app_conninfo, const std::string &super,
                  int threads, int reps, double seconds) {
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
	std::printf("  round trips per one-statement transaction: engine 2 (BEGIN, enter and the statement pipelined; "
	            "then the commit bundle), raw libpqxx 3 (BEGIN, statement, COMMIT)\n");
}

// "6.7" for one measure; "6.7 (6.5-7.0)", median and range, for several.
std::string Summary(std::vector<double> v) {
	char text[64];
	if (v.size() == 1)
		std::snprintf(text, sizeof text, "%7.1f", v[0]);
	else
		std::snprintf(text, sizeof text, "%7.1f (%.1f-%.1f)", Median(v), *std::min_element(v.begin(), v.end()),
		              *std::max_element(v.begin(), v.end()));
	return text;
}

// The server time of tenancy.enter(), five ways, each measured `repeats` times.
void MeasureEnter(const std::vector<Tenant> &tenants, const std::string &super, const std::string &app_conninfo,
                  bool full, int repeats) {
	// Tokens for the enter() measures: the benchmark's own (minted once, as the
	// engine reuses one per user and organization), or a new one per call.
	const auto keyring = pg_tenancy::token::Keyring::LoadFile(std::getenv("TENANCY_KEYRING"));
	auto fresh_token = [&](const char *kid) {
		return [&, kid](int i) {
			const Tenant &t = tenants[static_cast<std::size_t>(i + 1) % tenants.size()];
			pg_tenancy::token::ContextClaims claims;
			claims.user = t.who.user_id;
			claims.org = t.org;
			claims.issued_at =
			    std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
			        .count();
			claims.expires_at = claims.issued_at + 3600;
			claims.jti = pg_tenancy::token::NewJti();
			return pg_tenancy::token::MintContextToken(keyring.SigningKey(kid), claims);
		};
	};
	auto same_hs = [&](int) { return tenants[0].token_hs; };
	auto same_ed = [&](int) { return tenants[0].token_ed; };
	auto cycle_hs = [&](int i) { return tenants[static_cast<std::size_t>(i + 1) % tenants.size()].token_hs; };
	auto cycle_ed = [&](int i) { return tenants[static_cast<std::size_t>(i + 1) % tenants.size()].token_ed; };
	const int iterations = full ? 5000 : 500, cold_iterations = full ? 300 : 30;
	auto measure = [&](const std::function<std::string(int)> &token_for, bool cold) {
		std::vector<double> means;
		for (int r = 0; r < repeats; r++)
			means.push_back(
			    StatementMicros(super, app_conninfo, kEnterSql, token_for, cold, cold ? cold_iterations : iterations));
		return Summary(means);
	};
	std::printf("tenancy.enter() server time, mean over calls (pg_stat_statements total_exec_time / calls)%s:\n",
	            repeats > 1 ? (", median (min-max) of " + std::to_string(repeats) + " measures").c_str() : "");
	std::printf("  warm, the same token again (what the engine sends), %d calls:  HS256 %s us   EdDSA %s us\n",
	            iterations, measure(same_hs, false).c_str(), measure(same_ed, false).c_str());
	std::printf("  warm, a new token each call (signature checked), %d calls:    HS256 %s us   EdDSA %s us\n",
	            iterations, measure(fresh_token("bench-hs"), false).c_str(),
	            measure(fresh_token("bench-ed"), false).c_str());
	std::printf("  cold, the first call in a new backend, %d backends:            HS256 %s us   EdDSA %s us\n",
	            cold_iterations, measure(cycle_hs, true).c_str(), measure(cycle_ed, true).c_str());
	auto first_id = [&](int i) {
		return std::to_string(tenants[static_cast<std::size_t>(i + 1) % tenants.size()].min_id);
	};
	std::vector<double> plain;
	for (int r = 0; r < repeats; r++)
		plain.push_back(StatementMicros(super, app_conninfo, kPlainPointSql, first_id, true, cold_iterations));
	std::printf(
	    "  for comparison, cold, a plain point look-up (no pg_tenancy) as the first query of a new backend: %s us\n",
	    Summary(plain).c_str());
}

} // namespace

int main(int argc, char **argv) {
	CLI::App app{"pg_tenancy engine benchmark"};
	std::string mode = "quick", database = "tenancy_bench";
	int enter_repeats = 1;
	app.add_option("--mode", mode)->check(CLI::IsMember({"quick", "full", "enter"}));
	app.add_option("--database", database);
	app.add_option("--enter-repeats", enter_repeats, "measure each enter() figure N times: median (min-max)")
	    ->check(CLI::Range(1, 50));
	CLI11_PARSE(app, argc, argv);
	// enter: only the enter() measures, at the full run's sizes, without the
	// engine arm (bench/run.sh --enter).
	const bool full = mode != "quick";
	const int threads = 4, reps = full ? 5 : 3;
	const double seconds = full ? 5 : 1;
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
	if (mode != "enter")
		RunEngineArm(tenants, app_conninfo, super, threads, reps, seconds);
	MeasureEnter(tenants, super, app_conninfo, full, enter_repeats);
	return 0;
}
