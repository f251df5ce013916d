// engine_bench.cpp: the engine against raw libpqxx on the same mixed workload,
// and the server-side cost of tenancy.enter(). Run by bench/inside.sh inside
// the benchmark cluster (PG* environment, TENANCY_KEYRING set).
//
//   engine arm: engine.Transaction(who, org) on t_tenancy (pooled, context
//               entered, hygiene check at commit), no WHERE organization_id;
//   raw arm:    a libpqxx connection per thread, pqxx::work on t_limit with a
//               hand-written WHERE organization_id = $1, no context.
// Every thread runs both, each tenant and statement drawn once for the two.
//
// enter() is measured warm with the same token again (the engine reuses one
// per user and organization, so the server's cache of verified tokens hits),
// warm with every tenant's token in rotation (each cached, as for a pooled
// backend serving many organizations), warm with a new token each call (the
// signature is checked every time), and cold (the first call in a new backend:
// with the membership in the shared cache, which another backend read since
// the last change, and with nothing shared, each call right after a change),
// for HS256 and EdDSA each.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <random>
#include <stdexcept>
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

// One step of the mixed workload (the weights of the pgbench mixed script):
// query number and ticket id, drawn once and run by both arms.
struct Step {
	int query;
	long long id;
};

Step DrawStep(std::mt19937 &random, const Tenant &t) {
	long long id = std::uniform_int_distribution<long long>(t.min_id, t.max_id)(random);
	int r = static_cast<int>(random() % 100);
	return {r < 40 ? 0 : r < 70 ? 1 : r < 80 ? 2 : r < 90 ? 3 : 4, id};
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

// Client-side time of one transaction of each arm, summed per repetition.
struct ArmTotals {
	double engine_seconds = 0, raw_seconds = 0;
	long engine_count = 0, raw_count = 0;
};

// Both arms in the same threads at the same time: each thread draws a tenant
// and a step, runs it as an engine transaction and as a raw libpqxx one (the
// order alternating), and times each. The machine's state (other load, CPU
// frequency, checkpoints) then weighs on both arms alike, and so do the
// tenants and statements drawn. Time before `warmup` is not counted.
ArmTotals RunInterleaved(tenancy::Engine &engine, const std::string &conninfo, const std::vector<Tenant> &tenants,
                         int threads, double warmup, double seconds, unsigned seed) {
	std::vector<ArmTotals> per_thread(static_cast<std::size_t>(threads));
	std::vector<std::thread> pool;
	const auto begin = Clock::now();
	const auto counted_from = begin + std::chrono::duration<double>(warmup);
	const auto deadline = counted_from + std::chrono::duration<double>(seconds);
	for (int t = 0; t < threads; t++)
		pool.emplace_back([&, t] {
			pqxx::connection raw_connection(conninfo);
			std::mt19937 random(seed + static_cast<unsigned>(t));
			ArmTotals &totals = per_thread[static_cast<std::size_t>(t)];
			for (long i = 0; Clock::now() < deadline; i++) {
				const Tenant &tenant = tenants[random() % tenants.size()];
				const Step step = DrawStep(random, tenant);
				auto run_engine = [&] {
					auto tx = engine.Transaction(tenant.who, tenant.org);
					tx.ExecParams(kTenantSql[step.query], step.id);
					tx.Commit();
				};
				auto run_raw = [&] {
					pqxx::work work(raw_connection);
					work.exec_params(kRawSql[step.query], step.id, tenant.org_text);
					work.commit();
				};
				for (int half = 0; half < 2; half++) {
					const bool engine_turn = (half == 0) == (i % 2 == 0);
					const auto started = Clock::now();
					if (engine_turn)
						run_engine();
					else
						run_raw();
					const auto ended = Clock::now();
					if (started < counted_from || ended > deadline)
						continue;
					const double elapsed = std::chrono::duration<double>(ended - started).count();
					(engine_turn ? totals.engine_seconds : totals.raw_seconds) += elapsed;
					(engine_turn ? totals.engine_count : totals.raw_count)++;
				}
			}
		});
	for (auto &thread : pool)
		thread.join();
	ArmTotals sum;
	for (const ArmTotals &t : per_thread) {
		sum.engine_seconds += t.engine_seconds;
		sum.raw_seconds += t.raw_seconds;
		sum.engine_count += t.engine_count;
		sum.raw_count += t.raw_count;
	}
	return sum;
}

// Mean server time of `sql` (one parameter: param_for(i)) per call, from
// pg_stat_statements: executing, and planning and executing (track_planning is
// on). Neither counts parsing.
struct StatementTimes {
	double executing = -1, planning_and_executing = -1;
};

// Over `iterations` calls, each in a transaction rolled back. Warm: one
// backend, whose first `primed` calls (param_for(-1), ..., param_for(-primed))
// are made before the statistics are reset, so they are not counted. Cold: a new
// backend for every call, so each is the first; with `unshared`, each right
// after a membership change (a no-op update of a role, which its change
// trigger reports), so no backend's cache, nor the shared one, holds a
// membership read before.
StatementTimes MeasureStatement(const std::string &super, const std::string &app, const std::string &sql,
                                const std::function<std::string(int)> &param_for, bool cold, int iterations,
                                int primed = 1, bool unshared = false) {
	auto run = [&](pqxx::connection &connection, int i) {
		pqxx::work work(connection);
		work.exec_params(sql, param_for(i));
		work.abort();
	};
	pqxx::connection admin(super);
	std::unique_ptr<pqxx::connection> connection;
	if (!cold) {
		connection = std::make_unique<pqxx::connection>(app);
		for (int i = 1; i <= primed; i++)
			run(*connection, -i);
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
			if (unshared)
				pqxx::nontransaction(admin).exec("UPDATE tenancy.roles SET name = name "
				                                 "WHERE id = (SELECT id FROM tenancy.roles ORDER BY id LIMIT 1)");
			connection = std::make_unique<pqxx::connection>(app);
		}
		run(*connection, i);
	}
	pqxx::nontransaction query(admin);
	pqxx::result r = query.exec_params("SELECT sum(total_exec_time) / sum(calls) * 1000, "
	                                   "sum(total_plan_time + total_exec_time) / sum(calls) * 1000 "
	                                   "FROM pg_stat_statements WHERE query = $1",
	                                   sql);
	StatementTimes times;
	if (!r[0][0].is_null())
		times = {r[0][0].as<double>(), r[0][1].as<double>()};
	return times;
}

