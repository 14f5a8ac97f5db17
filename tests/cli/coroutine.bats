#!/usr/bin/env bats
# bin/coroutine against a real flagd: the same answers and files as bin/sequential (with and
# without --meta), -m as the bound flagd sees, timeouts, interruption, 10,000 transfers at
# once, the executor, and bad options.

load helpers

ROOT=/usr/share/flags/countries/16x11
DRIVER=coroutine

SEED=7

# bin/sequential's answers, once for the whole file (same seed, no delay: neither the files
# nor ERROR's statuses depend on delays), for same_as_sequential
setup_file() {
  ref_flagd_start --delay 0 --seed "$SEED"
  local l meta
  for l in LOCAL DELAY ERROR; do
    for meta in "" --meta; do
      ref_make "$l" -a $meta
      ref_make "$l" -e -m 1000 $meta
    done
  done
  flagd_stop
}

setup() {
  flagd_start --delay 5 --seed "$SEED"
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

# same_as_sequential LISTENER ARGS...: run ours with ARGS --json against LISTENER (LOCAL,
# DELAY or ERROR) into co/; the counts, the content digest and the saved files (names and
# bytes) must equal bin/sequential's with the same arguments (setup_file's ref_make).
# $CO_ARGS: more options for ours only.
same_as_sequential() {
  local listener=$1 url ref
  url=${1}_URL
  shift
  ref=$(ref_dir "$listener" "$@")
  rm -rf co
  # shellcheck disable=SC2086 # CO_ARGS is a list of words
  run "$BIN/$DRIVER" flags "$@" -s "${!url}" ${CO_ARGS:-} -o co --json
  assert_success
  [ "$(json driver)" = "$DRIVER" ]
  [ "$(counts "$output")" = "$(counts "$(cat "$ref/record.json")")" ]
  [ "$(json content_digest)" = "$(jq -r .content_digest "$ref/record.json")" ]
  diff -r "$ref/files" co
}

# Restart flagd with other delays, for tests that need transfers to overlap or time out.
slow_flagd() {
  flagd_stop
  flagd_start --delay "$1" --seed "$SEED"
}


@test "LOCAL -a and -e: same counts and files as sequential, with and without --meta" {
  same_as_sequential LOCAL -a
  [ "$(json ok)" -eq "$(book_found)" ]
  same_as_sequential LOCAL -a --meta
  [ "$(json ok)" -eq "$(book_found)" ]
  same_as_sequential LOCAL -e -m 1000
  [ "$(json items)" -eq 676 ]
  [ "$(json ok)" -eq "$(every_found)" ]
  same_as_sequential LOCAL -e -m 1000 --meta
}

@test "DELAY -a and -e: same counts and files as sequential, with and without --meta" {
  same_as_sequential DELAY -a
  same_as_sequential DELAY -a --meta
  same_as_sequential DELAY -e -m 1000
  same_as_sequential DELAY -e -m 1000 --meta
}

@test "ERROR -a and -e: same counts and files as sequential (same seed), with and without --meta" {
  same_as_sequential ERROR -a
  [ "$(json errors)" -gt 0 ]
  same_as_sequential ERROR -a --meta
  same_as_sequential ERROR -e -m 1000
  [ "$(json errors)" -gt 0 ]
  same_as_sequential ERROR -e -m 1000 --meta
}

@test "saved flags are byte-equal to flagd's root, named CC.gif, no temporary file left" {
  run "$BIN/$DRIVER" flags -a -s "$LOCAL_URL" -o out
  assert_success
  found=$(book_found)
  assert_output --partial "$found downloaded. $(($(book_count) - found)) not found. 0 errors."
  [ "$(ls out | wc -l)" -eq "$found" ]
  [ "$(same_as_root out)" -eq "$found" ]
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
  CO_ARGS="--executor 4" same_as_sequential LOCAL -a
  CO_ARGS="--executor 1" same_as_sequential LOCAL -a --meta
}

@test "flagd never sees more than -m requests in flight, and sees -m when there are enough codes" {
  slow_flagd 300
  flagd_stats '?reset=1' >/dev/null
  run "$BIN/$DRIVER" flags -a -m 50 -s "$DELAY_URL" -o out --json
  assert_success
  [ "$(json ok)" -eq "$(book_found)" ]
  [ "$(flagd_stats | jq .max_in_flight)" -le 50 ]

  flagd_stats '?reset=1' >/dev/null
  run "$BIN/$DRIVER" flags -a -l 8 -m 50 -s "$DELAY_URL" -o out2 --json
  assert_success
  [ "$(json concurrency)" -eq 8 ]
  [ "$(flagd_stats | jq .max_in_flight)" -le 8 ]

  # -m reached: answers held far longer than the test, so that all 50 must be in flight
  # at once, however slowly they start; stopping flagd then ends them
  slow_flagd "$HOLD_MS"
  "$BIN/$DRIVER" flags -a -m 50 -t "$HOLD_T_S" -s "$DELAY_URL" -o out1 >stdout 2>stderr 3>&- &
  pid=$!
  wait_in_flight 50
  [ "$(flagd_stats | jq .max_in_flight)" -eq 50 ]
  flagd_stop
  wait "$pid" || true
}

@test "10,140 transfers with 10,000 at once: no errors, and flagd saw 10,000 in flight" {
  slow_flagd 1000
  flagd_stats '?reset=1' >/dev/null
  # -t 60: how long 10,000 transfers take on a loaded machine is not what this proves
  run "$BIN/$DRIVER" flags -e --repeat 15 -m 10000 -t 60 --no-save -s "$DELAY_URL" --json
  assert_success
  [ "$(json items)" -eq $((15 * 676)) ]
  [ "$(json errors)" -eq 0 ] || fail "errors: $(json error_reasons)"
  [ "$(json ok)" -eq $((15 * $(every_found))) ]
  [ "$(json not_found)" -eq $((15 * (676 - $(every_found)))) ]
  [ "$(flagd_stats | jq .max_in_flight)" -le 10000 ]
  [ "$(flagd_stats | jq .total)" -eq $((15 * 676)) ]

  # 10,000 at once, whatever the machine's load: no answer comes before every one of them
  # is in flight (flagd holds them far longer than the test); SIGINT then ends the run with
  # none answered. (Timings at this scale belong to make bench.)
  slow_flagd "$HOLD_MS"
  "$BIN/$DRIVER" flags -e --repeat 15 -m 10000 --no-save -t "$HOLD_T_S" -s "$DELAY_URL" >stdout 2>stderr 3>&- &
  pid=$!
  wait_in_flight 10000
  [ "$(flagd_stats | jq .max_in_flight)" -eq 10000 ]
  kill -INT "$pid"
  rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 130 ]
  grep -qE "^Interrupted by SIGINT after [0-9]+ of $((15 * 676))\.$" stdout
  grep -qE '^0 downloaded\. 0 not found\. [0-9]+ errors\.$' stdout
}

@test "--repeat K requests every code K times and saves each file once" {
  run "$BIN/$DRIVER" flags -a --repeat 3 -s "$LOCAL_URL" -o out --json
  assert_success
  [ "$(json items)" -eq $((3 * $(book_count))) ]
  [ "$(json ok)" -eq $((3 * $(book_found))) ]
  [ "$(ls out | wc -l)" -eq "$(book_found)" ]
  run "$BIN/$DRIVER" flags -a --repeat 2 --no-save -s "$LOCAL_URL" -o nothing --json
  assert_success
  [ "$(json ok)" -eq $((2 * $(book_found))) ]
  [ ! -e nothing ]
}

@test "a server slower than -t: every code is an error 'timeout'" {
  slow_flagd "$HOLD_MS" # no answer comes before the test is over: only -t ends the run
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

@test "SIGTERM mid-run is handled: partial summary, exit 143, no temporary file" {
  slow_flagd 300
  "$BIN/$DRIVER" flags -a -m 4 -s "$DELAY_URL" -o out -v >stdout 2>stderr 3>&- &
  pid=$!
  wait_for stderr ' ok [0-9]+ bytes'
  kill -TERM "$pid"
  rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 143 ]
  # an unhandled SIGTERM would also be 143: the summary shows the driver handled it
  grep -qE "^Interrupted by SIGTERM after [0-9]+ of $(book_count)\.$" stdout
  done=$(grep -oE 'after [0-9]+' stdout | grep -oE '[0-9]+')
  [ "$done" -ge 1 ] && [ "$done" -lt "$(book_count)" ]
  [ -z "$(find out -name '.*' -type f)" ]
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
