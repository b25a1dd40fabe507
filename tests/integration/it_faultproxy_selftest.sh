#!/usr/bin/env bash
# Self-test of tests/fixtures/faultproxy in front of the real server named by the env
# (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; run through run-with-server).
# curl signs with SigV4 for the proxy's host:port; the strict server must accept that.
# Checks: byte-exact pass-through with keep-alive, SlowDown/other statuses with S3 XML bodies,
# refused uploads with and without Expect: 100-continue, resets and stalls cutting bodies at
# exact offsets, dropped Range headers (re-signed when signed), replaced ETags, flipped body
# bytes, delays, body rate limits, repeated listing tokens, counters, SIGTERM; awscli and
# s3dlio-mpi through the proxy when present. curl 7.88 signs the query as written: keep it sorted.
# Prints "N passed, M failed"; stops its proxy on exit.
set -uo pipefail
export AWS_EC2_METADATA_DISABLED=true
: "${AWS_ENDPOINT_URL:?run through tests/integration/run-with-server}"
: "${AWS_ACCESS_KEY_ID:?}" "${AWS_SECRET_ACCESS_KEY:?}"
FP=$(cd "$(dirname "$0")/../fixtures" && pwd)/faultproxy
REGION=${AWS_REGION:-us-east-1}
command -v python3 >/dev/null || { echo "python3 not installed"; exit 77; }
curl --help all 2>/dev/null | grep -q -- --aws-sigv4 || { echo "curl lacks --aws-sigv4 (needs 7.75)"; exit 77; }

PASSED=0
FAILED=0
WORK=$(mktemp -d -t s3dlio-fp.XXXXXX)
STATE=$WORK/fp
B=it-faultproxy-$$-$RANDOM
KEYS=()
# --max-time: a dead server fails the test instead of hanging it (options given later win)
C=(curl -sS --max-time 120 --aws-sigv4 "aws:amz:$REGION:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"
   -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD')
W='%{http_code} %{num_connects} %{size_download} %{exitcode}\n'

cleanup() {
  "$FP" --stop --state-dir "$STATE" >/dev/null 2>&1
  [ -n "${FG_PID:-}" ] && kill -TERM "$FG_PID" 2>/dev/null
  local k
  for k in "${KEYS[@]:-}"; do
    [ -n "$k" ] && "${C[@]}" --max-time 10 -o /dev/null -X DELETE "$AWS_ENDPOINT_URL/$B/$k" 2>/dev/null
  done
  "${C[@]}" --max-time 10 -o /dev/null -X DELETE "$AWS_ENDPOINT_URL/$B" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

ok() { PASSED=$((PASSED + 1)); }
bad() { FAILED=$((FAILED + 1)); echo "FAIL: $*" >&2; }
# eq NAME GOT WANT
eq() { if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi; }
same() { if cmp -s "$2" "$3"; then ok; else bad "$1: $(cmp "$2" "$3" 2>&1 | head -1)"; fi; }
# prefix NAME FILE REF BYTES: FILE is exactly the first BYTES of REF
prefix() {
  eq "$1 (size)" "$(stat -c %s "$2" 2>/dev/null)" "$4"
  if cmp -s -n "$4" "$2" "$3"; then ok; else bad "$1: not a prefix of the object"; fi
}
# proxy OPTIONS...: (re)start the daemon proxy; sets FAULTPROXY_URL
proxy() {
  "$FP" --stop --state-dir "$STATE" >/dev/null 2>&1
  if ! "$FP" --upstream "$AWS_ENDPOINT_URL" --state-dir "$STATE" --daemon --watch-pid $$ "$@" \
    >"$WORK/fp.out" 2>"$WORK/fp.err"; then
    bad "proxy $*: did not start: $(tail -5 "$WORK/fp.err")"
    return 1
  fi
  . "$STATE/faultproxy.env"
  P=$FAULTPROXY_URL
}
# stats KEY...: the final counters of the last proxy (stops it first; stop writes them on exit)
stats() {
  "$FP" --stop --state-dir "$STATE" >/dev/null 2>&1
  python3 - "$STATE/faultproxy.stats.json" "$@" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
out = []
for k in sys.argv[2:]:
    v = d
    for part in k.split("."):
        v = v[part]
    out.append(str(v))
print(" ".join(out))
EOF
}
# secs NAME CURL_TIME MIN: curl's %{time_total} is at least MIN seconds
secs() { if awk "BEGIN { exit !($2 >= $3) }"; then ok; else bad "$1: took $2 s, want >= $3 s"; fi; }
xml() { # xml CODE N: the body faultproxy sends for S3 error CODE on request N
  printf '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message><RequestId>faultproxy-%s</RequestId></Error>' "$1" "$2" "$3"
}

head -c $((10 << 20)) /dev/urandom >"$WORK/obj10"
head -c 1000 /dev/urandom >"$WORK/small"
MiB5=$((5 << 20))

# ---- pass-through ---------------------------------------------------------------------------
proxy || { echo "0 passed, 1 failed"; exit 1; }
eq "env file URL" "$(cat "$WORK/fp.out")" "$P"
[ -s "$STATE/faultproxy.pid" ] && kill -0 "$(cat "$STATE/faultproxy.pid")" 2>/dev/null && ok || bad "pid file"
eq "create bucket" "$("${C[@]}" -o /dev/null -w '%{http_code}' -X PUT "$P/$B")" 200
eq "put 10 MiB" "$("${C[@]}" -o /dev/null -w '%{http_code}' -T "$WORK/obj10" "$P/$B/obj10")" 200
KEYS+=(obj10)
args=()
for i in 1 2 3 4; do args+=("$P/$B/obj10" -o "$WORK/g$i"); done
out=$("${C[@]}" -w "$W" "${args[@]}")
eq "4 GETs on one connection" "$(echo "$out" | tr '\n' ,)" \
  "200 1 10485760 0,200 0 10485760 0,200 0 10485760 0,200 0 10485760 0,"
for i in 1 2 3 4; do same "GET $i byte-exact" "$WORK/g$i" "$WORK/obj10"; done
eq "ranged GET" "$("${C[@]}" -r 1000-1999 -o "$WORK/range" -w '%{http_code}' "$P/$B/obj10")" 206
cmp -s "$WORK/range" <(tail -c +1001 "$WORK/obj10" | head -c 1000) && ok || bad "ranged GET bytes"
eq "HEAD" "$("${C[@]}" -I -o /dev/null -w '%{http_code}' "$P/$B/obj10")" 200
"${C[@]}" -o "$WORK/list" "$P/$B?list-type=2" && grep -q '<Key>obj10</Key>' "$WORK/list" && ok ||
  bad "list through the proxy: $(head -c 300 "$WORK/list")"
if [ "${S3SERVER:-rgw}" = rgw ]; then  # the strict server checks what the proxy forwards
  out=$(curl -sS --max-time 60 --aws-sigv4 "aws:amz:$REGION:s3" --user "$AWS_ACCESS_KEY_ID:not-the-secret" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$P/$B/obj10")
  case $out in *SignatureDoesNotMatch*) ok ;; *) bad "wrong secret through the proxy: $out" ;; esac
fi
if [ -n "${S3DLIO_CLI:-}" ] && [ -x "$S3DLIO_CLI" ]; then
  "$S3DLIO_CLI" get -q --endpoint-url "$P" "s3://$B/obj10" "$WORK/cli" 2>"$WORK/cli.err"
  same "s3dlio-mpi get through the proxy ($(head -c 200 "$WORK/cli.err"))" "$WORK/cli" "$WORK/obj10"
fi
head -c $((32 << 20)) /dev/urandom >"$WORK/obj32"
"${C[@]}" -o /dev/null -T "$WORK/obj32" "$P/$B/obj32" && KEYS+=(obj32)
speed=$("${C[@]}" -o /dev/null -w '%{speed_download}' "$P/$B/obj32")
echo "info: pass-through GET of 32 MiB at $((${speed%.*} >> 20)) MiB/s"
rm -f "$WORK/obj32"
read -r seen fwd rest <<<"$(stats requests_seen requests_forwarded faults_total upstream_errors connections_open)"
eq "pass-through: all forwarded, no fault, no error, all closed" "$fwd $rest" "$seen 0 0 0"
# the per-second connection counts add up to the connections, from the first one on
eq "pass-through: connections per second sum to the connections" "$(python3 -c '
import json, sys; d = json.load(open(sys.argv[1]))
print(sum(d["connections_per_second"]) == d["connections"] > 0, d["first_connection_at"] >= d["started"],
      d["max_connections_open"] >= 1)' "$STATE/faultproxy.stats.json")" "True True True"
[ -e "$STATE/faultproxy.pid" ] || [ -e "$STATE/faultproxy.env" ] && bad "stop left state files" || ok

# ---- SlowDown every 3rd GET, keep-alive kept; other methods are not counted ---------------------
proxy --slowdown-every 3 --only GET
args=()
for i in 1 2 3 4 5 6; do args+=("$P/$B/obj10" -o "$WORK/s$i"); done
out=$("${C[@]}" -w "$W" "${args[@]}")
eq "slowdown codes, one connection" "$(echo "$out" | cut -d' ' -f1,2 | tr '\n' ,)" \
  "200 1,200 0,503 0,200 0,200 0,503 0,"
eq "SlowDown body" "$(cat "$WORK/s3")" "$(xml SlowDown 'Please reduce your request rate.' 3)"
eq "SlowDown body 2" "$(cat "$WORK/s6")" "$(xml SlowDown 'Please reduce your request rate.' 6)"
for i in 1 2 4 5; do same "GET $i between SlowDowns" "$WORK/s$i" "$WORK/obj10"; done
"${C[@]}" -D "$WORK/hdrs" -o /dev/null "$P/$B/obj10" -o /dev/null "$P/$B/obj10" -o /dev/null "$P/$B/obj10"
hdrs=$(tr -d '\r' <"$WORK/hdrs")
case $hdrs in
  *"503 Service Unavailable"*"x-amz-request-id: faultproxy-9"*"Content-Type: application/xml"*) ok ;;
  *) bad "SlowDown headers: $hdrs" ;;
