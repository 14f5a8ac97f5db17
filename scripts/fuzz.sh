#!/usr/bin/env bash
# Runs each libFuzzer target named on the command line for FUZZ_SECONDS, starting from its
# committed corpus, and prints one line per target with the executions it ran.
# New inputs go to $FUZZ_BUILD/corpus/TARGET (libFuzzer writes only to its first corpus
# directory), so the committed seeds stay as they are. Exit 1 on any crash.
set -uo pipefail
cd "$(dirname "$0")/.."
FUZZ_BUILD=${FUZZ_BUILD:-build/fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_INPUT_TIMEOUT_S=10   # one input taking this long is a hang, reported as a crash
FUZZ_MAX_LEN=4096         # bytes: longer than any real request line; results rows fit

status=0
for t in "$@"; do
  bin=$FUZZ_BUILD/fuzz_$t
  seeds=tests/fuzz/corpus/$t
  work=$FUZZ_BUILD/corpus/$t
  log=$FUZZ_BUILD/fuzz_$t.log
  mkdir -p "$work" "$FUZZ_BUILD/artifacts"
  "$bin" -max_total_time="$FUZZ_SECONDS" -timeout="$FUZZ_INPUT_TIMEOUT_S" \
    -max_len="$FUZZ_MAX_LEN" -print_final_stats=1 \
    -artifact_prefix="$FUZZ_BUILD/artifacts/$t-" "$work" "$seeds" >"$log" 2>&1
  rc=$?
  execs=$(awk '/^stat::number_of_executed_units:/ { print $NF }' "$log")
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
  if [ "$rc" -ne 0 ]; then
    echo "fuzz: $t: FAILED (exit $rc) after ${execs:-?} executions; see $log:" >&2
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" >&2
    status=1
  else
    echo "fuzz: $t: ${execs:-?} executions in ${FUZZ_SECONDS} s, ${cov:-cov: ?}, corpus $(ls "$work" | wc -l) + $(ls "$seeds" | wc -l) seeds, no crash"
  fi
done
exit "$status"
