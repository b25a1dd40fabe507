#!/usr/bin/env bash
# Backoff that sheds load, decorrelated across ranks: a proxy answers 20% of object GETs with
# 503 SlowDown while NP ranks stage through it. Every byte arrives right; the report shows the
# in-flight limit cut while throttled; the ranks' backoff delays are not the same numbers
# (each process seeds its own jitter).   it_throttle.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
B=it-throttle-np$NP-$$-$RANDOM
run() { "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" "$@"; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
"$CLI" mb -q "s3://$B" &&
  "$CLI" put -q --generate --count 160 --min-size 64KiB --max-size 1MiB --seed 17 "s3://$B/t/" ||
  { echo "setup failed" >&2; exit 1; }

url=$(proxy_start throttle --slowdown-every 5 --only GET --only-path-regex 'obj-')
S3DLIO_LOG=xfer:debug run stage --endpoint-url "$url" --get-concurrency 8 --to null --report "$WORK/t.json" \
  "s3://$B/t/" >"$WORK/t.out" 2>&1 && ok || bad "stage through 20% SlowDown: $(tail -5 "$WORK/t.out")"
proxy_stop throttle
[ "$(json "$WORK/t.json" 'd["totals"]["objects"]')" = 160 ] && ok || bad "every object staged"
[ "$(json "$WORK/t.json" 'd["totals"]["throttled"] > 0')" = True ] && ok || bad "throttling was seen"
# the limit was cut on some rank, and reached below the configured 8
[ "$(json "$WORK/t.json" 'sum(r["inflight_limit"]["decreases"] for r in d["per_rank"]) > 0')" = True ] &&
  ok || bad "in-flight limit never cut: $(json "$WORK/t.json" '[r["inflight_limit"] for r in d["per_rank"]]')"
[ "$(json "$WORK/t.json" 'min(r["inflight_limit"]["min"] for r in d["per_rank"]) < 8')" = True ] && ok ||
  bad "in-flight limit stayed at 8"
[ "$(json "$WORK/t.json" 'all(len(r["inflight_limit"]["timeline"]) >= 1 for r in d["per_rank"])')" = True ] &&
  ok || bad "no limit timeline"
grep -q "in flight .*limit cut .* times" "$WORK/t.out" && ok || bad "the table shows the cut: $(grep -i flight "$WORK/t.out")"

# the bytes: the same set through the same throttling, checked against the generator
url=$(proxy_start throttle2 --slowdown-every 5 --only GET --only-path-regex 'obj-')
run get -q -r --endpoint-url "$url" --verify-pattern --seed 17 --report "$WORK/v.json" "s3://$B/t/" null: \
  >"$WORK/v.out" 2>&1 &&
  ok || bad "every byte right through throttling: $(tail -5 "$WORK/v.out")"
proxy_stop throttle2

# decorrelated: each rank draws its backoff from its own seed (a shared seed would give every
# rank the same delays, so throttled ranks would come back together)
if [ "$NP" -gt 1 ]; then
  seeds=$(sed -n 's/^\[r\([0-9]*\)\].*backoff jitter seed \([0-9a-f]*\).*/\1 \2/p' "$WORK/t.out" | sort -u)
  [ "$(echo "$seeds" | grep -c .)" = "$NP" ] && [ "$(echo "$seeds" | cut -d' ' -f2 | sort -u | grep -c .)" = "$NP" ] &&
    ok || bad "ranks do not have seeds of their own: $(echo "$seeds" | tr '\n' ' ')"
fi

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish
