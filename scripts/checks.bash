# Shared by scripts/tsan.sh, scripts/valgrind.sh and scripts/anchors (`. scripts/checks.bash`): a flagd of
# the script's own on free ports, and runs that are tallied into one verdict.
#
#   flagd_start CMD... [flagd options]   start CMD (bin/flagd, or a tool wrapping it) with
#                                 --port 0 and the options, wait for its three ready lines,
#                                 set FLAGD_PID, LOCAL_URL, DELAY_URL, ERROR_URL
#   flagd_stop                    SIGTERM it and reap it; FLAGD_STATUS = its exit status.
#                                 Idempotent; the scripts call it from their EXIT trap too
#   check NAME WANT CMD...        run CMD (stdout and stderr to $WORK/NAME.log); a failure
#                                 unless its exit status is WANT
#   check_sigint NAME CMD...      run CMD in the background, SIGINT it once it has reported
#                                 a job on stderr (-v), and want exit 130
#   failed NAME WHY               count a failure and say why
#   show_reports DIR              print DIR's non-empty report files to stderr; set
#                                 REPORTS_LOGS (files) and REPORTS_BAD (non-empty ones)
#   checks_verdict TOOL CLEAN FAILED  the closing "N passed, N failed" line (.ci/run counts
#                                 it), then "TOOL: CLEAN: CLEAN" and status 0, or
#                                 "TOOL: FAILED: K problem(s) in FAILED" and status 1
#
# The caller sets WORK (a scratch directory) and may set FLAGD_READY_TIMEOUT_S.
# shellcheck disable=SC2034 # the URLs and FLAGD_STATUS are for the scripts that source this

FLAGD_READY_TIMEOUT_S=${FLAGD_READY_TIMEOUT_S:-60} # valgrind needs seconds, bare flagd 20 ms
FLAGD_STOP_TIMEOUT_S=60                            # a leak check under valgrind takes a while
CHECK_POLL_S=0.05
CHECKS_RUN=0
CHECKS_FAILED=0
FLAGD_PID=

failed() {
  CHECKS_FAILED=$((CHECKS_FAILED + 1))
  echo "FAIL $1: $2" >&2
}

# wait_for_line FILE REGEX SECONDS: until a line of FILE matches; 1 on timeout
wait_for_line() {
  local polls
  polls=$(awk -v t="$3" -v p="$CHECK_POLL_S" 'BEGIN { print int(t / p) }')
  until grep -qE "$2" "$1" 2>/dev/null; do
    [ "$polls" -gt 0 ] || return 1
    polls=$((polls - 1))
    sleep "$CHECK_POLL_S"
  done
}

flagd_start() {
  "$@" --port 0 >"$WORK/flagd.out" 2>"$WORK/flagd.err" &
  FLAGD_PID=$!
  local polls
  polls=$(awk -v t="$FLAGD_READY_TIMEOUT_S" -v p="$CHECK_POLL_S" 'BEGIN { print int(t / p) }')
  while [ "$(grep -cE '^flagd: (LOCAL|DELAY|ERROR) http://' "$WORK/flagd.out")" -lt 3 ]; do
    if ! kill -0 "$FLAGD_PID" 2>/dev/null || [ "$polls" -le 0 ]; then
      echo "flagd did not start: $*" >&2
      cat "$WORK/flagd.err" >&2
      flagd_stop
      return 1
    fi
    polls=$((polls - 1))
    sleep "$CHECK_POLL_S"
  done
  LOCAL_URL=$(awk '$2 == "LOCAL" { print $3; exit }' "$WORK/flagd.out")
  DELAY_URL=$(awk '$2 == "DELAY" { print $3; exit }' "$WORK/flagd.out")
  ERROR_URL=$(awk '$2 == "ERROR" { print $3; exit }' "$WORK/flagd.out")
}

flagd_stop() {
  FLAGD_STATUS=
  [ -n "$FLAGD_PID" ] || return 0
  kill -TERM "$FLAGD_PID" 2>/dev/null || true
  local polls
  polls=$(awk -v t="$FLAGD_STOP_TIMEOUT_S" -v p="$CHECK_POLL_S" 'BEGIN { print int(t / p) }')
  while kill -0 "$FLAGD_PID" 2>/dev/null && [ "$polls" -gt 0 ]; do
    # a reaped-but-unwaited child is a zombie: kill -0 still succeeds on it
    [ "$(awk '{ print $3 }' "/proc/$FLAGD_PID/stat" 2>/dev/null)" = Z ] && break
    polls=$((polls - 1))
    sleep "$CHECK_POLL_S"
  done
  if kill -0 "$FLAGD_PID" 2>/dev/null && [ "$(awk '{ print $3 }' "/proc/$FLAGD_PID/stat")" != Z ]; then
    echo "flagd $FLAGD_PID ignored SIGTERM for ${FLAGD_STOP_TIMEOUT_S} s: SIGKILL" >&2
    kill -KILL "$FLAGD_PID" 2>/dev/null || true
  fi
  FLAGD_STATUS=0
  wait "$FLAGD_PID" 2>/dev/null || FLAGD_STATUS=$?
  FLAGD_PID=
}

check() {
  local name=$1 want=$2 rc=0
  shift 2
  CHECKS_RUN=$((CHECKS_RUN + 1))
  "$@" >"$WORK/$name.log" 2>&1 || rc=$?
  if [ "$rc" -ne "$want" ]; then
    failed "$name" "exit $rc, wanted $want: $*"
    tail -n 20 "$WORK/$name.log" >&2
    return 1
  fi
  echo "ok   $name"
}

check_sigint() {
  local name=$1 pid rc=0
  shift
  CHECKS_RUN=$((CHECKS_RUN + 1))
  "$@" >"$WORK/$name.log" 2>"$WORK/$name.err" &
  pid=$!
  if ! wait_for_line "$WORK/$name.err" ' ok [0-9]+ bytes|[A-Z]{2} ' 60; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    failed "$name" "reported no job within 60 s: $*"
    return 1
  fi
  kill -INT "$pid"
  wait "$pid" || rc=$?
  if [ "$rc" -ne 130 ]; then
    failed "$name" "exit $rc after SIGINT, wanted 130: $*"
    tail -n 20 "$WORK/$name.err" >&2
    return 1
  fi
  echo "ok   $name"
}

show_reports() {
  REPORTS_LOGS=0
  REPORTS_BAD=0
  local f
  for f in "$1"/*; do
    [ -e "$f" ] || continue
    REPORTS_LOGS=$((REPORTS_LOGS + 1))
    [ -s "$f" ] || continue
    REPORTS_BAD=$((REPORTS_BAD + 1))
    echo "--- $(basename "$f")" >&2
    cat "$f" >&2
  done
}

checks_verdict() {
  local passed=$((CHECKS_RUN - CHECKS_FAILED))
  [ "$passed" -ge 0 ] || passed=0
  echo "$passed passed, $CHECKS_FAILED failed"
  if [ "$CHECKS_FAILED" -eq 0 ]; then
    echo "$1: CLEAN: $2"
    return 0
  fi
  echo "$1: FAILED: $CHECKS_FAILED problem(s) in $3"
  return 1
}
