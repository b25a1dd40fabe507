#!/usr/bin/env bash
# One transfer path: a single `put SRC URI` and `get URI DEST` go through the engine like the
# recursive forms (parallel multipart parts and ranges, retries, --verify, progress), and
# --verify checks every object, single-part or multipart, against its ETag.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
B=it-onepath-$$-$RANDOM
MIB=$((1024 * 1024))
"$CLI" mb -q "s3://$B" || { echo "cannot create bucket" >&2; exit 1; }
make_file "$WORK/f40" $((40 * MIB))
: >"$WORK/empty"

# 1. single put: 5 parts of 8 MiB, several at once, retried through SlowDown
url=$(proxy_start put --slowdown-every 3 --only PUT)
S3DLIO_LOG=xfer:info "$CLI" put --endpoint-url "$url" "$WORK/f40" "s3://$B/f40" >"$WORK/put.out" 2>&1 &&
  ok || bad "single put through SlowDown: $(tail -3 "$WORK/put.out")"
proxy_stop put
grep -q "retry 1 of 'f40'" "$WORK/put.out" && ok || bad "the single put was retried: $(cat "$WORK/put.out")"
[ "$(proxy_stat put 'd["max_matching_in_flight"]')" -ge 2 ] && ok || bad "parts were not uploaded in parallel"
"$CLI" stat "s3://$B/f40" | grep -Eq "etag: +[0-9a-f]{32}-5$" && ok || bad "40 MiB in 5 parts"

# 2. single get: ranges in parallel, cut bodies resumed, bytes right
url=$(proxy_start get --reset-every 3 --only GET)
check "single get through resets" "$CLI" get -q --endpoint-url "$url" "s3://$B/f40" "$WORK/g40"
proxy_stop get
same_file "$WORK/g40" "$WORK/f40" && ok || bad "single get: bytes differ"
[ "$(proxy_stat get 'd["max_matching_in_flight"]')" -ge 2 ] && ok || bad "ranges were not fetched in parallel"
[ "$(proxy_stat get 'd["faults"]["reset"]')" -gt 0 ] && ok || bad "no body was cut"

# 2b. progress of a single get: plain lines when stderr is not a terminal, none with -q
url=$(proxy_start prog --delay-ms 700 --only GET)
S3DLIO_PROGRESS_SECONDS=0.2 "$CLI" get --get-concurrency 2 --endpoint-url "$url" "s3://$B/f40" \
  "$WORK/p40" 2>"$WORK/prog.err" && ok || bad "slowed single get: $(cat "$WORK/prog.err")"
grep -Eq "^progress: [0-9.]+% .* of 40.0 MiB" "$WORK/prog.err" && ok ||
  bad "no progress lines for a single get: $(cat "$WORK/prog.err")"
S3DLIO_PROGRESS_SECONDS=0.2 "$CLI" get -q --get-concurrency 2 --endpoint-url "$url" "s3://$B/f40" \
  "$WORK/q40" 2>"$WORK/quiet.err" && [ ! -s "$WORK/quiet.err" ] && ok ||
  bad "-q printed: $(cat "$WORK/quiet.err")"
proxy_stop prog

# 3. to stdout (in order, one stream) through resets
url=$(proxy_start stdout --reset-every 2 --only GET)
"$CLI" get -q --endpoint-url "$url" "s3://$B/f40" - >"$WORK/s40" 2>"$WORK/stdout.err" && ok ||
  bad "get to stdout: $(cat "$WORK/stdout.err")"
proxy_stop stdout
same_file "$WORK/s40" "$WORK/f40" && ok || bad "stdout: bytes differ"

# 4. --verify catches a flipped byte in a single get: named, exit 1, no file
url=$(proxy_start flip --flip-every 3 --only GET)
expect "flipped byte" 1 "get 's3://$B/f40': integrity check failed: the data's MD5 is '[0-9a-f-]+' but its ETag is" -- \
  "$CLI" get --verify --endpoint-url "$url" "s3://$B/f40" "$WORK/v/f40"
[ ! -e "$WORK/v/f40" ] && ok || bad "a corrupted download left a file"
proxy_stop flip

# 5. put --verify sends Content-MD5 with every part
S3DLIO_LOG=s3:trace "$CLI" put -q --verify "$WORK/f40" "s3://$B/f40v" 2>"$WORK/trace" || bad "put --verify"
[ "$(grep -c '> Content-MD5: ' "$WORK/trace")" = 5 ] && ok || bad "Content-MD5 on each of 5 parts"

# 6. --verify of every object: single-part of any size (ranged), ours multipart (part size
#    recorded), awscli's multipart (part size inferred), empty
"$CLI" put -q --multipart-threshold 64MiB "$WORK/f40" "s3://$B/v/single" || bad "single-part upload"
"$CLI" put -q "$WORK/f40" "s3://$B/v/ours" || bad "multipart upload"
aws s3 cp --quiet --endpoint-url "$AWS_ENDPOINT_URL" "$WORK/f40" "s3://$B/v/awscli" || bad "awscli upload"
"$CLI" put -q "$WORK/empty" "s3://$B/v/empty" || bad "empty upload"
"$CLI" get --verify "s3://$B/v/single" "$WORK/vs" 2>"$WORK/vs.err" && grep -q "MD5 verified" "$WORK/vs.err" &&
  ok || bad "single-part verified: $(cat "$WORK/vs.err")"
"$CLI" get -r --verify "s3://$B/v/" "$WORK/vall" 2>"$WORK/vall.err" &&
  grep -q "get: 4 objects.*, 4 verified, 0 not verifiable" "$WORK/vall.err" && ok ||
  bad "every object verified: $(cat "$WORK/vall.err")"
for k in single ours awscli; do same_file "$WORK/vall/$k" "$WORK/f40" || bad "verified $k differs"; done
"$CLI" get -r --verify "file://$WORK/vall/" null: 2>"$WORK/vf.err" &&
  grep -q ", 0 verified, 4 not verifiable" "$WORK/vf.err" && ok ||
  bad "file:// ETags are not MD5s: $(cat "$WORK/vf.err")"

# 7. bad values
expect "part size over 5 GiB" 2 "--part-size must be at most 5GiB" -- \
  "$CLI" put --part-size 6GiB "$WORK/f40" "s3://$B/x"
expect "on-change" 2 "--on-change must be 'fail' or 'restart'" -- \
  "$CLI" get --on-change maybe "s3://$B/f40" "$WORK/x"
expect "put a directory" 2 "is a directory \(use --recursive" -- "$CLI" put "$WORK/v" "s3://$B/x"

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish
