#!/usr/bin/env bats
# The fault matrix (docs/reliability.md): each fault a download run can meet, for every
# driver, against a real flagd (or, for what flagd does not do, tests/cli/fixtures/rawhttpd).
# Each row asserts the exit status, the counts of --json, the reason of every code (-v), and
# that nothing is lost: every saved file byte-equal to the server's, no temporary file left,
# no process of the run left behind.

bats_require_minimum_version 1.5.0 # run --separate-stderr
load helpers

ROOT=/usr/share/flags/countries/16x11
FIXTURES=$BATS_TEST_DIRNAME/fixtures
BOOK=$BATS_TEST_DIRNAME/book_codes.txt
SEED=11
TIMEOUT_S=0.3         # -t of the timeout rows: flagd answers only after the test is over
MAX_RSS_KB=60000      # well below the 100 MB a body could have taken

setup() {
  cd "$BATS_TEST_TMPDIR"
}

teardown() {
  flagd_stop
  rawhttpd_stop
  # whatever a failed test left running: never leak a process into the next test
  local pids
  pids=$(pgrep -f -- "$(test_dir_re)") && kill -9 $pids 2>/dev/null || true
  if [ -n "${RUN_SEED:-}" ]; then # concbench run's own flagd
    pids=$(pgrep -f -- "flagd.*--seed $RUN_SEED( |$)") && kill $pids 2>/dev/null || true
  fi
}

# Under ASan, glibc's makecontext draws one warning line on stderr (see coroutine.bats):
# drop that line, and only that one.
ASAN_UCONTEXT='^==[0-9]+==WARNING: ASan doesn.t fully support makecontext/swapcontext'

# errs: the run's stderr without the ASan line, processpool's -v worker lines and the book's
# -v opening lines (LOCAL site: URL / Searching for N flags: ... / N concurrent connections)
BOOK_OPENING='^[A-Z]+ site: |^Searching for [0-9]+ flags?: |^[0-9]+ concurrent connections? will be used\.$'
errs() { grep -vE "$ASAN_UCONTEXT|^processpool: worker [0-9]+ started$|$BOOK_OPENING" <<<"$stderr" || true; }

# err_count: how many lines errs has
err_count() { errs | grep -c . || true; }

# json FIELD: a field of the --json record on the run's stdout
json() { jq -r ".$1" <<<"$output"; }

# intact DIR: no temporary (dot) file anywhere under DIR, and every file in it is CC.gif,
# byte-equal to the root's cc.gif. Prints how many files DIR holds.
intact() {
  local dir=$1
  local dots
  dots=$(find "$dir" -mindepth 1 -name '.*')
  [ -z "$dots" ] || { echo "temporary files left in $dir: $dots" >&2; return 1; }
  [ -d "$dir" ] || { echo 0; return 0; }
  same_as_root "$dir"
}