esac
for i in 1 2 3; do  # HEAD is not a GET: passes, not counted
  eq "HEAD $i not counted" "$("${C[@]}" -I -o /dev/null -w '%{http_code}' "$P/$B/obj10")" 200
done
eq "slowdown counters" "$(stats requests_seen requests_matching faults.slowdown requests_forwarded)" "12 9 3 9"

# ---- a status on every 2nd PUT: refused bodies are read (no Expect) or the connection closes ----
proxy --status-every 2 --status 500 --only PUT
out=$("${C[@]}" -w "$W" -X PUT --data-binary @"$WORK/small" -o "$WORK/p1" "$P/$B/p1" \
  --next "${C[@]:1}" -w "$W" -X PUT --data-binary @"$WORK/small" -o "$WORK/p2" "$P/$B/p2" \
  --next "${C[@]:1}" -w "$W" -X PUT --data-binary @"$WORK/small" -o "$WORK/p3" "$P/$B/p3")
KEYS+=(p1 p2 p3)
eq "refused PUT without Expect keeps the connection" "$(echo "$out" | cut -d' ' -f1,2 | tr '\n' ,)" \
  "200 1,500 0,200 0,"
eq "500 body" "$(cat "$WORK/p2")" "$(xml InternalError 'We encountered an internal error. Please try again.' 2)"
eq "refused PUT was not forwarded" "$("${C[@]}" -I -o /dev/null -w '%{http_code}' "$AWS_ENDPOINT_URL/$B/p2")" 404
# curl -T sends Expect: 100-continue; the refusal comes before the body, then the proxy closes
out=$("${C[@]}" -w "$W" -T "$WORK/small" -o /dev/null "$P/$B/p4" -T "$WORK/small" -o /dev/null "$P/$B/p5")
KEYS+=(p4 p5)
eq "refused PUT with Expect closes the connection" "$(echo "$out" | cut -d' ' -f1,2 | tr '\n' ,)" \
  "500 1,200 1,"
eq "status counters" "$(stats faults.status requests_forwarded)" "2 3"
for spec in "502 BadGateway" "504 GatewayTimeout" "429 SlowDown" "503 ServiceUnavailable"; do
  read -r code s3code <<<"$spec"
  proxy --status-every 1 --status "$code"
  got=$("${C[@]}" -o "$WORK/st" -w '%{http_code}' "$P/$B/obj10")
  eq "status $code" "$got $(grep -o '<Code>[A-Za-z]*</Code>' "$WORK/st")" "$code <Code>$s3code</Code>"
done

# ---- reset: body cut at half (default) or at --reset-after, then RST; new connections work -------
proxy --reset-every 2 --only GET
args=()
for i in 1 2 3 4; do args+=("$P/$B/obj10" -o "$WORK/r$i"); done
out=$("${C[@]}" -w "$W" "${args[@]}" 2>/dev/null)
eq "reset: exit codes and reconnects" "$(echo "$out" | tr '\n' ,)" \
  "200 1 10485760 0,200 0 $MiB5 56,200 1 10485760 0,200 0 $MiB5 56,"
