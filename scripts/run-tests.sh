#!/usr/bin/env bash
# Runs every cmocka unit test and every bats file as TAP, and ends with one line
# "N passed, N failed" (", N skipped" when some were). Exit 1 when any failed or none ran.
# The bats tests run TEST_JOBS at a time (default: 3 per CPU, as most of them wait on
# flagd's delays rather than compute), files and tests within a file alike; each starts
# its own flagd on free ports. TEST_JOBS=1 runs them one after another. A file that must
# not share the machine with itself sets BATS_NO_PARALLELIZE_WITHIN_FILE in setup_file.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BIN=${BIN:-bin}
TEST_JOBS=${TEST_JOBS:-$(( $(nproc 2>/dev/null || echo 1) * 3 ))}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

status=0
for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  echo "# unit: $t"
  CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1 | tee -a "$log" || status=1
done
if compgen -G "tests/cli/*.bats" >/dev/null; then
  jobs=()
  if [ "$TEST_JOBS" -gt 1 ]; then
    # moreutils has a parallel of its own, which bats cannot drive
    if parallel --version 2>/dev/null | grep -q '^GNU parallel'; then
      jobs=(--jobs "$TEST_JOBS")
    else
      echo "# GNU parallel is not installed (scripts/deps.sh installs it): bats tests run one at a time" >&2
    fi
  fi
  echo "# cli: bats ${jobs[*]} tests/cli"
  bats --tap --timing "${jobs[@]}" tests/cli 2>&1 | tee -a "$log" || status=1
fi

passed=$(grep -cE '^ok [0-9]+' "$log" | tr -d ' ')
skipped=$(grep -cE '^ok [0-9]+.*# (skip|SKIP)' "$log" | tr -d ' ')
failed=$(grep -cE '^not ok [0-9]+' "$log" | tr -d ' ')
passed=$((passed - skipped))
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ] && [ "$status" -eq 0 ]
