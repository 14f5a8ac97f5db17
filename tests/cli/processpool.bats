#!/usr/bin/env bats
# bin/processpool against a real flagd: the same answers as bin/sequential, the same files,
# the same digests, concurrency bounded by -m, a worker killed mid-run, interruption, bad
# options — and never a process of the run left behind.

load helpers

ROOT=/usr/share/flags/countries/16x11
DRIVER=processpool

setup() {
  flagd_start --delay 20 --seed 7
  cd "$BATS_TEST_TMPDIR"
}

teardown() {
  flagd_stop
}

# json FIELD: a field of the --json record in $output
json() { jq -r ".$1" <<<"$output"; }

# counts RECORD: what must match the sequential driver
counts() { jq -c '[.items, .ok, .not_found, .errors]' <<<"$1"; }

# same_counts_as_sequential ARGS...: run both drivers with ARGS --json, compare the counts
same_counts_as_sequential() {
  run "$BIN/sequential" flags "$@" -o seq --json
  assert_success
  local expected
  expected=$(counts "$output")
  run "$BIN/$DRIVER" flags "$@" -o par --json
  assert_success
  [ "$(json driver)" = "$DRIVER" ]
  [ "$(counts "$output")" = "$expected" ]
}

# Restart flagd with longer delays, for tests that need transfers to overlap.
slow_flagd() {
  flagd_start --delay "$1" --seed 7 # flagd_start stops the running one first
}


@test "LOCAL -a gives the same ok / not found / errors as sequential" {
  same_counts_as_sequential -a -s "$LOCAL_URL"
  [ "$(json ok)" -eq 193 ]
}

@test "DELAY -a gives the same ok / not found / errors as sequential" {
  same_counts_as_sequential -a -s "$DELAY_URL"
  [ "$(json ok)" -eq 193 ]
}

@test "ERROR -a gives the same ok / not found / errors as sequential (same seed)" {
  same_counts_as_sequential -a -s "$ERROR_URL"
  [ "$(json errors)" -gt 0 ]
}

@test "ERROR -e gives the same ok / not found / errors as sequential (same seed)" {
  same_counts_as_sequential -e -s "$ERROR_URL" -m 100
  [ "$(json items)" -eq 676 ]
}

@test "LOCAL -e on 256 processes gives the same counts as sequential" {
  same_counts_as_sequential -e -s "$LOCAL_URL" -m 256 --no-save
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
  assert_output --partial "193 downloaded. 1 not found. 0 errors."
  [ "$(ls out | wc -l)" -eq 193 ]
  for f in out/*.gif; do
    cc=$(basename "$f" .gif)
    [[ $cc =~ ^[A-Z]{2}$ ]]
    cmp "$f" "$ROOT/${cc,,}.gif"
  done
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
  [ "$(flagd_stats | jq .max_in_flight)" -eq 5 ]

  flagd_stats '?reset=1' >/dev/null
  run "$BIN/$DRIVER" flags -a -l 8 -m 50 -s "$DELAY_URL" -o out2 --json
  assert_success
  [ "$(json concurrency)" -eq 8 ]
  [ "$(flagd_stats | jq .max_in_flight)" -le 8 ]
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
  ! pgrep -f -- "$BATS_TEST_TMPDIR" >/dev/null
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
