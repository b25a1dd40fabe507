#!/usr/bin/env bash
# --steal: one rank is slowed on purpose (it alone talks to the server through a proxy that
# holds each object GET 250 ms, one request at a time); with static partitioning the job
# waits for it, with --steal the other ranks take its work. Then --steal into a directory:
# every object once, byte for byte.
#   it_steal.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
B=it-steal-$$-$RANDOM
N=48
# rank 1 alone goes through the proxy (an MPMD launch: one context per endpoint)
run() {
  local ctx=(-n 1 "$CLI" "$@" : -n 1 env AWS_ENDPOINT_URL="$SLOW" "$CLI" "$@")
  [ "$NP" -gt 2 ] && ctx+=(: -n $((NP - 2)) "$CLI" "$@")
  "$MPIEXEC" "${PRE[@]}" "${ctx[@]}"
}
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
"$CLI" mb -q "s3://$B" && "$CLI" put -q --generate --count $N --min-size 64KiB --max-size 64KiB "s3://$B/s/" ||
  { echo "setup failed" >&2; exit 1; }
SLOW=$(proxy_start slow --delay-ms 250 --only GET --only-path-regex '/s/obj-') || { echo "no proxy" >&2; exit 1; }
run stage -q --get-concurrency 1 --to null --partition count --report "$WORK/static.json" "s3://$B/s/" \
  >"$WORK/static.out" 2>&1 || bad "static run: $(tail -3 "$WORK/static.out")"
run stage -q --get-concurrency 1 --to null --steal --steal-chunk 1 --report "$WORK/steal.json" "s3://$B/s/" \
  >"$WORK/steal.out" 2>&1 || bad "steal run: $(tail -3 "$WORK/steal.out")"
proxy_stop slow
ws=$(json "$WORK/static.json" 'd["wall_s"]'); wt=$(json "$WORK/steal.json" 'd["wall_s"]')
slow_static=$(json "$WORK/static.json" '[r["objects"] for r in d["per_rank"] if r["rank"] == 1][0]')
slow_steal=$(json "$WORK/steal.json" '[r["objects"] for r in d["per_rank"] if r["rank"] == 1][0]')
all=$(json "$WORK/steal.json" 'd["totals"]["objects"]')
echo "static: ${ws}s (slow rank did $slow_static objects); steal: ${wt}s (slow rank did $slow_steal)"
[ "$all" = $N ] && ok || bad "steal staged $all of $N objects"
[ "$slow_steal" -lt "$slow_static" ] && ok || bad "the slow rank did less work with --steal"
# the delay makes the gap seconds wide (static: N/NP x 250 ms on the slow rank)
awk -v a="$wt" -v b="$ws" 'BEGIN { exit !(a < 0.75 * b) }' && ok || bad "steal ${wt}s not faster than static ${ws}s"
# --steal into a directory: the jobs of each chunk are planned when a rank takes it; every
# object arrives exactly once, byte for byte
"$MPIEXEC" "${PRE[@]}" -n "$NP" "$CLI" stage -q --steal --steal-chunk 5 --to "dir:$WORK/d" \
  --report "$WORK/d.json" "s3://$B/s/" >"$WORK/d.out" 2>&1 || bad "steal to dir: $(tail -3 "$WORK/d.out")"
"$CLI" get -q -r "s3://$B/s/" "$WORK/ref" && diff -r "$WORK/ref" "$WORK/d" >/dev/null && ok ||
  bad "steal to dir: the files differ from the objects"
[ "$(json "$WORK/d.json" 'd["totals"]["objects"], sum(r["objects"] for r in d["per_rank"])')" = "($N, $N)" ] &&
  ok || bad "steal to dir report: $(json "$WORK/d.json" 'd["totals"]')"
"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish
