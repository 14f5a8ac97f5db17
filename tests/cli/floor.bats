#!/usr/bin/env bats
# Anchor 6's libcurl floor (scripts/anchors.d/floor.c), built by make as `make anchors` builds
# it: both modes, curl_multi_poll (the default) and --socket (curl_multi_socket_action on
# libevent), download the book's codes from a real flagd with bin/sequential's counts.

load helpers

SEED=7

setup_file() {
  # built into this file's own directory: never races a make of the tree
  FLOOR=$BATS_FILE_TMPDIR/build/anchors/floor
  make -s --no-print-directory -C "$BATS_TEST_DIRNAME/../.." BUILD="$BATS_FILE_TMPDIR/build" "$FLOOR" ||
    fail "make could not build the floor"
  export FLOOR
}

setup() {
  flagd_start --delay 100 --seed "$SEED"
  cd "$BATS_TEST_TMPDIR"
  mapfile -t BOOK <"$BOOK_CODES"
}

teardown() {
  flagd_stop
}

# counts: "ok/not_found/errors" of a JSON line on stdin
counts() { jq -r '"\(.ok)/\(.not_found)/\(.errors)"'; }

# same_as_sequential LISTENER_URL [floor options]: both modes against bin/sequential -a
same_as_sequential() {
  local url=$1 mode ref
  shift
  ref=$("$BIN/sequential" flags -a -s "$url" --no-save --json | counts)
  for mode in poll socket; do
    local opt=()
    [ $mode = socket ] && opt=(--socket)
    run "$FLOOR" "${opt[@]}" "$@" "$url" "${BOOK[@]}"
    assert_success
    [ "$(jq -r .mode <<<"$output")" = $mode ]
    [ "$(jq -r .items <<<"$output")" -eq "$(book_count)" ]
    [ "$(counts <<<"$output")" = "$ref" ] || fail "$mode: $(counts <<<"$output"), sequential: $ref"
  done
}

@test "LOCAL: both modes download the book's codes with bin/sequential's counts" {
  same_as_sequential "$LOCAL_URL" -m 20
  [ "$(counts <<<"$output")" = "$(book_found)/$(($(book_count) - $(book_found)))/0" ]
}

@test "DELAY, every code in flight at once, three rounds on reused handles: the same counts, three times" {
  local ref mode
  ref=$("$BIN/sequential" flags -a -s "$LOCAL_URL" --no-save --json | jq -r '"\(.ok * 3)/\(.not_found * 3)/\(.errors * 3)"')
  for mode in "" --socket; do
    # shellcheck disable=SC2086 # mode is one option or none
    run "$FLOOR" $mode -m "$(book_count)" --repeat 3 "$DELAY_URL" "${BOOK[@]}"
    assert_success
    [ "$(jq -r .concurrency <<<"$output")" -eq "$(book_count)" ]
    [ "$(counts <<<"$output")" = "$ref" ] || fail "floor $mode: $(counts <<<"$output"), 3 × sequential: $ref"
  done
}

@test "ERROR: both modes count the server's failures as bin/sequential does" {
  same_as_sequential "$ERROR_URL" -m 20
  [ "$(jq -r .errors <<<"$output")" -gt 0 ]
}

@test "bad usage: one line saying why, the usage, exit 2" {
  run "$FLOOR" --socket
  assert_failure 2
  assert_line --index 0 "floor: want a base URL and at least one code"
  assert_line --index 1 --partial "usage: floor [--socket]"
  run "$FLOOR" --socket -m 0 "$LOCAL_URL" BR
  assert_failure 2
  assert_line --index 0 "floor: bad value for -m"
}
