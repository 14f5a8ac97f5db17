#!/usr/bin/env bats
# The book's habits in every driver: no workload word means flags (`threadpool -a -m 20`,
# `sequential BR CN`), -v opens with the book's three lines on stderr, and --help shows
# both forms. Each test starts its own flagd on free ports.

load helpers
bats_require_minimum_version 1.5.0

DRIVERS="sequential threadpool processpool coroutine"

setup() {
  cd "$BATS_TEST_TMPDIR"
  flagd_start
}

teardown() {
  flagd_stop
}

@test "without a workload word every driver runs flags: -a -m 20 downloads the book's 194 codes" {
  for d in $DRIVERS; do
    run "$BIN/$d" -a -m 20 -s "$LOCAL_URL" -o "dl-$d" --json
    assert_success
    [ "$(jq -r .ok <<<"$output")" -eq 193 ] || fail "$d: $output"
    [ "$(jq -r .not_found <<<"$output")" -eq 1 ]
    [ "$(ls "dl-$d" | wc -l)" -eq 193 ]
  done
}

@test "without a workload word codes alone are flags codes: sequential BR CN saves two flags" {
  run "$BIN/sequential" BR CN -s "$LOCAL_URL" -o dl
  assert_success
  assert_output --partial "2 downloaded."
  [ -s dl/BR.gif ] && [ -s dl/CN.gif ]
  [ "$(ls dl | wc -l)" -eq 2 ]
}

@test "no arguments at all still print the usage (exit 2), naming the form without a word" {
  run "$BIN/threadpool"
  assert_failure 2
  assert_output --partial "missing workload: flags, sha or crawl (or flags' options alone, as in the book: -a -m 20)"
  assert_output --partial "usage: threadpool flags [options] [CC ...]"
}

@test "a word that is not a code is still an unknown workload (exit 2)" {
  run "$BIN/threadpool" shaa
  assert_failure 2
  assert_output --partial "unknown workload 'shaa'"
}

@test "-v prints the book's opening lines on stderr, and stdout stays the summary" {
  run --separate-stderr "$BIN/threadpool" -a -m 20 -v -s "$LOCAL_URL" --no-save
  assert_success
  [ "${stderr_lines[0]}" = "SERVER site: $LOCAL_URL" ]
  [ "${stderr_lines[1]}" = "Searching for 194 flags: from AD to ZW" ]
  [ "${stderr_lines[2]}" = "20 concurrent connections will be used." ]
  assert_output --partial "193 downloaded."
  refute_output --partial "site:"
  # up to ten codes are listed; one connection is singular
  run --separate-stderr "$BIN/sequential" BR CN -v -s "$LOCAL_URL" --no-save
  assert_success
  [ "${stderr_lines[1]}" = "Searching for 2 flags: BR, CN" ]
  [ "${stderr_lines[2]}" = "1 concurrent connection will be used." ]
}

@test "-v names the book's server label when -s is one (LOCAL site: ...)" {
  # nothing listens on the book's port 8000 in a test: the opening lines come first anyway
  run --separate-stderr "$BIN/coroutine" -v -s DELAY -t 0.5 CN
  [ "${stderr_lines[0]}" = "DELAY site: http://127.0.0.1:8001/flags" ]
  [ "${stderr_lines[1]}" = "Searching for 1 flag: CN" ]
}

@test "--help shows both forms, with and without the workload word" {
  for d in $DRIVERS; do
    run "$BIN/$d" --help
    assert_success
    assert_output --partial "usage: $d flags"
    assert_output --partial "$d [FLAGS OPTIONS] [CC ...]"
    assert_output --partial "$d -a -m 20     is  $d flags -a -m 20"
    assert_output --partial "$d sha"
  done
}