same "GET before reset" "$WORK/r1" "$WORK/obj10"
same "GET after reset" "$WORK/r3" "$WORK/obj10"
prefix "reset body" "$WORK/r2" "$WORK/obj10" "$MiB5"
eq "reset counters" "$(stats faults.reset upstream_errors)" "2 0"
proxy --reset-every 1 --reset-after 1000
eq "reset after 1000" "$("${C[@]}" -w '%{exitcode}' -o "$WORK/r5" "$P/$B/obj10" 2>/dev/null)" 56
prefix "reset-after body" "$WORK/r5" "$WORK/obj10" 1000
eq "reset of a bodiless response (HEAD)" "$("${C[@]}" -I -w '%{exitcode}' -o /dev/null "$P/$B/obj10" 2>/dev/null)" 56

# ---- stall: half the body, then silence; the client's timeout fires, or the proxy closes later ----
proxy --stall-every 1 --only GET --stall-seconds 30
t0=$(date +%s%N)
eq "stall: client timeout" "$("${C[@]}" --max-time 2 -w '%{exitcode}' -o "$WORK/t1" "$P/$B/obj10" 2>/dev/null)" 28
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -ge 1900 ] && [ "$ms" -lt 10000 ] && ok || bad "stall: client gave up after $ms ms"
prefix "stalled body" "$WORK/t1" "$WORK/obj10" "$MiB5"
sleep 0.3  # let the proxy see the client close
eq "stall counters" "$(stats faults.stall stall_client_closed)" "1 1"
proxy --stall-every 1 --only GET --stall-seconds 1 --stall-after 4096
eq "stall then close: truncated" "$("${C[@]}" -w '%{exitcode}' -o "$WORK/t2" "$P/$B/obj10" 2>/dev/null)" 18
prefix "stall-after body" "$WORK/t2" "$WORK/obj10" 4096

# ---- drop-range: the Nth GET loses its Range (re-signed if signed); no Range: passes -------------
proxy --drop-range-every 2 --only GET
get() { "${C[@]}" -o "$WORK/dr" -w '%{http_code} %{size_download}' "$@"; }
eq "drop-range 1: kept" "$(get -r 1000-1999 "$P/$B/obj10")" "206 1000"
eq "drop-range 2: dropped" "$(get -r 1000-1999 "$P/$B/obj10")" "200 10485760"
same "drop-range 2: the whole object" "$WORK/dr" "$WORK/obj10"
eq "drop-range 3" "$(get "$P/$B/obj10")" "200 10485760"
eq "drop-range 4: no Range, passes" "$(get "$P/$B/obj10")" "200 10485760"
eq "drop-range 5: kept" "$(get -r 0-9 "$P/$B/obj10")" "206 10"
# -H signs Range (-r does not): the proxy re-signs the request without it
eq "drop-range 6: signed Range dropped" "$(get -H 'Range: bytes=0-9' "$P/$B/obj10")" "200 10485760"
eq "drop-range counters" \
  "$(stats faults.drop_range faults_total resigned resign_failed requests_forwarded)" "2 2 1 0 6"
AWS_SECRET_ACCESS_KEY= proxy --drop-range-every 1  # no secret: cannot re-sign, the server refuses
code=$(get -H 'Range: bytes=0-9' "$P/$B/obj10" | cut -d' ' -f1)
eq "drop-range without the secret" "$code $(grep -o '<Code>[A-Za-z]*</Code>' "$WORK/dr")" \
  "403 <Code>SignatureDoesNotMatch</Code>"
eq "drop-range without the secret: counters" \
  "$(stats faults.drop_range resigned resign_failed)" "1 0 1"

