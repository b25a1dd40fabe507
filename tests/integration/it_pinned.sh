#!/usr/bin/env bash
# Never an object assembled from two versions, never a partial file at the destination:
# GETs through a proxy that drops the Range header, answers another ETag, another range or
# another size, or cuts bodies, and a real overwrite (by awscli) of a large object in the
# middle of a slowed download. Each ends with a named failure, exit 1, and nothing at the
# destination path; --on-change restart fetches the new version instead.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
B=it-pinned-$$-$RANDOM
MIB=$((1024 * 1024))
"$CLI" mb -q "s3://$B" || { echo "cannot create bucket" >&2; exit 1; }
make_file "$WORK/v1" $((24 * MIB))
make_file "$WORK/v2" $((24 * MIB))
make_file "$WORK/v3" $((30 * MIB))
"$CLI" put -q "$WORK/v1" "s3://$B/big.bin" || { echo "cannot upload" >&2; exit 1; }
no_file() { [ ! -e "$1" ] && [ -z "$(find "$(dirname "$1")" -name '*s3dlio-tmp*' 2>/dev/null)" ]; }

# 1. a server that ignores Range: the 200 is refused before a byte lands
url=$(proxy_start norange --drop-range-every 1 --only GET --only-path-regex 'big\.bin')
expect "Range ignored" 1 "get 's3://$B/big.bin': changed during transfer .*ignored the Range header" -- \
  "$CLI" get --endpoint-url "$url" "s3://$B/big.bin" "$WORK/d1/big.bin"
no_file "$WORK/d1/big.bin" && ok || bad "Range ignored: a file was left"
proxy_stop norange

# 2. a server that ignores If-Match and serves another version on the 2nd GET
url=$(proxy_start etag --etag-every 2 --etag-value '"0123456789abcdef0123456789abcdef"' --only GET \
  --only-path-regex 'big\.bin')
expect "other ETag" 1 "changed during transfer.*ETag is now '0123456789abcdef0123456789abcdef'" -- \
  "$CLI" get --endpoint-url "$url" "s3://$B/big.bin" "$WORK/d2/big.bin"
no_file "$WORK/d2/big.bin" && ok || bad "other ETag: a file was left"
proxy_stop etag

# 2b. a server that answers other bytes than the range asked for, or claims another size:
#     refused before a byte lands (the same version is there: the answer itself was wrong)
url=$(proxy_start crange --content-range-every 2 --content-range-shift 4096 --only GET \
  --only-path-regex 'big\.bin')
expect "other range" 1 "get 's3://$B/big.bin': changed during transfer .*asked for bytes [0-9]+-[0-9]+, the server sent" -- \
  "$CLI" get --endpoint-url "$url" "s3://$B/big.bin" "$WORK/d2b/big.bin"
no_file "$WORK/d2b/big.bin" && ok || bad "other range: a file was left"
proxy_stop crange
url=$(proxy_start csize --content-range-every 1 --content-range-total 1000 --only GET \
  --only-path-regex 'big\.bin')
expect "other size" 1 "get 's3://$B/big.bin': changed during transfer .*size is now 1000 bytes, listed as $((24 * MIB))" -- \
  "$CLI" get --endpoint-url "$url" "s3://$B/big.bin" "$WORK/d2c/big.bin"
no_file "$WORK/d2c/big.bin" && ok || bad "other size: a file was left"
proxy_stop csize

# 3. cut bodies: resumed after the last byte, under If-Match, every byte right; with no
#    retry budget the cut is a named failure and leaves nothing
url=$(proxy_start cut --reset-every 2 --only GET --only-path-regex 'big\.bin')
check "cut bodies resumed" "$CLI" get -q --endpoint-url "$url" "s3://$B/big.bin" "$WORK/d3/big.bin"
same_file "$WORK/d3/big.bin" "$WORK/v1" && ok || bad "resumed download differs"
expect "cut, no retries" 1 "get 's3://$B/big.bin': connection failed" -- \
  "$CLI" get --retry-time 0 --endpoint-url "$url" "s3://$B/big.bin" "$WORK/d4/big.bin"
no_file "$WORK/d4/big.bin" && ok || bad "cut: a file was left"
proxy_stop cut
[ "$(proxy_stat cut 'd["faults"]["reset"]')" -gt 0 ] && ok || bad "no body was cut"

