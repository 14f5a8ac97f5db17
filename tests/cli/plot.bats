#!/usr/bin/env bats
# scripts/plot: what each figure shows, read back from the SVG's text (tick labels, legend
# entries, labels): limits marked, axes fitted to the data, sweeps against the effective
# concurrency with a speedup panel, failed points marked, the legend of each workload, a
# baseline overlaid, and sweep-only runs still drawing every driver's bar.

load helpers

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
FIXTURES=$BATS_TEST_DIRNAME/fixtures
PLOT=$REPO/scripts/plot

setup() {
  command -v gnuplot >/dev/null || skip "gnuplot not installed"
  export TMPDIR=$BATS_TEST_TMPDIR
  cd "$BATS_TEST_TMPDIR"
}

# texts SVG: every text element, one per line
texts() { grep -o '<text>[^<]*</text>' "$1" | sed 's/<[^>]*>//g'; }
# has SVG TEXT / lacks SVG TEXT: an exact text element
has() { texts "$1" | grep -qxF -- "$2" || fail "$1 has no text '$2'; it has: $(texts "$1" | paste -sd'|')"; }
lacks() { ! texts "$1" | grep -qxF -- "$2" || fail "$1 shows '$2'"; }
# numbers SVG: the numeric texts (tick labels and speedups without their ×)
numbers() { texts "$1" | grep -xE '[0-9]+(\.[0-9]+)?'; }