# expected_lines PLAN CODES: the -v line each of CODES (a file, one code a line) must get
# from flagd's ERROR listener following PLAN (flagd --plan's "CC STATUS DELAY_MS [FAULT]")
expected_lines() {
  stat -c '%s %n' "$ROOT"/*.gif |
    awk 'FILENAME == "-" { n = split($2, p, "/")   # the root also has catalonia.gif &c.
                          if (p[n] ~ /^[a-z][a-z]\.gif$/) size[toupper(substr(p[n], 1, 2))] = $1
                          next }
         FILENAME == ARGV[2] { status[$1] = $2; fault[$1] = $4; next }
         { cc = $1
           if (!(cc in status))        print cc " not found"
           else if (fault[cc] == "reset")    print "*** Error for " cc ": connection reset"
           else if (fault[cc] == "truncate") print "*** Error for " cc ": short body"
           else if (fault[cc] == "stall")    print "*** Error for " cc ": timeout"
           else if (status[cc] == 200)  print cc " ok " size[cc] " bytes"
           else                         print "*** Error for " cc ": HTTP " status[cc] }' \
      - "$1" "$2"
}

# reasons_of LINES: "COUNT REASON" per distinct error reason of -v lines, sorted
reasons_of() { sed -n 's/^\*\*\* Error for [A-Z][A-Z]: //p' <<<"$1" | sort | uniq -c | sed -E 's/^ *//' | sort; }

# json_reasons: the same from the --json record's error_reasons
json_reasons() { jq -r '.error_reasons | to_entries[] | "\(.value) \(.key)"' <<<"$output" | sort; }

# assert_run_as_planned DRIVER EXPECTED: a -v --json run (in $output/$stderr) got exactly
# the lines of EXPECTED, the counts and reasons that follow from them, and saved exactly the
# codes that were ok, intact, in out/
assert_run_as_planned() {
  local expected=$2
  [ "$(json driver)" = "$1" ]
  diff <(sort <<<"$expected") <(errs | sort)
  [ "$(json items)" -eq "$(grep -c . <<<"$expected")" ]
  [ "$(json ok)" -eq "$(grep -c ' ok ' <<<"$expected")" ]
  [ "$(json not_found)" -eq "$(grep -c ' not found$' <<<"$expected" || true)" ]
  [ "$(json errors)" -eq "$(grep -c '^\*\*\* Error' <<<"$expected")" ]
  diff <(reasons_of "$expected") <(json_reasons)
  diff <(ls out) <(awk '$2 == "ok" { print $1 ".gif" }' <<<"$expected" | sort)
  [ "$(intact out)" -eq "$(json ok)" ]
}

# rawhttpd_start MODE [SIZE]: the misbehaving test server; RAW_URL is its /flags base
rawhttpd_start() {
  : >rawhttpd.out # before the child opens it: the first poll may come first
  "$FIXTURES/rawhttpd" "$@" >rawhttpd.out 2>rawhttpd.err 3>&- &
  RAWHTTPD_PID=$!
  for _ in $(seq 200); do
    RAW_URL=$(awk '$1 == "rawhttpd:" { print $2 }' rawhttpd.out)
    [ -n "$RAW_URL" ] && return 0
    sleep 0.02
  done
  fail "rawhttpd $* did not start: $(cat rawhttpd.err)"
}

rawhttpd_stop() {
  [ -n "${RAWHTTPD_PID:-}" ] || return 0
  kill "$RAWHTTPD_PID" 2>/dev/null || true
  wait "$RAWHTTPD_PID" 2>/dev/null || true
  RAWHTTPD_PID=
}


# none_left: no process carries this test's directory on its command line (every run
# below names an absolute -o under it, so a driver's forked workers do too)
none_left() {
  local left
  left=$(pgrep -af -- "$(test_dir_re)") || return 0
  echo "left running: $left" >&2
  return 1
}

# ---- 1. 5xx answers ------------------------------------------------------------------

row_5xx() {
  flagd_start --seed "$SEED" --delay 10 --error-rate 0.3
  "$BIN/flagd" --plan --seed "$SEED" --delay 10 --error-rate 0.3 >plan
  expected=$(expected_lines plan "$BOOK")
  grep -q 'HTTP 50[023]' <<<"$expected" # the plan has failures to show
  run --separate-stderr "$BIN/$1" flags -a -s "$ERROR_URL" -o "$PWD/out" -v --json
  assert_success
  assert_run_as_planned "$1" "$expected"
  none_left
}

@test "1 5xx: sequential counts each 500/502/503 as an error 'HTTP 5xx', the rest as the plan says" { row_5xx sequential; }
@test "1 5xx: threadpool counts each 500/502/503 as an error 'HTTP 5xx', the rest as the plan says" { row_5xx threadpool; }
@test "1 5xx: processpool counts each 500/502/503 as an error 'HTTP 5xx', the rest as the plan says" { row_5xx processpool; }
@test "1 5xx: coroutine counts each 500/502/503 as an error 'HTTP 5xx', the rest as the plan says" { row_5xx coroutine; }

# ---- 2. truncated body, connection reset ---------------------------------------------

row_broken_body() {
  local opts=(--seed "$SEED" --delay 10 --error-rate 0 --truncate-rate 0.3 --reset-rate 0.3)
  flagd_start "${opts[@]}"
  "$BIN/flagd" --plan "${opts[@]}" >plan
  expected=$(expected_lines plan "$BOOK")
  grep -q 'short body' <<<"$expected" && grep -q 'connection reset' <<<"$expected"
  run --separate-stderr "$BIN/$1" flags -a -s "$ERROR_URL" -o "$PWD/out" -v --json
  assert_success
  assert_run_as_planned "$1" "$expected"

  # flagd's reset comes instead of any answer; this one cuts a body in the middle
  rawhttpd_start reset 600
  run --separate-stderr "$BIN/$1" flags -s "$RAW_URL" -o "$PWD/mid" -m 5 -v --json BR CN IN US ID
  assert_success
  [ "$(json errors)" -eq 5 ]
  [ "$(json 'error_reasons["connection reset"]')" -eq 5 ]
  [ "$(errs | grep -c '^\*\*\* Error for [A-Z][A-Z]: connection reset$')" -eq 5 ]
  [ "$(intact mid)" -eq 0 ]
  none_left
}

@test "2 broken body: sequential reports 'short body' and 'connection reset' (also mid-body) and saves nothing for them" { row_broken_body sequential; }
@test "2 broken body: threadpool reports 'short body' and 'connection reset' (also mid-body) and saves nothing for them" { row_broken_body threadpool; }
@test "2 broken body: processpool reports 'short body' and 'connection reset' (also mid-body) and saves nothing for them" { row_broken_body processpool; }
@test "2 broken body: coroutine reports 'short body' and 'connection reset' (also mid-body) and saves nothing for them" { row_broken_body coroutine; }

# ---- 3. stalled server, answer later than -t -----------------------------------------

# Late answers are held for HOLD_MS and stalled bodies stay silent until flagd's --timeout
# (60 s): far beyond the test, so that only the driver's own -t can end these runs. That
# each code gave up before its answer came is read from flagd: after the run, the requests
# of the late answers are all still in flight, none answered.
row_timeout() {
  local d=$1
  local opts=(--seed "$SEED" --delay "$HOLD_MS" --error-rate 0 --stall-rate 1)
  flagd_start "${opts[@]}"
  # stalled codes that ERROR answers at once (its other half waits HOLD_MS first)
  codes=$("$BIN/flagd" --plan "${opts[@]}" | awk '$3 == 0 && $4 == "stall" { print $1 }' |
          grep -xFf "$BOOK" | head -5)
  [ "$(wc -l <<<"$codes")" -eq 5 ]
  # shellcheck disable=SC2086 # codes is a list of words
  run --separate-stderr "$BIN/$d" flags -s "$ERROR_URL" -t "$TIMEOUT_S" -m 5 -o "$PWD/stall" -v --json $codes
  assert_success
  [ "$(json errors)" -eq 5 ]
  [ "$(json error_reasons.timeout)" -eq 5 ]
  [ "$(errs | grep -c ': timeout$')" -eq 5 ]
  [ "$(intact stall)" -eq 0 ]
  [ "$(flagd_stats | jq .faults.stall)" -eq 5 ]

  flagd_stats '?reset=1' >/dev/null
  run --separate-stderr "$BIN/$d" flags -s "$DELAY_URL" -t "$TIMEOUT_S" -m 5 -o "$PWD/late" -v --json BR CN ID IN US
  assert_success
  [ "$(json errors)" -eq 5 ]
  [ "$(json error_reasons.timeout)" -eq 5 ]
  [ "$(intact late)" -eq 0 ]
  run flagd_stats
  [ "$(jq .in_flight <<<"$output")" -eq 5 ] || fail "not every late request is still held: $output"
  [ "$(jq .total <<<"$output")" -eq 0 ]
  none_left
}

@test "3 timeout: sequential gives 'timeout' for a stalled body and a late answer, giving up before the server answers" { row_timeout sequential; }
@test "3 timeout: threadpool gives 'timeout' for a stalled body and a late answer, giving up before the server answers" { row_timeout threadpool; }
@test "3 timeout: processpool gives 'timeout' for a stalled body and a late answer, giving up before the server answers" { row_timeout processpool; }
@test "3 timeout: coroutine gives 'timeout' for a stalled body and a late answer, giving up before the server answers" { row_timeout coroutine; }

# ---- 4. server down ------------------------------------------------------------------

row_server_down() {
  flagd_start --seed "$SEED"
  local url=$LOCAL_URL
  flagd_stop # its port is free now: connection refused
  for fmt in "" --json; do
    run --separate-stderr "$BIN/$1" flags -a -s "$url" -o "$PWD/never/a/b" $fmt
    assert_failure 1
    [ "$(err_count)" -eq 1 ]
    [ "$(errs)" = "$1: flags: cannot reach $url: connection refused" ]
    [ -z "$output" ]
    [ ! -e never ] # not even the parents -o made
  done
  # a directory that was there stays, as it was
  mkdir was
  run --separate-stderr "$BIN/$1" flags -a -s "$url" -o "$PWD/was"
  assert_failure 1
  [ -d was ] && [ -z "$(ls -A was)" ]
  none_left
}

@test "4 server down: sequential exits 1 with one line and creates nothing" { row_server_down sequential; }
@test "4 server down: threadpool exits 1 with one line and creates nothing" { row_server_down threadpool; }
@test "4 server down: processpool exits 1 with one line and creates nothing" { row_server_down processpool; }
@test "4 server down: coroutine exits 1 with one line and creates nothing" { row_server_down coroutine; }

# ---- 5. a process-pool worker killed (processpool.bats has the 40-code version) ------

@test "5 worker killed: processpool makes that code an error, finishes the rest, exit 0, nothing left" {
  flagd_start --seed "$SEED" --delay 300
  "$BIN/processpool" flags -a -l 12 -m 4 -s "$DELAY_URL" -o "$PWD/out" -v --json \
    >stdout 2>stderr 3>&- &
  pid=$!
  wait_for stderr ' ok [0-9]+ bytes' # every worker is busy from now on
  victim=$(grep -oE 'processpool: worker [0-9]+ started' stderr | grep -oE '[0-9]+' | head -1)
  kill -9 "$victim"
  rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ]
  output=$(cat stdout)
  [ "$(json items)" -eq 12 ]
  [ "$(json ok)" -eq 11 ]
  [ "$(json errors)" -eq 1 ]
  [ "$(json "error_reasons[\"worker $victim killed by signal 9\"]")" -eq 1 ]
  [ "$(intact out)" -eq 11 ]
  ! kill -0 "$victim" 2>/dev/null || fail "killed worker $victim still exists"
  none_left
}

# ---- 6. SIGINT and SIGTERM mid-run ----------------------------------------------------

row_signal() {
  local d=$1 sig=$2 status=$3
  flagd_start --seed "$SEED" --delay 300
  "$BIN/$d" flags -a -m 4 -s "$DELAY_URL" -o "$PWD/out" -v >stdout 2>stderr 3>&- &
  pid=$!
  wait_for stderr ' ok [0-9]+ bytes'
  kill "-$sig" "$pid"
  rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq "$status" ]
  grep -qE "^Interrupted by SIG$sig after [0-9]+ of 194\.$" stdout
  done=$(grep -oE 'after [0-9]+' stdout | grep -oE '[0-9]+')
  [ "$done" -ge 1 ] && [ "$done" -lt 194 ]
  ok=$(grep -oE '^[0-9]+ downloaded' stdout | grep -oE '[0-9]+')
  [ "$ok" -ge 1 ]
  # every file a whole flag, none half-written, and no more files than flags counted
  [ "$(intact out)" -eq "$ok" ]
  none_left
}