# 4. a real overwrite in the middle of a slowed download (the proxy holds each GET 1 s, one
#    5 MiB range at a time; awscli writes straight to the server): the server's own If-Match
url=$(proxy_start slow --delay-ms 1000 --only GET --only-path-regex 'big\.bin')
SLOW=(--get-concurrency 1 --part-size 5MiB --endpoint-url "$url")
overwrite() { # overwrite SRC once the download has pinned its version (its HEAD, logged)
  for _ in $(seq 1 200); do grep -q "HEAD " "$2" && break; sleep 0.05; done
  aws s3 cp --quiet --endpoint-url "$AWS_ENDPOINT_URL" "$1" "s3://$B/big.bin"
}
S3DLIO_LOG=s3:debug "$CLI" get "${SLOW[@]}" "s3://$B/big.bin" "$WORK/d5/big.bin" >"$WORK/ow.out" 2>&1 &
pid=$!
overwrite "$WORK/v2" "$WORK/ow.out" || bad "awscli overwrite failed"
wait $pid
rc=$?
[ "$rc" = 1 ] && ok || bad "overwrite mid-download: exit $rc: $(cat "$WORK/ow.out")"
grep -Eq "get 's3://$B/big.bin': changed during transfer \(HTTP 412.*was ETag '[0-9a-f-]+', $((24 * MIB)) bytes, now ETag '[0-9a-f-]+'" \
  "$WORK/ow.out" && ok || bad "overwrite: not named as a change: $(cat "$WORK/ow.out")"
no_file "$WORK/d5/big.bin" && ok || bad "overwrite: a file was left"

# ... and with --on-change restart the new version arrives whole (grown: 24 -> 30 MiB)
S3DLIO_LOG=s3:debug "$CLI" get --on-change restart "${SLOW[@]}" "s3://$B/big.bin" "$WORK/d6/big.bin" \
  >"$WORK/ow2.out" 2>&1 &
pid=$!
overwrite "$WORK/v3" "$WORK/ow2.out" || bad "awscli overwrite failed"
wait $pid
rc=$?
[ "$rc" = 0 ] && ok || bad "--on-change restart: exit $rc: $(cat "$WORK/ow2.out")"
same_file "$WORK/d6/big.bin" "$WORK/v3" && ok || bad "--on-change restart: not the new version"
proxy_stop slow

# 5. stage into a directory while one object is overwritten: that object fails as changed,
#    counted in the report; the others arrive
"$CLI" put -q --generate --count 8 --min-size 1MiB --max-size 2MiB --seed 9 "s3://$B/set/" ||
  bad "setup set/"
"$CLI" put -q "$WORK/v1" "s3://$B/set/big.bin" || bad "setup set/big.bin"
url=$(proxy_start stage --delay-ms 1000 --only GET --only-path-regex 'set/big\.bin')
"$CLI" stage -v --get-concurrency 1 --part-size 5MiB --endpoint-url "$url" --to "dir:$WORK/st" \
  --report "$WORK/st.json" "s3://$B/set/" >"$WORK/st.out" 2>&1 &
pid=$!
# overwrite once the stage has listed (the version it will pin), while its GETs are held
for _ in $(seq 1 200); do grep -q "listed 9 objects" "$WORK/st.out" && break; sleep 0.05; done
aws s3 cp --quiet --endpoint-url "$AWS_ENDPOINT_URL" "$WORK/v2" "s3://$B/set/big.bin" || bad "overwrite"
wait $pid
rc=$?
proxy_stop stage
[ "$rc" = 1 ] && ok || bad "stage with a change: exit $rc: $(tail -5 "$WORK/st.out")"
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
[ "$(json "$WORK/st.json" 'd["totals"]["changed"]')" = 1 ] && ok || bad "report: changed != 1"
[ "$(json "$WORK/st.json" 'd["totals"]["objects"]')" = 8 ] && ok || bad "report: the other 8 objects"
no_file "$WORK/st/big.bin" && ok || bad "stage: the changed object left a file"
[ "$(find "$WORK/st" -type f | wc -l)" = 8 ] && ok || bad "stage: 8 files"

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish
