#!/usr/bin/env bash
# make bench: the default matrix — both workloads × every built driver × LOCAL/DELAY/ERROR —
# timed, validated and tabulated by bin/concbench, then plotted. QUICK=1 for the small
# matrix (under 30 s). Extra arguments go to `concbench run` (e.g. --sweep m=1,10,100).
# Environment: BIN (default bin), OUT (default results), QUICK.
# Exit: concbench run's status (1 when a row is MISMATCH/FAILED), or 1 when plotting failed.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
OUT=${OUT:-results}
start=$(date +%s)

args=(--out "$OUT")
[ "${QUICK:-}" = 1 ] && args+=(--quick)
if [ ! -x "$BIN/flagd" ]; then
  # Without the flag server only the hashing workload can run; say so rather than fail.
  echo "bench: $BIN/flagd is not built: flags workload skipped" >&2
  args+=(--workload sha)
fi

"$BIN/concbench" run "${args[@]}" "$@"
status=$?
if [ -e "$OUT/latest.csv" ] && [ $status -ne 130 ] && [ $status -ne 143 ] && [ $status -ne 2 ]; then
  if scripts/plot "$OUT/latest.csv"; then
    # latest.png and latest.svg beside latest.csv: relative links to this run's plots
    run_id=$(basename "$(readlink "$OUT/latest.csv")" .csv)
    for ext in png svg; do
      [ -e "$OUT/$run_id.$ext" ] && ln -sfn "$run_id.$ext" "$OUT/latest.$ext"
    done
  else
    status=1
  fi
fi
echo "bench: done in $(( $(date +%s) - start )) s; results in $OUT/ (latest.csv, .md, .bench.json, .png)" >&2
exit $status
