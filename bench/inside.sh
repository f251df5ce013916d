#!/usr/bin/env bash
# bench/inside.sh MODE: the benchmark proper, inside the cluster bench/run.sh
# started (PGHOST/PGPORT/PGUSER from pg_virtualenv).
set -euo pipefail
mode=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$root/bench/results-$mode"
rm -rf "$out"; mkdir -p "$out/scripts"
db=tenancy_bench

# The full run's budget is 20 minutes on a 2-core machine. Per repetition:
# the main run (main_seconds), the count_big run, the reference run, a VACUUM
# and a few psql calls: about 90 s with the full settings, 450 s for 5
# repetitions; the build, the 80 s dataset, the plans, the engine (about 150 s)
# and enter() measures (about 90 s) bring it to about 13 minutes.
if [ "$mode" = full ]; then
  orgs=1000 big_orgs=5 big_rows=100000 small_rows=500 reps=5 clients=4
  main_seconds=60 main_warmup=20 big_seconds=10 big_warmup=2 reference_seconds=16 reference_warmup=6
  reference_fast_weight=150 # the join arms' list and counts take 200 ms, the other scripts 0.5: about half the time each
elif [ "$mode" = context ]; then # the full run's 1,000 organizations; only bench_ctx is read
  orgs=1000 big_orgs=2 big_rows=5000 small_rows=20 reps=1 clients=4
else # quick: a smoke test, correctness of every arm, not numbers; enter, engine: its dataset
  orgs=50 big_orgs=2 big_rows=5000 small_rows=100 reps=2 clients=2
  main_seconds=3 main_warmup=1 big_seconds=2 big_warmup=0.5 reference_seconds=2 reference_warmup=0.5
  reference_fast_weight=1 # every arm is fast on the small dataset
fi
arms=(limit natural tenancy guc guc_wrapped supabase naive)
queries=(point list count_big count_small update insert mixed)

{
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(uname -r)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "postgres: $(psql -XAtc 'SELECT version()' postgres)"
  echo "huge pages: ${TENANCY_BENCH_HUGE_PAGES:-off (the default; bench/run.sh --huge-pages reserves them)}"
  if [ "$mode" = context ]; then
    echo "mode: context ($orgs organizations; bench/context_cost.sh: six context statements interleaved in one pgbench -M prepared run at 1 and at $clients clients, then the no-op and enter() alone at 1 client; ${CONTEXT_SECONDS:-30} s each after a warm-up of ${CONTEXT_WARMUP:-8} s on the same connections)"
  else
    echo "mode: $mode ($orgs organizations, $big_orgs with $big_rows tickets, the rest $small_rows; pgbench -M prepared -c $clients -j 2, $reps repetitions of three runs (main ${main_seconds} s, count_big ${big_seconds} s, reference ${reference_seconds} s), arms interleaved within each run; client time from pgbench's per-transaction log and server time (planning and execution) from pg_stat_statements, after a warm-up of ${main_warmup}/${big_warmup}/${reference_warmup} s)"
  fi
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
if [ "$mode" = context ]; then
  echo "== what a context statement's server time costs the client (load: $(uptime | sed 's/.*load average/load average/'))"
  bash bench/context_cost.sh "$db" "$out"
  exit 0
fi
if [ "$mode" = engine ]; then
  echo "== engine against raw libpqxx (load: $(uptime | sed 's/.*load average/load average/'))"
  "$root/build/engine_bench" --mode engine --database "$db" | tee "$out/engine.txt"
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
# without pg_tenancy sends: BEGIN; the hand-filtered query; COMMIT, on its own
# copy of the limit's table (interleaved, the two arms' writes would otherwise
# land on one table and slow its reads alike). It takes the
# organization's uuid inline from bench_ctx (an InitPlan: one more index probe
# of a 1000-row table than the limit's query) and its id range from pgbench
# arithmetic (range_sql).
# Each statement carries its arm in a table alias (tenancy__ctx), which
# pg_stat_statements keeps in its text; guc_wrapped's and naive's list their
# columns in another order so that they are not the same statement as guc's and
# supabase's.
context_sql() {
  local from="FROM bench_ctx AS $1__ctx WHERE idx = :i \\gset"
  case $1 in
    limit) echo "SELECT org_id AS org, min_id, max_id $from" ;;
    tenancy) echo "SELECT tenancy.enter(token_hs) AS entered, org_id AS org, min_id, max_id $from" ;;
    guc) echo "SELECT set_config('app.org', org_id::text, true) AS ctx, org_id AS org, min_id, max_id $from" ;;
    guc_wrapped) echo "SELECT org_id AS org, set_config('app.org', org_id::text, true) AS ctx, min_id, max_id $from" ;;
    supabase) echo "SELECT set_config('app.user', user_id::text, true) AS ctx, org_id AS org, min_id, max_id $from" ;;
    naive) echo "SELECT org_id AS org, set_config('app.user', user_id::text, true) AS ctx, min_id, max_id $from" ;;
  esac
}
range_sql() {
  echo "\\set min_id $(first_id_of :i)"
  echo "\\set max_id :min_id - 1 + $(rows_of :i)"
}
query_sql() { # arm query
  local table="t_$1 AS $1__$2" filter="" and_filter="" org_col="organization_id, " org_val=":org, "
  if [ "$1" = limit ]; then filter="WHERE organization_id = :org"; and_filter="AND organization_id = :org"; fi
  if [ "$1" = natural ]; then
    local org="(SELECT org_id FROM bench_ctx WHERE idx = :i)"
    table="t_natural AS $1__$2" filter="WHERE organization_id = $org" and_filter="AND organization_id = $org" org_val="$org, "
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
    mixed) # the branch first: its small count must pick a small organization, as count_small does
      echo "\\set r random(1, 100)"
      echo "\\if :r > 70 and :r <= 80"; echo "\\set i random($((big_orgs + 1)), $orgs)"
      echo "\\else"; echo "\\set i random(1, $orgs)"; echo "\\endif" ;;
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
# Arms run side by side in one pgbench run: every arm's scripts are given
# together (-f script@weight), and each client picks one at random for each
# transaction, so every arm meets the same machine at the same moments and
# noise (other processes, the hypervisor, frequency changes) falls on all of
# them alike. Three runs per repetition:
#   main:      limit, natural, tenancy, guc, guc_wrapped x point, list,
#              count_small, update, insert, mixed (equal weights);
#   count_big: every arm on the largest organization (its own run, because its
#              statement is count_small's with another organization, and
#              pg_stat_statements could not tell them apart);
#   reference: limit, tenancy, supabase, naive x the main run's queries, the
#              membership-join arms' slow queries weighted down (they are
#              100-1000 x slower) so the fast ones keep thousands of transactions.
# Two measures per (arm, query), taken over the same window after a warm-up:
#   client: the mean time per transaction in pgbench's per-transaction log
#           (-l), round trips included;
#   server: the arm's statements' mean planning plus execution time from
#           pg_stat_statements (track_planning on: a statement re-planned at
#           every execution, like the limit's count with the organization as a
#           parameter, pays for it here), reset when the window opens: the
#           context statement plus the query
#           (mixed: its parts weighted as the script picks them: 40 % point,
#           30 % list, 10 % small count, update and insert). BEGIN and COMMIT are
#           left out (a prepared BEGIN is counted once per connection).
# Every statement names its arm and query in a table alias (tenancy__point),
# which pg_stat_statements keeps in the query text; statements that would
# otherwise be identical (the GUC arms' context) differ in column order.
# The warm-up is what a pooled application is past: its connections are open
# and tenancy.enter() has seen the tokens and memberships it serves (a
# backend's first enter() of a token checks its signature; of a membership,
# reads the catalog). pgbench opens new connections for every run, and picks
# among 1,000 organizations, so the main run warms up for main_warmup seconds:
# 4,000-7,000 enter() calls per backend (the tenancy arm is one of five), after
# which a few tokens per backend are still new to it (up to about 0.2 % of the
# window's calls when the VM runs slowest). With 10 s (2,500-3,600
# calls) 0.2-0.8 % of the window's enter() calls were a token's first use in
# its backend, a signature check and a membership look-up each
# (docs/performance.md, tenth run).
reset_statements() { psql -X -qAt -d "$db" -c 'SELECT pg_stat_statements_reset()' >/dev/null; }
statement_means() { # marker|calls|mean us of each statement of the window
  psql -X -qAt -d "$db" -c "SELECT substring(s.query from '([a-z_]+__[a-z_]+)'), sum(s.calls),
         round((1000 * sum(s.total_plan_time + s.total_exec_time) / nullif(sum(s.calls), 0))::numeric, 3)
    FROM pg_stat_statements s
   WHERE s.userid = 'bench_app'::regrole AND s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND s.query ~ '[a-z_]+__[a-z_]+'
   GROUP BY 1"
}
# run_interleaved NAME REP SECONDS WARMUP ARM.QUERY@WEIGHT...: one pgbench run;
# appends one row per script to raw.csv.
run_interleaved() {
  local name=$1 rep=$2 seconds=$3 warmup=$4; shift 4
  local files=() specs=("$@") spec logdir="$out/log"
  for spec in "${specs[@]}"; do files+=(-f "$out/scripts/${spec%@*}.sql@${spec#*@}"); done
  rm -rf "$logdir"; mkdir -p "$logdir"
  local started; started=$(date +%s.%N)
  pgbench -n -M prepared -c "$clients" -j 2 -T "$seconds" -l --log-prefix="$logdir/tx" "${files[@]}" "$bench_conn" \
    >"$out/pgbench.log" 2>&1 &
  local pid=$!
  if [ "$warmup" = 0 ]; then reset_statements; else sleep "$warmup"; reset_statements; fi
  wait "$pid" || { echo "pgbench failed in the $name run:"; cat "$out/pgbench.log"; exit 1; }
  local failed; failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out/pgbench.log")
  [ "${failed:-0}" = 0 ] || { echo "$name run: $failed failed transactions"; cat "$out/pgbench.log"; exit 1; }
  statement_means >"$out/statements.txt"
  sed "s/^/$name|$rep|/" "$out/statements.txt" >>"$out/statements.csv"
  # Log line: client transaction latency_us script epoch us (PostgreSQL 15).
  cat "$logdir"/tx.* | awk -v cutoff="$(awk -v a="$started" -v b="$warmup" 'BEGIN { printf "%.6f", a + b }')" -v name="$name" -v rep="$rep" \
    -v specs="${specs[*]}" -v means="$out/statements.txt" '
    BEGIN {
      n = split(specs, s, " ")
      for (i = 1; i <= n; i++) { sub(/@.*/, "", s[i]); split(s[i], aq, "."); arm[i - 1] = aq[1]; query[i - 1] = aq[2] }
      FS = "|"
      while ((getline line < means) > 0) { split(line, f, "|"); mean[f[1]] = f[3] }
      FS = " "
      w["point"] = 0.4; w["list"] = 0.3; w["count_small"] = 0.1; w["update"] = 0.1; w["insert"] = 0.1
    }
    $5 + $6 / 1e6 >= cutoff { count[$4]++; total[$4] += $3 }
    END {
      for (i = 0; i < n; i++) {
        a = arm[i]; q = query[i]
        ctx = (a == "natural") ? 0 : mean[a "__ctx"]
        if (q == "mixed") {
          server = ctx
          for (p in w) server += w[p] * mean[a "__" p]
        } else server = ctx + mean[a "__" q]
        ok = (a == "natural" || (a "__ctx") in mean)
        if (q == "mixed") { for (p in w) if (!((a "__" p) in mean)) ok = 0 } else if (!((a "__" q) in mean)) ok = 0
        printf "%s,%s,%s,%s,%d,%s,%s\n", name, a, q, rep, count[i], (count[i] ? sprintf("%.2f", total[i] / count[i]) : "NA"),
          (ok ? sprintf("%.2f", server) : "NA")
      }
    }' >>"$out/raw.csv"
  rm -rf "$logdir"
}
arm_tables="t_limit, t_natural, t_tenancy, t_guc, t_guc_wrapped, t_supabase, t_naive"
main_arms=(limit natural tenancy guc guc_wrapped)
reference_arms=(limit tenancy supabase naive)
short_queries=(point list count_small update insert mixed)
echo "run,arm,query,rep,transactions,latency_us,server_us" >"$out/raw.csv"
echo "run|rep|statement|calls|mean_us" >"$out/statements.csv" # every statement's own mean, per run
bench_start=$(date +%s)
for rep in $(seq "$reps"); do
  # Autovacuum is off on the arm tables (dataset.sql), so that it cannot land
  # in the middle of a run; the writes of the previous repetition are vacuumed
  # here instead, for every arm alike.
  [ "$rep" = 1 ] || psql -X -q -d "$db" -c "VACUUM $arm_tables"
  specs=()
  for arm in "${main_arms[@]}"; do for q in "${short_queries[@]}"; do specs+=("$arm.$q@1"); done; done
  run_interleaved main "$rep" "$main_seconds" "$main_warmup" "${specs[@]}"
  # count_big costs 8 ms in the fast arms and 250 ms in the join arms.
  specs=()
  for arm in "${arms[@]}"; do
    case $arm in supabase|naive) specs+=("$arm.count_big@1") ;; *) specs+=("$arm.count_big@30") ;; esac
  done
  run_interleaved count_big "$rep" "$big_seconds" "$big_warmup" "${specs[@]}"
  specs=()
  for arm in "${reference_arms[@]}"; do for q in "${short_queries[@]}"; do
    case $arm.$q in supabase.list|supabase.count_small|supabase.mixed|naive.list|naive.count_small|naive.mixed)
      specs+=("$arm.$q@1") ;; *) specs+=("$arm.$q@$reference_fast_weight") ;; esac
  done; done
  run_interleaved reference "$rep" "$reference_seconds" "$reference_warmup" "${specs[@]}"
  echo "  repetition $rep/$reps done, $(( $(date +%s) - bench_start )) s"
done
rm -f "$out/pgbench.log" "$out/statements.txt"
missing=$(awk -F, 'NR > 1 && ($5 == 0 || $6 == "NA" || $7 == "NA")' "$out/raw.csv")
[ -z "$missing" ] || { echo "some arm ran no transaction in a window, or has no server time:"; echo "$missing"; }
echo

echo "== engine"
"$root/build/engine_bench" --mode "$mode" --database "$db" | tee "$out/engine.txt"

echo "== results"
bash bench/report.sh "$out" | tee "$out/ratios.txt"
