#!/usr/bin/env bats
# Issue 13, "Bugs": one regression test (or more) per bug, each failing before its fix.
# What a hostile server does comes from tests/cli/fixtures/rawhttpd; the rest from a flagd
# of the file's own. Tests assert order, counts, bytes and bounds, never durations.

bats_require_minimum_version 1.5.0 # run --separate-stderr
load helpers

FIXTURES=$BATS_TEST_DIRNAME/fixtures
ROOT=/usr/share/flags/countries/16x11
DRIVERS=(sequential threadpool processpool coroutine)

setup() {
  cd "$BATS_TEST_TMPDIR"
  flagd_start
}

teardown() {
  flagd_stop
  rawhttpd_stop
  local pids
  pids=$(pgrep -f -- "$BATS_TEST_TMPDIR") && kill -9 $pids 2>/dev/null || true
}

# json FIELD: a field of the --json record on the run's stdout
json() { jq -r ".$1" <<<"$output"; }

# rawhttpd_start MODE [SIZE]: the misbehaving test server; RAW_URL is its /flags base
rawhttpd_start() {
  "$FIXTURES/rawhttpd" "$@" >rawhttpd.out 2>rawhttpd.err 3>&- &
  RAWHTTPD_PID=$!
  for _ in $(seq 200); do
    RAW_URL=$(awk '$1 == "rawhttpd:" { print $2 }' rawhttpd.out)
    [ -n "$RAW_URL" ] && return 0
    sleep 0.02
  done
  fail "rawhttpd $* did not start: $(cat rawhttpd.err)"
}

rawhttpd_stop() {
  [ -n "${RAWHTTPD_PID:-}" ] || return 0
  kill "$RAWHTTPD_PID" 2>/dev/null || true
  wait "$RAWHTTPD_PID" 2>/dev/null || true
  RAWHTTPD_PID=
}

# no_dot_files DIR: no temporary file left under DIR
no_dot_files() {
  local dots
  dots=$(find "$1" -mindepth 1 -name '.*')
  [ -z "$dots" ] || { echo "temporary files left in $1: $dots" >&2; return 1; }
}

# modes_are DIR MODE COUNT: DIR holds COUNT files, each of mode MODE (e.g. 644)
modes_are() {
  local n wrong
  n=$(find "$1" -type f | wc -l)
  wrong=$(find "$1" -type f ! -perm "$2")
  [ "$n" -eq "$3" ] || { echo "$1 holds $n files, not $3" >&2; return 1; }
  [ -z "$wrong" ] || { echo "files of another mode than $2: $(stat -c '%a %n' $wrong | head)" >&2; return 1; }
}

