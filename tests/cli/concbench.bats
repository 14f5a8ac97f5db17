#!/usr/bin/env bats
# bin/concbench: run (validation, files, flagd's lifecycle, hyperfine fallback), compare
# (regressions, malformed files) and scripts/plot. Each test works in its own directory;
# the runs start their own flagd on free ports (--port 0) and must leave none behind.

bats_require_minimum_version 1.5.0 # run --separate-stderr
load helpers

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
FIXTURES=$BATS_TEST_DIRNAME/fixtures

setup() {
  FLAGD=${FLAGD:-$BIN/flagd}
  # concbench's scratch directory (downloads, logs) lands here, so every process of this
  # test carries $BATS_TEST_TMPDIR in its command line: pgrep finds leftovers exactly.
  export TMPDIR=$BATS_TEST_TMPDIR
  cd "$BATS_TEST_TMPDIR"
  SEED=$((7000000 + RANDOM * 10 + BATS_TEST_NUMBER))
}

teardown() {
  flagd_stop
  # Whatever a failed test left: never leak a server into the next one.
  local pids
  pids=$(pgrep -f -- "flagd.*--seed $SEED( |$)") && kill $pids 2>/dev/null || true
}

need_flagd() {
  [ -x "$FLAGD" ] || skip "flagd not built ($FLAGD)"
}

# No flagd of this test's seed and no process with this test's directory in its command line.
assert_no_leftovers() {
  run pgrep -af -- "flagd.*--seed $SEED( |$)"
  assert_failure
  run pgrep -af -- "$(test_dir_re)"
  assert_failure
}

# The column names documented in docs/results-schema.md, comma-separated.
documented_header() {
  grep -oE '^\| `[a-z_]+` \|' "$REPO/docs/results-schema.md" | tr -d '|` ' | paste -sd, -
}

# col_index FILE NAME: the 1-based position of a column. The awk -F, lookups below are fine
# on these files (no field before the columns read holds a quoted comma); the full RFC 4180
# check is concbench's own reader and, where present, Python's csv module.
col_index() { head -1 "$1" | tr ',' '\n' | grep -nx "$2" | cut -d: -f1; }

quick_sha() { # quick_sha ARGS...: a small sha matrix, 1 run each
  "$BIN/concbench" run --workload sha --quick --runs 1 --warmup 0 --out out "$@"
}

@test "run on sha validates every driver against sequential and writes csv, md, bench json and raw hyperfine json" {
  run quick_sha
  assert_success
  assert_output --partial "sha — 12 jobs × 4 MiB"
  assert_output --partial "reference"
  [ -L out/latest.csv ] && [ -L out/latest.md ]
  name=$(basename "$(readlink out/latest.csv)" .csv)
  [ -s "out/$name.csv" ] && [ -s "out/$name.md" ] && [ -s "out/$name.bench.json" ]
  [ "$(readlink out/latest.bench.json)" = "$name.bench.json" ]
  jq -e '.results[0].times | length == 1' "out/$name/sha-sequential.json"
  jq -e 'length >= 1 and all(.[]; .unit == "s" and (.value > 0) and (.name | startswith("sha ")))' "out/$name.bench.json"
  grep -q '^### sha' "out/$name.md"
  # every row validated
  v=$(col_index out/latest.csv verdict)
  [ "$(tail -n +2 out/latest.csv | awk -F, -v v="$v" '$v != "reference" && $v != "ok"' | wc -l)" -eq 0 ]
  run "$BIN/concbench" table out/latest.csv
  assert_success
  refute_output --partial MISMATCH
}

@test "the results CSV has the documented header and parses with a standard CSV reader" {
  run quick_sha
  assert_success
  [ "$(head -1 out/latest.csv)" = "$(documented_header)" ]
  ncols=$(head -1 out/latest.csv | tr ',' '\n' | wc -l)
  [ "$ncols" -ge 40 ]
  # concbench's own reader (libcsv, strict) accepts it ...
  run "$BIN/concbench" compare out/latest.csv out/latest.csv
  assert_success
  # ... and so does Python's csv module, where Python exists: same width on every row.
  if command -v python3 >/dev/null; then
    python3 - out/latest.csv <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline='')))
assert len(rows) >= 2, rows
assert all(len(r) == len(rows[0]) for r in rows), [len(r) for r in rows]
d = [dict(zip(rows[0], r)) for r in rows[1:]]
assert {r['verdict'] for r in d} <= {'reference', 'ok'}, d
assert all(float(r['median_s']) > 0 for r in d)
EOF
  fi
}

