#!/usr/bin/env bats
# make install / make uninstall into a temporary DESTDIR: the six programs, the plot script
# and one man page each (help2man from --help); an installed driver runs against an
# installed flagd; uninstall leaves no file behind.

load helpers

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
PROGRAMS="sequential threadpool processpool coroutine flagd concbench"

setup() {
  command -v help2man >/dev/null || skip "help2man not installed (scripts/deps.sh)"
  DEST=$BATS_TEST_TMPDIR/dest
  # The same BIN and BUILD the other tests use (nothing is rebuilt); the man pages are
  # generated in this test's own directory.
  MAKEARGS=(--no-print-directory -C "$REPO" BIN="$BIN" BUILD="${BUILD:-build}" MANBUILD="$BATS_TEST_TMPDIR/man"
            PREFIX=/usr/local DESTDIR="$DEST")
}

teardown() {
  flagd_stop
}

@test "make install puts every program, the plot script and a man page each under DESTDIR/PREFIX; uninstall removes them" {
  run make "${MAKEARGS[@]}" install
  assert_success
  for p in $PROGRAMS concbench-plot; do
    [ -x "$DEST/usr/local/bin/$p" ] || fail "missing $DEST/usr/local/bin/$p"
    page=$DEST/usr/local/share/man/man1/$p.1
    [ -s "$page" ] || fail "missing $page"
    # a real page: its title names the program, and its text comes from --help
    grep -q "^\.TH $(echo "$p" | tr a-z A-Z) \"\?1" "$page" || fail "$page has no .TH line for $p"
    grep -qi "usage" "$page" || fail "$page holds no usage text"
  done
  [ "$(ls "$DEST/usr/local/bin" | wc -l)" -eq 7 ]
  [ "$(ls "$DEST/usr/local/share/man/man1" | wc -l)" -eq 7 ]
  # the book's form with no workload word appears in the driver pages
  grep -q "FLAGS OPTIONS" "$DEST/usr/local/share/man/man1/threadpool.1"

  # the installed programs run: an installed flagd serves an installed driver
  FLAGD_BIN_SAVED=$BIN
  BIN=$DEST/usr/local/bin flagd_start
  BIN=$FLAGD_BIN_SAVED
  run "$DEST/usr/local/bin/threadpool" -a -m 20 --no-save -s "$LOCAL_URL" --json
  assert_success
  [ "$(jq -r .ok <<<"$output")" -eq 193 ]
  run "$DEST/usr/local/bin/concbench" --help
  assert_success
  assert_output --partial "concbench run"
  run "$DEST/usr/local/bin/concbench-plot" --help
  assert_success
  flagd_stop

  run make "${MAKEARGS[@]}" uninstall
  assert_success
  [ -z "$(find "$DEST" -type f)" ] || fail "left behind: $(find "$DEST" -type f)"
}

@test "make install honours PREFIX: a different prefix, a different tree" {
  run make "${MAKEARGS[@]}" PREFIX=/opt/cb install
  assert_success
  [ -x "$DEST/opt/cb/bin/concbench" ]
  [ -s "$DEST/opt/cb/share/man/man1/flagd.1" ]
  [ ! -e "$DEST/usr/local" ]
  run make "${MAKEARGS[@]}" PREFIX=/opt/cb uninstall
  assert_success
  [ -z "$(find "$DEST" -type f)" ]
}
