#!/usr/bin/env bash
# bench/inside.sh MODE: the benchmark proper, inside the cluster bench/run.sh
# started (PGHOST/PGPORT/PGUSER from pg_virtualenv).
set -euo pipefail
mode=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$root/bench/results-$mode"
rm -rf "$out"; mkdir -p "$out/scripts"
db=tenancy_bench

# The full run's budget is 20 minutes on a 2-core machine. 7 arms x 7 queries x
# 5 repetitions = 245 pgbench runs. The 0.3.0 run with -T 3 took 22 min 49 s:
# 836 s of pgbench (3.41 s per run, so 0.41 s around each: two psql calls,
# pgbench's connections) and 533 s for everything else (the build from a fresh
# clone, the 78 s dataset, the VACUUMs, plans, the engine and enter() measures).
# pgbench's -T takes whole seconds; with -T 2: 245 x 2.41 s = 590 s, about
# 1125 s in all, 18.8 minutes. The warm-up before pg_stat_statements is reset
# is 0.3 s (connecting 4 clients and their first, cold enter() take well under
# that), so 1.7 s of every run count for the server-time measure. More, shorter
# repetitions would not narrow the spread as printed (min-max over the
# repetitions widens with their number); shorter runs widen each one's noise,
# which the lead's next full run has to show is still within the goal.
if [ "$mode" = full ]; then
  orgs=1000 big_orgs=5 big_rows=100000 small_rows=500 reps=5 clients=4 length="-T 2" warmup=0.3
else # quick: a smoke test, correctness of every arm, not numbers; enter: its dataset
  orgs=50 big_orgs=2 big_rows=5000 small_rows=100 reps=3 clients=2 length="-T 1" warmup=0
fi
arms=(limit natural tenancy guc guc_wrapped supabase naive)
queries=(point list count_big count_small update insert mixed)

{
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(uname -r)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "postgres: $(psql -XAtc 'SELECT version()' postgres)"
  echo "mode: $mode ($orgs organizations, $big_orgs with $big_rows tickets, the rest $small_rows; pgbench -M prepared -c $clients -j 2 $length, $reps repetitions, arms interleaved in a new random order each time; server time per transaction from pg_stat_statements)"
} | tee "$out/machine.txt"

echo "== dataset"
dropdb --if-exists "$db" >/dev/null 2>&1; createdb "$db"
start=$(date +%s)
psql -X -q -d "$db" -v orgs=$orgs -v big_orgs=$big_orgs -v big_rows=$big_rows -v small_rows=$small_rows \
  -f bench/dataset.sql
# A context token per organization and algorithm, for the pg_tenancy arm.
psql -X -qAt -d "$db" -c "SELECT idx, user_id, org_id FROM bench_ctx ORDER BY idx" |
while IFS='|' read -r idx user org; do
  hs=$("$TENANCY_CLI" token mint --keyring "$TENANCY_KEYRING" --kid bench-hs --ttl 3600 --user "$user" --org "$org")
  ed=$("$TENANCY_CLI" token mint --keyring "$TENANCY_KEYRING" --kid bench-ed --ttl 3600 --user "$user" --org "$org")
  echo "UPDATE bench_ctx SET token_hs = '$hs', token_ed = '$ed' WHERE idx = $idx;"
done | psql -X -q -d "$db" >/dev/null
psql -X -q -d "$db" -c "VACUUM (FREEZE, ANALYZE)" -c "CHECKPOINT"
echo "dataset built in $(( $(date +%s) - start )) s: $(psql -XAtc "SELECT count(*) FROM t_limit" "$db") tickets per arm"

if [ "$mode" = enter ]; then
  echo "== tenancy.enter() (load: $(uptime | sed 's/.*load average/load average/'))"
  "$root/build/engine_bench" --mode enter --enter-repeats "${ENTER_REPEATS:-5}" --database "$db" | tee "$out/enter.txt"
  echo "load afterwards: $(uptime | sed 's/.*load average/load average/')" | tee -a "$out/enter.txt"
  exit 0
fi

# The natural arm computes organization :i's id range in pgbench instead of
# reading it; this is the numbering dataset.sql gives the rows.
first_id_of() { echo "1 + CASE WHEN $1 <= $big_orgs THEN ($1 - 1) * $big_rows ELSE $((big_orgs * big_rows)) + ($1 - $((big_orgs + 1))) * $small_rows END"; }
rows_of() { echo "CASE WHEN $1 <= $big_orgs THEN $big_rows ELSE $small_rows END"; }
mismatched=$(psql -X -qAt -d "$db" -c "SELECT count(*) FROM bench_ctx
  WHERE min_id <> $(first_id_of idx) OR max_id <> $(first_id_of idx) - 1 + $(rows_of idx)")
[ "$mismatched" = 0 ] || { echo "the natural arm's id ranges disagree with dataset.sql for $mismatched organizations"; exit 1; }

# Every script but natural's: BEGIN; one statement that picks the organization
# and sets the arm's context; the measured query; COMMIT. Same round trips in
# every such arm, the limit included. The natural arm is what an application
# without pg_tenancy sends: BEGIN; the hand-filtered query; COMMIT. It takes the
# organization's uuid inline from bench_ctx (an InitPlan: one more index probe
# of a 1000-row table than the limit's query) and its id range from pgbench
# arithmetic (range_sql).
context_sql() {
  case $1 in
    limit) echo "SELECT org_id AS org, min_id, max_id FROM bench_ctx WHERE idx = :i \\gset" ;;
    tenancy) echo "SELECT tenancy.enter(token_hs) AS entered, org_id AS org, min_id, max_id FROM bench_ctx WHERE idx = :i \\gset" ;;
    guc|guc_wrapped) echo "SELECT set_config('app.org', org_id::text, true) AS ctx, org_id AS org, min_id, max_id FROM bench_ctx WHERE idx = :i \\gset" ;;
    supabase|naive) echo "SELECT set_config('app.user', user_id::text, true) AS ctx, org_id AS org, min_id, max_id FROM bench_ctx WHERE idx = :i \\gset" ;;
  esac
}
range_sql() {
  echo "\\set min_id $(first_id_of :i)"
  echo "\\set max_id :min_id - 1 + $(rows_of :i)"
}
query_sql() { # arm query
  local table="t_$1" filter="" and_filter="" org_col="organization_id, " org_val=":org, "
  if [ "$1" = limit ]; then filter="WHERE organization_id = :org"; and_filter="AND organization_id = :org"; fi
  if [ "$1" = natural ]; then
    local org="(SELECT org_id FROM bench_ctx WHERE idx = :i)"
    table=t_limit filter="WHERE organization_id = $org" and_filter="AND organization_id = $org" org_val="$org, "
  fi
  if [ "$1" = tenancy ]; then org_col=""; org_val=""; fi # the column defaults to tenancy.current_org()
  case $2 in
    point) echo "SELECT * FROM $table WHERE id = :id $and_filter;" ;;
    list) echo "SELECT id, title, created_at FROM $table $filter ORDER BY created_at DESC LIMIT 50;" ;;
    count_big|count_small) echo "SELECT count(*) FROM $table $filter;" ;;
    update) echo "UPDATE $table SET status = CASE status WHEN 'open' THEN 'closed' ELSE 'open' END WHERE id = :id $and_filter;" ;;
    insert) echo "INSERT INTO $table (id, ${org_col}title, status, created_at) VALUES (nextval('bench_ticket_ids'), ${org_val}'new', 'open', now());" ;;
  esac
}
pick_sql() {
  case $1 in
    count_big) echo "\\set i 1" ;;
    count_small) echo "\\set i random($((big_orgs + 1)), $orgs)" ;;
    *) echo "\\set i random(1, $orgs)" ;;
  esac
}
write_script() { # arm query file
  {
    pick_sql "$2"
    echo "BEGIN;"
    if [ "$1" = natural ]; then range_sql; else context_sql "$1"; fi
    echo "\\set id random(:min_id, :max_id)"
    if [ "$2" = mixed ]; then
      echo "\\set r random(1, 100)"
      echo "\\if :r <= 40"; query_sql "$1" point
      echo "\\elif :r <= 70"; query_sql "$1" list
      echo "\\elif :r <= 80"; query_sql "$1" count_small
      echo "\\elif :r <= 90"; query_sql "$1" update
      echo "\\else"; query_sql "$1" insert
      echo "\\endif"
    else
      query_sql "$1" "$2"
    fi
    echo "COMMIT;"
  } >"$3"
}
for arm in "${arms[@]}"; do for q in "${queries[@]}"; do write_script "$arm" "$q" "$out/scripts/$arm.$q.sql"; done; done

bench_conn="host=${PGHOST:-localhost} port=${PGPORT:-5432} dbname=$db user=bench_app password=bench_app"

