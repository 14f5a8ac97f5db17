#!/usr/bin/env bats
# bin/processpool against a real flagd: the same answers as bin/sequential, the same files,
# the same digests, concurrency bounded by -m, a worker killed mid-run, interruption, bad
# options — and never a process of the run left behind.

load helpers

ROOT=/usr/share/flags/countries/16x11
DRIVER=processpool

SEED=7

# bin/sequential's answers, once for the whole file (same seed, no delay: the counts do not
# depend on delays), for same_counts_as_sequential
setup_file() {
  ref_flagd_start --delay 0 --seed "$SEED"
  ref_make LOCAL -a
  ref_make DELAY -a
  ref_make ERROR -a
  ref_make ERROR -e -m 100
  ref_make LOCAL -e -m 256 --no-save
  flagd_stop
}

setup() {
  flagd_start --delay 20 --seed "$SEED"
  cd "$BATS_TEST_TMPDIR"
}

teardown() {
  flagd_stop
}

# json FIELD: a field of the --json record in $output
json() { jq -r ".$1" <<<"$output"; }

# counts RECORD: what must match the sequential driver
counts() { jq -c '[.items, .ok, .not_found, .errors]' <<<"$1"; }

# same_counts_as_sequential LISTENER ARGS...: run ours with ARGS --json against LISTENER
# (LOCAL, DELAY or ERROR); the counts and the content digest must equal bin/sequential's
# with the same arguments (setup_file's ref_make)
same_counts_as_sequential() {
  local listener=$1 url ref
  url=${1}_URL
  shift
  ref=$(ref_dir "$listener" "$@")
  run "$BIN/$DRIVER" flags "$@" -s "${!url}" -o par --json
  assert_success
  [ "$(json driver)" = "$DRIVER" ]
  [ "$(counts "$output")" = "$(counts "$(cat "$ref/record.json")")" ]
  [ "$(json content_digest)" = "$(jq -r .content_digest "$ref/record.json")" ]
}

# Restart flagd with longer delays, for tests that need transfers to overlap.
slow_flagd() {
  flagd_start --delay "$1" --seed "$SEED" # flagd_start stops the running one first
}


@test "LOCAL -a gives the same ok / not found / errors as sequential" {
  same_counts_as_sequential LOCAL -a
  [ "$(json ok)" -eq "$(book_found)" ]
}

@test "DELAY -a gives the same ok / not found / errors as sequential" {
  same_counts_as_sequential DELAY -a
  [ "$(json ok)" -eq "$(book_found)" ]
}

@test "ERROR -a gives the same ok / not found / errors as sequential (same seed)" {
  same_counts_as_sequential ERROR -a
  [ "$(json errors)" -gt 0 ]
}

@test "ERROR -e gives the same ok / not found / errors as sequential (same seed)" {
  same_counts_as_sequential ERROR -e -m 100
  [ "$(json items)" -eq 676 ]
}

@test "LOCAL -e on 256 processes gives the same counts as sequential" {
  same_counts_as_sequential LOCAL -e -m 256 --no-save
  [ "$(json workers)" -eq 256 ]
}

@test "never more worker processes than codes" {
  run "$BIN/$DRIVER" flags -s "$LOCAL_URL" -o out -m 50 -v --json BR CN IN
  assert_success
  [ "$(grep -c 'processpool: worker [0-9]* started' <<<"$output")" -eq 3 ]
}

@test "saved flags are byte-equal to flagd's root and no temporary file is left" {
  run "$BIN/$DRIVER" flags -a -s "$LOCAL_URL" -o out -m 30
  assert_success
  found=$(book_found)
  assert_output --partial "$found downloaded. $(($(book_count) - found)) not found. 0 errors."
  [ "$(ls out | wc -l)" -eq "$found" ]
  [ "$(same_as_root out)" -eq "$found" ]
  [ -z "$(find out -name '.*' -type f)" ]
}

@test "sha digests equal sequential's and sha256sum over --dump for several -j/-n/-w" {
  for case in "1 1K 1" "5 100K 2" "12 64K 3" "24 16K 7" "3 1M 8" "40 1 64"; do
    read -r j n w <<<"$case"
    run "$BIN/sequential" sha -j "$j" -n "$n" --seed 5 --json
    assert_success
    expected=$(json 'digests|join(",")')
    rm -rf dump
    run "$BIN/$DRIVER" sha -j "$j" -n "$n" -w "$w" --seed 5 --json --dump dump
    assert_success
    [ "$(json 'digests|join(",")')" = "$expected" ]
    [ "$(json ok)" -eq "$j" ]
    [ "$(json workers)" -eq $((w < j ? w : j)) ]
    run "$BIN/$DRIVER" sha -j "$j" -n "$n" -w "$w" --seed 5
    diff <(grep ' job-' <<<"$output" | sed 's/$/.bin/') <(cd dump && sha256sum job-*.bin)
  done
}

