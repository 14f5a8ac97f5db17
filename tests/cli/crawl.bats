#!/usr/bin/env bats
# The crawl workload against flagd's /site/: flagd's site is deterministic and its manifest
# says what a crawl finds; every driver finds what bin/sequential finds (counts and content
# digest) on LOCAL, DELAY and ERROR; bad input, other schemes, --max-pages, --max-depth and
# link cycles end cleanly with counts that add up.

bats_require_minimum_version 1.5.0
load helpers

SEED=7
PAGES=200
FANOUT=4
DRIVERS="sequential threadpool processpool coroutine"

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

@test "every driver finds what sequential finds, and what the manifest says, on LOCAL, DELAY and ERROR" {
  for listener in LOCAL DELAY ERROR; do
    local url=${listener}_URL ref
    run "$BIN/sequential" crawl -s "${!url}" --json
    assert_success
    ref=$(counts "$output")
    [ "$(json pages)" = "$(manifest "$listener" .crawl.pages)" ]
    [ "$(json not_found)" = "$(manifest "$listener" .crawl.not_found)" ]
    [ "$(json errors)" = "$(manifest "$listener" .crawl.errors)" ]
    [ "$(json links)" = "$(manifest "$listener" .crawl.links)" ]
    [ "$(json pages)" = "$(($(json ok) + $(json not_found) + $(json errors)))" ]
    for d in threadpool processpool coroutine; do
      run "$BIN/$d" crawl -s "${!url}" -m 8 --json
      assert_success
      [ "$(counts "$output")" = "$ref" ] || fail "$d on $listener: $(counts "$output"), sequential $ref"
      [ "$(json max_in_flight)" -le 8 ]
    done
  done
}

@test "the summary is the book's line, then the elapsed time" {
  run "$BIN/sequential" crawl -s "$LOCAL_URL"
  assert_success
  local pages nf
  pages=$(manifest LOCAL .crawl.pages)
  nf=$(manifest LOCAL .crawl.not_found)
  assert_line --regexp "^$pages pages\. $nf not found\. 0 errors\. [0-9]+ links seen\.$"
  assert_line --regexp '^Elapsed time: [0-9.]+s$'
}

@test "bad input is an error for its URL with the reason; other schemes are skipped and counted; redirect loops end" {
  for d in $DRIVERS; do
    run "$BIN/$d" crawl -s "$LOCAL_URL" -m 4 --json /site/odd/
    assert_success
    # /site/odd/ and the 9 pages it reaches: broken.html, deep.html, loop, r1, r2 are fine
    [ "$(json pages)" = 10 ] || fail "$d: $output"
    [ "$(json not_found)" = 1 ]
    [ "$(json errors)" = 3 ]
    [ "$(json other_schemes)" = 3 ]
    [ "$(json offsite)" = 1 ]
    [ "$(json links)" = 19 ]
    [ "$(jq -r '.error_reasons["not HTML: image/gif"]' <<<"$output")" = 1 ]
    [ "$(jq -r '.error_reasons["body over 1048576 bytes"]' <<<"$output")" = 1 ]
    [ "$(jq -r '.error_reasons | keys[]' <<<"$output" | grep -c '^malformed HTML: a NUL byte')" = 1 ]
  done
  # a larger --max-body lets huge.html through: it parses, and has no links
  run "$BIN/sequential" crawl -s "$LOCAL_URL" --max-body 4M --json /site/odd/
  assert_success
  [ "$(json errors)" = 2 ]
}

@test "--max-pages stops the crawl cleanly and the counts add up" {
  for d in $DRIVERS; do
    run "$BIN/$d" crawl -s "$ERROR_URL" -m 4 --max-pages 50 --json
    assert_success
    [ "$(json pages)" = 50 ] || fail "$d: $output"
    [ "$(json done)" = 50 ]
    [ "$(($(json ok) + $(json not_found) + $(json errors)))" = 50 ]
    [ "$(json past_max_pages)" -gt 0 ]
  done
  run "$BIN/sequential" crawl -s "$LOCAL_URL" --max-pages 1
  assert_success
  assert_line --regexp '^1 pages\. 0 not found\. 0 errors\.'
}

@test "--max-depth bounds the distance from the start, the same for every driver" {
  run "$BIN/sequential" crawl -s "$LOCAL_URL" --max-depth 2 --json
  assert_success
  local ref
  ref=$(counts "$output")
  [ "$(json depth)" = 2 ]
  local want
  want=$(manifest LOCAL '([.site[] | select(.depth <= 2)] | length) + ([.missing[] | select(.depth <= 2)] | length)')
  [ "$(json pages)" = "$want" ]
  for d in threadpool processpool coroutine; do
    run "$BIN/$d" crawl -s "$LOCAL_URL" -m 6 --max-depth 2 --json
    assert_success
    [ "$(counts "$output")" = "$ref" ]
  done
}

@test "links up, sideways and twice are fetched once: each URL once, and the crawl ends" {
  run bash -c "'$BIN/sequential' crawl -s '$LOCAL_URL' -v 2>&1 >/dev/null | awk '{ print \$1 }' | sort | uniq -d | wc -l"
  assert_success
  assert_output 0
}

@test "the coroutine driver crawls with its blocking step (parsing) inline or on --executor threads" {
  run "$BIN/coroutine" crawl -s "$ERROR_URL" -m 16 --json
  assert_success
  local ref=$output
  run "$BIN/coroutine" crawl -s "$ERROR_URL" -m 16 --executor 2 --json
  assert_success
  [ "$(counts "$output")" = "$(counts "$ref")" ]
  [ "$(json max_in_flight)" -le 16 ]
}

@test "bad usage is exit 2" {
  run "$BIN/sequential" crawl -s "$LOCAL_URL" /site/ /site/odd/
  assert_failure 2
  run "$BIN/sequential" crawl --max-pages 0
  assert_failure 2
  run "$BIN/sequential" crawl --max-depth -1
  assert_failure 2
}

@test "an unreachable server is exit 1, not a crawl of errors" {
  run "$BIN/sequential" crawl -s http://127.0.0.1:1/flags
  assert_failure 1
  assert_output --partial "cannot reach"
}