@test "a driver that lies about its counts makes run exit 1 with MISMATCH" {
  run env CONCBENCH_REAL_DRIVER="$BIN/sequential" LIE=count \
    "$BIN/concbench" run --workload sha --quick --runs 1 --warmup 0 --out out \
    --drivers sequential,liar --driver-path liar="$FIXTURES/lying-driver"
  assert_failure 1
  assert_output --partial MISMATCH
  assert_output --partial "ok 13, sequential 12"
  v=$(col_index out/latest.csv verdict)
  grep -q ',liar,' out/latest.csv
  [ "$(grep ',liar,' out/latest.csv | awk -F, -v v="$v" '{print $v}')" = MISMATCH ]
}

@test "a driver that lies about one digest makes run exit 1 with MISMATCH" {
  run env CONCBENCH_REAL_DRIVER="$BIN/sequential" LIE=digest \
    "$BIN/concbench" run --workload sha --quick --runs 1 --warmup 0 --out out \
    --drivers sequential,liar --driver-path liar="$FIXTURES/lying-driver"
  assert_failure 1
  assert_output --partial MISMATCH
  assert_output --partial "digest of job 0 differs"
}

@test "a driver that changes one byte of one saved flag, or leaves a stray file, is MISMATCH by content" {
  need_flagd
  for lie in byte extra; do
    run --separate-stderr env CONCBENCH_REAL_DRIVER="$BIN/threadpool" LIE=$lie \
      "$BIN/concbench" run --workload flags --profile LOCAL --quick --runs 2 --warmup 0 --seed "$SEED" \
      --out "out-$lie" --drivers sequential,liar --driver-path liar="$FIXTURES/lying-driver"
    assert_failure 1
    r=$(col_index "out-$lie/latest.csv" reason)
    line=$(grep ',liar,' "out-$lie/latest.csv")
    grep -q ',MISMATCH,' <<<"$line" || fail "$lie: not MISMATCH: $line"
    # the first differing file is named, the one the liar touched
    if [ $lie = byte ]; then
      grep -qE "files: [A-Z]{2}\\.gif differs \\(against sequential.s $(book_found)\\)" <<<"$line" || fail "$line"
    else
      grep -qF 'files: extra .br.gif.AbC123' <<<"$line" || fail "$line"
    fi
  done
  assert_no_leftovers
}

@test "flags rows save to a RAM-backed directory emptied before every run, and the table and CSV say so" {
  need_flagd
  [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] || skip "no tmpfs at /dev/shm"
  run --separate-stderr "$BIN/concbench" run --workload flags --profile LOCAL --quick --runs 3 \
    --warmup 1 --seed "$SEED" --out out --drivers sequential,coroutine
  assert_success
  assert_output --partial "files saved to tmpfs (RAM), emptied before every run"
  grep -qE "flags save to /dev/shm/concbench-downloads\.[A-Za-z0-9]+ \(tmpfs, RAM\)" <<<"$stderr"
  dl=$(col_index out/latest.csv downloads)
  [ "$(awk -F, -v c="$dl" 'NR > 1 { print $c }' out/latest.csv | sort -u)" = tmpfs ]
  # nothing is left on /dev/shm (this run's directory: other tests' runs may be using theirs),
  # and every row carries its runs, noise and the run's
  shm=$(grep -oE '/dev/shm/concbench-downloads\.[A-Za-z0-9]+' <<<"$stderr" | head -1)
  [ -n "$shm" ] && [ ! -e "$shm" ]
  python3 - out/latest.csv <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 2, rows
for r in rows:
    assert len(r["times_s"].split()) == 3, r["times_s"]
    assert r["noise"] in ("ok", "noisy") and r["run_noise"] in ("ok", "noisy"), r
    assert float(r["calib_start_mbps"]) > 0 and float(r["calib_end_mbps"]) > 0
    assert r["foreign_cpu_pct"] != ""
PY
  # --downloads disk saves under --out instead, labelled with its file system
  run --separate-stderr "$BIN/concbench" run --workload flags --profile LOCAL --quick --runs 1 \
    --warmup 0 --seed "$SEED" --out out2 --drivers sequential --downloads disk
  assert_success
  fs=$(stat -f -c %T out2)
  grep -qF "out2/concbench-downloads." <<<"$stderr"
  [ -z "$(find out2 -maxdepth 1 -name 'concbench-downloads.*' -print -quit)" ]
  [ "$(awk -F, -v c="$(col_index out2/latest.csv downloads)" 'NR > 1 { print $c }' out2/latest.csv)" != "" ] || fail "no downloads cell ($fs)"
}

@test "a sweep past a driver's maximum is clamped, not FAILED, and the row reports the effective value" {
  run --separate-stderr "$BIN/concbench" run --workload sha --quick --runs 1 --warmup 0 --out out \
    --drivers sequential,processpool --sweep w=300
  assert_success
  w=$(col_index out/latest.csv workers)
  [ "$(grep ',processpool,' out/latest.csv | awk -F, -v c="$w" '{ print $c }')" -eq 12 ]
  # a failing driver's row shows its own message, not the usage line after it
  run --separate-stderr "$BIN/concbench" run --workload sha --quick --runs 1 --warmup 0 --out out3 \
    --drivers sequential,threadpool -- -n 5Q
  assert_failure 1
  grep -q "bad value for -n: '5Q'" out3/latest.csv
  refute grep -q "usage:" out3/latest.csv
}

