# Shared by every bats file (`load helpers`): bats-support, bats-assert, $BIN, and a flagd
# of the test's own on free ports.
#
#   flagd_start [flagd options]   start "$BIN/flagd --port 0 OPTIONS", wait for its three
#                                 ready lines, export FLAGD_PID, LOCAL_URL, DELAY_URL,
#                                 ERROR_URL (http://127.0.0.1:PORT/flags) and FLAGD_BASE
#                                 (LOCAL's http://127.0.0.1:PORT, for /stats)
#   flagd_stop                    SIGTERM it and reap it; FLAGD_STATUS = its exit status.
#                                 Idempotent: safe in teardown after a test already stopped it
#   flagd_stats [QUERY]           GET /stats (flagd_stats '?reset=1' to zero the counters)
#   wait_for FILE REGEX           until a line of FILE matches (a run in the background)
#
# Logs go to $BATS_TEST_TMPDIR/flagd.N.{out,err}; a failed start fails the test and shows
# flagd's stderr.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

# Absolute, so that a test may cd anywhere ($BIN=bin/asan from `make sanitize` works too).
BIN=${BIN:-bin}
[[ $BIN = /* ]] || BIN=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/$BIN
export BIN

FLAGD_READY_TIMEOUT_S=${FLAGD_READY_TIMEOUT_S:-5} # flagd is ready in ~20 ms; ASan is slower
FLAGD_STOP_TIMEOUT_S=5                            # then SIGKILL
FLAGD_POLL_S=0.02
FLAGD_STARTS=0

# flagd_ready_lines FILE: how many of the LOCAL/DELAY/ERROR ready lines FILE holds
flagd_ready_lines() {
  grep -cE '^flagd: (LOCAL|DELAY|ERROR) http://' "$1" 2>/dev/null || true
}

# flagd_url FILE LABEL: the URL of one ready line
flagd_url() {
  awk -v l="$2" '$1 == "flagd:" && $2 == l { print $3; exit }' "$1"
}

# flagd_alive PID: running and not a zombie (a dead child stays a zombie until reaped)
flagd_alive() {
  local state
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

flagd_start() {
  if [ -n "${FLAGD_PID:-}" ]; then
    flagd_stop
  fi
  FLAGD_STARTS=$((FLAGD_STARTS + 1))
  FLAGD_OUT=$BATS_TEST_TMPDIR/flagd.$FLAGD_STARTS.out
  FLAGD_ERR=$BATS_TEST_TMPDIR/flagd.$FLAGD_STARTS.err
  # 3>&-: bats waits for whoever holds its fd 3; a server must not hold up the run.
  "$BIN/flagd" --port 0 "$@" >"$FLAGD_OUT" 2>"$FLAGD_ERR" 3>&- &
  FLAGD_PID=$!
  local polls
  polls=$(awk -v t="$FLAGD_READY_TIMEOUT_S" -v p="$FLAGD_POLL_S" 'BEGIN { print int(t / p) }')
  while [ "$(flagd_ready_lines "$FLAGD_OUT")" -lt 3 ]; do
    if ! flagd_alive "$FLAGD_PID"; then
      local rc=0
      wait "$FLAGD_PID" || rc=$?
      FLAGD_PID=
      fail "flagd $* exited with status $rc before it was ready; its stderr:
$(cat "$FLAGD_ERR")"
      return 1
    fi
    if [ "$polls" -le 0 ]; then
      flagd_stop
      fail "flagd $* printed no ready lines within ${FLAGD_READY_TIMEOUT_S} s; stdout:
$(cat "$FLAGD_OUT")
stderr:
$(cat "$FLAGD_ERR")"
      return 1
    fi
    polls=$((polls - 1))
    sleep "$FLAGD_POLL_S"
  done
  LOCAL_URL=$(flagd_url "$FLAGD_OUT" LOCAL)
  DELAY_URL=$(flagd_url "$FLAGD_OUT" DELAY)
  ERROR_URL=$(flagd_url "$FLAGD_OUT" ERROR)
  FLAGD_BASE=${LOCAL_URL%/flags}
  export FLAGD_PID LOCAL_URL DELAY_URL ERROR_URL FLAGD_BASE FLAGD_OUT FLAGD_ERR
}

flagd_stop() {
  FLAGD_STATUS=
  [ -n "${FLAGD_PID:-}" ] || return 0
  kill -TERM "$FLAGD_PID" 2>/dev/null || true
  local polls
  polls=$(awk -v t="$FLAGD_STOP_TIMEOUT_S" -v p="$FLAGD_POLL_S" 'BEGIN { print int(t / p) }')
  while flagd_alive "$FLAGD_PID" && [ "$polls" -gt 0 ]; do
    polls=$((polls - 1))
    sleep "$FLAGD_POLL_S"
  done
  if flagd_alive "$FLAGD_PID"; then
    echo "flagd $FLAGD_PID ignored SIGTERM for ${FLAGD_STOP_TIMEOUT_S} s: SIGKILL" >&2
    kill -KILL "$FLAGD_PID" 2>/dev/null || true
  fi
  FLAGD_STATUS=0
  wait "$FLAGD_PID" 2>/dev/null || FLAGD_STATUS=$?
  FLAGD_PID=
  export FLAGD_STATUS
}

flagd_stats() {
  curl -fsS "$FLAGD_BASE/stats${1:-}"
}

# wait_for FILE REGEX: until a line of FILE matches (the run is in the background)
wait_for() {
  for _ in $(seq 400); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "no line matching '$2' in $1:" >&2
  cat "$1" >&2
  return 1
}
