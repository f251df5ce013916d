#!/usr/bin/env bash
# bench/report.sh DIR: time ratios from DIR/raw.csv, as tables on stdout,
# DIR/ratios.csv and the plots DIR/ratios.png (client time) and DIR/ratios-server.png
# (server time). A ratio compares an arm's time per transaction with a base
# arm's in the same pgbench run (arms interleaved within it), so 1.00 means as
# fast as the base and 2.00 twice as slow. Two measures:
#   client: mean time per transaction from pgbench's per-transaction log, the
#           client's view (round trips included);
#   server: the arm's statements' mean planning and execution time
#           (pg_stat_statements, track_planning on).
# Each cell is the median over the repetitions and the spread (min-max). The
# membership-join arms come from the reference run, count_big from its own
# run, everything else from the main run (bench/inside.sh).
set -euo pipefail
dir=$1
awk -F, '
function run_of(a, q) {
  if (q == "count_big") return "count_big"
  return (a == "supabase" || a == "naive") ? "reference" : "main"
}
function time_of(measure, run, a, q, r,   key) {
  key = run "," a "," q "," r
  if (!(key in latency)) return -1
  return (measure == "client" ? latency[key] : server[key]) + 0 # NA: no data, skipped
}
# Sets med, lo, hi for arm a against base b on query q (both from the run a is measured in);
# returns the count.
function ratio(measure, a, b, q,   r, k, x, y, t, ta, tb, run) {
  k = 0
  run = run_of(a, q)
  for (r in reps) {
    ta = time_of(measure, run, a, q, r); tb = time_of(measure, run, b, q, r)
    if (ta > 0 && tb > 0) v[++k] = ta / tb
  }
  for (x = 2; x <= k; x++) { t = v[x]; y = x - 1; while (y > 0 && v[y] > t) { v[y+1] = v[y]; y-- } v[y+1] = t }
  if (k == 0) { med = lo = hi = -1; return 0 }
  med = (k % 2) ? v[(k+1)/2] : (v[k/2] + v[k/2+1]) / 2; lo = v[1]; hi = v[k]
  return k
}
function table(measure, title,   i, j) {
  printf "%s\n%-12s", title, "query"
  for (j = 1; j <= m; j++) printf " %22s", as[j]
  printf "\n"
  for (i = 1; i <= n; i++) {
    printf "%-12s", qs[i]
    for (j = 1; j <= m; j++) {
      ratio(measure, as[j], "limit", qs[i])
      printf " %8.2f (%5.2f-%5.2f)", med, lo, hi
      printf "%s,%s,%s,limit,%.4f,%.4f,%.4f\n", measure, qs[i], as[j], med, lo, hi >> (dir "/ratios.csv")
    }
    printf "\n"
  }
  printf "\n"
}
# One target line: arm a against base b on query q, met when the median <= limit.
function target(measure, a, b, q, limit, label,   spread) {
  ratio(measure, a, b, q)
  spread = (hi - med > med - lo) ? hi - med : med - lo
  printf "  %-6s %-28s %-12s %5.2f (%5.2f-%5.2f, +-%.2f)  %s\n", measure, label, q, med, lo, hi, spread,
    (med > 0 && med <= limit ? "met" : "MISSED")
  if (spread > 0.10) wide = wide sprintf("  %s %s/%s on %s: +-%.2f\n", measure, a, b, q, spread)
  if (b != "limit") printf "%s,%s,%s,%s,%.4f,%.4f,%.4f\n", measure, q, a, b, med, lo, hi >> (dir "/ratios.csv")
}
NR > 1 { key = $1","$2","$3","$4; latency[key] = $6; server[key] = $7; reps[$4] }
END {
  n = split("point list count_big count_small update insert mixed", qs, " ")
  m = split("limit natural tenancy guc guc_wrapped supabase naive", as, " ")
  print "measure,query,arm,base,median,min,max" > (dir "/ratios.csv")
  table("client", "time ratio to the limit, client time per transaction (pgbench per-transaction log, round trips included): median (min-max)")
  table("server", "time ratio to the limit, server time per transaction (pg_stat_statements, planning and execution): median (min-max)")

  split("client server", measures, " ")
  for (k2 = 1; k2 <= 2; k2++) {
    printf "%s time per transaction, us (median):\n%-12s", measures[k2], "query"
    for (j = 1; j <= m; j++) printf " %11s", as[j]
    printf "\n"
    for (i = 1; i <= n; i++) {
      printf "%-12s", qs[i]
      for (j = 1; j <= m; j++) {
        k = 0
        for (r in reps) { t = time_of(measures[k2], run_of(as[j], qs[i]), as[j], qs[i], r); if (t > 0) v[++k] = t }
        for (x = 2; x <= k; x++) { t = v[x]; y = x - 1; while (y > 0 && v[y] > t) { v[y+1] = v[y]; y-- } v[y+1] = t }
        printf " %11.1f", k ? ((k % 2) ? v[(k+1)/2] : (v[k/2] + v[k/2+1]) / 2) : -1
      }
      printf "\n"
    }
    printf "\n"
  }

  printf "targets (issue 10, \"Done when\"), with this run: median (min-max, largest distance from the median)\n"
  for (k2 = 1; k2 <= 2; k2++)
    for (i = 1; i <= n; i++) target(measures[k2], "tenancy", "limit", qs[i], 1.05, "pg_tenancy/limit <= 1.05")
  for (k2 = 1; k2 <= 2; k2++)
    for (i = 1; i <= n; i++) target(measures[k2], "tenancy", "guc", qs[i], 1.03, "pg_tenancy/plain GUC <= 1.03")
  printf "\nspread of the pg_tenancy ratios (goal: every one within +-0.10 of its median): %s\n", (wide == "" ? "met" : "MISSED")
  printf "%s", wide

  printf "\nfor reference (not targets):\n"
  for (i = 1; i <= n; i++) {
    ratio("client", "tenancy", "natural", qs[i])
    printf "  pg_tenancy/natural (4 round trips against 3), client, %-12s %5.2f (%5.2f-%5.2f)\n", qs[i], med, lo, hi
  }
  split("list count_big count_small", t3, " ")
  for (i = 1; i <= 3; i++) {
    ratio("client", "naive", "tenancy", t3[i])
    printf "  naive join >= 10x pg_tenancy (an earlier target), client, %-12s %6.1fx  %s\n", t3[i], med, (med >= 10 ? "met" : "MISSED")
  }
}' dir="$dir" "$dir/raw.csv"

if command -v gnuplot >/dev/null; then
  for measure in client server; do
    dat="$dir/ratios-$measure.dat"
    awk -F, -v measure="$measure" '$1 == measure && $4 == "limit" { v[$2","$3] = $5; if (!($2 in seen)) { seen[$2]; order[++n] = $2 } }
      END { for (i = 1; i <= n; i++) { q = order[i]; printf "%s %s %s %s %s %s %s %s\n", q, v[q",limit"], v[q",natural"],
            v[q",tenancy"], v[q",guc"], v[q",guc_wrapped"], v[q",supabase"], v[q",naive"] } }' "$dir/ratios.csv" >"$dat"
    png="$dir/ratios.png" title="Client time per transaction (pgbench's log)"
    [ "$measure" = server ] && png="$dir/ratios-server.png" title="Server time per transaction (pg_stat_statements: planning and execution)"
    gnuplot <<GP
set terminal pngcairo size 1100,520 font ",10" noenhanced
set output "$png"
set title "$title relative to the limit (no RLS, hand-written filter): lower is better"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set yrange [0.5:*]
set ylabel "ratio to the limit (log scale)"
set key outside right top
set grid ytics
set xtics nomirror
plot "$dat" using 2:xtic(1) title "limit (4 round trips, hand-written filter)", '' using 3 title "natural (3 round trips, hand-written filter)", \
     '' using 4 title "pg_tenancy", '' using 5 title "plain GUC", '' using 6 title "GUC wrapped in (SELECT)", \
     '' using 7 title "Supabase-style IN (memberships)", '' using 8 title "naive EXISTS join"
GP
    echo "plot: $png"
  done
fi
