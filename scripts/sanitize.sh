#!/usr/bin/env bash
# make sanitize: every unit and CLI test (scripts/run-tests.sh) on the ASan + UBSan build.
# Every process — forked workers, the tests' background flagd — writes its reports to one
# directory instead of a stderr a test may never look at; after the tests, any report fails
# the run. One line is tolerated: the warning glibc's makecontext draws from ASan even with
# the fiber annotations (lib/coro.c).
# Environment: BUILD (default build/asan), BIN (default bin/asan), built with
# SANITIZER=address,undefined.
# Ends with the tests' "N passed, N failed" and one verdict line. Exit 0 clean, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export BUILD=${BUILD:-build/asan}
export BIN=${BIN:-bin/asan}

start=$(date +%s)
REPORTS=$(mktemp -d)
trap 'rm -rf "$REPORTS"' EXIT
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0:log_path=$REPORTS/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$REPORTS/ubsan"
ASAN_UCONTEXT='^==[0-9]+==WARNING: ASan doesn.t fully support makecontext/swapcontext'

status=0
scripts/run-tests.sh || status=1

reported=0
for f in "$REPORTS"/*; do
  [ -e "$f" ] || continue
  if grep -qvE "$ASAN_UCONTEXT" "$f"; then
    reported=$((reported + 1))
    echo "--- $(basename "$f")" >&2
    cat "$f" >&2
  fi
done
elapsed=$(( $(date +%s) - start ))
if [ "$status" -eq 0 ] && [ "$reported" -eq 0 ]; then
  echo "sanitize: CLEAN: every test passed, 0 ASan/UBSan/LSan reports (${elapsed} s)"
else
  echo "sanitize: FAILED: tests $([ "$status" -eq 0 ] && echo passed || echo failed), $reported process(es) with reports (${elapsed} s)"
  exit 1
fi
