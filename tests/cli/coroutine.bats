#!/usr/bin/env bats
# bin/coroutine against a real flagd: the same answers and files as bin/sequential (with and
# without --meta), -m as the bound flagd sees, timeouts, interruption, 10,000 transfers at
# once, the executor, and bad options.

load helpers

ROOT=/usr/share/flags/countries/16x11
DRIVER=coroutine

setup() {
  flagd_start --delay 5 --seed 7
  cd "$BATS_TEST_TMPDIR"
}

teardown() {
  flagd_stop
}

# Under ASan, glibc's makecontext draws one warning line on stderr even with the fiber
# annotations: drop that line, and only that one, from what a run printed.
ASAN_UCONTEXT='^==[0-9]+==WARNING: ASan doesn.t fully support makecontext/swapcontext'
stripped() { grep -vE "$ASAN_UCONTEXT" <<<"$1" || true; }

# json FIELD: a field of the --json record in $output
json() { stripped "$output" | jq -r ".$1"; }

# counts RECORD: what must match the sequential driver
counts() { stripped "$1" | jq -c '[.items, .ok, .not_found, .errors]'; }

# same_as_sequential ARGS...: run both drivers with ARGS --json into seq/ and co/; the counts
# and the saved files (names and bytes) must be equal. $CO_ARGS: more options for ours only.
same_as_sequential() {
  rm -rf seq co
  run "$BIN/sequential" flags "$@" -o seq --json
  assert_success
  local expected
  expected=$(counts "$output")
  # shellcheck disable=SC2086 # CO_ARGS is a list of words
  run "$BIN/$DRIVER" flags "$@" ${CO_ARGS:-} -o co --json
  assert_success
  [ "$(json driver)" = "$DRIVER" ]
  [ "$(counts "$output")" = "$expected" ]
  diff -r seq co
}

# Restart flagd with other delays, for tests that need transfers to overlap or time out.
slow_flagd() {
  flagd_stop
  flagd_start --delay "$1" --seed 7
}


@test "LOCAL -a and -e: same counts and files as sequential, with and without --meta" {
  same_as_sequential -a -s "$LOCAL_URL"
  [ "$(json ok)" -eq 193 ]
  same_as_sequential -a -s "$LOCAL_URL" --meta
  [ "$(json ok)" -eq 193 ]
  same_as_sequential -e -s "$LOCAL_URL" -m 1000
  [ "$(json items)" -eq 676 ]
  same_as_sequential -e -s "$LOCAL_URL" -m 1000 --meta
}

@test "DELAY -a and -e: same counts and files as sequential, with and without --meta" {
  same_as_sequential -a -s "$DELAY_URL"
  same_as_sequential -a -s "$DELAY_URL" --meta
  same_as_sequential -e -s "$DELAY_URL" -m 1000
  same_as_sequential -e -s "$DELAY_URL" -m 1000 --meta
}

@test "ERROR -a and -e: same counts and files as sequential (same seed), with and without --meta" {
  same_as_sequential -a -s "$ERROR_URL"
  [ "$(json errors)" -gt 0 ]
  same_as_sequential -a -s "$ERROR_URL" --meta
  same_as_sequential -e -s "$ERROR_URL" -m 1000
  [ "$(json errors)" -gt 0 ]
  same_as_sequential -e -s "$ERROR_URL" -m 1000 --meta
}

