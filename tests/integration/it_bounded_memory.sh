#!/usr/bin/env bash
# Memory stays bounded by configuration, not by dataset size: stream 1 GiB and 4 GiB with
# the same settings and compare the client's peak RSS (GNU time %M = getrusage ru_maxrss).
#   PUT: 1 GiB and 4 GiB generated (8 MiB objects, 16 in flight) to the server.
#   GET: the 1 GiB set to null: once, and four times over in one run (4 GiB streamed).
# Peaks must agree within 10% and stay under 64 MiB. The concurrency is pinned there: the
# default adapts its target, which may end higher in a longer run (memory then follows the
# target, not the data). Adaptive, the bound is --max-connections times what a request holds
# (a GET's 256 KiB receive buffer, a PUT's ~1.3 MiB of send buffers): a 4 GiB GET within 64
# connections and a 2 GiB PUT within 32 stay under 64 MiB as well.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
command -v /usr/bin/time >/dev/null || { echo "GNU time missing (Debian package time)"; exit 77; }
if [ -n "${S3DLIO_SANITIZED:-}" ]; then
  echo "skip: built with -fsanitize=$S3DLIO_SANITIZED, whose shadow memory and quarantine make RSS meaningless"
  exit 77
fi
B=it-mem-$$-$RANDOM
"$CLI" mb -q "s3://$B" || { echo "cannot create bucket" >&2; exit 1; }

# MALLOC_PERTURB_ makes glibc fill every allocation, so all pages of every buffer count at
# once: peak RSS is then what was allocated, not how much of curl's 256 KiB receive buffers
# happened to be touched by the sizes recv() returned (timing noise of several MiB)
peak_kb() { # peak_kb LOG CMD...: run CMD under GNU time, print its peak RSS in KiB
  local log=$1; shift
  MALLOC_PERTURB_=165 /usr/bin/time -f '%M' -o "$WORK/rss" "$@" >"$log" 2>&1 ||
    { bad "$(tail -3 "$log")"; echo 0; return; }
  tail -1 "$WORK/rss"
}
within() { # within NAME A B: A and B differ by at most 10% of the larger
  awk -v a="$2" -v b="$3" 'BEGIN { m = a > b ? a : b; d = a > b ? a - b : b - a; exit !(m > 0 && d <= 0.10 * m) }' &&
    ok || bad "$1: peak RSS $2 KiB vs $3 KiB differ by more than 10%"
}
under() { [ "$2" -gt 0 ] && [ "$2" -lt $((64 * 1024)) ] && ok || bad "$1: peak RSS $2 KiB is not under 64 MiB"; }

PIN=(--get-concurrency 32 --put-concurrency 16)
put1=$(peak_kb "$WORK/p1" "$CLI" put "${PIN[@]}" --generate --count 128 --min-size 8MiB --max-size 8MiB "s3://$B/g1/")
put4=$(peak_kb "$WORK/p4" "$CLI" put "${PIN[@]}" --generate --count 512 --min-size 8MiB --max-size 8MiB "s3://$B/g4/")
grep -q "put: 512 objects, 4294967296 bytes" "$WORK/p4" && ok || bad "4 GiB put: $(cat "$WORK/p4")"
within "PUT 1 GiB vs 4 GiB" "$put1" "$put4"
under "PUT 4 GiB" "$put4"

"$CLI" ls --recursive "s3://$B/g1/" | awk '{ sub("^s3://[^/]*/", "", $2); print $2 }' >"$WORK/keys1"
for _ in 1 2 3 4; do cat "$WORK/keys1"; done >"$WORK/keys4"
get1=$(peak_kb "$WORK/g1" "$CLI" get "${PIN[@]}" --keys-from "$WORK/keys1" "s3://$B/" null:)
get4=$(peak_kb "$WORK/g4" "$CLI" get "${PIN[@]}" --keys-from "$WORK/keys4" "s3://$B/" null:)
grep -q "get: 512 objects, 4294967296 bytes" "$WORK/g4" && ok || bad "4 GiB get: $(cat "$WORK/g4")"
within "GET 1 GiB vs 4 GiB" "$get1" "$get4"
under "GET 4 GiB" "$get4"
aget=$(peak_kb "$WORK/ag" "$CLI" get --max-connections 64 --keys-from "$WORK/keys4" "s3://$B/" null:)
under "GET 4 GiB, adaptive within 64 connections" "$aget"
"$CLI" rm -q --recursive "s3://$B/g4/" || bad "removing the 4 GiB set" # the server's memory
aput=$(peak_kb "$WORK/ap" "$CLI" put --max-connections 32 --generate --count 256 --min-size 8MiB --max-size 8MiB "s3://$B/g5/")
[ "$aput" != 0 ] || bad "adaptive put: $(tail -3 "$WORK/ap")"
under "PUT 2 GiB, adaptive within 32 connections" "$aput"
echo "peak RSS KiB: put 1 GiB $put1, put 4 GiB $put4, get 1 GiB $get1, get 4 GiB $get4 (pinned);" \
  "adaptive: get 4 GiB within 64 connections $aget, put 2 GiB within 32 $aput"

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish
