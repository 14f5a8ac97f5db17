#!/usr/bin/env bats
# Two hosts, really (issue 15): flagd in one network namespace, every driver and
# `concbench run --server` in another, the two joined by a veth pair, so that every request
# leaves one network stack and arrives at another (as from a second machine), over IPv4
# and IPv6. Counts, content digests and saved files must equal those on loopback.
# Root only (ip netns); skipped with one line otherwise. Each test makes its own pair of
# namespaces and teardown removes them, whatever happened (docs/two-hosts.md).

load helpers

SEED=11
DRIVERS="sequential threadpool processpool coroutine"
NET_TIMEOUT_S=120 # any one command across the namespaces, at most: a failure, never a pass
V4_SERVER=10.199.15.1
V4_CLIENT=10.199.15.2
V6_SERVER=fd00:cb:15::1
V6_CLIENT=fd00:cb:15::2
RUNS_LIST=("LOCAL:-a" "ERROR:-a" "LOCAL:-a --meta") # LISTENER:ARGS, each run by every driver

# loop_dir DRIVER LISTENER ARGS...: where setup_file keeps a driver's run on loopback
loop_dir() {
  local d=$1
  shift
  echo "$BATS_FILE_TMPDIR/loop/$d/$(ref_key "$@")"
}

# every driver, every run of RUNS_LIST, on loopback: the reference each two-host run must equal
setup_file() {
  [ "$(id -u)" -eq 0 ] || return 0
  ref_flagd_start --delay 5 --seed "$SEED"
  local d r l args url dir
  for d in $DRIVERS; do
    for r in "${RUNS_LIST[@]}"; do
      l=${r%%:*} args=${r#*:}
      url=REF_${l}_URL
      # shellcheck disable=SC2086 # args is a list of words
      dir=$(loop_dir "$d" "$l" $args)
      mkdir -p "$dir"
      # shellcheck disable=SC2086
      timeout "$NET_TIMEOUT_S" "$BIN/$d" flags $args -s "${!url}" -o "$dir/files" --json \
        >"$dir/record.json" 2>"$dir/stderr" || fail "loopback: $d flags $args -s $l failed: $(cat "$dir/stderr")"
    done
  done
  timeout "$NET_TIMEOUT_S" "$BIN/concbench" run --server "$REF_LOCAL_URL" --workload flags --runs 1 \
    --warmup 0 --out "$BATS_FILE_TMPDIR/loop/bench" -- -l 30 >"$BATS_FILE_TMPDIR/loop/bench.log" 2>&1 ||
    fail "loopback: concbench run failed: $(tail -5 "$BATS_FILE_TMPDIR/loop/bench.log")"
  flagd_stop
}

setup() {
  [ "$(id -u)" -eq 0 ] || skip "two hosts: network namespaces need root (ip netns); CI runs as root"
  command -v ip >/dev/null || skip "two hosts: iproute2's ip is not installed"
  cd "$BATS_TEST_TMPDIR"
  # unique names: files and tests run side by side; the veth ends live only inside them
  NS_SERVER=cb15s-$$-$BATS_TEST_NUMBER
  NS_CLIENT=cb15c-$$-$BATS_TEST_NUMBER
  ip netns add "$NS_SERVER" 2>ns.err || skip "two hosts: ip netns add failed: $(cat ns.err)"
  ip netns add "$NS_CLIENT"
  ip link add veth-s netns "$NS_SERVER" type veth peer name veth-c netns "$NS_CLIENT"
  ip -n "$NS_SERVER" addr add "$V4_SERVER/24" dev veth-s
  ip -n "$NS_CLIENT" addr add "$V4_CLIENT/24" dev veth-c
  ip -n "$NS_SERVER" addr add "$V6_SERVER/64" dev veth-s nodad
  ip -n "$NS_CLIENT" addr add "$V6_CLIENT/64" dev veth-c nodad
  for ns in "$NS_SERVER" "$NS_CLIENT"; do
    ip -n "$ns" link set lo up
  done
  ip -n "$NS_SERVER" link set veth-s up
  ip -n "$NS_CLIENT" link set veth-c up
  # flagd in the server's namespace, through helpers' flagd_start: its $BIN/flagd is this
  # wrapper, which execs into the real one (so FLAGD_PID is flagd's own)
  mkdir -p nsbin
  printf '#!/bin/sh\nexec ip netns exec %s %s/flagd "$@"\n' "$NS_SERVER" "$BIN" >nsbin/flagd
  chmod +x nsbin/flagd
}

teardown() {
  flagd_stop
  local ns pid
  for ns in "${NS_SERVER:-}" "${NS_CLIENT:-}"; do
    [ -n "$ns" ] && [ -e "/run/netns/$ns" ] || continue
    # whatever still runs in it (a driver cut short by a failure), then the namespace: its
    # veth end goes with it, and the peer with that
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill -KILL "$pid" 2>/dev/null || true
    done
    ip netns del "$ns" 2>/dev/null || true
  done
}

# in_client CMD...: CMD in the client's namespace, bounded in time
in_client() { timeout "$NET_TIMEOUT_S" ip netns exec "$NS_CLIENT" "$@"; }

# ns_flagd_start ADDR: flagd listening on ADDR in the server's namespace
ns_flagd_start() {
  BIN=$BATS_TEST_TMPDIR/nsbin flagd_start --bind "$1" --delay 5 --seed "$SEED"
}

# counts RECORD-FILE: what must match
counts() { jq -c '[.items, .ok, .not_found, .errors, .content_digest]' "$1"; }

# every_driver_as_on_loopback: every driver, every run of RUNS_LIST, from the client's
# namespace against the flagd just started: counts, content digest and files as on loopback
every_driver_as_on_loopback() {
  local d r l args url ref
  for d in $DRIVERS; do
    for r in "${RUNS_LIST[@]}"; do
      l=${r%%:*} args=${r#*:}
      url=${l}_URL
      # shellcheck disable=SC2086 # args is a list of words
      ref=$(loop_dir "$d" "$l" $args)
      rm -rf out
      # shellcheck disable=SC2086
      in_client "$BIN/$d" flags $args -s "${!url}" -o out --json >record.json 2>stderr ||
        fail "$d flags $args -s ${!url} failed: $(cat stderr)"
      [ "$(counts record.json)" = "$(counts "$ref/record.json")" ] ||
        fail "$d flags $args -s $l: $(counts record.json) across the veth, $(counts "$ref/record.json") on loopback"
      # and as sequential's on loopback: every driver agrees
      [ "$(counts record.json)" = "$(counts "$(loop_dir sequential "$l" $args)/record.json")" ]
      diff -r "$ref/files" out
    done
  done
}

@test "IPv4 across a veth pair: flagd --bind in one namespace, every driver in another, as on loopback" {
  ns_flagd_start "$V4_SERVER"
  [[ $LOCAL_URL == "http://$V4_SERVER:"*"/flags" ]]
  # nothing on the client's side answers for the server's address but the veth: loopback
  # there has no flagd, so a request that did not cross would fail
  every_driver_as_on_loopback
}

@test "IPv6 across a veth pair: flagd --bind to a v6 address, every driver with -s http://[addr]:port" {
  ns_flagd_start "$V6_SERVER"
  [[ $LOCAL_URL == "http://[$V6_SERVER]:"*"/flags" ]]
  every_driver_as_on_loopback
}

@test "concbench run --server across a veth pair: every row validated, the same counts as on loopback" {
  ns_flagd_start "$V4_SERVER"
  run in_client "$BIN/concbench" run --server "$LOCAL_URL" --workload flags --runs 1 --warmup 0 \
    --out out -- -l 30
  assert_success
  refute_output --partial MISMATCH
  # driver, counts and verdict of every row, as on loopback
  rows() {
    local f=$1 cols
    cols=$(head -1 "$f" | tr ',' '\n' | grep -nxE 'driver|concurrency|ok|not_found|errors|verdict' | cut -d: -f1 | paste -sd,)
    tail -n +2 "$f" | cut -d, -f"$cols" | sort
  }
  [ -n "$(rows out/latest.csv)" ]
  diff <(rows out/latest.csv) <(rows "$BATS_FILE_TMPDIR/loop/bench/latest.csv")
  v=$(head -1 out/latest.csv | tr ',' '\n' | grep -nx verdict | cut -d: -f1)
  [ -z "$(tail -n +2 out/latest.csv | cut -d, -f"$v" | grep -vxE 'reference|ok')" ]
}
