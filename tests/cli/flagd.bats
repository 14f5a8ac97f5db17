#!/usr/bin/env bats
# bin/flagd: the book's URLs, both root layouts, delays, a deterministic ERROR listener,
# /stats, refusal of every path trick, options, signals, and thousands of waiting clients.

bats_require_minimum_version 1.5.0 # run --separate-stderr, run !
load helpers

ROOT=/usr/share/flags/countries/16x11
SEED=7

setup() {
  flagd_start --delay 20 --seed "$SEED"
  cd "$BATS_TEST_TMPDIR"
}

teardown() {
  flagd_stop
}

# status_of URL [curl options]: the HTTP status, or 000 when there was none
status_of() {
  local url=$1
  shift
  curl -s -o /dev/null -w '%{http_code}' "$@" "$url"
}

# assert_4xx CODE WHAT
assert_4xx() {
  [[ $1 =~ ^4[0-9][0-9]$ ]] || fail "$2: expected a 4xx status, got '$1'"
}

# book_root DIR CC...: DIR/cc/cc.gif for each code, copied from the system root
book_root() {
  local dir=$1 cc
  shift
  for cc in "$@"; do
    mkdir -p "$dir/$cc"
    cp "$ROOT/$cc.gif" "$dir/$cc/$cc.gif"
  done
}

@test "LOCAL serves a gif byte-equal to the root's, as image/gif" {
  run curl -fsS -o br.gif -w '%{content_type}' "$LOCAL_URL/br/br.gif"
  assert_success
  assert_output "image/gif"
  cmp br.gif "$ROOT/br.gif"
}

@test "metadata.json is JSON naming the country from iso-codes: br is Brazil" {
  run curl -fsS -D headers "$LOCAL_URL/br/metadata.json"
  assert_success
  assert_output '{"country": "Brazil", "iso_cc": "BR"}'
  grep -qi '^content-type: application/json' headers
  [ "$(curl -fsS "$LOCAL_URL/cn/metadata.json" | jq -r .country)" = "China" ]
}

@test "HEAD answers GET's headers with the body's length and no body" {
  run curl -sS -I "$LOCAL_URL/br/br.gif"
  assert_success
  assert_line --partial "HTTP/1.1 200"
  assert_output --partial "Content-Length: $(stat -c %s "$ROOT/br.gif")"
  [ "$(curl -sS --head -o /dev/null -w '%{size_download}' "$LOCAL_URL/br/br.gif")" -eq 0 ]
}

@test "ss (no flag in the root) and zz are 404 for gif and metadata on every listener" {
  for base in "$LOCAL_URL" "$DELAY_URL" "$ERROR_URL"; do
    for cc in ss zz; do
      [ "$(status_of "$base/$cc/$cc.gif")" = 404 ]
      [ "$(status_of "$base/$cc/metadata.json")" = 404 ]
    done
  done
}

@test "a book-layout root serves its own metadata.json and builds the missing ones" {
  book_root book br cn
  echo '{"country": "Brasil", "iso_cc": "BR", "tld": "br"}' >book/br/metadata.json
  flagd_start --root "$BATS_TEST_TMPDIR/book"
  curl -fsS -o got.gif "$LOCAL_URL/cn/cn.gif"
  cmp got.gif "$ROOT/cn.gif"
  [ "$(curl -fsS "$LOCAL_URL/br/metadata.json" | jq -r .country)" = "Brasil" ]
  [ "$(curl -fsS "$LOCAL_URL/cn/metadata.json" | jq -r .country)" = "China" ]
  [ "$(status_of "$LOCAL_URL/id/id.gif")" = 404 ]
  run "$BIN/flagd" --plan --root book
  assert_success
  assert_line --index 0 --regexp '^BR '
  assert_line --index 1 --regexp '^CN '
  [ "${#lines[@]}" -eq 2 ]
}

@test "a flat root serves cc.gif, with metadata from iso-codes or the code itself" {
  mkdir flat
  cp "$ROOT/br.gif" "$ROOT/fr.gif" flat/
  cp "$ROOT/br.gif" flat/qz.gif # no such ISO country
  flagd_start --root "$BATS_TEST_TMPDIR/flat"
  curl -fsS -o got.gif "$LOCAL_URL/fr/fr.gif"
  cmp got.gif "$ROOT/fr.gif"
  [ "$(curl -fsS "$LOCAL_URL/fr/metadata.json" | jq -r .country)" = "France" ]
  [ "$(curl -fsS "$LOCAL_URL/qz/metadata.json" | jq -c .)" = '{"country":"QZ","iso_cc":"QZ"}' ]
  [ "$(status_of "$LOCAL_URL/cn/cn.gif")" = 404 ]
}

@test "DELAY answers no sooner than --delay 300 ms, with the same file" {
  flagd_start --delay 300
  run curl -fsS -o delayed.gif -w '%{time_total}' "$DELAY_URL/br/br.gif"
  assert_success
  awk -v t="$output" 'BEGIN { exit !(t >= 0.300) }' || fail "answered after $output s"
  cmp delayed.gif "$ROOT/br.gif"
}

@test "ERROR answers every code of the plan with the plan's status; metadata shares it" {
  plan=$("$BIN/flagd" --plan --seed "$SEED" --delay 20)
  [ "$(wc -l <<<"$plan")" -eq "$(ls "$ROOT" | grep -cE '^[a-z]{2}\.gif$')" ]
  : >urls
  while read -r cc _; do
    lc=${cc,,}
    printf 'url = "%s/%s/%s.gif"\noutput = /dev/null\n' "$ERROR_URL" "$lc" "$lc" >>urls
    printf 'url = "%s/%s/metadata.json"\noutput = /dev/null\n' "$ERROR_URL" "$lc" >>urls
  done <<<"$plan"
  curl -s --parallel --parallel-max 50 -K urls -w '%{url_effective} %{http_code}\n' >got
  # "http://…/flags/br/br.gif 503" → "BR 503"
  expected=$(awk '{ print $1, $2 }' <<<"$plan")
  gifs=$(grep '\.gif ' got | sed -E 's|.*/flags/([a-z]{2})/[a-z]{2}\.gif |\1 |' | sort |
         awk '{ print toupper($1), $2 }')
  metas=$(grep 'metadata.json ' got | sed -E 's|.*/flags/([a-z]{2})/metadata.json |\1 |' |
          sort | awk '{ print toupper($1), $2 }')
  diff <(echo "$expected") <(echo "$gifs")
  diff <(echo "$expected") <(echo "$metas")
  grep -qE ' 50[023]$' <<<"$expected"
  grep -qE ' 200$' <<<"$expected"
}

@test "--plan is CC STATUS DELAY_MS, the same for the same seed, another for another seed" {
  run "$BIN/flagd" --plan --seed 11 --delay 100-300
  assert_success
  first=$output
  for line in "${lines[@]}"; do
    [[ $line =~ ^[A-Z]{2}\ (200|500|502|503)\ ([0-9]+)$ ]] || fail "bad plan line '$line'"
    d=${BASH_REMATCH[2]}
    [ "$d" -eq 0 ] || { [ "$d" -ge 100 ] && [ "$d" -le 300 ]; } || fail "delay out of range: '$line'"
  done
  run "$BIN/flagd" --plan --seed 11 --delay 100-300
  [ "$output" = "$first" ]
  run "$BIN/flagd" --plan --seed 12 --delay 100-300
  [ "$output" != "$first" ]
  # the extremes of --error-rate
  [ "$("$BIN/flagd" --plan --error-rate 0 | awk '$2 != 200' | wc -l)" -eq 0 ]
  [ "$("$BIN/flagd" --plan --error-rate 1 | awk '$2 == 200' | wc -l)" -eq 0 ]
}

@test "ERROR's faults happen as --plan says: reset, half a body then close, half then silence" {
  rates=(--reset-rate 0.2 --truncate-rate 0.2 --stall-rate 0.2)
  flagd_start --seed "$SEED" --delay 20 --timeout 5 "${rates[@]}"
  plan=$("$BIN/flagd" --plan --seed "$SEED" --delay 20 "${rates[@]}")
  # without fault rates the plan is the same, less the fault words
  diff <("$BIN/flagd" --plan --seed "$SEED" --delay 20 | cut -d' ' -f1,3) \
       <(cut -d' ' -f1,3 <<<"$plan")
  pick() { awk -v f="$1" '$4 == f { print tolower($1); exit }' <<<"$plan"; }
  cc=$(pick reset)
  grep -qE "^${cc^^} 0 [0-9]+ reset$" <<<"$plan"
  run curl -sS -o /dev/null "$ERROR_URL/$cc/$cc.gif"
  assert_failure 56 # connection reset by peer
  cc=$(pick truncate)
  run curl -sS -o got -w '%{http_code}' "$ERROR_URL/$cc/$cc.gif"
  assert_failure 18 # transfer closed with bytes remaining
  assert_output --partial 200
  [ "$(stat -c %s got)" -eq $(($(stat -c %s "$ROOT/$cc.gif") / 2)) ]
  cc=$(pick stall)
  run curl -sS -m 1 -o got -w '%{http_code}' "$ERROR_URL/$cc/$cc.gif"
  assert_failure 28 # the rest never comes
  [ "$(stat -c %s got)" -eq $(($(stat -c %s "$ROOT/$cc.gif") / 2)) ]
  [ "$(flagd_stats | jq -c .faults)" = '{"reset":1,"truncate":1,"stall":1}' ]
  run cat "$FLAGD_OUT"
  assert_line --index 2 --partial "(error rate 0.25, reset 0.2, truncate 0.2, stall 0.2, half delayed, seed $SEED)"
}

@test "/stats counts answers by status, peaks at 5 for 5 concurrent DELAY requests, ?reset=1 zeroes" {
  flagd_start --delay 500
  curl -fsS "$LOCAL_URL/br/br.gif" -o /dev/null
  curl -sS "$LOCAL_URL/zz/zz.gif" -o /dev/null
  run flagd_stats
  assert_success
  [ "$(jq -c . <<<"$output")" = '{"requests":{"200":1,"404":1},"total":2,"in_flight":0,"max_in_flight":1,"faults":{"reset":0,"truncate":0,"stall":0}}' ]
  run flagd_stats '?reset=1'
  [ "$(jq .total <<<"$output")" -eq 2 ] # the counts before the reset
  run flagd_stats
  [ "$(jq -c 'del(.faults)' <<<"$output")" = '{"requests":{},"total":0,"in_flight":0,"max_in_flight":0}' ]

  run curl -sS --parallel --parallel-immediate --parallel-max 5 -w '%{http_code}\n' \
    -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
    "$DELAY_URL/br/br.gif" "$DELAY_URL/cn/cn.gif" "$DELAY_URL/in/in.gif" \
    "$DELAY_URL/us/us.gif" "$DELAY_URL/id/id.gif"
  assert_success
  [ "$(grep -c '^200$' <<<"$output")" -eq 5 ]
  run flagd_stats
  [ "$(jq '.requests["200"]' <<<"$output")" -eq 5 ]
  [ "$(jq .total <<<"$output")" -eq 5 ]
  [ "$(jq .in_flight <<<"$output")" -eq 0 ]
  [ "$(jq .max_in_flight <<<"$output")" -le 5 ]

  # the peak: answers held far longer than the test, so that all 5 are in flight at once
  # however slowly curl sends them
  flagd_start --delay "$HOLD_MS"
  curl -sS --parallel --parallel-immediate --parallel-max 5 -o /dev/null -o /dev/null \
    -o /dev/null -o /dev/null -o /dev/null "$DELAY_URL/br/br.gif" "$DELAY_URL/cn/cn.gif" \
    "$DELAY_URL/in/in.gif" "$DELAY_URL/us/us.gif" "$DELAY_URL/id/id.gif" 2>/dev/null 3>&- &
  client=$!
  wait_in_flight 5
  [ "$(flagd_stats | jq .max_in_flight)" -eq 5 ]
  flagd_stop
  wait "$client" || true
}

@test "traversal and encoding tricks get a 4xx and never a byte of the file" {
  for path in /flags/../../etc/passwd /flags/%2e%2e/%2e%2e/etc/passwd /flags/br%2fbr.gif \
              //etc/passwd /flags/br/../../../etc/passwd /flags/brr/brr.gif \
              /flags/br/br.gif%00 /flags/br/%2e%2e/%2e%2e/etc/passwd /flags/BR/BR.gif \
              "/flags/$(printf 'a%.0s' $(seq 300))" /flags/br/br.gif/ /flags/./br/br.gif \
              /flags/%2E%2E/%2E%2E/etc/passwd /flags/br%2Fbr.gif /flags/%252e%252e/etc/passwd \
              /flags//br/br.gif /flags/br/./br.gif /flags/br/br.gif/.. '/flags/..\..\etc\passwd' \
              /flags/%00/br.gif /flags/bra/bra.gif /flags/brbr/brbr.gif /flags/b/b.gif; do
    code=$(curl -s --path-as-is -o body -w '%{http_code}' "$FLAGD_BASE$path")
    assert_4xx "$code" "$path"
    ! grep -q 'root:' body || fail "$path leaked /etc/passwd"
  done
}

@test "a raw NUL byte in the request line gets a 4xx and never a byte of a file" {
  port=${FLAGD_BASE##*:}
  for target in '/flags/br/br.gif\0' '/flags/br\0/../../etc/passwd' '/flags/\0br/br.gif'; do
    # The request line alone, in one write: evhttp refuses it as soon as the line ends
    # and closes, and bytes it never read would turn that close into a reset.
    printf "GET $target HTTP/1.1\r\n" >request
    exec 5<>"/dev/tcp/127.0.0.1/$port"
    cat request >&5
    # flagd closes after a 4xx; timeout 5 only bounds a failure
    timeout 5 cat <&5 >reply || true
    exec 5<&-
    head -1 reply | grep -qE '^HTTP/1\.[01] 4[0-9][0-9] ' || fail "$target: $(head -1 reply)"
    ! grep -qa 'GIF8' reply || fail "$target: a gif was sent"
  done
}

@test "a symlink out of the root is refused with a warning; one inside it is served" {
  mkdir tree
  cp "$ROOT/br.gif" tree/
  ln -s /etc/passwd tree/xx.gif
  ln -s br.gif tree/zz.gif
  mkdir tree/yy && ln -s /etc/passwd tree/yy/yy.gif
  # a real gif outside the root, reached by a directory link and by a relative link
  mkdir -p outside/vv && cp "$ROOT/br.gif" outside/vv/vv.gif
  ln -s "$BATS_TEST_TMPDIR/outside/vv" tree/vv
  ln -s ../outside/vv/vv.gif tree/ww.gif
  flagd_start --root "$BATS_TEST_TMPDIR/tree"
  for cc in vv ww; do
    code=$(curl -s -o body -w '%{http_code}' "$LOCAL_URL/$cc/$cc.gif")
    assert_4xx "$code" "$cc.gif"
    ! cmp -s body "$ROOT/br.gif" || fail "$cc.gif served a file from outside the root"
    grep -q "$cc.gif: it resolves to $BATS_TEST_TMPDIR/outside/vv/vv.gif, outside the root" \
      "$FLAGD_ERR" || fail "no warning for $cc.gif: $(cat "$FLAGD_ERR")"
  done
  for cc in xx yy; do
    code=$(curl -s --path-as-is -o body -w '%{http_code}' "$LOCAL_URL/$cc/$cc.gif")
    assert_4xx "$code" "$cc.gif"
    ! grep -q 'root:' body || fail "$cc.gif leaked /etc/passwd"
  done
  grep -q "xx.gif: it resolves to /etc/passwd, outside the root" "$FLAGD_ERR"
  grep -q "yy.gif: it resolves to /etc/passwd, outside the root" "$FLAGD_ERR"
  curl -fsS -o got.gif "$LOCAL_URL/zz/zz.gif"
  cmp got.gif "$ROOT/br.gif"
}

@test "POST, PUT and DELETE are 405 with Allow: GET, HEAD" {
  for m in POST PUT DELETE; do
    run curl -sS -X "$m" -D - -o /dev/null "$LOCAL_URL/br/br.gif"
    assert_line --partial "HTTP/1.1 405"
    assert_output --partial "Allow: GET, HEAD"
  done
  [ "$(status_of "$FLAGD_BASE/stats" -X POST)" = 405 ]
}

# head_reply PORT HEADER...: send GET /flags/br/br.gif with these header lines on a raw
# connection; the reply lands in ./reply, and the call fails unless flagd then closes
# (timeout 5 only bounds a failure).
head_reply() {
  local port=$1 h
  shift
  { printf 'GET /flags/br/br.gif HTTP/1.1\r\nHost: x\r\n'
    for h in "$@"; do printf '%s\r\n' "$h"; done
    printf '\r\n'; } >request
  exec 5<>"/dev/tcp/127.0.0.1/$port"
  # cat, not the shell, takes the EPIPE when flagd closes before reading everything
  cat request >&5 || true
  local rc=0
  timeout 5 cat <&5 >reply || rc=$?
  exec 5<&-
  return "$rc"
}

@test "a 10 KiB header is refused with 431 and the connection closes; 7 KiB is served" {
  big=$(head -c 10240 /dev/zero | tr '\0' a)
  [ "$(status_of "$LOCAL_URL/br/br.gif" -H "X-Big: $big")" = 431 ]
  port=${FLAGD_BASE##*:}
  head_reply "$port" "X-Big: $big"
  head -1 reply | grep -q '^HTTP/1.1 431 Request Header Fields Too Large' || fail "$(cat reply)"
  grep -qi '^connection: close' reply
  # the limit is on all header lines together: four of 2.5 KiB are too many
  quarter=$(head -c 2560 /dev/zero | tr '\0' b)
  head_reply "$port" "X-A: $quarter" "X-B: $quarter" "X-C: $quarter" "X-D: $quarter"
  head -1 reply | grep -q '^HTTP/1.1 431 ' || fail "$(head -1 reply)"
  # under the limit is served
  ok=$(head -c 7168 /dev/zero | tr '\0' c)
  [ "$(status_of "$LOCAL_URL/br/br.gif" -H "X-Ok: $ok")" = 200 ]
  # far over evhttp's own 64 KiB cap, evhttp refuses and closes with bytes unread: a 4xx,
  # or a reset that loses it, never a gif
  huge=$(head -c 102400 /dev/zero | tr '\0' d)
  head_reply "$port" "X-Huge: $huge" || true
  [ ! -s reply ] || head -1 reply | grep -qE '^HTTP/1.1 4[0-9][0-9] ' || fail "$(head -1 reply)"
  [ "$(status_of "$LOCAL_URL/br/br.gif")" = 200 ] # and flagd is still fine
  [ "$(flagd_stats | jq '.requests["431"]')" -eq 3 ]
}

@test "an idle connection is closed after --timeout" {
  flagd_start --timeout 1
  port=${FLAGD_BASE##*:}
  exec 5<>"/dev/tcp/127.0.0.1/$port"
  # cat ends at flagd's EOF; timeout 10 only bounds a failure
  run timeout 10 cat <&5
  exec 5<&-
  assert_success
}

@test "a delay longer than --timeout is still answered" {
  flagd_start --timeout 1 --delay 1500
  [ "$(status_of "$DELAY_URL/br/br.gif")" = 200 ]
}

@test "ready lines show the delay range, error rate and seed" {
  flagd_start --delay 100-300 --error-rate 0.5 --seed 42
  run cat "$FLAGD_OUT"
  assert_line --index 0 --regexp '^flagd: LOCAL http://127\.0\.0\.1:[0-9]+/flags \(no delay\)$'
  assert_line --index 1 --regexp '^flagd: DELAY http://127\.0\.0\.1:[0-9]+/flags \(delay 100-300 ms\)$'
  assert_line --index 2 --regexp '^flagd: ERROR http://127\.0\.0\.1:[0-9]+/flags \(error rate 0\.5, half delayed, seed 42\)$'
  [ "${#lines[@]}" -eq 3 ]
}

@test "--port already in use is exit 1 with one line" {
  port=${FLAGD_BASE##*:}
  run "$BIN/flagd" --port "$port"
  assert_failure 1
  [ "${#lines[@]}" -eq 1 ]
  assert_output "flagd: cannot listen on 127.0.0.1:$port: Address already in use"
}

@test "bad values are exit 2 with one line naming the value, then usage, on stderr" {
  run --separate-stderr "$BIN/flagd" --delay abc
  assert_failure 2
  [ -z "$output" ]
  [ "${stderr_lines[0]}" = "flagd: bad value for --delay: 'abc'" ]
  grep -q '^usage: flagd' <<<"$stderr"
  for args in "--delay 5-2" "--delay -1" "--delay 1-" "--delay 9999999" "--error-rate 1.5" \
              "--error-rate x" "--reset-rate 2" "--stall-rate -0.1" "--seed -1" "--seed 1x" "--port 70000" "--port" "--timeout 0" \
              "--frobnicate" "extra"; do
    run --separate-stderr "$BIN/flagd" $args
    assert_failure 2
    [[ ${stderr_lines[0]} =~ ^flagd:\ (bad\ value|unknown\ option|option|unexpected) ]] ||
      fail "$args: first line '${stderr_lines[0]}'"
    grep -q '^usage: flagd' <<<"$stderr"
  done
}

@test "--help prints usage on stdout and exits 0" {
  run --separate-stderr "$BIN/flagd" --help
  assert_success
  assert_line --index 0 --partial "usage: flagd"
  [ -z "$stderr" ]
}

@test "a root without flags is exit 1 with one line" {
  mkdir empty
  run "$BIN/flagd" --port 0 --root empty
  assert_failure 1
  [ "${#lines[@]}" -eq 1 ]
  assert_output --partial "no flags in empty"
}

@test "SIGTERM and SIGINT stop flagd with exit 0, also with delayed answers pending" {
  flagd_start --delay 5000
  curl -s -o /dev/null "$DELAY_URL/br/br.gif" 3>&- &
  client=$!
  for _ in $(seq 250); do
    [ "$(flagd_stats | jq .in_flight)" -eq 1 ] && break
    sleep 0.02
  done
  [ "$(flagd_stats | jq .in_flight)" -eq 1 ]
  flagd_stop
  [ "$FLAGD_STATUS" -eq 0 ]
  wait "$client" || true

  flagd_start
  kill -INT "$FLAGD_PID"
  rc=0
  wait "$FLAGD_PID" || rc=$?
  FLAGD_PID=
  [ "$rc" -eq 0 ]
}

# curls_start N: N GETs of DELAY flags (codes of the plan, round robin) from 7 curl processes
# of up to 300 transfers each (curl 7.88 caps --parallel-max at 300), in the background;
# CURL_PIDS, and each answer's status in codes0..codes6
curls_start() {
  local part
  rm -f part[0-6]
  "$BIN/flagd" --plan | awk -v n="$1" -v url="$DELAY_URL" '
    { cc[k++] = tolower($1) }
    END { for (i = 0; i < n; i++) {
            c = cc[i % k]
            printf "url = \"%s/%s/%s.gif\"\noutput = /dev/null\n", url, c, c > ("part" (i % 7))
          } }'
  CURL_PIDS=()
  for part in 0 1 2 3 4 5 6; do
    curl -s --parallel --parallel-immediate --parallel-max 300 --max-time 60 \
      -K "part$part" -w '%{http_code}\n' >"codes$part" 3>&- &
    CURL_PIDS+=($!)
  done
}

@test "2000 concurrent DELAY requests: flagd holds all 2000 at once, and answers every one 200" {
  # held far longer than the test: all 2000 are in flight at once however slowly they come
  flagd_start --delay "$HOLD_MS"
  curls_start 2000
  wait_in_flight 2000
  [ "$(flagd_stats | jq .max_in_flight)" -eq 2000 ]
  flagd_stop
  for p in "${CURL_PIDS[@]}"; do wait "$p" || true; done

  flagd_start --delay 1000
  curls_start 2000
  for p in "${CURL_PIDS[@]}"; do wait "$p"; done
  [ "$(cat codes* | grep -c '^200$')" -eq 2000 ]
  run flagd_stats
  [ "$(jq .total <<<"$output")" -eq 2000 ]
  [ "$(jq .in_flight <<<"$output")" -eq 0 ]
  [ "$(jq .max_in_flight <<<"$output")" -le 2000 ] || fail "max_in_flight: $output"
}