# edit SRC DST EXPR: a copy of a results file with each row passed through a Python
# expression on `r` (a dict by column name)
edit() {
  python3 - "$@" <<'PY'
import csv, sys
src, dst, expr = sys.argv[1:4]
with open(src, newline="") as f:
    rows = list(csv.DictReader(f))
with open(dst, "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(eval(expr))
PY
}
TIMES="median_s min_s max_s mean_s stddev_s cv_pct speedup pct_limit"
failed_expr() { # failed_expr CONDITION: rows matching CONDITION become FAILED with no times
  echo "{**r, **{c: '' for c in '$TIMES'.split()}, 'verdict': 'FAILED', 'reason': 'exit 1'} if $1 else r"
}

@test "bars: one panel per workload and profile, each y axis from 0 and fitted to its tallest whisker" {
  run "$PLOT" "$FIXTURES/results.csv" -o plots
  assert_success
  svg=plots/results.svg
  for title in "flags · LOCAL" "flags · DELAY" "flags · ERROR" "sha"; do has "$svg" "$title"; done
  # every panel starts at 0 (a 1.07 s bar is not a sliver above a 1 s axis) ...
  [ "$(texts "$svg" | grep -cx 0)" -eq 4 ]
  # ... and ends near its data: DELAY's sequential whisker tops at 1.11 s, so no tick at 2 s or more
  max=$(numbers "$svg" | sort -g | tail -1)
  awk -v m="$max" 'BEGIN { exit !(m >= 1.1 && m < 2) }' || fail "highest tick $max"
}

@test "bars: every bar with a limit shows it, named per workload" {
  run "$PLOT" "$FIXTURES/results.csv" -o plots
  assert_success
  # the flags DELAY and sha rows carry limit_s: their panels have the marker in the legend
  has plots/results.svg "limit L·⌈N/C⌉"
  has plots/results.svg "limit: OpenSSL rate × min(w, cores)"
  # drop every limit: no marker, no legend entry
  edit "$FIXTURES/results.csv" nolimit.csv "{**r, 'limit_s': '', 'pct_limit': ''}"
  run "$PLOT" nolimit.csv -o plots
  assert_success
  lacks plots/nolimit.svg "limit L·⌈N/C⌉"
  lacks plots/nolimit.svg "limit: OpenSSL rate × min(w, cores)"
}

@test "bars: the speedup over sequential above each bar, FAILED written where a bar is missing" {
  edit "$FIXTURES/results.csv" failed.csv "$(failed_expr "r['driver'] == 'processpool' and r['profile'] == 'DELAY'")"
  run "$PLOT" failed.csv -o plots
  assert_success
  has plots/failed.svg "13×"     # flags DELAY coroutine, 13.357
  has plots/failed.svg "0.65×"   # flags LOCAL threadpool
  has plots/failed.svg "FAILED"
  lacks plots/failed.svg "1.00×" # sequential is not labelled: 1× by definition
}

@test "bars after a sweep-only run: every driver at its fastest swept value, not just sequential" {
  run "$PLOT" "$FIXTURES/sweep.csv" -o plots
  assert_success
  svg=plots/sweep.svg
  for d in sequential threadpool processpool coroutine; do has "$svg" "$d"; done
  # the fastest value of each (threadpool 0.157 s at m=64, coroutine 0.090 s at m=194)
  has "$svg" "m=64"
  has "$svg" "m=194"
  has "$svg" "46×"
}

@test "--base overlays the baseline: a diamond per bar, dashed curves on the sweep" {
  edit "$FIXTURES/sweep.csv" base.csv "{**r, 'median_s': '%.6f' % (0.8 * float(r['median_s']))}"
  run "$PLOT" "$FIXTURES/sweep.csv" --base base.csv -o plots
  assert_success
  has plots/sweep.svg "base: base"
  has plots/sweep-sweep-flags-DELAY.svg "base: base (dashed)"
  run "$PLOT" "$FIXTURES/results.csv" --base "$REPO/results/baseline.csv" -o plots
  assert_success
  has plots/results.svg "base: baseline"
  run "$PLOT" "$FIXTURES/results.csv" --base nosuch.csv -o plots
  assert_failure 2
}

@test "sweep: time and speedup panels, y fitted to the data, failed points marked, the flags legend" {
  edit "$FIXTURES/sweep.csv" sw.csv "$(failed_expr "r['driver'] == 'processpool' and r['sweep_value'] == '194'")"
  run "$PLOT" sw.csv -o plots
  assert_success
  svg=plots/sw-sweep-flags-DELAY.svg
  has "$svg" "median wall time (whiskers min–max)"
  has "$svg" "speedup over sequential"
  has "$svg" "sequential ÷ limit (best possible)"
  has "$svg" "limit L·⌈N/C⌉"
  has "$svg" "failed"
  # the times span 0.02 (limit) to 4.2 s: no decade of empty axis below or above
  lacks "$svg" "0.001"
  lacks "$svg" "0.005"
  lacks "$svg" "1000"
  # no failure, no "failed" entry
  run "$PLOT" "$FIXTURES/sweep.csv" -o plots
  assert_success
  lacks plots/sweep-sweep-flags-DELAY.svg "failed"
}

@test "sweep of a real run: x is the effective concurrency (-m 100 over 20 codes is 20), and the sha legend does not name the DELAY formula" {
  run "$BIN/concbench" run --workload flags --profile DELAY --drivers sequential,coroutine \
    --sweep m=4,100 --quick --runs 1 --warmup 0 --out out
  assert_success
  c=$(head -1 out/latest.csv | tr ',' '\n' | grep -nx concurrency | cut -d: -f1)
  [ "$(awk -F, -v c="$c" '/,coroutine,m,100,/ { print $c }' out/latest.csv)" = 20 ]
  run "$PLOT" out/latest.csv -o plots
  assert_success
  name=$(basename "$(readlink out/latest.csv)" .csv)
  svg=plots/$name-sweep-flags-DELAY.svg
  has "$svg" "effective concurrency (-m capped at the codes and the driver's maximum)"
  # the axis ends near 20, where m=100 really ran: no tick at 50 or 100
  has "$svg" "20"
  lacks "$svg" "50"
  lacks "$svg" "100"

  run "$BIN/concbench" run --workload sha --drivers sequential,threadpool --sweep w=1,2 \
    --quick --runs 1 --warmup 0 --out out
  assert_success
  run "$PLOT" out/latest.csv -o plots
  assert_success
  name=$(basename "$(readlink out/latest.csv)" .csv)
  svg=plots/$name-sweep-sha.svg
  has "$svg" "limit: bytes ÷ (OpenSSL rate × min(workers, cores))"
  has "$svg" "effective workers (-w capped at the jobs and the driver's maximum)"
  ! texts "$svg" | grep -q "L·⌈N/C⌉" || fail "the sha sweep names the DELAY formula"
}

@test "crawl of a real run: labelled in pages, and the limit is the crawl's critical path, L·max(depth + 1, ⌈pages/C⌉), from the CSV" {
  local delay=10 pages=60 seed=$((5000 + BATS_TEST_NUMBER))
  run "$BIN/concbench" run --workload crawl --profile DELAY --delay "$delay" --site-pages "$pages" \
    --seed "$seed" --drivers sequential,coroutine --sweep m=4,16 --runs 1 --warmup 0 --out out
  assert_success
  # what the crawl fetches, from flagd's own plan (DELAY answers every page 200): each page
  # and each 404 link, the deepest of them at depth max
  local plan urls depth
  plan=$("$BIN/flagd" --site-plan --site-pages "$pages" --seed "$seed")
  urls=$(grep -c . <<<"$plan")
  depth=$(awk '$2 > d { d = $2 } END { print d + 0 }' <<<"$plan")
  # the limit each row carries is that critical path, at each row's concurrency
  python3 - out/latest.csv "$delay" "$urls" "$depth" <<'PY'
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
delay, urls, depth = float(sys.argv[2]) / 1000, int(sys.argv[3]), int(sys.argv[4])
assert len(rows) == 3, rows
for r in rows:
    c = int(r["concurrency"])
    want = delay * max(depth + 1, math.ceil(urls / c))
    assert int(r["items"]) == urls and r["verdict"] in ("reference", "ok"), r
    assert abs(float(r["limit_s"]) - want) < 1e-6, (r["driver"], c, r["limit_s"], want)
PY
  run "$PLOT" out/latest.csv -o plots
  assert_success
  name=$(basename "$(readlink out/latest.csv)" .csv)
  # bars: the panel says the site's pages and the URLs fetched, never codes; its limit is
  # the crawl's, not flags' L·⌈N/C⌉
  svg=plots/$name.svg
  has "$svg" "crawl · DELAY"
  has "$svg" "$pages pages, $urls URLs, delay $delay ms"
  has "$svg" "limit L·max(depth + 1, ⌈pages/C⌉)"
  lacks "$svg" "limit L·⌈N/C⌉"
  ! texts "$svg" | grep -q codes || fail "the crawl panel speaks of codes: $(texts "$svg" | paste -sd'|')"
  # sweep: against the crawl's workers, the site's size in the title, the crawl's limit
  svg=plots/$name-sweep-crawl-DELAY.svg
  has "$svg" "concbench $name — crawl · DELAY, $pages pages: sweep of -m"
  has "$svg" "crawl workers (-m capped at the driver's maximum; pages in flight ≤ the frontier)"
  has "$svg" "limit L·max(depth + 1, ⌈pages/C⌉)"
  has "$svg" "sequential ÷ limit (best possible)"
  ! texts "$svg" | grep -qE "codes|L·⌈N/C⌉" || fail "the crawl sweep speaks of codes or flags' limit"
  # a crawl CSV from before the site_pages column still draws, in pages (the URLs fetched)
  python3 - out/latest.csv old.csv <<'PY'
import csv, sys
with open(sys.argv[1], newline="") as f:
    rows = list(csv.DictReader(f))
names = [k for k in rows[0] if k != "site_pages"]
with open(sys.argv[2], "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=names, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
PY
  run "$PLOT" old.csv -o plots
  assert_success
  has plots/old.svg "$urls pages, delay $delay ms"
  has plots/old.svg "limit L·max(depth + 1, ⌈pages/C⌉)"
}

@test "--help names both options; usage errors exit 2" {
  run "$PLOT" --help
  assert_success
  assert_output --partial "--base BASE.csv"
  run "$PLOT"
  assert_failure 2
  run "$PLOT" a.csv b.csv
  assert_failure 2
}