# ---- etag: the Nth response's ETag header replaced, body untouched ------------------------------
proxy --etag-every 2 --only GET
etag() { tr -d '\r' <"$1" | sed -n 's/^[Ee][Tt][Aa][Gg]: //Ip'; }
real=$(etag <("${C[@]}" -I "$P/$B/obj10"))  # HEAD: not counted
"${C[@]}" -D "$WORK/eh1" -o "$WORK/e1" "$P/$B/obj10"
"${C[@]}" -D "$WORK/eh2" -o "$WORK/e2" "$P/$B/obj10"
case $real in '"'[0-9a-f]*'"') ok ;; *) bad "real ETag: '$real'" ;; esac
eq "etag 1: real" "$(etag "$WORK/eh1")" "$real"
eq "etag 2: replaced" "$(etag "$WORK/eh2")" '"00000000000000000000000000000000"'
same "etag 2: body untouched" "$WORK/e2" "$WORK/obj10"
eq "etag counters" "$(stats faults.etag faults_total requests_matching)" "1 1 2"
proxy --etag-every 1 --etag-value '"feedface-1"'
eq "etag-value on a HEAD" "$(etag <("${C[@]}" -I "$P/$B/obj10"))" '"feedface-1"'

# ---- content-range: a 206's Content-Range rewritten, body untouched; a 200 passes --------------
proxy --content-range-every 1 --content-range-shift 5 --content-range-total 7 --only GET
crange() { tr -d '\r' <"$1" | sed -n 's/^[Cc]ontent-[Rr]ange: //p'; }
"${C[@]}" -r 0-99 -D "$WORK/ch1" -o "$WORK/c1" "$P/$B/obj10"
eq "content-range: rewritten" "$(crange "$WORK/ch1")" "bytes 5-104/7"
head -c 100 "$WORK/obj10" >"$WORK/c1.want"
same "content-range: body untouched" "$WORK/c1" "$WORK/c1.want"
"${C[@]}" -o /dev/null "$P/$B/obj10"
eq "content-range counters" "$(stats faults.content_range faults_total requests_matching)" "1 1 2"

# ---- flip: one body byte XORed with 0x01 (default: the middle); chunked with --flip-at --------
proxy --flip-every 1 --only GET
eq "flip: GET" "$("${C[@]}" -o "$WORK/f1" -w '%{http_code} %{size_download}' "$P/$B/obj10")" \
  "200 10485760"
eq "flip: one byte, the middle, one bit" "$(cmp -l "$WORK/f1" "$WORK/obj10" |
  while read -r at x y; do echo "$at $((8#$x ^ 8#$y))"; done | tr '\n' ,)" "$((MiB5 + 1)) 1,"
eq "flip: HEAD (no body) passes" "$("${C[@]}" -I -o /dev/null -w '%{http_code}' "$P/$B/obj10")" 200
eq "flip counters" "$(stats faults.flip faults_total)" "1 1"
proxy --flip-every 1 --flip-at 1000
eq "flip beyond the body passes" "$("${C[@]}" -o "$WORK/f2" -w '%{http_code}' "$P/$B/p1")" 200
same "flip beyond the body: untouched" "$WORK/f2" "$WORK/small"  # 1000 bytes: offsets 0..999
"${C[@]}" -o "$WORK/fl" "$P/$B?list-type=2"  # RGW sends listings chunked: payload offset 1000
"${C[@]}" -o "$WORK/ful" "$AWS_ENDPOINT_URL/$B?list-type=2"
eq "flip at 1000 of a chunked listing" "$(cmp -l "$WORK/fl" "$WORK/ful" |
  while read -r at x y; do echo "$at $((8#$x ^ 8#$y))"; done | tr '\n' ,)" "1001 1,"
eq "flip-at counters" "$(stats faults.flip requests_forwarded)" "1 2"

# ---- delay and body rate: every matching request, no fault ---------------------------------------
proxy --delay-ms 500 --only GET
"${C[@]}" -I -o /dev/null "$P/$B/p1"  # not a GET: no delay
secs "delay-ms 500" "$("${C[@]}" -o /dev/null -w '%{time_total}' "$P/$B/p1")" 0.45
eq "delay counters" "$(stats delayed faults_total requests_seen)" "1 0 2"
head -c 3000000 /dev/urandom >"$WORK/obj3m"
"${C[@]}" -o /dev/null -T "$WORK/obj3m" "$AWS_ENDPOINT_URL/$B/obj3m" && KEYS+=(obj3m)
proxy --body-rate 1000000 --only GET
read -r t code <<<"$("${C[@]}" -o "$WORK/b3" -w '%{time_total} %{http_code}' "$P/$B/obj3m")"
eq "body-rate: status" "$code" 200
secs "body-rate 1000000: 3 MB" "$t" 2
same "body-rate: bytes" "$WORK/b3" "$WORK/obj3m"
eq "body-rate counters" "$(stats throttled faults_total)" "1 0"

