#!/usr/bin/env bats
# bin/sequential against a real flagd on free ports: counts, files, determinism, errors.

load helpers

ROOT=/usr/share/flags/countries/16x11

setup() {
  flagd_start --delay 200 --seed 7
  cd "$BATS_TEST_TMPDIR"
}

teardown() {
  flagd_stop
}

# json FIELD: a field of the --json record in $output
json() { jq -r ".$1" <<<"$output"; }

# ERROR delays half its answers; one after another at 200 ms, -a alone took 20 s. The
# statuses depend on the seed, not the delay: a few ms keep the tests to what they prove.
ERROR_DELAY_MS=10
quick_error_flagd() {
  flagd_stop
  flagd_start --delay "$ERROR_DELAY_MS" --seed 7
}

# A loopback port nobody listens on (connection refused), found by trying to connect.
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  return 1
}

@test "LOCAL -a downloads every book code flagd has a flag for and finds no ss, as the book's site" {
  run "$BIN/sequential" flags -a -s "$LOCAL_URL" -o out --json
  assert_success
  [ "$(json items)" -eq "$(book_count)" ]
  [ "$(json ok)" -eq "$(book_found)" ]
  [ "$(json not_found)" -eq $(($(book_count) - $(book_found))) ]
  [ "$(json errors)" -eq 0 ]
  # the files saved are exactly the book's codes in flagd's plan
  diff <(ls out) <(grep -xFf <(served_codes) "$BOOK_CODES" | sed 's/$/.gif/' | sort)
  [ ! -e out/SS.gif ]
}

@test "saved flags are byte-equal to flagd's root and no temporary file is left" {
  run "$BIN/sequential" flags -a -s "$LOCAL_URL" -o out
  assert_success
  found=$(book_found)
  assert_output --partial "$found downloaded. $(($(book_count) - found)) not found. 0 errors."
  assert_output --regexp "Elapsed time: [0-9]+\.[0-9]{2}s"
  [ "$(ls out | wc -l)" -eq "$found" ]
  [ "$(same_as_root out)" -eq "$found" ]
  [ -z "$(find out -name '.*' -type f)" ]
}

@test "ERROR gives the same counts on two runs, equal to what flagd's plan predicts" {
  quick_error_flagd
  run "$BIN/sequential" flags -a -s "$ERROR_URL" -o out --json
  assert_success
  first=$output
  run "$BIN/sequential" flags -a -s "$ERROR_URL" -o out2 --json
  assert_success
  [ "$(jq -c '[.ok,.not_found,.errors]' <<<"$first")" = "$(jq -c '[.ok,.not_found,.errors]' <<<"$output")" ]
  # the plan lists CC STATUS DELAY for every code the root has; the book's 194 are asked
  plan=$("$BIN/flagd" --plan --seed 7 --delay "$ERROR_DELAY_MS")
  book=$(cat "$BOOK_CODES")
  expect_ok=0 expect_err=0
  while read -r cc status _; do
    grep -qx "$cc" <<<"$book" || continue
    if [ "$status" = 200 ]; then expect_ok=$((expect_ok + 1)); else expect_err=$((expect_err + 1)); fi
  done <<<"$plan"
  [ "$(json ok)" -eq "$expect_ok" ]
  [ "$(json errors)" -eq "$expect_err" ]
  [ "$(json not_found)" -eq $(($(book_count) - expect_ok - expect_err)) ]
  [ "$expect_err" -gt 0 ]
}

@test "error reasons name the HTTP status" {
  quick_error_flagd
  run "$BIN/sequential" flags -a -s "$ERROR_URL" -o out -v
  assert_success
  assert_output --regexp "\*\*\* Error for [A-Z]{2}: HTTP 50[023]"
  assert_output --regexp "Errors: [0-9]+ HTTP 50[023]"
}

@test "DELAY on 5 codes: one request after another, flagd never has two in flight" {
  flagd_stats '?reset=1' >/dev/null
  run "$BIN/sequential" flags -s "$DELAY_URL" -o out --json BR CN IN US ID
  assert_success
  [ "$(json ok)" -eq 5 ]
  run flagd_stats
  [ "$(jq .total <<<"$output")" -eq 5 ]
  [ "$(jq .max_in_flight <<<"$output")" -eq 1 ]
}