# whole DIR: every file in DIR is a whole CC.gif (byte-equal to the root's), and no
# temporary file is left; prints how many there are
whole() {
  local f cc n=0
  no_dot_files "$1" || return 1
  for f in "$1"/*; do
    [ -e "$f" ] || continue
    cc=$(basename "$f" .gif)
    cmp "$f" "$ROOT/${cc,,}.gif" >&2 || return 1
    n=$((n + 1))
  done
  echo "$n"
}

# head_of BYTES CMD...: run CMD with stdout and stderr on a pipe that is closed after BYTES
# bytes (as `CMD 2>&1 | head -c BYTES`); prints CMD's wait status as Python sees it: the
# exit status, or minus the signal that killed it
head_of() {
  python3 - "$@" <<'PY'
import subprocess, sys
n = int(sys.argv[1])
p = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
got = 0
while got < n:
    b = p.stdout.read1(n - got)
    if not b:
        break
    got += len(b)
p.stdout.close()
print(p.wait())
PY
}

# bare CMD...: CMD with only stdin, stdout and stderr open (bats keeps 3, 4, 10, 251...),
# as from a login shell, so that a small ulimit -n counts from 3
bare() {
  bash -c 'for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec "$@"' bare "$@"
}

# ---- 1. a deeply nested metadata.json ------------------------------------------------

@test "1 deep metadata: every driver's --meta refuses a 1,000-deep metadata.json as 'no usable country name'" {
  mkdir -p book/br book/ar
  cp "$ROOT/br.gif" book/br/
  cp "$ROOT/ar.gif" book/ar/
  python3 -c 'print("{\"country\": " + "[" * 1000 + "]" * 1000 + "}")' >book/br/metadata.json
  flagd_start --root "$PWD/book"
  [ "$(curl -fsS "$LOCAL_URL/br/metadata.json" | wc -c)" -gt 2000 ]
  for d in "${DRIVERS[@]}"; do
    run --separate-stderr "$BIN/$d" flags --meta -s "$LOCAL_URL" -o "$PWD/$d" --json AR BR
    assert_success
    [ "$(json ok)" -eq 1 ]
    [ "$(json errors)" -eq 1 ]
    [ "$(json error_reasons)" = "$(jq -n '{"metadata: no usable country name": 1}')" ]
    [ "$(ls "$d")" = Argentina.gif ]
  done
}

# ---- 2. saved files keep the umask -------------------------------------------------------

@test "2 umask: threadpool, coroutine --executor and sha --dump save every file 0644 under umask 022" {
  umask 022
  for i in 1 2 3; do
    run "$BIN/threadpool" flags -e -m 200 -s "$LOCAL_URL" -o "$PWD/tp$i" --json
    assert_success
    modes_are "tp$i" 644 "$(json ok)"
  done
  run "$BIN/coroutine" flags -e -m 200 --executor 8 -s "$LOCAL_URL" -o "$PWD/co" --json
  assert_success
  modes_are co 644 "$(json ok)"
  run "$BIN/threadpool" sha -j 64 -n 1K -w 8 --dump "$PWD/dump"
  assert_success
  modes_are dump 644 64
}

# ---- 3. a tiny -t ---------------------------------------------------------------------

@test "3 tiny -t: -t 0.0001 is a 1 ms timeout in every driver, not 'never' (the answer comes after 3 s)" {
  flagd_start --delay 3000
  for d in "${DRIVERS[@]}"; do
    run --separate-stderr timeout 10 "$BIN/$d" flags -t 0.0001 -s "$DELAY_URL" --no-save --json BR
    assert_success
    [ "$(json errors)" -eq 1 ]
    [ "$(json error_reasons.timeout)" -eq 1 ]
  done
}

# ---- 4. endless headers and trailers -------------------------------------------------

@test "4 endless head: every driver stops header lines and chunked trailers at --max-head, as 'response head too large'" {
  for mode in trailers headers; do
    rawhttpd_start "$mode" $((8 * 1024 * 1024))
    for d in "${DRIVERS[@]}"; do
      run --separate-stderr timeout 10 "$BIN/$d" flags -t 2 -s "$RAW_URL" --no-save --json BR
      assert_success
      [ "$(json errors)" -eq 1 ]
      [ "$(json "error_reasons[\"response head too large\"]")" -eq 1 ]
    done
    # a smaller limit holds too, and the default is no longer than 64 KiB
    run --separate-stderr timeout 10 "$BIN/sequential" flags --max-head 4K -s "$RAW_URL" --no-save --json BR
    [ "$(json "error_reasons[\"response head too large\"]")" -eq 1 ]
    rawhttpd_stop
  done
  run --separate-stderr "$BIN/sequential" flags --max-head -1 BR
  [ "$status" -eq 2 ]
  # a normal answer is well within the default
  run --separate-stderr "$BIN/sequential" flags -s "$LOCAL_URL" --no-save --json BR
  [ "$(json ok)" -eq 1 ]
}

# ---- 5. flagd at its descriptor limit ----------------------------------------------------

@test "5 EMFILE: flagd at ulimit -n 40 under 60 connections pauses accepting, logs at most a line a second, then serves again" {
  flagd_stop
  mkdir lim
  printf '#!/bin/sh\nexec prlimit --nofile=40 "%s/flagd" "$@"\n' "$BIN" >lim/flagd
  chmod +x lim/flagd
  BIN=$PWD/lim flagd_start
  CONNFLOOD=${BUILD:-build}/tests/connflood
  [[ $CONNFLOOD = /* ]] || CONNFLOOD=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/$CONNFLOOD
  [ "$(awk '/^Max open files/ { print $4 }' "/proc/$FLAGD_PID/limits")" -eq 40 ]
  port=${FLAGD_BASE##*:}
  start_s=$(date +%s)
  "$CONNFLOOD" --port "$port" --conns 60 --seconds 30 >flood.out 2>flood.err 3>&- &
  flood=$!
  wait_for "$FLAGD_ERR" 'Too many open files'
  sleep 1 # let a busy loop show itself, if there is one
  ticks1=$(awk '{ print $14 + $15 }' "/proc/$FLAGD_PID/stat")
  sleep 0.5
  ticks2=$(awk '{ print $14 + $15 }' "/proc/$FLAGD_PID/stat")
  kill -TERM "$flood"
  wait "$flood" || true
  end_s=$(date +%s)
  lines=$(grep -c 'cannot accept' "$FLAGD_ERR")
  [ "$lines" -le $((end_s - start_s + 1)) ] || fail "$lines lines in $((end_s - start_s)) s"
  [ "$(wc -c <"$FLAGD_ERR")" -lt 2000 ]
  # paused, not spinning: a busy loop burns the 50 clock ticks of the half second
  [ $((ticks2 - ticks1)) -lt 10 ] || fail "flagd used $((ticks2 - ticks1)) ticks in 0.5 s"
  # accepting again once the descriptors are back
  curl -fsS --max-time 5 -o got.gif "$LOCAL_URL/br/br.gif"
  cmp got.gif "$ROOT/br.gif"
}

# ---- 6. SIGPIPE and SIGHUP --------------------------------------------------------------

@test "6 SIGPIPE: 'DRIVER -v 2>&1 | head -c 2000' stops the run, leaves whole files only and exits 141" {
  # 5,408 -v lines are some 100 KB: more than the 64 KiB a pipe holds, so the run cannot
  # have written them all before the reader goes
  for d in "${DRIVERS[@]}"; do
    curl -fsS "$FLAGD_BASE/stats?reset=1" >/dev/null
    run head_of 2000 "$BIN/$d" flags -e --repeat 8 -m 50 -s "$LOCAL_URL" -o "$PWD/$d" -v
    assert_output 141 # an exit status, after the cleanup; -13 would be death by SIGPIPE
    n=$(whole "$d")
    [ "$n" -le 194 ]
    [ "$(flagd_stats | jq .total)" -lt 5408 ] # it stopped
  done
}

@test "6 SIGHUP: every driver stops like SIGTERM: partial summary, exit 129, whole files only" {
  flagd_start --delay 300
  for d in "${DRIVERS[@]}"; do
    "$BIN/$d" flags -a -m 4 -s "$DELAY_URL" -o "$PWD/$d" -v >"$d.out" 2>"$d.err" &
    pid=$!
    wait_for "$d.err" ' ok [0-9]+ bytes$'
    kill -HUP "$pid"
    rc=0
    wait "$pid" || rc=$?
    [ "$rc" -eq 129 ]
    grep -qE '^Interrupted by (SIGHUP|a signal) after [0-9]+ of 194\.$' "$d.out"
    n=$(whole "$d")
    [ "$n" -ge 1 ]
    [ "$n" -lt 194 ]
    grep -qE "^$n downloaded\." "$d.out"
  done
}

# ---- 7. a processpool worker stopped with SIGSTOP -----------------------------------------

@test "7 SIGSTOP: processpool kills a worker that misses its job's deadline; that code is 'worker stopped responding', the rest finish" {
  flagd_start --delay 300
  "$BIN/processpool" flags -m 2 -t 0.4 -s "$DELAY_URL" -o "$PWD/out" -v --json AR BR CN DE EG FR >run.out 2>run.err &
  pid=$!
  wait_for run.err '^processpool: worker [0-9]+ started$'
  victim=$(awk '/^processpool: worker [0-9]+ started$/ { print $3; exit }' run.err)
  kill -STOP "$victim"
  rc=0
  timeout 20 tail --pid="$pid" -f /dev/null || { kill -CONT "$victim"; fail "the run hangs"; }
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ]
  output=$(cat run.out)
  [ "$(json ok)" -eq 5 ]
  [ "$(json errors)" -eq 1 ]
  [ "$(json "error_reasons[\"worker stopped responding\"]")" -eq 1 ]
  [ "$(grep -c '^\*\*\* Error for [A-Z][A-Z]: worker stopped responding$' run.err)" -eq 1 ]
  [ "$(whole out)" -eq 5 ]
  [ ! -e "/proc/$victim" ] || [ "$(awk '{ print $3 }' "/proc/$victim/stat")" = Z ]
}

# ---- 8a. sha --dump that cannot write -------------------------------------------------

@test "8a sha --dump: a write error exits 1 with the reason on stderr, in every driver, as flags does (faults.bats row 7)" {
  for d in "${DRIVERS[@]}"; do
    # over ulimit -f every dump fails with EFBIG, as on a full disk with ENOSPC
    run --separate-stderr prlimit --fsize=512 "$BIN/$d" sha -j 3 -n 1K --dump "$PWD/$d" --json
    [ "$status" -eq 1 ]
    [ "$(json errors)" -eq 3 ]
    [ "$(json "error_reasons|length")" -eq 3 ]
    [[ $stderr =~ ^$d:\ sha:\ cannot\ write\ $PWD/$d/job-0[0-2].bin:\ File\ too\ large$ ]]
    no_dot_files "$d"
    [ -z "$(ls "$d")" ]
  done
}

# ---- 8b. a URL libcurl cannot use --------------------------------------------------------

@test "8b bad URL: a port over 65535, a tab or a newline in -s is exit 2 at start-up, one line, no request" {
  for d in "${DRIVERS[@]}"; do
    for url in "http://127.0.0.1:99999/flags" $'http://127.0.0.1:1/fl\tags' $'http://127.0.0.1:1/fl\nags'; do
      run --separate-stderr "$BIN/$d" flags -s "$url" -o "$PWD/never" BR
      [ "$status" -eq 2 ]
      [ -z "$output" ]
      [ "${#lines[@]}" -eq 0 ]
      [ "$(wc -l <<<"$stderr")" -eq 2 ]
      [[ ${stderr%%$'\n'*} == "$d: bad value for -s: 'http://127.0.0.1:"* ]]
      [ ! -e never ]
    done
  done
}

# ---- 8c. out of file descriptors -------------------------------------------------------

@test "8c EMFILE: out of descriptors is 'cannot open a socket: Too many open files', not 'connection refused'" {
  run --separate-stderr bare prlimit --nofile=5 "$BIN/sequential" flags -s "$LOCAL_URL" --no-save --json BR
  [ "$status" -eq 1 ]
  [ "$(json errors)" -eq 1 ]
  [ "$(json "error_reasons[\"cannot open a socket: Too many open files\"]")" -eq 1 ]
  [ "$stderr" = "sequential: flags: cannot open a socket: Too many open files" ]
}

@test "8c EMFILE: threadpool and processpool lower -m to what ulimit -n allows, with a note, and lose no code" {
  for d in threadpool processpool; do
    run --separate-stderr bare prlimit --nofile=64 "$BIN/$d" flags -a -m 100 -s "$LOCAL_URL" --no-save --json
    assert_success
    [ "$(json errors)" -eq 0 ]
    [ "$(json ok)" -eq 193 ]
    [ "$(json concurrency)" -lt 100 ]
    [ "$stderr" = "$d: flags: -m 100 needs more open files than the limit (ulimit -n) allows; using $(json concurrency)" ]
  done
}

# ---- 8d. stdout write errors ------------------------------------------------------------

@test "8d stdout: every driver exits 1 with one line when stdout is /dev/full, for flags and sha" {
  for d in "${DRIVERS[@]}"; do
    run --separate-stderr "$BIN/$d" sha -j 2 -n 1K --json
    assert_success
    run --separate-stderr bash -c '"$0" sha -j 2 -n 1K --json >/dev/full' "$BIN/$d"
    [ "$status" -eq 1 ]
    [ "$stderr" = "$d: sha: cannot write the results to stdout: No space left on device" ]
    run --separate-stderr bash -c '"$0" flags -s "$1" --no-save BR >/dev/full' "$BIN/$d" "$LOCAL_URL"
    [ "$status" -eq 1 ]
    [ "$stderr" = "$d: flags: cannot write the results to stdout: No space left on device" ]
  done
}

@test "8d stdout: concbench table and --help exit 1 with one line when stdout is /dev/full" {
  run --separate-stderr bash -c '"$0" table "$1" >/dev/full' "$BIN/concbench" "$FIXTURES/results.csv"
  [ "$status" -eq 1 ]
  [ "$stderr" = "concbench: cannot write to stdout: No space left on device" ]
  run --separate-stderr bash -c '"$0" --help >/dev/full' "$BIN/concbench"
  [ "$status" -eq 1 ]
}

# ---- 9. HEAD /stats ---------------------------------------------------------------------

@test "9 HEAD /stats: a Content-Length and no body, so a keep-alive GET after it stays in step" {
  # one connection: HEAD, then GET; curl reads the HEAD's head only, then the GET's answer
  run --separate-stderr curl -sS -v -I "$FLAGD_BASE/stats" --next "$FLAGD_BASE/stats"
  assert_success
  [ "$(grep -c 'Re-using existing connection' <<<"$stderr")" -eq 1 ]
  [ "$(grep -c 'Excess found' <<<"$stderr" || true)" -eq 0 ]
  # the HEAD's head (before the GET re-uses the connection) carries the length
  head_len=$(sed '/Re-using existing connection/q' <<<"$stderr" | grep -i '^< Content-Length:' | tr -dc 0-9)
  get_len=$(sed '1,/Re-using existing connection/d' <<<"$stderr" | grep -i '^< Content-Length:' | tr -dc 0-9)
  [ -n "$head_len" ]
  [ "$head_len" -gt 0 ]
  body=$(sed -n '/^{/p' <<<"$output")
  [ "$(jq -r 'type' <<<"$body")" = object ]
  [ "${#body}" -eq $((get_len - 1)) ] # the newline after the JSON
}

# ---- 10. small ones ------------------------------------------------------------------------

@test "10 -o '' and --dump '': exit 2 with one line naming the option, nothing read or created" {
  for d in "${DRIVERS[@]}"; do
    run --separate-stderr "$BIN/$d" flags -o "" -s "$LOCAL_URL" BR
    [ "$status" -eq 2 ]
    [ "${stderr%%$'\n'*}" = "$d: bad value for -o: '' (want a directory)" ]
    run --separate-stderr "$BIN/$d" sha -j 1 -n 1K --dump ""
    [ "$status" -eq 2 ]
    [ "${stderr%%$'\n'*}" = "$d: bad value for --dump: '' (want a directory)" ]
  done
  [ "$(flagd_stats | jq .total)" -eq 0 ]
}

@test "10 a leading space or sign is refused: --max-body ' -1', -m ' 5', --seed ' -1' are exit 2" {
  for args in "flags --max-body= -1" "flags --max-head= -1" "flags -m= 5" "flags --max-body=+1K" "sha --seed= -1" "sha -n= 1K" "sha -j= 2"; do
    opt=${args#* }
    run --separate-stderr "$BIN/sequential" "${args%% *}" "${opt%%=*}" "${opt#*=}" -s "$LOCAL_URL"
    [ "$status" -eq 2 ] || fail "$args: status $status"
  done
  [ "$(flagd_stats | jq .total)" -eq 0 ]
}

@test "10 --seed: up to 2^63 - 1, printed as given; 2^63 is exit 2, never a negative seed in the JSON" {
  run --separate-stderr "$BIN/sequential" sha -j 1 -n 1K --seed 9223372036854775807 --json
  assert_success
  [[ $output == *'"seed": 9223372036854775807'* || $output == *'"seed":9223372036854775807'* ]]
  run --separate-stderr "$BIN/sequential" sha -j 1 -n 1K --seed 9223372036854775808 --json
  [ "$status" -eq 2 ]
  [ -z "$output" ]
  [[ ${stderr%%$'\n'*} == *"'9223372036854775808'"* ]]
}

@test "10 cannot start thread N of M names the thread that failed, not always 1" {
  [[ $BIN != *asan* && $BIN != *tsan* ]] || skip "sanitizers reserve more address space than the limit"
  # 48 MiB of address space: the libraries (libxml2, loaded by a crawl only, is not among
  # them) and some of 200 thread stacks of 256 KiB (about 110), not all; one malloc arena,
  # so that the workers' arenas (64 MiB each) do not use it up first
  run --separate-stderr env MALLOC_ARENA_MAX=1 prlimit --as=$((48 * 1024 * 1024)) "$BIN/threadpool" sha -j 200 -w 200 -n 1K
  [ "$status" -eq 1 ]
  [[ $stderr =~ cannot\ start\ thread\ ([0-9]+)\ of\ 200 ]]
  [ "${BASH_REMATCH[1]}" -gt 1 ]
}

@test "10 --meta: two codes of one country name keep both files, the second as 'Name (CC).gif', counted on stderr" {
  mkdir -p book/ar book/br book/cn
  for cc in ar br cn; do cp "$ROOT/$cc.gif" "book/$cc/"; done
  echo '{"country": "Sameland", "iso_cc": "AR"}' >book/ar/metadata.json
  echo '{"country": "Sameland", "iso_cc": "BR"}' >book/br/metadata.json
  echo '{"country": "China", "iso_cc": "CN"}' >book/cn/metadata.json
  flagd_start --root "$PWD/book"
  for d in "${DRIVERS[@]}"; do
    for round in 1 2; do # again into the same directory: the same two names, no third
      run --separate-stderr "$BIN/$d" flags --meta -s "$LOCAL_URL" -o "$PWD/$d" --json AR BR CN
      assert_success
      [ "$(json ok)" -eq 3 ]
      [ "$stderr" = "$d: flags: 1 file saved under a second name: the first held another job's file" ]
      [ "$(ls "$d" | wc -l)" -eq 3 ]
      cmp "$d/China.gif" "$ROOT/cn.gif"
      renamed=$(cd "$d" && ls Sameland\ \(??\).gif)
      cc=${renamed#Sameland (}
      cc=${cc%).gif}
      other=$([ "$cc" = AR ] && echo br || echo ar)
      cmp "$d/$renamed" "$ROOT/${cc,,}.gif"
      cmp "$d/Sameland.gif" "$ROOT/$other.gif"
    done
  done
}

@test "10 non-UTF-8 -o: the save error's reason is in --json's error_reasons (bytes not UTF-8 as '?')" {
  dir=$PWD/$'out\xff'
  run --separate-stderr prlimit --fsize=100 "$BIN/sequential" flags -s "$LOCAL_URL" -o "$dir" --json BR
  [ "$status" -eq 1 ]
  [ "$(json errors)" -eq 1 ]
  [ "$(json "error_reasons[\"cannot write $PWD/out?/BR.gif: File too large\"]")" -eq 1 ]
}
