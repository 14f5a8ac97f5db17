#!/usr/bin/env bats
# bin/coroutine's saves off the loop (issue 15): by default each file write, and the parse of
# a large metadata.json, runs on executor threads (asyncio's to_thread); --save-on-loop keeps
# them on the loop thread. Either way: the same files and content digest as bin/sequential,
# atomic writes (no temporary file left), and a clean SIGINT.

load helpers

DRIVER=coroutine
SEED=7
LARGE_META_CODES="BR CN JP NE" # in the root of large metadata: NE names no country

# the root of large metadata: four flags, each metadata.json far above what is parsed inline
# (lib/flags.c: 4 KiB), and NE's without a "country"
make_large_root() {
  local dir=$1 cc lc pad
  pad=$(head -c 12000 /dev/zero | tr '\0' x)
  for cc in $LARGE_META_CODES; do
    lc=${cc,,}
    mkdir -p "$dir/$lc"
    cp "$FLAGS_ROOT/$lc.gif" "$dir/$lc/$lc.gif"
    if [ "$cc" = NE ]; then
      printf '{"iso_cc": "%s", "notes": "%s"}\n' "$cc" "$pad" >"$dir/$lc/metadata.json"
    else
      printf '{"country": "Land of %s", "iso_cc": "%s", "notes": "%s"}\n' "$cc" "$cc" "$pad" >"$dir/$lc/metadata.json"
    fi
  done
}

setup_file() {
  ref_flagd_start --delay 0 --seed "$SEED"
  local l meta
  for l in LOCAL ERROR; do
    for meta in "" --meta; do
      ref_make "$l" -a $meta
    done
  done
  flagd_stop
  make_large_root "$BATS_FILE_TMPDIR/large"
  ref_flagd_start --delay 0 --seed "$SEED" --root "$BATS_FILE_TMPDIR/large"
  # shellcheck disable=SC2086 # a list of codes
  ref_make LOCAL --meta $LARGE_META_CODES
  flagd_stop
}

setup() {
  flagd_start --delay 5 --seed "$SEED"
  cd "$BATS_TEST_TMPDIR"
}

teardown() {
  flagd_stop
}

# Under ASan, glibc's makecontext draws one warning line on stderr (see coroutine.bats).
ASAN_UCONTEXT='^==[0-9]+==WARNING: ASan doesn.t fully support makecontext/swapcontext'
stripped() { grep -vE "$ASAN_UCONTEXT" <<<"$1" || true; }
json() { stripped "$output" | jq -r ".$1"; }
counts() { stripped "$1" | jq -c '[.items, .ok, .not_found, .errors]'; }

# same_as_sequential LISTENER ARGS...: ours with ARGS into co/ (and $CO_ARGS), against the
# reference of setup_file: counts, content digest, the files (names and bytes), and no
# temporary file left
same_as_sequential() {
  local listener=$1 url ref
  url=${1}_URL
  shift
  ref=$(ref_dir "$listener" "$@")
  rm -rf co
  # shellcheck disable=SC2086 # CO_ARGS is a list of words
  run "$BIN/$DRIVER" flags "$@" -s "${!url}" ${CO_ARGS:-} -o co --json
  assert_success
  [ "$(counts "$output")" = "$(counts "$(cat "$ref/record.json")")" ]
  [ "$(json content_digest)" = "$(jq -r .content_digest "$ref/record.json")" ]
  diff -r "$ref/files" co
  [ -z "$(find co -name '.*' -type f)" ]
}

# threads PID: the process's thread count
threads() { awk '$1 == "Threads:" { print $2 }' "/proc/$1/status"; }

@test "saves off the loop (default) and on it (--save-on-loop): the same files and digest as sequential" {
  for args in "" --save-on-loop; do
    CO_ARGS=$args same_as_sequential LOCAL -a
    [ "$(ls co | wc -l)" -eq "$(book_found)" ]
    CO_ARGS=$args same_as_sequential LOCAL -a --meta
    CO_ARGS=$args same_as_sequential ERROR -a
    [ "$(json errors)" -gt 0 ]
    CO_ARGS=$args same_as_sequential ERROR -a --meta
  done
}