@test "6 SIGINT: sequential prints a partial summary, exits 130, leaves whole files and no process" { row_signal sequential INT 130; }
@test "6 SIGINT: threadpool prints a partial summary, exits 130, leaves whole files and no process" { row_signal threadpool INT 130; }
@test "6 SIGINT: processpool prints a partial summary, exits 130, leaves whole files and no process" { row_signal processpool INT 130; }
@test "6 SIGINT: coroutine prints a partial summary, exits 130, leaves whole files and no process" { row_signal coroutine INT 130; }
@test "6 SIGTERM: sequential prints a partial summary, exits 143, leaves whole files and no process" { row_signal sequential TERM 143; }
@test "6 SIGTERM: threadpool prints a partial summary, exits 143, leaves whole files and no process" { row_signal threadpool TERM 143; }
@test "6 SIGTERM: processpool prints a partial summary, exits 143, leaves whole files and no process" { row_signal processpool TERM 143; }
@test "6 SIGTERM: coroutine prints a partial summary, exits 143, leaves whole files and no process" { row_signal coroutine TERM 143; }

# concbench run starts its own flagd: the signal must stop it, the drivers, and write nothing
row_run_signal() {
  local sig=$1 status=$2
  RUN_SEED=$((7300000 + RANDOM * 10 + BATS_TEST_NUMBER))
  local seed=$RUN_SEED
  export TMPDIR=$BATS_TEST_TMPDIR # concbench's scratch (downloads, logs) lands here
  # --downloads disk under an absolute --out: the drivers' -o names this test's directory,
  # so that pgrep sees them start, and none_left sees them gone (RAM downloads: /dev/shm)
  "$BIN/concbench" run --workload flags --profile DELAY --drivers sequential,coroutine \
    --delay 500 --seed "$seed" --flagd "$BIN/flagd" --downloads disk --out "$PWD/out" \
    >stdout 2>stderr 3>&- &
  pid=$!
  for _ in $(seq 200); do
    pgrep -f -- "sequential flags .*$(test_dir_re)" >/dev/null && break
    sleep 0.05
  done
  pgrep -f -- "sequential flags .*$(test_dir_re)" >/dev/null || fail "the driver never started: $(cat stderr)"
  pgrep -f -- "flagd.*--seed $seed( |$)" >/dev/null
  kill "-$sig" "$pid"
  rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq "$status" ]
  grep -qx "concbench: run: interrupted by SIG$sig; flagd and the drivers stopped, no results written" stderr
  ! pgrep -af -- "flagd.*--seed $seed( |$)" || fail "concbench run left its flagd running"
  none_left
  [ -z "$(ls -A out)" ]
  [ -z "$(find "$BATS_TEST_TMPDIR" -mindepth 1 -name '.*')" ]
}

