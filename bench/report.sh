#!/usr/bin/env bash
# bench/report.sh DIR: time ratios to the limit from DIR/raw.csv, as a table on
# stdout, DIR/ratios.csv and DIR/ratios.png. A ratio is limit tps / arm tps,
# taken per repetition (arms interleaved), so 1.00 means as fast as the
# hand-written filter without RLS and 2.00 twice as slow.
set -euo pipefail
dir=$1
awk -F, 'NR > 1 { tps[$1","$2","$3] = $4; arms[$1]; queries[$2]; reps[$3] }
END {
  n = split("point list count_big count_small update insert mixed", qs, " ")
  m = split("limit tenancy guc guc_wrapped supabase naive", as, " ")
  print "query,arm,median,min,max" > (dir "/ratios.csv")
  printf "%-12s", "time ratio"
  for (j = 1; j <= m; j++) printf " %22s", as[j]
  printf "\n"
  for (i = 1; i <= n; i++) {
    q = qs[i]; printf "%-12s", q
    for (j = 1; j <= m; j++) {
      a = as[j]; k = 0
      for (r in reps) {
        if ((a","q","r) in tps && tps[a","q","r] > 0 && tps["limit,"q","r] > 0) v[++k] = tps["limit,"q","r] / tps[a","q","r]
      }
      # insertion sort for the median
      for (x = 2; x <= k; x++) { t = v[x]; y = x - 1; while (y > 0 && v[y] > t) { v[y+1] = v[y]; y-- } v[y+1] = t }
      med = (k % 2) ? v[(k+1)/2] : (v[k/2] + v[k/2+1]) / 2
      printf " %8.2f (%5.2f-%5.2f)", med, v[1], v[k]
      printf "%s,%s,%.4f,%.4f,%.4f\n", q, a, med, v[1], v[k] >> (dir "/ratios.csv")
      ratio[q","a] = med
    }
    printf "\n"
  }
  printf "\ntargets (from the issue), with this run:\n"
  split("point list update insert", t1, " ")
  for (i in t1) printf "  pg_tenancy <= 1.05x the limit on %-11s %5.2f  %s\n", t1[i], ratio[t1[i]",tenancy"], (ratio[t1[i]",tenancy"] <= 1.05 ? "met" : "MISSED")
  printf "  pg_tenancy <= 1.10x on count_big              %5.2f  %s\n", ratio["count_big,tenancy"], (ratio["count_big,tenancy"] <= 1.10 ? "met" : "MISSED")
  split("point list count_big count_small update insert mixed", all, " ")
  slower = 0
  for (i in all) if (ratio[all[i]",tenancy"] > ratio[all[i]",guc"] * 1.02) slower++
  printf "  pg_tenancy at least as fast as the plain GUC  %d of 7 queries slower by >2%%  %s\n", slower, (slower == 0 ? "met" : "MISSED")
  split("list count_big count_small", t3, " ")
  for (i in t3) printf "  naive join >= 10x pg_tenancy on %-12s %6.1fx  %s\n", t3[i], ratio[t3[i]",naive"] / ratio[t3[i]",tenancy"], (ratio[t3[i]",naive"] / ratio[t3[i]",tenancy"] >= 10 ? "met" : "MISSED")
}' dir="$dir" "$dir/raw.csv"

if command -v gnuplot >/dev/null; then
  awk -F, 'NR > 1 { v[$1","$2] = $3; if (!($1 in seen)) { seen[$1]; order[++n] = $1 } }
    END { for (i = 1; i <= n; i++) { q = order[i]; printf "%s %s %s %s %s %s %s\n", q, v[q",limit"], v[q",tenancy"], v[q",guc"], v[q",guc_wrapped"], v[q",supabase"], v[q",naive"] } }' \
    "$dir/ratios.csv" >"$dir/ratios.dat"
  gnuplot <<GP
set terminal pngcairo size 1100,520 font ",10" noenhanced
set output "$dir/ratios.png"
set title "Time per transaction relative to the limit (no RLS, hand-written filter): lower is better"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set yrange [0.5:*]
set ylabel "ratio to the limit (log scale)"
set key outside right top
set grid ytics
set xtics nomirror
plot "$dir/ratios.dat" using 2:xtic(1) title "limit (no RLS, hand-written filter)", '' using 3 title "pg_tenancy", '' using 4 title "plain GUC", \
     '' using 5 title "GUC wrapped in (SELECT)", '' using 6 title "Supabase-style IN (memberships)", '' using 7 title "naive EXISTS join"
GP
  echo "plot: $dir/ratios.png"
fi
