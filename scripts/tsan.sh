#!/usr/bin/env bash
# make tsan: ThreadSanitizer over what runs on more than one thread — the thread pool (its
# unit test, bin/threadpool flags and sha, a SIGINT mid-run) and the coroutine driver's
# executor bridge (the loop's unit test, bin/coroutine --executor flags and sha, a SIGINT
# mid-run) — against a flagd of its own on free ports. Every process writes its reports
# to one directory; any report, or any run ending other than as it should, fails.
# Environment: BUILD (default build/tsan), BIN (default bin/tsan), built with SANITIZER=thread.
# Ends with one verdict line. Exit 0 clean, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build/tsan}
BIN=${BIN:-bin/tsan}
. scripts/checks.bash

start=$(date +%s)
WORK=$(mktemp -d)
trap 'flagd_stop; rm -rf "$WORK"' EXIT
REPORTS=$WORK/reports
mkdir -p "$REPORTS"
# halt_on_error=0: see every report of a run, not only the first; log_path: children and
# the background flagd report too, whatever happens to their stderr.
export TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1:log_path=$REPORTS/tsan"

for t in test_threadpool test_loop; do
  check "unit-$t" 0 env CMOCKA_MESSAGE_OUTPUT=TAP "$BUILD/tests/$t"
done

# 50 ms delays: transfers overlap, and a SIGINT run is still running when it comes
if flagd_start "$BIN/flagd" --delay 50 --seed 7; then
  check threadpool-flags-local  0 "$BIN/threadpool" flags -a -s "$LOCAL_URL" -o "$WORK/tp"
  check threadpool-flags-meta   0 "$BIN/threadpool" flags -a -m 50 --meta -s "$DELAY_URL" -o "$WORK/tp-meta"
  check threadpool-flags-error  0 "$BIN/threadpool" flags -e -m 100 --no-save -s "$ERROR_URL"
  check threadpool-sha          0 "$BIN/threadpool" sha -j 24 -n 64K -w 4
  check_sigint threadpool-sigint  "$BIN/threadpool" flags -a -m 4 -v -s "$DELAY_URL" -o "$WORK/tp-int"
  check coroutine-flags-local   0 "$BIN/coroutine" flags -a --executor 4 -s "$LOCAL_URL" -o "$WORK/co"
  check coroutine-flags-meta    0 "$BIN/coroutine" flags -a --executor 1 --meta -s "$DELAY_URL" -o "$WORK/co-meta"
  check coroutine-flags-error   0 "$BIN/coroutine" flags -e -m 200 --executor 3 -s "$ERROR_URL" -o "$WORK/co-err"
  check coroutine-sha           0 "$BIN/coroutine" sha -j 24 -n 64K --executor 3
  check_sigint coroutine-sigint   "$BIN/coroutine" flags -a -m 4 --executor 2 -v -s "$DELAY_URL" -o "$WORK/co-int"
  flagd_stop
  [ "$FLAGD_STATUS" -eq 0 ] || failed flagd "exit $FLAGD_STATUS after SIGTERM"
else
  failed flagd "did not start"
fi

show_reports "$REPORTS"
[ "$REPORTS_BAD" -eq 0 ] || failed reports "$REPORTS_BAD process(es) reported (above)"
elapsed=$(( $(date +%s) - start ))
checks_verdict tsan "$CHECKS_RUN runs, 0 ThreadSanitizer reports (${elapsed} s)" \
  "$CHECKS_RUN runs, $REPORTS_BAD process(es) with reports (${elapsed} s)" || exit 1
