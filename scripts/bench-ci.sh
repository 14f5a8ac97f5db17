#!/usr/bin/env bash
# make bench-ci: the CI performance gate. Measures the quick matrix, compares it with the
# committed baseline (concbench compare: significance and size, see its --help), and before
# it fails, measures the flagged configurations again with fresh runs: it fails only on a
# regression that holds both times. A MISMATCH, a FAILED row or missing rows fail at once.
# Environment: BIN (default bin), OUT (default build/bench-ci), BASE (default
# results/baseline.csv), RUNS (default 10), RUN_ARGS (more `concbench run` options, split on
# spaces: e.g. "--driver-path threadpool=/path/to/build"). Extra arguments go to
# `concbench compare` (e.g. --threshold 10).
# Exit: 0 pass, 1 regression confirmed (or a row invalid, or could not run), 3 inconclusive.
set -uo pipefail
# Paths given relative to where we were called from stay so after the cd below.
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
[ -n "${BIN:-}" ] && BIN=$(abs "$BIN")
[ -n "${OUT:-}" ] && OUT=$(abs "$OUT")
[ -n "${BASE:-}" ] && BASE=$(abs "$BASE")
cd "$(dirname "$0")/.." || exit 1
BIN=${BIN:-bin}
OUT=${OUT:-build/bench-ci}
BASE=${BASE:-results/baseline.csv}
RUNS=${RUNS:-10}  # 10 runs: enough for the U test to see a 15% change through this noise
read -r -a run_args <<<"${RUN_ARGS:-}"

refresh_hint() {
  cat >&2 <<EOF
bench-ci: to accept this run as the new baseline (after an intended change, measured on a
quiet machine of the kind CI runs on), commit it:
  cp -L $OUT/latest.csv $BASE && git add $BASE && git commit -m 'results/baseline.csv: refreshed'
EOF
}

if [ ! -r "$BASE" ]; then
  echo "bench-ci: no baseline at $BASE" >&2
  exit 1
fi
BIN=$BIN OUT=$OUT QUICK=1 scripts/bench.sh --runs "$RUNS" "${run_args[@]}"
status=$?
[ $status -eq 0 ] || { echo "bench-ci: the run itself failed (exit $status)" >&2; exit "$status"; }

flagged=$OUT/flagged.tsv
"$BIN/concbench" compare "$@" --flagged "$flagged" "$BASE" "$OUT/latest.csv" | tee "$OUT/compare.txt"
status=${PIPESTATUS[0]}
# What the first comparison could not judge stays unjudged, whatever the second finds.
first_inconclusive=$(grep -oE '[0-9]+ inconclusive' "$OUT/compare.txt" | tail -1 | cut -d' ' -f1)
case $status in
  0) echo "bench-ci: pass" >&2; exit 0 ;;
  3) echo "bench-ci: inconclusive: some changes were too noisy to judge (exit 3)" >&2
     refresh_hint; exit 3 ;;
  1) [ -s "$flagged" ] || { echo "bench-ci: FAIL" >&2; refresh_hint; exit 1; } ;;
  *) exit "$status" ;;
esac

# Re-measure only what was flagged (the sequential reference always runs too).
workloads=$(cut -f1 "$flagged" | sort -u | paste -sd, -)
# SERVER is --server's profile (in RUN_ARGS), not one run --profile knows
profiles=$(cut -f2 "$flagged" | grep -vx -e '' -e SERVER | sort -u | paste -sd, -)
drivers=$(cut -f3 "$flagged" | sort -u | paste -sd, -)
args=(--workload "$workloads" --drivers "$drivers" --runs "$RUNS")
[ -n "$profiles" ] && args+=(--profile "$profiles")
for key in m w; do
  values=$(awk -F'\t' -v k="$key" '$4 == k { print $5 }' "$flagged" | sort -un | paste -sd, -)
  [ -n "$values" ] && args+=(--sweep "$key=$values")
done
args+=("${run_args[@]}") # last: they may end with "-- DRIVER OPTIONS"
echo "bench-ci: $(wc -l <"$flagged") configuration(s) flagged; measuring them again" >&2
BIN=$BIN OUT=$OUT/confirm QUICK=1 scripts/bench.sh "${args[@]}"
status=$?
[ $status -eq 0 ] || { echo "bench-ci: the confirming run failed (exit $status)" >&2; exit "$status"; }
"$BIN/concbench" compare "$@" --only "$flagged" "$BASE" "$OUT/confirm/latest.csv"
status=$?
case $status in
  0) if [ "${first_inconclusive:-0}" -gt 0 ]; then
       echo "bench-ci: inconclusive: the regression did not hold when measured again, but" \
         "$first_inconclusive other configuration(s) were too noisy to judge" >&2
       exit 3
     fi
     echo "bench-ci: pass: the regression did not hold when measured again (noise)" >&2; exit 0 ;;
  1) echo "bench-ci: FAIL: the regression held when measured again" >&2; refresh_hint; exit 1 ;;
  3) echo "bench-ci: inconclusive: the second measurement was too noisy to confirm" >&2; exit 3 ;;
  *) exit "$status" ;;
esac