# ---- repeat-list-token: page 2 names the token it was asked with as the next one -----------------
for k in 'ls%261' 'ls%262' 'ls%263'; do  # keys ls&1..3: the token is URL-encoded and XML-escaped
  "${C[@]}" -o /dev/null -T "$WORK/small" "$AWS_ENDPOINT_URL/$B/$k" && KEYS+=("$k")
done
proxy --repeat-list-token
next() { sed -n 's|.*<NextContinuationToken>\(.*\)</NextContinuationToken>.*|\1|p' "$1"; }
"${C[@]}" -o "$WORK/lp1" "$P/$B?list-type=2&max-keys=1&prefix=ls"
"${C[@]}" -o "$WORK/lu1" "$AWS_ENDPOINT_URL/$B?list-type=2&max-keys=1&prefix=ls"
same "repeat-list-token: first page unchanged" "$WORK/lp1" "$WORK/lu1"
tok=$(next "$WORK/lp1")
eq "repeat-list-token: first token" "$tok" "ls&amp;1"
q=$(python3 -c 'import html, sys, urllib.parse as u
print(u.quote(html.unescape(sys.argv[1]), safe=""))' "$tok")
LQ="list-type=2&max-keys=1&prefix=ls"
for i in 2 3; do
  "${C[@]}" -D "$WORK/lh$i" -o "$WORK/lp$i" "$P/$B?continuation-token=$q&$LQ"
  eq "repeat-list-token: page $i next token repeats" "$(next "$WORK/lp$i")" "$tok"
  grep -q '<Key>ls&amp;2</Key>' "$WORK/lp$i" && ok ||
    bad "repeat-list-token page $i: $(head -c 400 "$WORK/lp$i")"
  eq "repeat-list-token: page $i Content-Length" \
    "$(tr -d '\r' <"$WORK/lh$i" | sed -n 's/^Content-Length: //Ip')" "$(stat -c %s "$WORK/lp$i")"
done
"${C[@]}" -o "$WORK/lu2" "$AWS_ENDPOINT_URL/$B?continuation-token=$q&$LQ"
eq "repeat-list-token: upstream page 2 moves on" "$(next "$WORK/lu2")" "ls&amp;2"
eq "repeat-list-token counters" "$(stats faults.repeat_token faults_total)" "2 2"

# ---- foreground mode: URL first on stdout, SIGTERM exits 0 and writes the counters ---------------
"$FP" --upstream "$AWS_ENDPOINT_URL" --stats "$WORK/fg.json" --watch-pid $$ >"$WORK/fg.out" 2>"$WORK/fg.err" &
FG_PID=$!
for i in $(seq 1 100); do [ -s "$WORK/fg.out" ] && break; sleep 0.05; done
url=$(head -1 "$WORK/fg.out")
case $url in http://127.0.0.1:[0-9]*) ok ;; *) bad "foreground URL line: '$url' $(cat "$WORK/fg.err")" ;; esac
eq "foreground GET" "$("${C[@]}" -o /dev/null -w '%{http_code}' "$url/$B/obj10")" 200
kill -TERM "$FG_PID"
wait "$FG_PID"
eq "SIGTERM exit code" "$?" 0
FG_PID=
eq "foreground counters" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requests_forwarded"])' "$WORK/fg.json")" 1

# ---- a real client through the faults: awscli retries SlowDown and resets by itself --------------
if command -v aws >/dev/null; then
  head -c $((5 << 20)) /dev/urandom >"$WORK/obj5"  # single part: requests in a known order
  proxy --slowdown-every 2 --reset-every 3
  export AWS_CONFIG_FILE=$WORK/none AWS_SHARED_CREDENTIALS_FILE=$WORK/none
  export AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=6
  aws --endpoint-url "$P" s3 cp --only-show-errors "$WORK/obj5" "s3://$B/aws5" && ok || bad "awscli put through faults"
  KEYS+=(aws5)
  aws --endpoint-url "$P" s3 cp --only-show-errors "s3://$B/aws5" "$WORK/aws5" && ok || bad "awscli get through faults"
  same "awscli round trip through faults" "$WORK/aws5" "$WORK/obj5"
  n=$(stats faults_total)
  [ "$n" -ge 2 ] && ok || bad "awscli saw only $n faults"
else
  echo "info: aws not installed, awscli checks skipped"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
