#!/usr/bin/env bats
# bin/threadpool against a real flagd: the same answers as bin/sequential, the same files,
# the same digests, concurrency bounded by -m, interruption, and bad options.

bats_require_minimum_version 1.5.0
load helpers

ROOT=/usr/share/flags/countries/16x11
DRIVER=threadpool

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

@test "LOCAL -e on 1000 threads gives the same counts as sequential (small stacks)" {
  same_counts_as_sequential -e -s "$LOCAL_URL" -m 1000 --no-save
  [ "$(json workers)" -eq 676 ] # never more threads than codes
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

@test "SIGINT mid-run stops handing out codes: partial summary and exit 130" {
  slow_flagd 300
  "$BIN/$DRIVER" flags -a -m 4 -s "$DELAY_URL" -o out -v >stdout 2>stderr 3>&- &
  pid=$!
  wait_for stderr ' ok [0-9]+ bytes'
  kill -INT "$pid"
  rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 130 ]
  grep -qE "Interrupted by .* after [0-9]+ of 194" stdout
  done=$(grep -oE 'after [0-9]+' stdout | grep -oE '[0-9]+')
  [ "$done" -lt 194 ]
}

@test "-m and -w above the maximum are clamped with a note on stderr, and --json reports the effective value" {
  run --separate-stderr "$BIN/$DRIVER" sha -j 1024 -n 1K -w 5000 --json
  assert_success
  [ "$(jq .workers <<<"$output")" -eq 1000 ]
  grep -qF -- "-w 5000 is above this driver's maximum; using 1000" <<<"$stderr"
  run --separate-stderr "$BIN/$DRIVER" flags -e -m 1001 -s "$LOCAL_URL" --no-save --json
  assert_success
  [ "$(jq .concurrency <<<"$output")" -eq 676 ]
  grep -qF -- "-m 1001 is above this driver's maximum; using 1000" <<<"$stderr"
}

@test "bad -m and -w are exit 2 with usage; --help says the bounds" {
  for args in "flags -m 0" "flags -m 10000000000" "flags -m x" "sha -w 0" "sha -w -3"; do
    run "$BIN/$DRIVER" $args
    assert_failure 2
    assert_output --partial "usage:"
  done
  run "$BIN/$DRIVER" --help
  assert_success
  assert_output --partial "default 30, at most 1000"
}