@test "bench-ci fails only on a regression that holds when measured again, and says how to refresh the baseline" {
  # Both drivers behind a sleep that sets their time (tiny sha jobs underneath), so that a
  # machine busy with other tests cannot move them much; --trust-noisy for the same reason.
  mkdir drivers
  ln -s "$FIXTURES/slow-driver" drivers/sequential
  ln -s "$FIXTURES/slow-driver" drivers/threadpool
  export CONCBENCH_REAL_BIN=$BIN SLOW_S_sequential=0.4 SLOW_S_threadpool=0.1
  export RUN_ARGS="--workload sha --drivers sequential,threadpool --warmup 0
    --driver-path sequential=$PWD/drivers/sequential --driver-path threadpool=$PWD/drivers/threadpool
    -- -j 2 -n 1K"
  RUN_ARGS=$(tr '\n' ' ' <<<"$RUN_ARGS")
  run env BIN="$BIN" OUT=first RUNS=5 "$REPO/scripts/bench-ci.sh" --trust-noisy
  cp -L first/latest.csv base.csv
  # threadpool 1 s slower in every run, the re-measurement included: confirmed, exit 1
  run env BIN="$BIN" OUT=held BASE=base.csv RUNS=5 SLOW_S_threadpool=1.1 \
    "$REPO/scripts/bench-ci.sh" --trust-noisy
  assert_failure 1
  assert_output --partial "1 configuration(s) flagged; measuring them again"
  assert_output --partial "FAIL: the regression held when measured again"
  assert_output --partial "cp -L $PWD/held/latest.csv $PWD/base.csv"
  [ "$(cut -f3 held/flagged.tsv)" = threadpool ]
  # slower only in its first 5 runs: the second measurement clears it, exit 0
  run env BIN="$BIN" OUT=once BASE=base.csv RUNS=5 SLOW_S_threadpool=1.1 SLOW_FIRST=5 \
    SLOW_ONLY=threadpool SLOW_COUNTER="$PWD/count" "$REPO/scripts/bench-ci.sh" --trust-noisy
  assert_success
  assert_output --partial "pass: the regression did not hold when measured again"
}

@test "without hyperfine, run says so and times the runs itself with the same statistics" {
  mkdir empty
  run env PATH="$BATS_TEST_TMPDIR/empty" "$BIN/concbench" run --workload sha --quick --runs 3 --warmup 1 \
    --drivers sequential --out out
  assert_success
  assert_output --partial "hyperfine not found"
  t=$(col_index out/latest.csv timer)
  [ "$(sed -n 2p out/latest.csv | cut -d, -f"$t")" = builtin ]
  name=$(basename "$(readlink out/latest.csv)" .csv)
  jq -e '.results[0] | (.times | length == 3) and .median > 0 and .min <= .median and .median <= .max' \
    "out/$name/sha-sequential.json"
}

@test "run rejects bad usage with exit 2 and a missing driver binary with exit 1" {
  run "$BIN/concbench" run --runs zero
  assert_failure 2
  assert_output --partial "--runs"
  run "$BIN/concbench" run --sweep q=1,2
  assert_failure 2
  run "$BIN/concbench" run stray
  assert_failure 2
  run "$BIN/concbench" run --workload sha --drivers sequential,nosuch --out out
  assert_failure 1
  assert_output --partial "driver nosuch"
  run "$BIN/concbench" frobnicate
  assert_failure 2
}

@test "run --workload crawl --site-pages 60: flagd serves 60 pages, every row validates, and the table and CSV say 60 pages" {
  need_flagd
  run --separate-stderr "$BIN/concbench" run --workload crawl --site-pages 60 --runs 1 --warmup 0 \
    --drivers sequential,coroutine --profile LOCAL --seed "$SEED" --out out
  assert_success
  grep -q "(delay [0-9]* ms, a site of 60 pages)$" <<<"$stderr" || fail "$stderr"
  # what a crawl of that site finds, from flagd's own plan: every page, then every 404 link
  # (on LOCAL every page answers 200)
  local plan urls missing
  plan=$("$FLAGD" --site-plan --site-pages 60 --seed "$SEED")
  urls=$(grep -c . <<<"$plan")
  missing=$(awk '$3 == 404' <<<"$plan" | grep -c .) || true
  [ "$((urls - missing))" -eq 60 ] || fail "the plan of a 60-page site: $urls URLs, $missing 404"
  assert_output --partial "crawl · LOCAL — 60 pages ($urls URLs fetched, 404 links included), no delay"
  python3 - out/latest.csv "$urls" "$missing" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
urls, missing = int(sys.argv[2]), int(sys.argv[3])
assert [r["driver"] for r in rows] == ["sequential", "coroutine"], rows
for r in rows:
    assert r["workload"] == "crawl" and r["profile"] == "LOCAL", r
    assert r["verdict"] in ("reference", "ok"), r
    assert r["site_pages"] == "60", r["site_pages"]
    assert (int(r["items"]), int(r["ok"]), int(r["not_found"]), int(r["errors"])) == \
        (urls, 60, missing, 0), r
PY
  # the Markdown file's title too
  grep -qF "60 pages ($urls URLs fetched, 404 links included), no delay" out/latest.md
  assert_no_leftovers
}