@test "a large metadata.json is parsed off the loop and on it: the same names, errors and digest as sequential" {
  flagd_start --delay 5 --seed "$SEED" --root "$BATS_FILE_TMPDIR/large"
  for args in "" --save-on-loop "--executor 1"; do
    # shellcheck disable=SC2086 # a list of codes
    CO_ARGS=$args same_as_sequential LOCAL --meta $LARGE_META_CODES
    [ "$(json ok)" -eq 3 ]
    [ "$(json 'error_reasons["metadata: no usable country name"]')" -eq 1 ]
    cmp "co/Land_of_BR.gif" "$FLAGS_ROOT/br.gif"
  done
  # nothing saved: the parse alone is the blocking tail, and gives the same digest
  ref=$(ref_dir LOCAL --meta $LARGE_META_CODES)
  for args in "" --save-on-loop; do
    # shellcheck disable=SC2086
    run "$BIN/$DRIVER" flags --meta --no-save $args -s "$LOCAL_URL" --json $LARGE_META_CODES
    assert_success
    [ "$(counts "$output")" = "$(counts "$(cat "$ref/record.json")")" ]
    [ "$(json content_digest)" = "$(jq -r .content_digest "$ref/record.json")" ]
  done
}

@test "executor threads start only when there is blocking work: none with --no-save or --save-on-loop" {
  # answers held longer than the test: the process stays, with its threads, until SIGINT
  flagd_start --delay "$HOLD_MS" --seed "$SEED"
  cpus=$(getconf _NPROCESSORS_ONLN) # as sysconf(3), which the driver asks
  pool=$((cpus > 4 ? 4 : cpus)) # one per CPU, at most 4 (lib/coro_run.c)
  # "ARGS:THREADS": the loop thread and the executor's
  for case in "-o out:$((1 + pool))" "-o out --save-on-loop:1" "--no-save:1" "-o out --executor 3:4" \
    "--meta --no-save:$((1 + pool))"; do # --meta: a metadata.json may be large enough to hand off
    args=${case%:*}
    # shellcheck disable=SC2086 # a list of words
    "$BIN/$DRIVER" flags -a -m 8 -t "$HOLD_T_S" -s "$DELAY_URL" $args >stdout 2>stderr 3>&- &
    pid=$!
    wait_in_flight 8
    n=$(threads "$pid")
    kill -INT "$pid"
    rc=0
    wait "$pid" || rc=$?
    [ "$rc" -eq 130 ]
    [ "$n" -eq "${case##*:}" ] || fail "$args: $n threads, wanted ${case##*:}"
    flagd_stop
    flagd_start --delay "$HOLD_MS" --seed "$SEED"
  done
}

@test "SIGINT while saving, off the loop and on it: exit 130, partial summary, no temporary file, every file whole" {
  flagd_start --delay 100 --seed "$SEED"
  for args in "" --save-on-loop; do
    rm -rf out
    # shellcheck disable=SC2086
    "$BIN/$DRIVER" flags -a -m 8 -s "$DELAY_URL" -o out $args -v >stdout 2>stderr 3>&- &
    pid=$!
    wait_for stderr ' ok [0-9]+ bytes'
    kill -INT "$pid"
    rc=0
    wait "$pid" || rc=$?
    [ "$rc" -eq 130 ]
    grep -qE "^Interrupted by SIGINT after [0-9]+ of $(book_count)\.$" stdout
    done=$(grep -oE 'after [0-9]+' stdout | grep -oE '[0-9]+')
    [ "$done" -ge 1 ] && [ "$done" -lt "$(book_count)" ]
    [ -z "$(find out -name '.*' -type f)" ]
    # every file there is a whole flag, and each was reported
    [ "$(same_as_root out)" -le "$done" ]
  done
}

@test "--save-on-loop with --executor is bad usage; other drivers refuse --save-on-loop" {
  run "$BIN/$DRIVER" flags -a --save-on-loop --executor 2 -s "$LOCAL_URL"
  assert_failure 2
  assert_output --partial "--save-on-loop and --executor"
  run "$BIN/threadpool" flags -a --save-on-loop -s "$LOCAL_URL"
  assert_failure 2
  assert_output --partial "--save-on-loop is for the coroutine driver"
  run "$BIN/$DRIVER" --help
  assert_success
  assert_output --partial "--save-on-loop"
}
