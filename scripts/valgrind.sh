#!/usr/bin/env bash
# make valgrind: memcheck over every driver on a small run (20 codes from a flagd of its
# own on free ports, sha -j 4 -n 64K, a crawl of a 200-page site) — processpool's forked workers included, the
# coroutine driver saving on its executor (the default, and --executor 2) and on the loop
# thread (--save-on-loop) — and over flagd itself, which
# serves all of them and is stopped with SIGTERM. Every process must end with 0 errors
# and 0 bytes definitely lost, and every run with its usual exit status.
# Environment: BIN (default bin). Ends with one verdict line. Exit 0 clean, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BIN=${BIN:-bin}
. scripts/checks.bash

VG_STATUS=99 # memcheck's exit status when it found something; no driver exits with it
start=$(date +%s)
WORK=$(mktemp -d)
trap 'flagd_stop; rm -rf "$WORK"' EXIT
REPORTS=$WORK/reports
mkdir -p "$REPORTS"

# --quiet: a clean process writes nothing, so any line in a log is a finding. Only definite
# leaks count (possible, indirect and reachable ones are libraries' caches). One log per
# process (%p): forked workers get their own; --trace-children: one that execs is checked too.
VG=(valgrind --quiet --error-exitcode="$VG_STATUS" --leak-check=full
    --errors-for-leak-kinds=definite --show-leak-kinds=definite --trace-children=yes
    --child-silent-after-fork=no)

# vg NAME CMD...: CMD under memcheck, its processes logging to $REPORTS/NAME.PID
vg() {
  "${VG[@]}" --log-file="$REPORTS/$1.%p" "${@:2}"
}

if ! command -v valgrind >/dev/null; then
  echo "valgrind: not installed (scripts/deps.sh installs it)" >&2
  exit 1
fi

# flagd under memcheck serves every run below; 20 ms delays on DELAY make transfers overlap
# (not through vg: flagd_start must signal valgrind itself, not a subshell running it)
if flagd_start "${VG[@]}" --log-file="$REPORTS/flagd.%p" "$BIN/flagd" --delay 20 --seed 7 --site-pages 200; then
  for d in sequential threadpool processpool coroutine; do
    check "$d-flags"       0 vg "$d" "$BIN/$d" flags -l 20 -s "$LOCAL_URL" -o "$WORK/$d"
    check "$d-flags-error" 0 vg "$d" "$BIN/$d" flags -l 20 --meta -s "$ERROR_URL" -o "$WORK/$d-err"
    check "$d-sha"         0 vg "$d" "$BIN/$d" sha -j 4 -n 64K
  done
  # crawl (issue 12): a 200-page site on ERROR, and the bad input of /site/odd/
  for d in sequential threadpool processpool coroutine; do
    check "$d-crawl"     0 vg "$d" "$BIN/$d" crawl -m 8 -s "$ERROR_URL"
    check "$d-crawl-odd" 0 vg "$d" "$BIN/$d" crawl -m 4 -s "$LOCAL_URL" /site/odd/
  done
  check coroutine-executor-flags 0 vg coroutine "$BIN/coroutine" flags -l 20 --executor 2 -s "$DELAY_URL" -o "$WORK/co-x"
  check coroutine-on-loop-flags  0 vg coroutine "$BIN/coroutine" flags -l 20 --save-on-loop -s "$DELAY_URL" -o "$WORK/co-loop"
  check coroutine-executor-sha   0 vg coroutine "$BIN/coroutine" sha -j 4 -n 64K --executor 2
  flagd_stop
  [ "$FLAGD_STATUS" -eq 0 ] || failed flagd "exit $FLAGD_STATUS after SIGTERM (memcheck: $VG_STATUS)"
else
  failed flagd "did not start under valgrind"
fi

# Every process left a log; with --quiet only findings are in it.
show_reports "$REPORTS"
[ "$REPORTS_BAD" -eq 0 ] || failed reports "$REPORTS_BAD of $REPORTS_LOGS processes reported (above)"
elapsed=$(( $(date +%s) - start ))
checks_verdict valgrind "$CHECKS_RUN runs, $REPORTS_LOGS processes, 0 errors, 0 bytes definitely lost (${elapsed} s)" \
  "$CHECKS_RUN runs, $REPORTS_LOGS processes (${elapsed} s)" || exit 1