@test "6 SIGINT: concbench run stops its flagd and drivers, exits 130, writes no results" { row_run_signal INT 130; }
@test "6 SIGTERM: concbench run stops its flagd and drivers, exits 143, writes no results" { row_run_signal TERM 143; }

# ---- 7. read-only and full output directory ------------------------------------------

# on_tmpfs OPTS DIR CMD...: CMD with a tmpfs mounted (-o OPTS) on DIR in a mount namespace
# of its own; what CMD left in DIR (dot files too) is copied to DIR.after, as the tmpfs
# goes with the namespace
on_tmpfs() {
  local opts=$1 dir=$2
  shift 2
  mkdir -p "$dir" "$dir.after"
  unshare -m sh -c 'mount -t tmpfs -o "$1" tmpfs "$2" || exit 99
                    d=$2; shift 2
                    rc=0; "$@" || rc=$?
                    cp -a "$d/." "$d.after/"; exit $rc' sh "$opts" "$dir" "$@"
}

row_unwritable() {
  local d=$1
  [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null || skip "needs root and unshare -m: tmpfs mounts in a mount namespace"
  flagd_start --seed "$SEED"
  flagd_stats '?reset=1' >/dev/null

  # read-only: refused before any download
  run --separate-stderr on_tmpfs ro,size=1m ro "$BIN/$d" flags -a -s "$LOCAL_URL" -o "$PWD/ro" --json
  assert_failure 1
  [ "$(err_count)" -eq 1 ]
  [ "$(errs)" = "$d: flags: cannot write $PWD/ro: Read-only file system" ]
  [ -z "$output" ]
  [ -z "$(ls -A ro.after)" ]
  [ "$(flagd_stats | jq .total)" -eq 0 ]

  # full: 16 KiB hold a few flags (a page each); every later save fails with ENOSPC
  run --separate-stderr on_tmpfs size=16k full "$BIN/$d" flags -a -s "$LOCAL_URL" -o "$PWD/full" --json
  assert_failure 1
  [ "$(err_count)" -eq 1 ]
  errs | grep -qE "^$d: flags: cannot write $PWD/full/[A-Z]{2}\.gif: No space left on device$"
  [ "$(json ok)" -ge 1 ] && [ "$(json errors)" -ge 1 ]
  [ "$(json 'ok + .not_found + .errors')" -eq 194 ]
  [ -z "$(json 'error_reasons | keys[]' | grep -vE "^cannot write $PWD/full/[A-Z]{2}\.gif: No space left on device$")" ]
  [ "$(intact full.after)" -eq "$(json ok)" ]

  # ulimit -f: the flags larger than 300 bytes fail with EFBIG (not SIGXFSZ), the rest save
  big=$(cd "$ROOT" && tr A-Z a-z <"$BOOK" | sed 's/$/.gif/' | xargs stat -c %s 2>/dev/null | awk '$1 > 300' | wc -l)
  [ "$big" -gt 0 ]
  run --separate-stderr prlimit --fsize=300 "$BIN/$d" flags -a -s "$LOCAL_URL" -o "$PWD/fsize" --json
  assert_failure 1
  [ "$(err_count)" -eq 1 ]
  errs | grep -qE "^$d: flags: cannot write $PWD/fsize/[A-Z]{2}\.gif: File too large$"
  [ "$(json errors)" -eq "$big" ]
  [ "$(json ok)" -eq $(($(book_found) - big)) ]
  [ "$(intact fsize)" -eq "$(json ok)" ]
  none_left
}

@test "7 unwritable: sequential exits 1 with one line on a read-only, full or ulimit -f directory, no partial file" { row_unwritable sequential; }
@test "7 unwritable: threadpool exits 1 with one line on a read-only, full or ulimit -f directory, no partial file" { row_unwritable threadpool; }
@test "7 unwritable: processpool exits 1 with one line on a read-only, full or ulimit -f directory, no partial file" { row_unwritable processpool; }
@test "7 unwritable: coroutine exits 1 with one line on a read-only, full or ulimit -f directory, no partial file" { row_unwritable coroutine; }

# ---- 8. bad arguments ----------------------------------------------------------------

row_bad_args() {
  local d=$1 args bad
  # each case: the arguments, then the text the first line must name
  while IFS='|' read -r args bad; do
    # shellcheck disable=SC2086 # args is a list of words
    run --separate-stderr "$BIN/$d" $args
    assert_failure 2
    [ -z "$output" ]
    [ "$(err_count)" -eq 2 ] || fail "$d $args: $(errs)"
    errs | head -1 | grep -qF -- "$bad" || fail "$d $args: the first line does not name $bad: $(errs)"
    errs | sed -n 2p | grep -q "^usage: $d flags"
  done <<'EOF'
flags --frobnicate|--frobnicate
flags -m 0|'0'
flags -m 10000000000|'10000000000'
sha -n 5Q|'5Q'
flags b1|'b1'
flags BR 1X|'1X'
flags -s gopher://x|'gopher://x'
flags -s http://|'http://'
EOF
  [ ! -e downloads ] # nothing was started
}

@test "8 bad arguments: sequential exits 2 with one line naming the value, then usage" { row_bad_args sequential; }
@test "8 bad arguments: threadpool exits 2 with one line naming the value, then usage" { row_bad_args threadpool; }
@test "8 bad arguments: processpool exits 2 with one line naming the value, then usage" { row_bad_args processpool; }
@test "8 bad arguments: coroutine exits 2 with one line naming the value, then usage" { row_bad_args coroutine; }

@test "8 bad arguments: concbench compare names a bad CSV's file, line, column and value in one line, then usage, exit 2" {
  m=$(head -1 "$FIXTURES/results.csv" | tr ',' '\n' | grep -nx median_s | cut -d: -f1)
  awk -F, -v OFS=, -v m="$m" 'NR == 2 { $m = "fast" } { print }' "$FIXTURES/results.csv" >nan.csv
  run --separate-stderr "$BIN/concbench" compare "$FIXTURES/results.csv" nan.csv
  assert_failure 2
  [ "$(err_count)" -eq 2 ]
  [ "$(errs | head -1)" = "concbench: compare: nan.csv: line 2, column $m (median_s): not a number: \"fast\"" ]
  errs | sed -n 2p | grep -qF "Try 'concbench compare --help'."
  # bad arguments to compare: the bad value, then where the usage is
  run --separate-stderr "$BIN/concbench" compare --threshold x "$FIXTURES/results.csv" nan.csv
  assert_failure 2
  [ "$(err_count)" -eq 2 ]
  errs | head -1 | grep -qF "'x'"
  errs | sed -n 2p | grep -qF "Try 'concbench compare --help'."
}

# ---- 9. a 100 MB body ----------------------------------------------------------------

# flagd keeps its files in memory and refuses any over 1 MiB (server/store.h): the 100 MB
# answers come from rawhttpd, announced (Content-Length) and not (the close ends it).
row_huge_body() {
  local d=$1 mode
  for mode in huge unsized; do
    rawhttpd_start "$mode" $((100 * 1024 * 1024))
    run --separate-stderr "$BIN/$d" flags -s "$RAW_URL" -o "$PWD/$mode" -v --json XX
    assert_success
    [ "$(json errors)" -eq 1 ]
    [ "$(json ok)" -eq 0 ]
    [ "$(json 'error_reasons["body over 1048576 bytes"]')" -eq 1 ]
    errs | grep -qx '\*\*\* Error for XX: body over 1048576 bytes'
    [ "$(json max_rss_kb)" -lt "$MAX_RSS_KB" ] || fail "$d $mode: max_rss_kb $(json max_rss_kb)"
    [ "$(intact "$mode")" -eq 0 ]
    rawhttpd_stop
  done
  none_left
}

@test "9 100 MB body: sequential refuses it over --max-body, as an error, in little memory" { row_huge_body sequential; }
@test "9 100 MB body: threadpool refuses it over --max-body, as an error, in little memory" { row_huge_body threadpool; }
@test "9 100 MB body: processpool refuses it over --max-body, as an error, in little memory" { row_huge_body processpool; }
@test "9 100 MB body: coroutine refuses it over --max-body, as an error, in little memory" { row_huge_body coroutine; }
