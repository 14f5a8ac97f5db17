#!/usr/bin/env bats
# bin/concbench history (each configuration over runs, the trend plot) and export (the
# speedup series for github-action-benchmark), on files of real runs and on the committed
# fixtures. Each test works in its own directory.

load helpers

FIXTURES=$BATS_TEST_DIRNAME/fixtures

setup() {
  export TMPDIR=$BATS_TEST_TMPDIR
  cd "$BATS_TEST_TMPDIR"
}

# later FILE OUT RUN_ID DATE [python expression on row → row]: a copy of a results file as
# another run: its run_id and date replaced, each row passed through the expression
# (`r` is a dict by column name).
later() {
  python3 - "$@" <<'PY'
import csv, sys
src, dst, run_id, date = sys.argv[1:5]
expr = sys.argv[5] if len(sys.argv) > 5 else "r"
with open(src, newline="") as f:
    rows = list(csv.DictReader(f))
    header = list(rows[0].keys())
with open(dst, "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
    w.writeheader()
    for r in rows:
        r["run_id"], r["date"] = run_id, date
        w.writerow(eval(expr))
PY
}

# rows_of TITLE_PREFIX: the data lines of the table under the first title that starts
# with TITLE_PREFIX, from $output
rows_of() {
  awk -v t="$1" 'index($0, t) == 1 { on = 1; n = 0; next }
                 on && /^$/ { exit }
                 on { n++; if (n > 2) print }' <<<"$output"
}

@test "history of two real runs: one table per configuration, a row per run, oldest first, latest.csv not counted twice" {
  for i in 1 2; do
    run "$BIN/concbench" run --workload sha --drivers sequential,threadpool --quick --runs 2 \
      --warmup 0 --out out
    assert_success
    sleep 1 # run ids are stamped to the second
  done
  [ "$(ls out/*-*.csv | wc -l)" -eq 2 ]
  run "$BIN/concbench" history out/*.csv
  assert_success
  assert_output --partial "sha · sequential · workers 1 · concurrency 1 · $(nproc) cores · 12 jobs"
  assert_output --partial "sha · threadpool · workers"
  assert_line --regexp '^date +commit +median +speedup +CV% +change +note$'
  # two runs in each table although three files were given (latest.csv is the second)
  [ "$(rows_of "sha · sequential" | wc -l)" -eq 2 ]
  [ "$(rows_of "sha · threadpool" | wc -l)" -eq 2 ]
  # oldest first: the dates of the rows are sorted, and the first has no change
  first=$(rows_of "sha · sequential" | head -1)
  [[ $first =~ —\ *$ ]] || [[ $first =~ —\ +[a-z] ]] || fail "first row shows a change: $first"
  [ "$(rows_of "sha · sequential" | cut -c1-16 | sort -c && echo sorted)" = sorted ]
  rows_of "sha · sequential" | tail -1 | grep -qE '[+-][0-9]+\.[0-9]%'
}

@test "the change column is the median's change from the previous run" {
  later "$FIXTURES/results.csv" b.csv 20261123T000000Z-vm 2026-11-23T00:00:00Z \
    '{**r, "median_s": "%.6f" % (2 * float(r["median_s"]))} if r["driver"] == "coroutine" and r["profile"] == "DELAY" else r'
  run "$BIN/concbench" history b.csv "$FIXTURES/results.csv"
  assert_success
  rows=$(rows_of "flags · DELAY · coroutine")
  [ "$(wc -l <<<"$rows")" -eq 2 ]
  # the fixture (2026-11-22) first, then the copy with the doubled median
  head -1 <<<"$rows" | grep -q '^2026-11-22 22:09'
  tail -1 <<<"$rows" | grep -qE '^2026-11-23 00:00 .* 160\.9 ms .* \+100\.0%'
  # an unchanged configuration shows +0.0%
  rows_of "flags · DELAY · threadpool" | tail -1 | grep -q '+0\.0%'
}

@test "workers, concurrency and cores are part of the key: a 1-core run is its own table" {
  later "$FIXTURES/results.csv" one-core.csv 20261123T000000Z-vm 2026-11-23T00:00:00Z \
    '{**r, "cores": "1"}'
  run "$BIN/concbench" history "$FIXTURES/results.csv" one-core.csv
  assert_success
  [ "$(rows_of "sha · threadpool · workers 2 · concurrency 2 · 2 cores" | wc -l)" -eq 1 ]
  [ "$(rows_of "sha · threadpool · workers 2 · concurrency 2 · 1 cores" | wc -l)" -eq 1 ]
  [ "$(grep -c '^sha · threadpool' <<<"$output")" -eq 2 ]
}

@test "sweep rows are configurations of their own, one per swept value" {
  run "$BIN/concbench" history "$FIXTURES/sweep.csv"
  assert_success
  assert_output --partial "flags · DELAY · coroutine (m=194) · workers 1 · concurrency 194"
  assert_output --partial "flags · DELAY · threadpool (m=16) · workers 16 · concurrency 16"
  [ "$(grep -c '^flags · DELAY · ' <<<"$output")" -eq 16 ]
}

@test "--base marks the baseline run; the harness's noise verdicts and a MISMATCH row show in the note" {
  later "$FIXTURES/results.csv" new.csv 20261123T000000Z-vm 2026-11-23T00:00:00Z \
    '{**r, "verdict": "MISMATCH", "reason": "BR differs"} if r["driver"] == "processpool" and r["profile"] == "LOCAL" else {**r, "noise": "noisy"} if r["driver"] == "threadpool" and r["profile"] == "LOCAL" else {**r, "run_noise": "noisy"} if r["workload"] == "sha" else r'
  run "$BIN/concbench" history new.csv --base "$FIXTURES/results.csv"
  assert_success
  # the base file's rows are read too, and marked
  rows_of "flags · DELAY · coroutine" | head -1 | grep -qE 'baseline$'
  rows_of "flags · DELAY · coroutine" | tail -1 | grep -vq baseline
  rows_of "flags · LOCAL · threadpool" | tail -1 | grep -qE ' noisy$'
  rows_of "sha · coroutine" | tail -1 | grep -qE ' run noisy$'
  rows_of "flags · LOCAL · processpool" | tail -1 | grep -qE 'MISMATCH$'
  # the harness said ok for the fixture's LOCAL sequential row (CV 13.1 %): not noisy here
  rows_of "flags · LOCAL · sequential" | head -1 | grep -qE 'baseline$'
}

@test "a file from before the noise columns: a row above 10% CV is noisy" {
  python3 - "$FIXTURES/results.csv" old.csv <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
keep = list(rows[0].keys())[:list(rows[0].keys()).index("command") + 1]
with open(sys.argv[2], "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=keep, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
PY
  ! head -1 old.csv | grep -q noise
  run "$BIN/concbench" history old.csv
  assert_success
  # CV 13.13 % and 4.11 % in the fixture's LOCAL sequential and processpool rows
  rows_of "flags · LOCAL · sequential" | grep -qE ' noisy$'
  ! rows_of "flags · LOCAL · processpool" | grep -q noisy
}

@test "--color always colours the notes; never and NO_COLOR leave them plain" {
  later "$FIXTURES/results.csv" n.csv 20261123T000000Z-vm 2026-11-23T00:00:00Z '{**r, "noise": "noisy"}'
  run "$BIN/concbench" history n.csv --color always
  assert_success
  assert_output --partial $'\033[33mnoisy'
  run "$BIN/concbench" history n.csv --color never
  refute_output --partial $'\033['
  NO_COLOR=1 run "$BIN/concbench" history n.csv
  refute_output --partial $'\033['
}

@test "--markdown prints Markdown tables under ### titles" {
  run "$BIN/concbench" history "$FIXTURES/results.csv" --markdown
  assert_success
  assert_line "### sha · coroutine · workers 1 · concurrency 1 · 2 cores · 12 jobs"
  assert_line --regexp '^\| date +\| commit +\| +median \|'
}

@test "--plot draws PNG and SVG: a panel per workload, a line per configuration, the baseline marked" {
  command -v gnuplot >/dev/null || skip "gnuplot not installed"
  later "$FIXTURES/results.csv" b.csv 20261123T000000Z-vm 2026-11-23T00:00:00Z
  run "$BIN/concbench" history b.csv --base "$FIXTURES/results.csv" --plot plots/trend
  assert_failure 1 # plots/ does not exist: gnuplot cannot write there, and says so
  assert_output --partial "gnuplot failed"
  mkdir plots
  run "$BIN/concbench" history b.csv --base "$FIXTURES/results.csv" --plot plots/trend.png
  assert_success
  assert_output --partial "wrote plots/trend.png plots/trend.svg"
  [ "$(head -c 8 plots/trend.png | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
  grep -q '<svg' plots/trend.svg
  for text in '>flags<' '>sha<' '>baseline<' '>LOCAL coroutine<' '>DELAY threadpool<' '>sequential<'; do
    grep -q "$text" plots/trend.svg || fail "trend.svg lacks $text"
  done
  # nothing left in TMPDIR by the plot's scratch files
  [ -z "$(ls -d "$BATS_TEST_TMPDIR"/concbench-history.* 2>/dev/null)" ]
}

@test "a file that is not a results CSV fails with exit 1 and its name; usage errors exit 2" {
  printf 'a,b\n1,2\n' > junk.csv
  run "$BIN/concbench" history "$FIXTURES/results.csv" junk.csv
  assert_failure 1
  assert_output --partial "junk.csv: line 1"
  run "$BIN/concbench" history
  assert_failure 2
  run "$BIN/concbench" history --frobnicate x.csv
  assert_failure 2
  run "$BIN/concbench" history --color sometimes "$FIXTURES/results.csv"
  assert_failure 2
  run "$BIN/concbench" history --help
  assert_success
  assert_output --partial "--plot OUT"
}

@test "export writes each validated driver's speedup as customBiggerIsBetter JSON, named as in .bench.json" {
  cp "$FIXTURES/results.csv" run.csv
  run "$BIN/concbench" export run.csv
  assert_success
  assert_output --partial "wrote run.speedup.json (12 speedups)"
  jq -e 'length == 12 and all(.[]; .unit == "x" and (.value > 0))' run.speedup.json
  # sequential is 1× by definition and is left out
  jq -e 'all(.[]; (.name | test("sequential")) | not)' run.speedup.json
  [ "$(jq -r '.[] | select(.name == "flags DELAY coroutine") | .value' run.speedup.json)" = 13.357 ]
  # an unvalidated row has no point
  later "$FIXTURES/results.csv" bad.csv x 2026-11-23T00:00:00Z \
    '{**r, "verdict": "FAILED"} if r["driver"] == "coroutine" else r'
  run "$BIN/concbench" export bad.csv -o bad.json
  assert_success
  jq -e 'length == 8' bad.json
  run "$BIN/concbench" export "$FIXTURES/sweep.csv" -o sweep.json
  assert_success
  jq -e 'any(.[]; .name == "flags DELAY coroutine m=194")' sweep.json
}

@test "export names match the run's own .bench.json series" {
  run "$BIN/concbench" run --workload sha --drivers sequential,threadpool --quick --runs 2 \
    --warmup 0 --out out
  assert_success
  run "$BIN/concbench" export out/latest.csv
  assert_success
  [ -s out/latest.speedup.json ]
  name=$(basename "$(readlink out/latest.csv)" .csv)
  # every speedup series has a time series of the same name
  jq -e --slurpfile t "out/$name.bench.json" \
    '[.[].name] - [$t[0][].name] == [] and length == 1' out/latest.speedup.json
}