@test "flagd never sees more than -m requests in flight, and sees -m when there are enough codes" {
  slow_flagd 300
  flagd_stats '?reset=1' >/dev/null
  run "$BIN/$DRIVER" flags -a -l 20 -m 5 -s "$DELAY_URL" -o out --json
  assert_success
  [ "$(json ok)" -eq 20 ]
  [ "$(flagd_stats | jq .max_in_flight)" -le 5 ]

  flagd_stats '?reset=1' >/dev/null
  run "$BIN/$DRIVER" flags -a -l 8 -m 50 -s "$DELAY_URL" -o out2 --json
  assert_success
  [ "$(json concurrency)" -eq 8 ]
  [ "$(flagd_stats | jq .max_in_flight)" -le 8 ]

  # -m reached: answers held far longer than the test, so that all 5 must be in flight at
  # once, however slowly the workers start; stopping flagd then ends them
  slow_flagd "$HOLD_MS"
  "$BIN/$DRIVER" flags -a -l 20 -m 5 -t "$HOLD_T_S" -s "$DELAY_URL" -o "$BATS_TEST_TMPDIR/out3" >stdout 2>stderr 3>&- &
  pid=$!
  wait_in_flight 5
  [ "$(flagd_stats | jq .max_in_flight)" -eq 5 ]
  flagd_stop
  wait "$pid" || true
}

# pids_of_run FILE: the pids a -v run announced on stderr
pids_of_run() { grep -oE 'processpool: worker [0-9]+ started' "$1" | grep -oE '[0-9]+'; }

# none_left FILE: no announced worker exists any more (not even as a zombie), and no
# process carries this test's directory on its command line
none_left() {
  local p
  for p in $(pids_of_run "$1"); do
    ! kill -0 "$p" 2>/dev/null || { echo "worker $p still exists" >&2; return 1; }
  done
  ! pgrep -f -- "$(test_dir_re)" >/dev/null
}

@test "a worker killed mid-run: its code is an error, the rest finish, exit 0, nothing left" {
  slow_flagd 300
  "$BIN/$DRIVER" flags -a -l 40 -m 4 -s "$DELAY_URL" -o "$BATS_TEST_TMPDIR/out" -v --json \
    >stdout 2>stderr 3>&- &
  pid=$!
  wait_for stderr ' ok [0-9]+ bytes' # every worker is busy from now on
  victim=$(pids_of_run stderr | head -1)
  kill -9 "$victim"
  rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ]
  output=$(cat stdout)
  [ "$(json items)" -eq 40 ]
  [ "$(json done)" -eq 40 ]
  [ "$(json ok)" -eq 39 ]
  [ "$(json errors)" -eq 1 ]
  [ "$(json "error_reasons[\"worker $victim killed by signal 9\"]")" -eq 1 ]
  grep -q "\*\*\* Error for [A-Z][A-Z]: worker $victim killed by signal 9" stderr
  [ "$(pids_of_run stderr | wc -l)" -eq 5 ] # the dead one was replaced
  none_left stderr
}

@test "SIGINT to the parent mid-run: every worker ends, partial summary, exit 130" {
  slow_flagd 300
  "$BIN/$DRIVER" flags -a -m 4 -s "$DELAY_URL" -o "$BATS_TEST_TMPDIR/out" -v >stdout 2>stderr 3>&- &
  pid=$!
  wait_for stderr ' ok [0-9]+ bytes'
  kill -INT "$pid"
  rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 130 ]
  grep -qE "Interrupted by SIGINT after [0-9]+ of 194" stdout
  [ "$(grep -oE 'after [0-9]+' stdout | grep -oE '[0-9]+')" -lt 194 ]
  ! grep -q "killed by signal" stderr || fail "a worker was killed by a signal"
  [ "$(pids_of_run stderr | wc -l)" -eq 4 ]
  none_left stderr
}

@test "SIGTERM to the parent mid-run: exit 143, nothing left" {
  "$BIN/$DRIVER" sha -j 400 -n 4M -w 3 -v >stdout 2>stderr 3>&- &
  pid=$!
  wait_for stderr 'job-[0-9]+ ok'
  kill -TERM "$pid"
  rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 143 ]
  grep -qE "Interrupted by SIGTERM after [0-9]+ of 400" stdout
  none_left stderr
}

@test "Ctrl-C to the whole process group: the parent decides, exit 130, nothing left" {
  slow_flagd 300
  # a process group of its own, as a terminal's foreground job
  setsid "$BIN/$DRIVER" flags -a -m 4 -s "$DELAY_URL" -o "$BATS_TEST_TMPDIR/out" -v \
    >stdout 2>stderr 3>&- &
  pid=$!
  wait_for stderr ' ok [0-9]+ bytes'
  [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" -eq "$pid" ]
  kill -INT -- "-$pid"
  rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 130 ]
  grep -q "Interrupted by SIGINT" stdout
  # workers ignored SIGINT and ended on the parent's word
  ! grep -q "killed by signal" stderr || fail "a worker was killed by a signal"
  none_left stderr
}

@test "bad -m and -w are exit 2 with usage; --help says the bounds" {
  for args in "flags -m 0" "flags -m 10000000000" "flags -m x" "sha -w 0" "sha -w -3"; do
    run "$BIN/$DRIVER" $args
    assert_failure 2
    assert_output --partial "usage:"
  done
  run "$BIN/$DRIVER" --help
  assert_success
  assert_output --partial "default 20, at most 256"
  # above the maximum is no error: clamped, with a note
  run "$BIN/$DRIVER" sha -j 1 -n 1K -w 257
  assert_success
  assert_output --partial "-w 257 is above this driver's maximum; using 256"
}