@test "run --site-pages takes 1 to flagd's limit, and not with --server: one line, exit 2" {
  need_flagd
  # flagd's own limit, as its --help states it (100000 today)
  local max
  max=$("$FLAGD" --help | sed -n 's/^ *--site-pages N .*, 1 to \([0-9][0-9]*\) .*/\1/p')
  [ -n "$max" ] || fail "flagd --help states no --site-pages limit"
  for bad in 0 "$((max + 1))" abc -5 "" 1e3; do
    run --separate-stderr "$BIN/concbench" run --workload crawl --site-pages "$bad" --out out
    assert_failure 2
    [ "${#stderr_lines[@]}" -eq 2 ] || fail "--site-pages '$bad': $stderr"
    [ "${stderr_lines[0]}" = "concbench: run: --site-pages takes 1..$max, not '$bad'" ] ||
      fail "--site-pages '$bad': $stderr"
    [ "${stderr_lines[1]}" = "Try 'concbench run --help'." ]
    [ -z "$output" ] && [ ! -e out ]
  done
  # the server's own site is the size it was started with: say so, do not pretend
  run --separate-stderr "$BIN/concbench" run --server http://127.0.0.1:9/flags --workload crawl \
    --site-pages 60 --out out
  assert_failure 2
  [ "${stderr_lines[0]}" = "concbench: run: --site-pages sizes the flagd that run starts; the site of --server http://127.0.0.1:9/flags is the size its server was started with" ] ||
    fail "$stderr"
  [ ! -e out ]
  # the usage names crawl and the option, with flagd's limit
  run "$BIN/concbench" run --help
  assert_success
  assert_line --index 0 --regexp '^usage: concbench run \[--workload flags,sha,crawl\] '
  assert_output --regexp '--site-pages N +the pages of flagd.s site'
  assert_output --partial "1..$max"
}

@test "run --markdown prints Markdown tables" {
  run quick_sha --markdown --drivers sequential
  assert_success
  assert_output --partial "### sha"
  assert_output --regexp '\| sequential +\|'
}

@test "flagd is gone after a normal run" {
  need_flagd
  run "$BIN/concbench" run --workload flags --profile LOCAL,ERROR --drivers sequential \
    --runs 1 --warmup 0 --quick --seed "$SEED" --flagd "$FLAGD" --out out
  assert_success
  assert_output --partial "flags · LOCAL"
  assert_output --partial "flags · ERROR"
  assert_no_leftovers
}

@test "flagd is gone and the run exits 1 with FAILED when a driver fails" {
  need_flagd
  run "$BIN/concbench" run --workload flags --profile LOCAL --drivers sequential,broken \
    --driver-path broken="$FIXTURES/failing-driver" --runs 1 --warmup 0 --seed "$SEED" \
    --flagd "$FLAGD" --out out
  assert_failure 1
  assert_output --partial FAILED
  assert_output --partial "cannot reach the server (test double)"
  assert_no_leftovers
}

# interrupt SIGNAL: start a long DELAY run, wait until a driver is running, send SIGNAL.
interrupt() {
  # --downloads disk under an absolute --out: the driver's -o names this test's directory,
  # so that pgrep sees it start, and sees it gone (RAM downloads live in /dev/shm)
  "$BIN/concbench" run --workload flags --profile DELAY --drivers sequential --delay 500 \
    --seed "$SEED" --flagd "$FLAGD" --downloads disk --out "$PWD/out" >stdout 2>stderr 3>&- &
  local pid=$!
  local i
  for ((i = 0; i < 200; i++)); do
    pgrep -f -- "sequential flags .*$(test_dir_re)" >/dev/null && break
    sleep 0.05
  done
  pgrep -f -- "sequential flags .*$(test_dir_re)" >/dev/null || fail "the driver never started: $(cat stderr)"
  pgrep -f -- "flagd.*--seed $SEED( |$)" >/dev/null
  kill "-$1" "$pid"
  status=0
  wait "$pid" || status=$?
}

