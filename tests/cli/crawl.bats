#!/usr/bin/env bats
# flagd's /site/: the site is deterministic and its manifest says what a crawl finds.

bats_require_minimum_version 1.5.0
load helpers

SEED=7
PAGES=200
FANOUT=4
DRIVERS="sequential threadpool processpool"

setup_file() {
  flagd_start --delay 20 --seed "$SEED" --site-pages "$PAGES" --site-fanout "$FANOUT"
}

teardown_file() {
  flagd_stop
}

setup() {
  cd "$BATS_TEST_TMPDIR"
}

# json FIELD: a field of the --json record in $output
json() { jq -r ".$1" <<<"$output"; }

# manifest LISTENER JQ: a field of that listener's /site/manifest.json
manifest() {
  local url=${1}_URL
  curl -fsS "${!url%/flags}/site/manifest.json" | jq -r "$2"
}

# counts RECORD: what every driver must agree on
counts() { jq -c '[.pages, .ok, .not_found, .errors, .links, .depth, .content_digest]' <<<"$1"; }

@test "flagd: the manifest lists every page with its depth and status, and 404 links" {
  run manifest LOCAL '.site | length'
  assert_output "$PAGES"
  run manifest LOCAL '.site[0] | "\(.path) \(.depth) \(.status)"'
  assert_output "/site/ 0 200"
  run manifest LOCAL '.max_depth'
  assert_output 4 # 1 + 4 + 16 + 64 = 85 < 200 pages < 341
  run manifest LOCAL '[.site[].status] | unique | join(",")'
  assert_output 200
  run manifest ERROR '[.site[] | select(.status >= 500)] | length'
  [ "$output" -gt 0 ] && [ "$output" -lt $((PAGES / 2)) ]
  run manifest LOCAL '.missing | length'
  [ "$output" -gt 0 ]
  # every page is served as the manifest says, a 404 link is 404
  local base=${LOCAL_URL%/flags}
  run curl -s -o /dev/null -w '%{http_code} %{content_type}' "$base$(manifest LOCAL '.site[37].path')"
  assert_output "200 text/html; charset=utf-8"
  run curl -s -o /dev/null -w '%{http_code}' "$base$(manifest LOCAL '.missing[0].path')"
  assert_output 404
}

@test "flagd: the same --seed gives the same site, another seed another" {
  local out=$BATS_TEST_TMPDIR/second.out
  "$BIN/flagd" --port 0 --seed "$SEED" --site-pages "$PAGES" --site-fanout "$FANOUT" >"$out" 2>/dev/null 3>&- &
  local pid=$!
  wait_for "$out" '^flagd: ERROR'
  local other
  other=$(awk '$2 == "ERROR" { print $3; exit }' "$out")
  local a b
  a=$(curl -fsS "${ERROR_URL%/flags}/site/manifest.json" | sha256sum)
  b=$(curl -fsS "${other%/flags}/site/manifest.json" | sha256sum)
  [ "$a" = "$b" ]
  a=$(curl -fsS "${LOCAL_URL%/flags}/site/p1/p5/" | sha256sum)
  b=$(curl -fsS "${other%/flags}/site/p1/p5/" | sha256sum)
  kill "$pid"
  wait "$pid" || true
  [ "$a" = "$b" ]
  "$BIN/flagd" --port 0 --seed 8 --site-pages "$PAGES" --site-fanout "$FANOUT" >"$out.8" 2>/dev/null 3>&- &
  pid=$!
  wait_for "$out.8" '^flagd: ERROR'
  other=$(awk '$2 == "ERROR" { print $3; exit }' "$out.8")
  b=$(curl -fsS "${other%/flags}/site/manifest.json" | sha256sum)
  kill "$pid"
  wait "$pid" || true
  a=$(curl -fsS "${ERROR_URL%/flags}/site/manifest.json" | sha256sum)
  [ "$a" != "$b" ]
}

@test "flagd --site-plan lists what the ERROR listener's manifest lists" {
  run "$BIN/flagd" --site-plan --seed "$SEED" --site-pages "$PAGES" --site-fanout "$FANOUT"
  assert_success
  local want
  want=$(manifest ERROR '(.site + .missing)[] | "\(.path) \(.depth) \(.status)"')
  [ "$output" = "$want" ]
}

@test "flagd: --site-pages and --site-fanout are checked" {
  run "$BIN/flagd" --site-pages 0
  assert_failure 2
  run "$BIN/flagd" --site-pages 100001
  assert_failure 2
  run "$BIN/flagd" --site-fanout 1
  assert_failure 2
}