@test "unknown codes are not found" {
  run "$BIN/sequential" flags -s "$LOCAL_URL" -o out --json QQ XX ZZ BR
  assert_success
  [ "$(json not_found)" -eq 3 ]
  [ "$(json ok)" -eq 1 ]
}

@test "a single letter expands to its 26 codes and -l cuts the sorted list" {
  run "$BIN/sequential" flags -s "$LOCAL_URL" -o out --json B
  assert_success
  [ "$(json items)" -eq 26 ]
  # -l cuts after sorting: BA..BE, of which flagd serves those in its plan
  first5=$(printf 'B%s\n' A B C D E)
  served=$(grep -xFf <(served_codes) <<<"$first5" || true)
  run "$BIN/sequential" flags -s "$LOCAL_URL" -o out5 --json -l 5 B
  assert_success
  [ "$(json items)" -eq 5 ]
  [ "$(json ok)" -eq "$(grep -c . <<<"$served")" ]
  [ "$(json not_found)" -eq $((5 - $(grep -c . <<<"$served"))) ]
  [ "$(ls out5 | tr '\n' ' ')" = "$(sed 's/$/.gif/' <<<"$served" | tr '\n' ' ')" ]
}

@test "connection refused is exit 1, one line, and nothing created" {
  port=$(free_port)
  run "$BIN/sequential" flags -s "http://127.0.0.1:$port/flags" -o never
  assert_failure 1
  [ "${#lines[@]}" -eq 1 ]
  assert_output --partial "connection refused"
  [ ! -e never ]
}

@test "a read-only output dir is exit 1, one line, before any download" {
  mkdir ro
  if [ "$(id -u)" -eq 0 ]; then
    run unshare -m sh -c 'mount -t tmpfs -o ro,size=1m tmpfs "$1" && shift && exec "$@"' sh ro \
        "$BIN/sequential" flags -a -s "$LOCAL_URL" -o ro
  else
    chmod 555 ro
    run "$BIN/sequential" flags -a -s "$LOCAL_URL" -o ro
  fi
  assert_failure 1
  [ "${#lines[@]}" -eq 1 ]
  assert_output --regexp "cannot write ro: (Read-only file system|Permission denied)"
  [ -z "$(ls -A ro)" ]
  [ "$(flagd_stats | jq .total)" -eq 0 ]
}

@test "bad arguments are exit 2 with the bad value and usage" {
  for args in "flags -m 0" "flags -m 10000000000" "flags -t x" "flags -s gopher" "flags b1" \
              "sha -n 5Q" "sha -j 0" "flags --frobnicate" "sha -a" "nothing" ""; do
    run "$BIN/sequential" $args
    assert_failure 2
    assert_output --partial "usage:"
  done
  run "$BIN/sequential" sha -n 5Q
  assert_line --index 0 --partial "'5Q'"
}

@test "--help prints usage on stdout and exits 0" {
  run "$BIN/sequential" --help
  assert_success
  assert_output --partial "usage: sequential flags"
}

@test "sha --dump digests equal sha256sum over the dumped buffers" {
  run "$BIN/sequential" sha -j 5 -n 100K --seed 3 --dump dump
  assert_success
  [ "$(ls dump | wc -l)" -eq 5 ]
  diff <(grep ' job-' <<<"$output" | sed 's/$/.bin/') <(cd dump && sha256sum job-*.bin)
}

@test "sha digests depend on the seed and the size, and --json carries them" {
  run "$BIN/sequential" sha -j 3 -n 4K --seed 1 --json
  a=$(json 'digests|join(",")')
  run "$BIN/sequential" sha -j 3 -n 4K --seed 2 --json
  b=$(json 'digests|join(",")')
  run "$BIN/sequential" sha -j 3 -n 4K --seed 1
  c=$(grep ' job-' <<<"$output" | cut -d' ' -f1 | paste -sd,)
  [ "$a" != "$b" ]
  [ "$a" = "$c" ]
}

@test "options may follow the codes, as with the book's argparse scripts" {
  run "$BIN/sequential" flags BR CN -s "$LOCAL_URL" -o out --json
  assert_success
  [ "$(json items)" -eq 2 ]
  [ "$(json ok)" -eq 2 ]
  [ -e out/BR.gif ] && [ -e out/CN.gif ]
}