@test "SIGINT to run stops flagd and the drivers and exits 130" {
  need_flagd
  interrupt INT
  [ "$status" -eq 130 ]
  grep -q "interrupted by SIGINT" stderr
  assert_no_leftovers
  [ ! -e out/latest.csv ]
  [ -z "$(ls -A out)" ]
}

@test "SIGTERM to run stops flagd and the drivers and exits 143" {
  need_flagd
  interrupt TERM
  [ "$status" -eq 143 ]
  assert_no_leftovers
}

@test "Ctrl-C after some configurations writes the finished ones, says so, and exits 130" {
  export CONCBENCH_REAL_DRIVER=$BIN/threadpool SLOW_S=$((600 + BATS_TEST_NUMBER))
  "$BIN/concbench" run --workload sha --quick --runs 1 --warmup 0 --out out \
    --drivers sequential,slow --driver-path slow="$FIXTURES/slow-driver" >stdout 2>stderr &
  local pid=$!
  for _ in $(seq 400); do pgrep -f -- "sleep $SLOW_S" >/dev/null && break; sleep 0.05; done
  pgrep -f -- "sleep $SLOW_S" >/dev/null || fail "the slow driver never started"
  kill -INT "$pid"
  status=0
  wait "$pid" || status=$?
  [ "$status" -eq 130 ] || fail "exit $status: $(cat stderr)"
  grep -q "interrupted by SIGINT after 1 of 2 configurations; flagd and the drivers stopped; wrote the finished ones" stderr
  [ "$(tail -n +2 out/latest.csv | wc -l)" -eq 1 ]
  grep -q ',sequential,' out/latest.csv
  [ ! -e "out/$(basename "$(readlink out/latest.csv)" .csv)/sha-slow.json" ]
  assert_no_leftovers
  run pgrep -f -- "sleep $SLOW_S"
  assert_failure
}

@test "on a terminal, a progress line moves within a configuration (run k/N); in a pipe, it does not" {
  command -v script >/dev/null || skip "script (util-linux) is not installed"
  # each run half a second long, so that every one is seen whatever the load
  mkdir drivers
  ln -s "$FIXTURES/slow-driver" drivers/sequential
  CONCBENCH_REAL_BIN=$BIN SLOW_S=0.5 script -qc "$BIN/concbench run --workload sha --quick --runs 3 \
    --warmup 1 --drivers sequential --driver-path sequential=$PWD/drivers/sequential --out out" \
    /dev/null >tty.out 2>&1
  grep -q "run 1/4 (warm-up)" tty.out
  grep -q "run 4/4" tty.out
  run --separate-stderr "$BIN/concbench" run --workload sha --quick --runs 3 --warmup 1 \
    --drivers sequential --out out2
  assert_success
  ! grep -q "run 1/4" <<<"$stderr"
}

@test "run times the sequential reference even when --drivers leaves it out, and says so" {
  run --separate-stderr "$BIN/concbench" run --workload sha --quick --runs 2 --warmup 0 --out out \
    --drivers threadpool
  assert_success
  grep -q "leaves out sequential: it is timed anyway" <<<"$stderr"
  s=$(col_index out/latest.csv speedup)
  [ -n "$(grep ',threadpool,' out/latest.csv | awk -F, -v c="$s" '{ print $c }')" ]
  grep -q ',sequential,' out/latest.csv
}

@test "run holds CPUs out of deep idle states for its duration unless --cpu-idle deep, and records which" {
  run --separate-stderr "$BIN/concbench" run --workload sha --quick --runs 1 --warmup 0 --out out \
    --drivers sequential --cpu-idle deep
  assert_success
  assert_output --partial "CPU idle states deep"
  [ "$(awk -F, -v c="$(col_index out/latest.csv cpu_idle)" 'NR > 1 { print $c }' out/latest.csv)" = deep ]
  run --separate-stderr "$BIN/concbench" run --workload sha --quick --runs 1 --warmup 0 --out out2 \
    --drivers sequential
  assert_success
  idle=$(awk -F, -v c="$(col_index out2/latest.csv cpu_idle)" 'NR > 1 { print $c }' out2/latest.csv)
  if [ -w /dev/cpu_dma_latency ]; then
    [ "$idle" = shallow ]
    assert_output --partial "CPU idle states shallow (cpu_dma_latency 0)"
  else
    [ "$idle" = deep ]
    grep -q "cannot hold /dev/cpu_dma_latency at 0" <<<"$stderr"
  fi
  run "$BIN/concbench" run --cpu-idle off
  assert_failure 2
}

@test "run against an unreachable --server fails at once with one line and exit 1" {
  run --separate-stderr "$BIN/concbench" run --server http://127.0.0.1:9/flags --workload flags --out out
  assert_failure 1
  [ "$(wc -l <<<"$stderr")" -eq 1 ]
  grep -q "^concbench: run: cannot reach --server http://127.0.0.1:9/flags: " <<<"$stderr"
  [ ! -e out ]
}

