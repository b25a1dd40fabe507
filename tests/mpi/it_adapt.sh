#!/usr/bin/env bash
# The adaptive in-flight target: small objects through a proxy that holds every request
# 100 ms (a server far away: latency-bound, the loop idle) make a default-settings GET and
# PUT raise their target above the default, seen in the report's inflight_limit (max, timeline)
# and max_inflight; an explicit --get-concurrency pins it. No timing is asserted: at 100 ms
# per request a doubling of the requests in flight doubles what completes, whatever the
# machine's load.   it_adapt.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
B=it-adapt-np$NP-$$-$RANDOM
run() { "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" "$@"; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
limits() { json "$1" '[(r["inflight_limit"]["adaptive"], r["inflight_limit"]["max"], r["max_inflight"], r["inflight_limit"]["timeline"]) for r in d["per_rank"]]'; }
"$CLI" mb -q "s3://$B" &&
  "$CLI" put -q --generate --count 2000 --min-size 1KiB --max-size 4KiB --seed 5 "s3://$B/s/" &&
  "$CLI" put -q --generate --count 300 --min-size 1KiB --max-size 4KiB --seed 7 "s3://$B/q/" ||
  { echo "setup failed" >&2; exit 1; }
url=$(proxy_start slow --delay-ms 100)

# default settings: the GET target starts at 32 and probes higher, with more really in flight.
# Whether a probe pays depends on this machine's spare CPU (under sanitizers the client itself
# is the limit and the target rightly goes back): that is test_adapt's to show on synthetic
# servers, and the benchmarks' on real ones; here the wiring is checked.
run get -q -r --endpoint-url "$url" --report "$WORK/g.json" "s3://$B/s/" null: >"$WORK/g.out" 2>&1 &&
  ok || bad "get through the delay: $(tail -5 "$WORK/g.out")"
[ "$(json "$WORK/g.json" 'd["totals"]["objects"]')" = 2000 ] && ok || bad "every object got"
[ "$(json "$WORK/g.json" 'all(r["inflight_limit"]["adaptive"] and r["inflight_limit"]["configured"] == 32 for r in d["per_rank"])')" = True ] &&
  ok || bad "default GET target not adaptive from 32: $(limits "$WORK/g.json")"
[ "$(json "$WORK/g.json" 'max(r["inflight_limit"]["max"] for r in d["per_rank"]) > 32')" = True ] &&
  ok || bad "GET target did not grow: $(limits "$WORK/g.json")"
[ "$(json "$WORK/g.json" 'max(r["max_inflight"] for r in d["per_rank"]) > 32')" = True ] &&
  ok || bad "no more than 32 GETs ever in flight: $(limits "$WORK/g.json")"
[ "$(json "$WORK/g.json" 'all(max(p[1] for p in r["inflight_limit"]["timeline"]) == r["inflight_limit"]["max"] for r in d["per_rank"])')" = True ] &&
  ok || bad "the timeline does not show the target reached: $(limits "$WORK/g.json")"
[ "$(json "$WORK/g.json" 'all(r["max_inflight"] <= 200 for r in d["per_rank"])')" = True ] &&
  ok || bad "above --max-connections (200): $(limits "$WORK/g.json")"

# --get-concurrency pins it: never more than 8 in flight, the target never moves
run get -q -r --get-concurrency 8 --endpoint-url "$url" --report "$WORK/p.json" "s3://$B/q/" null: \
  >"$WORK/p.out" 2>&1 && ok || bad "pinned get: $(tail -5 "$WORK/p.out")"
[ "$(json "$WORK/p.json" 'all(r["max_inflight"] <= 8 and r["inflight_limit"]["max"] == 8 and not r["inflight_limit"]["adaptive"] for r in d["per_rank"])')" = True ] &&
  ok || bad "--get-concurrency 8 did not pin: $(limits "$WORK/p.json")"

# --max-connections bounds the adaptive target from the start
run get -q -r --max-connections 20 --endpoint-url "$url" --report "$WORK/m.json" "s3://$B/q/" null: \
  >"$WORK/m.out" 2>&1 && ok || bad "get with --max-connections 20: $(tail -5 "$WORK/m.out")"
[ "$(json "$WORK/m.json" 'all(r["max_inflight"] <= 20 and r["inflight_limit"]["max"] <= 20 for r in d["per_rank"])')" = True ] &&
  ok || bad "above --max-connections 20: $(limits "$WORK/m.json")"

# PUT: starts at 16 and probes the same way
run put -q --generate --count 1000 --min-size 1KiB --max-size 4KiB --seed 6 --endpoint-url "$url" \
  --report "$WORK/u.json" "s3://$B/u/" >"$WORK/u.out" 2>&1 && ok || bad "put through the delay: $(tail -5 "$WORK/u.out")"
[ "$(json "$WORK/u.json" 'max(r["inflight_limit"]["max"] for r in d["per_rank"]) > 16 and all(r["inflight_limit"]["configured"] == 16 for r in d["per_rank"])')" = True ] &&
  ok || bad "PUT target did not grow from 16: $(limits "$WORK/u.json")"
proxy_stop slow

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish
