#!/usr/bin/env bats
# bin/threadpool against a real flagd: the same answers as bin/sequential, the same files,
# the same digests, concurrency bounded by -m, interruption, and bad options.

bats_require_minimum_version 1.5.0
load helpers

ROOT=/usr/share/flags/countries/16x11
DRIVER=threadpool

SEED=7

# bin/sequential's answers, once for the whole file (same seed, no delay: the counts do not
# depend on delays), for same_counts_as_sequential
setup_file() {
  ref_flagd_start --delay 0 --seed "$SEED"
  ref_make LOCAL -a
  ref_make DELAY -a
  ref_make ERROR -a
  ref_make ERROR -e -m 100
  ref_make LOCAL -e -m 1000 --no-save
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

@test "LOCAL -e on 1000 threads gives the same counts as sequential (small stacks)" {
  same_counts_as_sequential LOCAL -e -m 1000 --no-save
  [ "$(json workers)" -eq 676 ] # never more threads than codes
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
