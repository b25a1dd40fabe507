#!/usr/bin/env bash
# Control calls (CreateMultipartUpload, CompleteMultipartUpload, HEAD) run in the engine's
# loop like data requests: a slow or throttled one does not hold up the others; an <Error>
# inside a 200 Complete is retried; a Complete whose answer was lost is checked with HEAD
# instead of failing; and --max-request-rate waits without spinning.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
B=it-control-$$-$RANDOM
MIB=$((1024 * 1024))
"$CLI" mb -q "s3://$B" || { echo "cannot create bucket" >&2; exit 1; }
mkdir -p "$WORK/up"
for i in 1 2 3 4; do make_file "$WORK/up/big$i" $((20 * MIB)); done
for i in $(seq 1 12); do make_file "$WORK/up/small$i" 1000; done

# 1. every CreateMultipartUpload is held 1.5 s and some are throttled first: they are all
#    in flight together, and the small files upload meanwhile
url=$(proxy_start create --delay-ms 1500 --slowdown-every 2 --only POST --only-path-regex 'uploads')
check "slow creates" "$CLI" put -q -r --endpoint-url "$url" "$WORK/up" "s3://$B/up/"
proxy_stop create
[ "$(proxy_stat create 'd["max_matching_in_flight"]')" -ge 2 ] && ok ||
  bad "creates ran one at a time: $(proxy_stat create 'd["max_matching_in_flight"]')"
[ "$(proxy_stat create 'd["faults"]["slowdown"]')" -ge 1 ] && ok || bad "no create was throttled"
"$CLI" get -q -r "s3://$B/up/" "$WORK/back" && diff -r "$WORK/up" "$WORK/back" >/dev/null && ok ||
  bad "uploaded tree differs"

# 2. CompleteMultipartUpload answers 200 with an <Error> body once: retried, the object lands
url=$(proxy_start err200 --error200-every 1 --max-faults 1 --only POST --only-path-regex 'uploadId=')
S3DLIO_LOG=xfer:info "$CLI" put --endpoint-url "$url" "$WORK/up/big1" "s3://$B/e200" >"$WORK/e200.out" 2>&1 &&
  ok || bad "200 <Error> on Complete: $(tail -3 "$WORK/e200.out")"
proxy_stop err200
grep -q "retry 1 of 'e200'" "$WORK/e200.out" && ok ||
  bad "the Complete was retried: $(cat "$WORK/e200.out")"
"$CLI" get -q "s3://$B/e200" "$WORK/e200" && same_file "$WORK/e200" "$WORK/up/big1" && ok ||
  bad "e200 differs"

# 3. the Complete's answer is lost (the server completed; the client saw a reset) and the
#    retry meets NoSuchUpload (as S3 may answer; RGW answers a repeated Complete with 200,
#    so the proxy says it): a HEAD finds the object with the expected ETag, the put succeeds
url=$(proxy_start lost --reset-every 1 --reset-after 10 --status-every 2 --status 404 \
  --status-s3code NoSuchUpload --max-faults 2 --only POST --only-path-regex 'uploadId=')
S3DLIO_LOG=xfer:info "$CLI" put --endpoint-url "$url" "$WORK/up/big2" "s3://$B/lost" >"$WORK/lost.out" 2>&1 &&
  ok || bad "lost Complete answer: $(tail -3 "$WORK/lost.out")"
proxy_stop lost
grep -q "though its answer was lost" "$WORK/lost.out" && ok ||
  bad "the upload was confirmed by HEAD: $(cat "$WORK/lost.out")"
"$CLI" get -q "s3://$B/lost" "$WORK/lost" && same_file "$WORK/lost" "$WORK/up/big2" && ok ||
  bad "lost differs"

# 4. --max-request-rate: 12 requests at 4 per second take ~3 s and almost no CPU
/usr/bin/time -f "%e %U %S" -o "$WORK/rate.time" "$CLI" get -q -r --max-request-rate 4 \
  "s3://$B/up/small" null: || bad "rate-limited get"
read -r wall user sys <"$WORK/rate.time"
awk -v w="$wall" 'BEGIN { exit !(w >= 2.5) }' && ok || bad "12 requests at 4/s took only ${wall} s"
awk -v u="$user" -v s="$sys" 'BEGIN { exit !(u + s < 0.5) }' && ok ||
  bad "waiting for the rate limit used ${user}+${sys} s of CPU (busy wait)"

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish
