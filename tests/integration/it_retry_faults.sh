#!/usr/bin/env bash
# The engine through a fault-injecting proxy in front of the real server: 503 SlowDown,
# connections reset mid-body, stalled bodies, and a permanent failure. Jobs with transient
# faults complete with correct bytes (the generator's pattern is verified on GET) and the
# retries show in the summary; a permanent failure names key, status, S3 code, request id.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
PROXY="$(dirname "$0")/../fixtures/faultproxy"
B=it-retry-$$-$RANDOM
"$CLI" mb -q "s3://$B" || { echo "cannot create bucket" >&2; exit 1; }
"$CLI" put -q --generate --count 24 --min-size 1MiB --max-size 6MiB --seed 5 "s3://$B/set/" ||
  { echo "cannot upload the data set" >&2; exit 1; }

# with_proxy NAME [fault options] -- CLI ARGS: run the CLI through a fresh proxy
with_proxy() {
  local name=$1; shift
  local opts=()
  while [ "$1" != "--" ]; do opts+=("$1"); shift; done; shift
  local st=$WORK/proxy-$name
  "$PROXY" --upstream "$AWS_ENDPOINT_URL" --state-dir "$st" --daemon --watch-pid $$ "${opts[@]}" >/dev/null ||
    { bad "$name: proxy did not start"; return 1; }
  # shellcheck disable=SC1091
  url=$(. "$st/faultproxy.env"; echo "$FAULTPROXY_URL")
  local rc=0
  "$CLI" "$1" --endpoint-url "$url" "${@:2}" >"$WORK/$name.out" 2>&1 || rc=$?
  "$PROXY" --stop --state-dir "$st" >/dev/null 2>&1
  return $rc
}
retries_of() { sed -n 's/.* \([0-9]*\) retries.*/\1/p' "$WORK/$1.out" | tail -1; }

with_proxy slowdown --slowdown-every 4 --only GET -- get -r --verify-pattern --seed 5 "s3://$B/set/" null: &&
  ok || bad "GET through SlowDown: $(cat "$WORK/slowdown.out")"
[ "$(retries_of slowdown)" -gt 0 ] && ok || bad "SlowDown retries reported: $(cat "$WORK/slowdown.out")"

with_proxy reset --reset-every 3 --only GET -- get -r --verify-pattern --seed 5 --range-threshold 2MiB \
  --part-size 5MiB "s3://$B/set/" null: && ok || bad "GET through resets: $(cat "$WORK/reset.out")"
[ "$(retries_of reset)" -gt 0 ] && ok || bad "reset retries reported: $(cat "$WORK/reset.out")"
grep -q "get: 24 objects" "$WORK/reset.out" && ok || bad "all 24 objects after resets"

mkdir -p "$WORK/dl"
with_proxy stall --stall-every 5 --stall-seconds 30 --only GET -- get -r --stall-timeout 2s \
  "s3://$B/set/" "$WORK/dl" && ok || bad "GET through stalls: $(cat "$WORK/stall.out")"
[ "$(retries_of stall)" -gt 0 ] && ok || bad "stall retries reported: $(cat "$WORK/stall.out")"
[ "$(find "$WORK/dl" -type f | wc -l)" = 24 ] && ok || bad "24 files after stalls"
[ -z "$(find "$WORK/dl" -name '*.s3dlio-tmp*')" ] && ok || bad "no temp files left"

with_proxy putfaults --slowdown-every 3 --only PUT -- put --generate --count 12 --seed 6 \
  "s3://$B/put/" && ok || bad "PUT through SlowDown: $(cat "$WORK/putfaults.out")"
"$CLI" get -q -r --verify-pattern --seed 6 "s3://$B/put/" null: && ok || bad "PUT data verified"

# permanent: every object GET answers 503 SlowDown; 2 retries, then one clear line per object
with_proxy forever --status-every 1 --status 503 --status-s3code SlowDown --only GET \
  --only-path-regex 'obj-' -- get -r --retries 2 "s3://$B/set/" null:
rc=$?
[ "$rc" = 1 ] && ok || bad "permanent failure exit code $rc"
grep -Eq "get 's3://$B/set/obj-[0-9]+\.bin': SlowDown \(HTTP 503, request id [^)]+\).*\(after 3 attempts\)" \
  "$WORK/forever.out" && ok || bad "failure names key, status, code, request id: $(head -3 "$WORK/forever.out")"
grep -q "get: 0 of 24 objects done (24 failed)" "$WORK/forever.out" && ok || bad "summary says nothing completed"

# a listing that meets transient 503s is retried too
with_proxy listfaults --status-every 2 --status 503 --only GET --only-path-regex 'list-type' -- \
  ls -r "s3://$B/set/" && ok || bad "listing through 503s: $(cat "$WORK/listfaults.out")"
[ "$(grep -c "s3://$B/set/obj-" "$WORK/listfaults.out")" = 24 ] && ok || bad "listing complete after retries"

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish
