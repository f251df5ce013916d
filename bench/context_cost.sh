#!/usr/bin/env bash
# bench/context_cost.sh DB OUT: what a context statement's server time costs the
# client, inside the cluster bench/run.sh --context started.
#
# Every arm runs the same transaction: BEGIN; a context statement; SELECT 1 (the
# statement after it); COMMIT. The arms differ only in the context statement:
# the limit's no-op SELECT of the organization's row, set_config() (the plain
# GUC arm), tenancy.enter(), and three statements with no pg_tenancy in them
# that only burn CPU (md5 over 0.3, 1.3 and 5 kB of the row's token). The arms
# are interleaved in one pgbench run (every client picks one at random for each
# transaction), at 1 client and at the full run's 4 clients on this machine; a
# third run interleaves only the no-op and enter() at 1 client, so that enter()
# runs every other transaction instead of every sixth.
#
# For each arm it prints the context statement's server time (planning and
# execution, pg_stat_statements) and the client's time per statement (pgbench
# -r), each less the no-op's. If the client pays for enter() what it pays for a
# burn of the same server time, what enter() costs under load is its CPU time,
# whatever makes it longer there; the "client / server" column says how much a
# microsecond of server time costs the client at that load.
set -euo pipefail
db=$1 out=$2
seconds=${CONTEXT_SECONDS:-30} warmup=${CONTEXT_WARMUP:-8}
conn="host=${PGHOST:-localhost} port=${PGPORT:-5432} dbname=$db user=bench_app password=bench_app"
orgs=$(psql -X -qAt -d "$db" -c "SELECT count(*) FROM bench_ctx")
mkdir -p "$out/scripts"

# Each context statement has its own shape, so pg_stat_statements keeps them apart.
declare -A context=(
  [noop]="SELECT org_id AS org, min_id, max_id FROM bench_ctx AS noop__ctx WHERE idx = :i"
  [guc]="SELECT set_config('app.org', org_id::text, true) AS ctx, org_id AS org FROM bench_ctx AS guc__ctx WHERE idx = :i"
  [tenancy]="SELECT tenancy.enter(token_hs) AS entered, org_id AS org, min_id FROM bench_ctx AS tenancy__ctx WHERE idx = :i"
  [burn1]="SELECT length(md5(token_hs)) AS burned, org_id AS org, min_id FROM bench_ctx AS burn1__ctx WHERE idx = :i"
  [burn4]="SELECT length(md5(repeat(token_hs, 4))) AS burned, org_id AS org FROM bench_ctx AS burn4__ctx WHERE idx = :i"
  [burn16]="SELECT md5(repeat(token_hs, 16)) <> '' AS burned, org_id AS org FROM bench_ctx AS burn16__ctx WHERE idx = :i"
)
for arm in "${!context[@]}"; do
  printf '\\set i random(1, %d)\nBEGIN;\n%s \\gset\nSELECT 1;\nCOMMIT;\n' "$orgs" "${context[$arm]}" >"$out/scripts/context.$arm.sql"
done

run() { # clients arm...
  local clients=$1 files=() arm
  shift
  local tag="c$clients.$#arms"
  for arm in "$@"; do files+=(-f "$out/scripts/context.$arm.sql"); done
  # One pgbench run: its connections are the ones warmed up (each backend's
  # first enter() of a token checks its signature and reads the membership).
  # Server time is reset when the warm-up ends, and the client's mean
  # transaction time is taken from the per-transaction log after it; the
  # per-statement split (pgbench -r) covers the whole run.
  rm -f "$out/$tag.log"*
  (sleep "$warmup"; psql -X -qAt -d "$db" -c 'SELECT pg_stat_statements_reset()' >/dev/null) &
  local started
  started=$(date +%s.%N)
  pgbench -n -r -M prepared -c "$clients" -j 2 -T "$((warmup + seconds))" -l --log-prefix="$out/$tag.log" \
    "${files[@]}" "$conn" >"$out/context.$tag.pgbench"
  wait
  psql -X -qAt -F ' ' -d "$db" -c "SELECT substring(query from '([a-z0-9]+)__ctx'),
      round((1000 * (total_plan_time + total_exec_time) / calls)::numeric, 2)
    FROM pg_stat_statements WHERE query ~ '__ctx' AND calls > 0" >"$out/context.$tag.server"
  # Log lines: client transaction latency_us script epoch_s epoch_us.
  cat "$out/$tag.log"* | awk -v started="$started" -v warmup="$warmup" -v n="$#" '
    $5 + $6 / 1e6 >= started + warmup { sum[$4] += $3; count[$4]++ }
    END { for (i = 0; i < n; i++) printf "%d %.1f %d\n", i, count[i] ? sum[i] / count[i] : -1, count[i] }' \
    >"$out/context.$tag.client"
  rm -f "$out/$tag.log"*
  # pgbench -r: per script, the mean latency (ms) of each statement in order:
  # BEGIN, the context statement, SELECT 1, COMMIT.
  awk -v clients="$clients" -v serverfile="$out/context.$tag.server" -v clientfile="$out/context.$tag.client" '
    BEGIN {
      while ((getline line < serverfile) > 0) { split(line, f, " "); server[f[1]] = f[2] }
      while ((getline line < clientfile) > 0) { split(line, f, " "); transaction[f[1] + 1] = f[2]; transactions[f[1] + 1] = f[3] }
    }
    /^SQL script/ { match($0, /context\.[a-z0-9]+\.sql/); arm = substr($0, RSTART + 8, RLENGTH - 12); n = 0; order[++arms] = arm; script[arm] = arms }
    /^ +[0-9.]+ +[0-9]+ +(BEGIN|SELECT|COMMIT)/ { n++; client[arm, n] = $1 * 1000 }
    END {
      printf "%d client(s), %d arms interleaved. Microseconds more than the no-op. server: the context statement (pg_stat_statements);\n", clients, arms
      printf "client: the transaction (per-transaction log), and how it splits by statement (pgbench -r, warm-up included)\n"
      printf "%-8s %8s %12s %14s %9s %9s %9s %13s\n", "arm", "server", "transaction", "client/server", "context", "next", "COMMIT", "transactions"
      base = transaction[script["noop"]]
      for (i = 1; i <= arms; i++) {
        a = order[i]
        s = server[a] - server["noop"]
        tx = transaction[i] - base
        printf "%-8s %8.1f %12.1f %14s %9.0f %9.0f %9.0f %13d\n", a, s, tx,
          (a == "noop" || s < 0.5) ? "-" : sprintf("%.1f", tx / s), client[a, 2] - client["noop", 2],
          client[a, 3] - client["noop", 3], client[a, 4] - client["noop", 4], transactions[i]
      }
      printf "no-op itself: server %.1f us, transaction %.1f us\n\n", server["noop"], base
    }' "$out/context.$tag.pgbench" | tee -a "$out/context.txt"
}
run 1 noop guc tenancy burn1 burn4 burn16
run 4 noop guc tenancy burn1 burn4 burn16
run 1 noop tenancy