constexpr const char *kEnterSql = "SELECT tenancy.enter($1)";
// What any first query of a new backend pays without pg_tenancy (relation cache
// entries, catalog look-ups, page faults): the limit arm's point look-up.
constexpr const char *kPlainPointSql = "SELECT * FROM t_limit WHERE id = $1::bigint";

double Median(std::vector<double> v) {
	std::sort(v.begin(), v.end());
	return v[v.size() / 2];
}

// The engine against raw libpqxx on the mixed workload, interleaved within
// each run. Engine/raw is the ratio of throughputs at equal concurrency: the
// raw arm's mean transaction time over the engine's (above 1: the engine is
// faster).
void RunEngineArm(const std::vector<Tenant> &tenants, const std::string &app_conninfo, const std::string &super,
                  int threads, int reps, double warmup, double seconds) {
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

	std::vector<double> engine_us, raw_us, ratios;
	for (int rep = 0; rep < reps; rep++) {
		const ArmTotals totals = RunInterleaved(engine, app_conninfo, tenants, threads, warmup, seconds,
		                                        17u + 100u * static_cast<unsigned>(rep));
		if (totals.engine_count == 0 || totals.raw_count == 0)
			throw std::runtime_error(std::string("the ") + (totals.engine_count == 0 ? "engine" : "raw libpqxx") +
			                         " side completed no transaction in a repetition");
		const double e = 1e6 * totals.engine_seconds / static_cast<double>(totals.engine_count);
		const double r = 1e6 * totals.raw_seconds / static_cast<double>(totals.raw_count);
		engine_us.push_back(e);
		raw_us.push_back(r);
		ratios.push_back(r / e);
	}
	std::printf("engine mixed workload, %d threads, %d x %.0f s (after %.0f s warm-up), both arms interleaved in "
	            "every thread (the same tenants and statements):\n",
	            threads, reps, seconds, warmup);
	std::printf("  raw libpqxx, hand-written filter: %8.1f us per transaction (median)\n", Median(raw_us));
	std::printf("  engine (context, pool, hygiene):  %8.1f us per transaction (median)\n", Median(engine_us));
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

// The server time of tenancy.enter(), four ways for each algorithm, and of a
// plain first query for comparison, each measured `repeats` times.
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
	// Every tenant's token in a shuffled rotation, each used once per round: a
	// pooled backend serving many organizations, as in the pgbench arms (whose
	// 1,000 organizations are drawn at random), where each hit reads another
	// token's entry than the call before.
	std::vector<std::size_t> rotation(tenants.size());
	for (std::size_t i = 0; i < rotation.size(); i++)
		rotation[i] = i;
	std::shuffle(rotation.begin(), rotation.end(), std::mt19937(20261202));
	const int n = static_cast<int>(tenants.size());
	auto rotate = [&](int i) -> const Tenant & {
		return tenants[rotation[static_cast<std::size_t>(((i % n) + n) % n)]];
	};
	auto rotate_hs = [&](int i) { return rotate(i).token_hs; };
	auto rotate_ed = [&](int i) { return rotate(i).token_ed; };
	const int iterations = full ? 5000 : 500, cold_iterations = full ? 300 : 30;
	auto measure = [&](const std::function<std::string(int)> &token_for, bool cold, int primed, bool unshared) {
		std::vector<double> means;
		for (int r = 0; r < repeats; r++)
			means.push_back(MeasureStatement(super, app_conninfo, kEnterSql, token_for, cold,
			                                 cold ? cold_iterations : iterations, primed, unshared)
			                    .executing);
		return Summary(means);
	};
	// One line per measure, HS256 first (each figure measured in that order).
	auto print = [&](const char *label, const std::function<std::string(int)> &hs,
	                 const std::function<std::string(int)> &ed, bool cold, int primed = 1, bool unshared = false) {
		const std::string hs_figure = measure(hs, cold, primed, unshared);
		const std::string ed_figure = measure(ed, cold, primed, unshared);
		std::printf("  %-64s HS256 %s us   EdDSA %s us\n", label, hs_figure.c_str(), ed_figure.c_str());
	};
	std::printf("tenancy.enter() server time, mean over calls (pg_stat_statements total_exec_time / calls)%s:\n",
	            repeats > 1 ? (", median (min-max) of " + std::to_string(repeats) + " measures").c_str() : "");
	const std::string calls = std::to_string(iterations) + " calls:";
	print(("warm, the same token again (what the engine sends), " + calls).c_str(), same_hs, same_ed, false);
	// Primed with two rounds: a token's second enter() prepares its context.
	print(("warm, " + std::to_string(n) + " tokens in rotation (each cached), " + calls).c_str(), rotate_hs, rotate_ed,
	      false, 2 * n);
	print(("warm, a new token each call (signature checked), " + calls).c_str(), fresh_token("bench-hs"),
	      fresh_token("bench-ed"), false);
	// The rotation above had every membership read and shared.
	const std::string backends = std::to_string(cold_iterations) + " backends:";
	print(("cold, a new backend's first call, membership shared, " + backends).c_str(), cycle_hs, cycle_ed, true);
	print(("cold, a new backend's first call, nothing shared, " + backends).c_str(), cycle_hs, cycle_ed, true, 1, true);
	auto first_id = [&](int i) {
		return std::to_string(tenants[static_cast<std::size_t>(i + 1) % tenants.size()].min_id);
	};
	// A plain query builds its relation and catalog cache entries while it is
	// parsed (its table's, not timed here) and planned (its indexes', the
	// statistics, operators); enter() builds its own while it executes and has
	// next to no planning. Both figures come from the same calls.
	std::vector<double> plain, plain_planned;
	for (int r = 0; r < repeats; r++) {
		const StatementTimes times =
		    MeasureStatement(super, app_conninfo, kPlainPointSql, first_id, true, cold_iterations);
		plain.push_back(times.executing);
		plain_planned.push_back(times.planning_and_executing);
	}
	std::printf("  for comparison, cold, a plain point look-up (no pg_tenancy) as the first query of a new backend: "
	            "%s us executing, %s us planning and executing\n",
	            Summary(plain).c_str(), Summary(plain_planned).c_str());
}

} // namespace

int main(int argc, char **argv) {
	CLI::App app{"pg_tenancy engine benchmark"};
	std::string mode = "quick", database = "tenancy_bench";
	int enter_repeats = 1;
	app.add_option("--mode", mode)->check(CLI::IsMember({"quick", "full", "enter", "engine"}));
	app.add_option("--database", database);
	app.add_option("--enter-repeats", enter_repeats, "measure each enter() figure N times: median (min-max)")
	    ->check(CLI::Range(1, 50));
	CLI11_PARSE(app, argc, argv);
	// enter: only the enter() measures, at the full run's sizes, without the
	// engine arm (bench/run.sh --enter); engine: only the engine arm, at the
	// full run's sizes (bench/run.sh --engine).
	const bool full = mode != "quick";
	const int threads = 4, reps = full ? 5 : 3;
	const double warmup = full ? 3 : 0.5, seconds = full ? 20 : 1;
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
		RunEngineArm(tenants, app_conninfo, super, threads, reps, warmup, seconds);
	if (mode != "engine")
		MeasureEnter(tenants, super, app_conninfo, full, enter_repeats);
	return 0;
}