@test "verdicts are coloured with --color always, never with --color never, NO_COLOR, or a pipe" {
  run "$BIN/concbench" compare --color always "$FIXTURES/results.csv" "$FIXTURES/results.csv"
  assert_success
  assert_output --partial $'\033[32mok\033[0m'
  run "$BIN/concbench" compare --color never "$FIXTURES/results.csv" "$FIXTURES/results.csv"
  refute_output --partial $'\033['
  run env NO_COLOR=1 "$BIN/concbench" compare "$FIXTURES/results.csv" "$FIXTURES/results.csv"
  refute_output --partial $'\033['
  scale "$FIXTURES/results.csv" slower.csv threadpool DELAY 2
  run "$BIN/concbench" compare --color always "$FIXTURES/results.csv" slower.csv
  assert_output --partial $'\033[1;31mREGRESSION'
  run "$BIN/concbench" compare --color sometimes "$FIXTURES/results.csv" slower.csv
  assert_failure 2
}

@test "run without a flagd binary says so and exits 1" {
  run "$BIN/concbench" run --workload flags --drivers sequential --flagd "$BATS_TEST_TMPDIR/none" --out out
  assert_failure 1
  assert_output --partial "flagd is missing"
}

@test "compare passes an identical file" {
  run "$BIN/concbench" compare "$FIXTURES/results.csv" "$FIXTURES/results.csv"
  assert_success
  refute_output --partial REGRESSION
  assert_output --partial "16 matched, 0 regressed beyond 25%, 0 inconclusive"
}

# scale IN OUT DRIVER PROFILE FACTOR [SPREAD]: the rows of DRIVER (any driver: "*") on
# PROFILE ("*": any) FACTOR times slower, every timed run included; with SPREAD, the runs
# fanned out to median · (1 ± SPREAD) so that no test can call the change significant.
scale() {
  local in=$1 out=$2 drv=$3 prof=$4 factor=$5 spread=${6:-0}
  local d p t cols=""
  d=$(col_index "$in" driver); p=$(col_index "$in" profile); t=$(col_index "$in" times_s)
  for c in median_s min_s max_s mean_s; do cols="$cols $(col_index "$in" $c)"; done
  awk -F, -v OFS=, -v d="$d" -v p="$p" -v t="$t" -v cols="$cols" -v drv="$drv" -v prof="$prof" \
      -v f="$factor" -v s="$spread" \
    'BEGIN { n = split(cols, c, " ") }
     NR > 1 && (drv == "*" || $d == drv) && (prof == "*" || $p == prof) && $c[1] != "" {
       for (i = 1; i <= n; i++) $c[i] = sprintf("%.6f", $c[i] * f)
       k = split($t, x, " "); out = ""
       for (i = 1; i <= k; i++) {
         v = s > 0 ? $c[1] * (1 + s * (i % 2 ? 1 : -1) * (i / k)) : x[i] * f
         out = out (i > 1 ? " " : "") sprintf("%.6f", v)
       }
       $t = out
     }
     { print }' "$in" > "$out"
  ! cmp -s "$in" "$out" || fail "$out is $in unchanged"
}

@test "compare flags a synthetic 2x regression and exits 1" {
  # threadpool on DELAY twice as slow in every run: its time doubles, its speedup halves.
  scale "$FIXTURES/results.csv" slower.csv threadpool DELAY 2
  run "$BIN/concbench" compare "$FIXTURES/results.csv" slower.csv
  assert_failure 1
  assert_output --regexp 'flags DELAY threadpool .* \+100\.0% .* -50\.0% +REGRESSION +time and speedup'
  assert_output --partial "1 regressed beyond 25%"
  # --check speedup alone judges the speedup; a looser threshold cannot hide a halving
  run "$BIN/concbench" compare --check speedup "$FIXTURES/results.csv" slower.csv
  assert_failure 1
}

@test "compare catches a uniform slowdown that every driver shares, the sequential one included" {
  # lib/sha.c 3x slower: every sha row, sequential's too. Speedups do not move.
  scale "$FIXTURES/results.csv" sha3x.csv '*' '' 3
  run "$BIN/concbench" compare "$FIXTURES/results.csv" sha3x.csv
  assert_failure 1
  assert_output --regexp 'sha sequential .* \+200\.0% .* REGRESSION +time'
  assert_output --partial "4 regressed beyond 25%" # 200%: beyond what even a CV of 19% explains
  run "$BIN/concbench" compare --check speedup "$FIXTURES/results.csv" sha3x.csv
  assert_success
  run "$BIN/concbench" compare --check time "$FIXTURES/results.csv" sha3x.csv
  assert_failure 1
}

@test "compare calls a change it cannot confirm inconclusive (exit 3), never a regression" {
  scale "$FIXTURES/results.csv" noisy.csv threadpool DELAY 1.5 0.9
  run --separate-stderr "$BIN/concbench" compare "$FIXTURES/results.csv" noisy.csv
  [ "$status" -eq 3 ] || fail "exit $status: $output"
  assert_output --regexp 'flags DELAY threadpool .* inconclusive +beyond 25% but not significant'
  assert_output --partial "0 regressed beyond 25%, 1 inconclusive"
  grep -q "INCONCLUSIVE: 1 configuration too noisy to judge" <<<"$stderr"
  # a real regression measured while another process used the machine: inconclusive too
  scale "$FIXTURES/results.csv" busy.csv threadpool DELAY 2
  n=$(col_index busy.csv noise_reason); f=$(col_index busy.csv foreign_cpu_pct)
  d=$(col_index busy.csv driver); p=$(col_index busy.csv profile)
  awk -F, -v OFS=, -v n="$n" -v f="$f" -v d="$d" -v p="$p" \
    'NR > 1 && $d == "threadpool" && $p == "DELAY" { $n = "foreign CPU 48%"; $f = "48.0" } { print }' \
    busy.csv > busy2.csv
  run "$BIN/concbench" compare "$FIXTURES/results.csv" busy2.csv
  [ "$status" -eq 3 ] || fail "exit $status: $output"
  assert_output --partial "other processes used 48% of the machine during NEW"
}

@test "compare fails a NEW that lacks rows of BASE, has no sequential row, or is header-only, unless --allow-missing" {
  d=$(col_index "$FIXTURES/results.csv" driver)
  awk -F, -v d="$d" 'NR == 1 || $d != "coroutine"' "$FIXTURES/results.csv" > fewer.csv
  run --separate-stderr "$BIN/concbench" compare "$FIXTURES/results.csv" fewer.csv
  assert_failure 1
  grep -q "NEW lacks 4 configurations of BASE (first: flags LOCAL coroutine)" <<<"$stderr"
  run "$BIN/concbench" compare --allow-missing "$FIXTURES/results.csv" fewer.csv
  assert_success
  awk -F, -v d="$d" 'NR == 1 || $d != "sequential"' "$FIXTURES/results.csv" > noref.csv
  run --separate-stderr "$BIN/concbench" compare "$FIXTURES/results.csv" noref.csv
  assert_failure 1
  grep -q "without a sequential row" <<<"$stderr"
  head -1 "$FIXTURES/results.csv" > header.csv
  run --separate-stderr "$BIN/concbench" compare "$FIXTURES/results.csv" header.csv
  assert_failure 1
  grep -q "NEW has no rows" <<<"$stderr"
  run "$BIN/concbench" compare --allow-missing "$FIXTURES/results.csv" header.csv
  assert_success
}

@test "compare matches configurations by workers, concurrency and core count too" {
  c=$(col_index "$FIXTURES/results.csv" cores)
  awk -F, -v OFS=, -v c="$c" 'NR > 1 { $c = 1 } { print }' "$FIXTURES/results.csv" > onecore.csv
  run --separate-stderr "$BIN/concbench" compare "$FIXTURES/results.csv" onecore.csv
  assert_failure 1
  grep -q "different core counts" <<<"$stderr"
  refute_output --partial REGRESSION
  m=$(col_index "$FIXTURES/results.csv" concurrency); d=$(col_index "$FIXTURES/results.csv" driver)
  awk -F, -v OFS=, -v m="$m" -v d="$d" 'NR > 1 && $d == "threadpool" { $m = $m + 1 } { print }' \
    "$FIXTURES/results.csv" > otherm.csv
  run "$BIN/concbench" compare "$FIXTURES/results.csv" otherm.csv
  assert_failure 1
  assert_output --partial "not in new"
}

@test "compare --flagged lists only confirmable regressions and --only judges just those" {
  scale "$FIXTURES/results.csv" slower.csv threadpool DELAY 2
  run "$BIN/concbench" compare --flagged flagged.tsv "$FIXTURES/results.csv" slower.csv
  assert_failure 1
  [ "$(cat flagged.tsv)" = "$(printf 'flags\tDELAY\tthreadpool\t\t')" ]
  # judged alone, against a NEW where it holds: still failing; where it does not: passing
  run "$BIN/concbench" compare --only flagged.tsv "$FIXTURES/results.csv" slower.csv
  assert_failure 1
  assert_output --partial "1 matched"
  run "$BIN/concbench" compare --only flagged.tsv "$FIXTURES/results.csv" "$FIXTURES/results.csv"
  assert_success
  # a MISMATCH cannot be re-measured away: no list
  v=$(col_index slower.csv verdict); d=$(col_index slower.csv driver)
  awk -F, -v OFS=, -v v="$v" -v d="$d" 'NR > 1 && $d == "processpool" { $v = "MISMATCH" } { print }' \
    slower.csv > wrong.csv
  run "$BIN/concbench" compare --flagged flagged.tsv "$FIXTURES/results.csv" wrong.csv
  assert_failure 1
  [ ! -e flagged.tsv ]
}