echo "== plans"
for q in point list count_big count_small update insert; do
  for arm in "${arms[@]}"; do
    ctx=$(context_sql "$arm" | sed -e 's/ \\gset/;/' -e 's/:i/1/')
    query=$(query_sql "$arm" "$q" | sed -e "s/:id/(SELECT min_id FROM bench_ctx WHERE idx = 1)/" \
      -e "s/:org/(SELECT org_id FROM bench_ctx WHERE idx = 1)/g" -e "s/= :i)/= 1)/g")
    { echo "---- $arm / $q"
      printf 'BEGIN;\n\\o /dev/null\n%s\n\\o\nEXPLAIN (COSTS OFF) %s\nROLLBACK;\n' "$ctx" "$query" |
        psql -X -q "$bench_conn" 2>&1
    } >>"$out/plans.txt"
  done
done
echo "plans of every arm and query: $out/plans.txt"

echo "== pgbench"
# Two measures per run: pgbench's tps (the client's view: round trips included)
# and the server's execution time per transaction: the benchmark role's
# statements' total_exec_time in pg_stat_statements over the transactions (each
# runs one statement in the natural arm, two in the others). pg_stat_statements
# counts a prepared BEGIN or COMMIT only once per connection, so they are left
# out of both. pg_stat_statements is reset $warmup s into the run, once every
# client has connected and run its first transaction: a backend's first
# tenancy.enter() is cold (milliseconds, paid once per pooled connection) and
# would otherwise weigh on the steady-state figure.
arm_tables="t_limit, t_tenancy, t_guc, t_guc_wrapped, t_supabase, t_naive"
server_time_sql() { # statements per transaction
  echo "SELECT round((1000 * sum(s.total_exec_time) / nullif(sum(s.calls) / $1, 0))::numeric, 2), round(sum(s.calls) / $1)
  FROM pg_stat_statements s
 WHERE s.userid = 'bench_app'::regrole AND s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND upper(rtrim(s.query, '; ')) NOT IN ('BEGIN', 'COMMIT')"
}
echo "arm,query,rep,tps,latency_ms,server_transactions,server_us_per_tx" >"$out/raw.csv"
total_runs=$(( ${#arms[@]} * ${#queries[@]} * reps ))
run=0
bench_start=$(date +%s)
for rep in $(seq "$reps"); do
  # Autovacuum is off on the arm tables (dataset.sql), so that it cannot land
  # in one arm's run and not another's; the writes of the previous repetition
  # are vacuumed here instead, for every arm alike, before its reads.
  [ "$rep" = 1 ] || psql -X -q -d "$db" -c "VACUUM $arm_tables"
  for q in "${queries[@]}"; do
    for arm in $(printf '%s\n' "${arms[@]}" | shuf); do
      run=$((run + 1))
      reset="psql -X -qAt -d $db -c 'SELECT pg_stat_statements_reset()'"
      [ "$warmup" != 0 ] || eval "$reset" >/dev/null # quick: no warm-up, so no timing can leave the window empty
      pgbench -n -M prepared -c "$clients" -j 2 $length -f "$out/scripts/$arm.$q.sql" "$bench_conn" >"$out/pgbench.log" 2>&1 &
      [ "$warmup" = 0 ] || { sleep "$warmup"; eval "$reset" >/dev/null; }
      wait $! || { echo "pgbench failed for $arm/$q:"; cat "$out/pgbench.log"; exit 1; }
      log=$(cat "$out/pgbench.log")
      IFS='|' read -r server_us txs < <(psql -X -qAt -d "$db" -c "$(server_time_sql "$([ "$arm" = natural ] && echo 1 || echo 2)")")
      failed=$(echo "$log" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
      [ "${failed:-0}" = 0 ] || { echo "$arm/$q: $failed failed transactions"; echo "$log"; exit 1; }
      tps=$(echo "$log" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
      lat=$(echo "$log" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
      # A full run's data stays usable if the reset came too late: the report skips NA.
      [ "${txs:-0}" -gt 0 ] || { echo "  $arm/$q rep $rep: no transactions after the warm-up, server time NA"; server_us=NA; }
      echo "$arm,$q,$rep,$tps,$lat,$txs,$server_us" >>"$out/raw.csv"
    done
  done
  echo "  $run/$total_runs runs, $(( $(date +%s) - bench_start )) s"
done
rm -f "$out/pgbench.log"
echo

echo "== engine"
"$root/build/engine_bench" --mode "$mode" --database "$db" | tee "$out/engine.txt"

echo "== results"
bash bench/report.sh "$out" | tee "$out/ratios.txt"
