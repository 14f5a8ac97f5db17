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
#   wait_in_flight N              until flagd has N requests in flight (/stats)
#
# What flagd serves, from its own plan (flagd --plan lists every code of its root), so that
# no count is copied from the flag package installed today:
#   served_codes                  the codes flagd has a flag for, one a line
#   book_found / every_found      how many of the book's 194 codes / of AA..ZZ it serves
#
# References, computed once per file in setup_file (a driver's test compares its run with
# bin/sequential's on the same listener and arguments, without running sequential each time):
#   ref_flagd_start OPTIONS       a flagd of setup_file's own, with OPTIONS (give the seed
#                                 the tests use: ERROR's statuses depend on it, not on delays)
#   ref_make LISTENER ARGS...     bin/sequential flags ARGS -s LISTENER's URL --json once,
#                                 into ref_dir LISTENER ARGS...: record.json, files/, stderr
#   ref_dir LISTENER ARGS...      where that reference is (fails the test when there is none)
#
# Logs go to $BATS_TEST_TMPDIR/flagd.N.{out,err} ($BATS_FILE_TMPDIR in setup_file); a
# failed start fails the test and shows flagd's stderr.

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
HOLD_MS=600000 # flagd --delay that holds answers longer than any test (flagd's maximum)
HOLD_T_S=3600  # a driver's -t against held answers: no transfer may time out and hand its
               # slot to another request while the test waits for every one in flight

# flagd_ready_lines FILE: how many of the LOCAL/DELAY/ERROR ready lines FILE holds
flagd_ready_lines() {
  local n
  n=$(grep -cE '^flagd: (LOCAL|DELAY|ERROR) http://' "$1" 2>/dev/null) || true
  echo "${n:-0}"
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
  local logs=${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR} # setup_file has no test directory
  FLAGD_OUT=$logs/flagd.$FLAGD_STARTS.out
  FLAGD_ERR=$logs/flagd.$FLAGD_STARTS.err
  # Made before the child opens them: on a loaded machine the first poll may come first.
  : >"$FLAGD_OUT"
  : >"$FLAGD_ERR"
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

# test_dir_re: an extended regex (for pgrep -f) of this test's directory as a whole path:
# when tests run side by side, test 11's must not match test 114's processes
test_dir_re() { printf '%s(/|[[:space:]]|$)' "$BATS_TEST_TMPDIR"; }

# wait_in_flight N: until flagd's /stats shows N requests in flight (a run in the background
# against answers held far longer than the test lasts); 120 s bound only a failure (a SYN
# dropped from a full accept queue is sent again after 1, 3, 7, 15, 31 s)
wait_in_flight() {
  local now
  for _ in $(seq 1200); do
    now=$(flagd_stats | jq .in_flight) || return 1
    [ "$now" -ge "$1" ] && return 0
    sleep 0.1
  done
  echo "flagd never had $1 requests in flight; /stats: $(flagd_stats)" >&2
  return 1
}

BOOK_CODES=$(cd "$BATS_TEST_DIRNAME" && pwd)/book_codes.txt

# served_codes: every code flagd has a flag for (its plan lists each code of its root),
# upper case, one a line; computed once per file
served_codes() {
  local f=$BATS_FILE_TMPDIR/served_codes tmp
  if [ ! -s "$f" ]; then
    tmp=$f.$BASHPID # tests of a file may run side by side: each writes its own, then renames
    "$BIN/flagd" --plan | awk '{ print $1 }' >"$tmp" && mv "$tmp" "$f"
  fi
  cat "$f"
}

# book_found: how many of the book's 194 codes flagd serves (the rest are not found)
book_found() { grep -cxFf <(served_codes) "$BOOK_CODES"; }

# every_found: how many of AA..ZZ flagd serves
every_found() { served_codes | grep -c '^[A-Z][A-Z]$'; }

# book_count: how many codes -a asks for
book_count() { grep -c . "$BOOK_CODES"; }

FLAGS_ROOT=/usr/share/flags/countries/16x11 # the root flagd serves by default

# same_as_root DIR: every file in DIR is CC.gif, byte-equal to the root's cc.gif; prints how
# many (one sha256sum per side, not a cmp per file). Dot files are the caller's business.
same_as_root() {
  local names bad
  names=$(cd "$1" && ls) || return 1
  [ -n "$names" ] || { echo 0; return 0; }
  if bad=$(grep -vxE '[A-Z]{2}\.gif' <<<"$names"); then
    echo "unexpected file(s) in $1: $bad" >&2
    return 1
  fi
  # shellcheck disable=SC2086 # names is a list of CC.gif words
  diff <(cd "$1" && sha256sum $names) \
       <(cd "$FLAGS_ROOT" && sha256sum ${names,,} | awk '{ print $1 "  " toupper(substr($2, 1, 2)) ".gif" }') >&2 ||
    return 1
  grep -c . <<<"$names"
}

# ---- references from bin/sequential, once per file -----------------------------------

# ref_key LISTENER ARGS...: a directory name for that run
ref_key() { tr -c 'A-Za-z0-9\n' _ <<<"$*"; }

ref_flagd_start() {
  flagd_start "$@"
  REF_LOCAL_URL=$LOCAL_URL REF_DELAY_URL=$DELAY_URL REF_ERROR_URL=$ERROR_URL
}

# ref_make LISTENER ARGS...: bin/sequential flags ARGS against the reference flagd's
# LISTENER (LOCAL, DELAY or ERROR); must succeed
ref_make() {
  local listener=$1 url dir
  url=REF_${1}_URL
  shift
  dir=$BATS_FILE_TMPDIR/ref/$(ref_key "$listener" "$@")
  mkdir -p "$dir"
  "$BIN/sequential" flags "$@" -s "${!url}" -o "$dir/files" --json >"$dir/record.json" 2>"$dir/stderr" ||
    fail "reference: sequential flags $* -s $listener failed: $(cat "$dir/stderr")"
}

# ref_dir LISTENER ARGS...: the directory of a reference ref_make made in setup_file
ref_dir() {
  local dir
  dir=$BATS_FILE_TMPDIR/ref/$(ref_key "$@")
  [ -s "$dir/record.json" ] || { echo "no reference for '$*': add ref_make $* to setup_file" >&2; return 1; }
  echo "$dir"
}