@test "compare rejects a malformed CSV with its line and column, exit 2" {
  # line 3: a quote inside an unquoted field
  { head -2 "$FIXTURES/results.csv"; sed -n 3p "$FIXTURES/results.csv" | sed 's/,threadpool,/,thread"pool,/'; } > bad.csv
  run "$BIN/concbench" compare "$FIXTURES/results.csv" bad.csv
  assert_failure 2
  assert_output --regexp '^concbench: compare: bad.csv: line 3, column [0-9]+: '
  [ "${#lines[@]}" -eq 2 ]
  assert_line --index 1 "Try 'concbench compare --help'."
  # an unterminated quoted field
  printf 'a,"b\n' > open.csv
  run "$BIN/concbench" compare open.csv "$FIXTURES/results.csv"
  assert_failure 2
  assert_output --partial "open.csv: line 1, column 2: quoted field not closed"
  # a row narrower than the header
  { head -2 "$FIXTURES/results.csv"; echo "1,2,3"; } > short.csv
  run "$BIN/concbench" compare "$FIXTURES/results.csv" short.csv
  assert_failure 2
  assert_output --partial "short.csv: line 3, column 4: 3 fields where the header has"
  # a number that is not one
  m=$(col_index "$FIXTURES/results.csv" median_s)
  awk -F, -v OFS=, -v m="$m" 'NR == 2 { $m = "fast" } { print }' "$FIXTURES/results.csv" > nan.csv
  run "$BIN/concbench" compare "$FIXTURES/results.csv" nan.csv
  assert_failure 2
  assert_output --partial "nan.csv: line 2, column $m (median_s): not a number"
  # not a results file at all, and a missing file
  printf '\x00\x01binary' > junk.csv
  run "$BIN/concbench" compare junk.csv "$FIXTURES/results.csv"
  assert_failure 2
  run "$BIN/concbench" compare nosuch.csv "$FIXTURES/results.csv"
  assert_failure 2
  assert_output --partial "nosuch.csv: cannot read"
}

@test "compare fails when the new run has a MISMATCH row" {
  v=$(col_index "$FIXTURES/results.csv" verdict)
  d=$(col_index "$FIXTURES/results.csv" driver)
  awk -F, -v OFS=, -v v="$v" -v d="$d" 'NR > 1 && $d == "processpool" { $v = "MISMATCH" } { print }' \
    "$FIXTURES/results.csv" > wrong.csv
  run "$BIN/concbench" compare "$FIXTURES/results.csv" wrong.csv
  assert_failure 1
  assert_output --partial MISMATCH
}

@test "plot draws non-empty PNG and SVG bar charts, and sweep charts for sweep rows" {
  run "$REPO/scripts/plot" "$FIXTURES/results.csv" -o plots
  assert_success
  [ -s plots/results.png ] && [ -s plots/results.svg ]
  [ "$(head -c 8 plots/results.png | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
  grep -q '<svg' plots/results.svg
  run "$REPO/scripts/plot" "$FIXTURES/sweep.csv" -o plots
  assert_success
  [ -s plots/sweep-sweep-flags-DELAY.png ] && [ -s plots/sweep-sweep-flags-DELAY.svg ]
  run "$REPO/scripts/plot" nosuch.csv
  assert_failure 2
}

@test "a driver that hangs is stopped at --timeout, marked FAILED, and the run goes on" {
  # two 64 KiB jobs: the drivers that work end far inside --timeout, however loaded the machine
  run "$BIN/concbench" run --workload sha --quick --runs 1 --warmup 0 --timeout 2 --out out \
    --drivers sequential,stuck,threadpool --driver-path stuck="$FIXTURES/hanging-driver" \
    --driver-path threadpool="$BIN/sequential" -- -j 2 -n 64K
  assert_failure 1
  assert_output --partial "timed out after 2 s"
  assert_output --regexp 'stuck .*FAILED'
  assert_output --regexp 'threadpool .* ok'
  run pgrep -f -- "$FIXTURES/hanging-driver"
  assert_failure
}

@test "run --server uses an existing flag server and validates against it" {
  need_flagd
  flagd_start --delay 10 --seed "$SEED"
  run "$BIN/concbench" run --server "$ERROR_URL" --workload flags --runs 1 --warmup 0 --out out \
    -- -l 30
  assert_success
  assert_output --partial "flags · SERVER — 30 codes"
  refute_output --partial MISMATCH
  s=$(col_index out/latest.csv profile)
  [ "$(tail -n +2 out/latest.csv | cut -d, -f"$s" | sort -u)" = SERVER ]
}
