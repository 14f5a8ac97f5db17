#!/usr/bin/env bash
# Runs every cmocka unit test and every bats file as TAP, and ends with one line
# "N passed, N failed" (", N skipped" when some were). Exit 1 when any failed or none ran.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BIN=${BIN:-bin}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

status=0
for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  echo "# unit: $t"
  CMOCKA_MESSAGE_OUTPUT=TAP "$t" 2>&1 | tee -a "$log" || status=1
done
if compgen -G "tests/cli/*.bats" >/dev/null; then
  echo "# cli: bats tests/cli"
  bats --tap --timing tests/cli 2>&1 | tee -a "$log" || status=1
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