@test "saved flags are byte-equal to flagd's root, named CC.gif, no temporary file left" {
  run "$BIN/$DRIVER" flags -a -s "$LOCAL_URL" -o out
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

@test "--meta saves each flag as Country_Name.gif with the flag's bytes" {
  run "$BIN/$DRIVER" flags -s "$LOCAL_URL" -o out --meta BR JP US
  assert_success
  assert_output --partial "3 downloaded. 0 not found. 0 errors."
  cmp out/Brazil.gif "$ROOT/br.gif"
  cmp out/Japan.gif "$ROOT/jp.gif"
  [ "$(ls out | wc -l)" -eq 3 ]
  [ -z "$(ls out | grep -v '^[A-Za-z_(),.-]*\.gif$')" ]
}

@test "--executor N saves the same files as the loop thread" {
  CO_ARGS="--executor 4" same_as_sequential -a -s "$LOCAL_URL"
  CO_ARGS="--executor 1" same_as_sequential -a -s "$LOCAL_URL" --meta
}

@test "flagd never sees more than -m requests in flight, and sees -m when there are enough codes" {
  slow_flagd 300
  flagd_stats '?reset=1' >/dev/null
  run "$BIN/$DRIVER" flags -a -m 50 -s "$DELAY_URL" -o out --json
  assert_success
  [ "$(json ok)" -eq 193 ]
  [ "$(flagd_stats | jq .max_in_flight)" -eq 50 ]

  flagd_stats '?reset=1' >/dev/null
  run "$BIN/$DRIVER" flags -a -l 8 -m 50 -s "$DELAY_URL" -o out2 --json
  assert_success
  [ "$(json concurrency)" -eq 8 ]
  [ "$(flagd_stats | jq .max_in_flight)" -le 8 ]
}

@test "10,140 transfers with 10,000 at once: no errors, and flagd saw 10,000 in flight" {
  slow_flagd 1000
  flagd_stats '?reset=1' >/dev/null
  run "$BIN/$DRIVER" flags -e --repeat 15 -m 10000 --no-save -s "$DELAY_URL" --json
  assert_success
  [ "$(json items)" -eq 10140 ]
  [ "$(json errors)" -eq 0 ]
  [ "$(json not_found)" -eq $((15 * 435)) ]
  [ "$(flagd_stats | jq .max_in_flight)" -eq 10000 ]
  [ "$(flagd_stats | jq .total)" -eq 10140 ]
}

@test "--repeat K requests every code K times and saves each file once" {
  run "$BIN/$DRIVER" flags -a --repeat 3 -s "$LOCAL_URL" -o out --json
  assert_success
  [ "$(json items)" -eq 582 ]
  [ "$(json ok)" -eq 579 ]
  [ "$(ls out | wc -l)" -eq 193 ]
  run "$BIN/$DRIVER" flags -a --repeat 2 --no-save -s "$LOCAL_URL" -o nothing --json
  assert_success
  [ "$(json ok)" -eq 386 ]
  [ ! -e nothing ]
}

@test "a server slower than -t: every code is an error 'timeout'" {
  slow_flagd 2000
  run "$BIN/$DRIVER" flags -a -m 194 -t 0.5 -s "$DELAY_URL" -o out --json
  assert_success
  [ "$(json errors)" -eq 194 ]
  [ "$(json 'error_reasons.timeout')" -eq 194 ]
}

@test "SIGINT mid-run aborts the transfers in flight: partial summary and exit 130" {
  slow_flagd 300
  "$BIN/$DRIVER" flags -a -m 4 -s "$DELAY_URL" -o out -v >stdout 2>stderr 3>&- &
  pid=$!
  wait_for stderr ' ok [0-9]+ bytes|[A-Z]{2} '
  kill -INT "$pid"
  rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 130 ]
  grep -qE "Interrupted by .* after [0-9]+ of 194" stdout
  done=$(grep -oE 'after [0-9]+' stdout | grep -oE '[0-9]+')
  [ "$done" -lt 194 ]
  [ -z "$(find out -name '.*' -type f)" ]
}

@test "SIGTERM mid-run: exit 143" {
  slow_flagd 300
  "$BIN/$DRIVER" flags -a -m 4 -s "$DELAY_URL" -o out >stdout 2>stderr 3>&- &
  pid=$!
  sleep 0.5
  kill -TERM "$pid"
  rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 143 ]
}

@test "sha digests equal sequential's, on the loop thread and with --executor" {
  for case in "1 1K" "12 64K" "24 16K" "3 1M"; do
    read -r j n <<<"$case"
    run "$BIN/sequential" sha -j "$j" -n "$n" --seed 5 --json
    assert_success
    expected=$(json 'digests|join(",")')
    run "$BIN/$DRIVER" sha -j "$j" -n "$n" --seed 5 --json
    assert_success
    [ "$(json 'digests|join(",")')" = "$expected" ]
    [ "$(json workers)" -eq 1 ]
    for x in 1 3; do
      run "$BIN/$DRIVER" sha -j "$j" -n "$n" --seed 5 --executor "$x" --json
      assert_success
      [ "$(json 'digests|join(",")')" = "$expected" ]
      [ "$(json ok)" -eq "$j" ]
    done
  done
}

@test "an open-file limit too low for -m is refused with a clear message" {
  run bash -c "ulimit -n 256 && exec '$BIN/$DRIVER' flags -e -m 1000 -s '$LOCAL_URL' --no-save"
  assert_failure 1
  assert_output --partial "open-file limit is 256"
  assert_output --partial "too low for 676 transfers at once"
}

@test "bad -m is exit 2 with usage; --help says the bounds" {
  for args in "flags -m 0" "flags -m 10000000000" "flags -m x" "sha --executor 0"; do
    run "$BIN/$DRIVER" $args
    assert_failure 2
    assert_output --partial "usage:"
  done
  run "$BIN/$DRIVER" --help
  assert_success
  assert_output --partial "default 100, at most 10000"
  assert_output --partial "--executor N"
}
