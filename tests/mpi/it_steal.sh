#!/usr/bin/env bash
# --steal: one rank is slowed on purpose (S3DLIO_TEST_DELAY_MS before each of its requests);
# with static partitioning the job waits for it, with --steal the other ranks take its work.
#   it_steal.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
B=it-steal-$$-$RANDOM
N=48
run() { "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" "$@"; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
"$CLI" mb -q "s3://$B" && "$CLI" put -q --generate --count $N --min-size 64KiB --max-size 64KiB "s3://$B/s/" ||
  { echo "setup failed" >&2; exit 1; }
export S3DLIO_TEST_DELAY_MS=250 S3DLIO_TEST_DELAY_RANK=1
run stage -q --to null --partition count --report "$WORK/static.json" "s3://$B/s/" >"$WORK/static.out" 2>&1 ||
  bad "static run: $(tail -3 "$WORK/static.out")"
run stage -q --to null --steal --steal-chunk 1 --report "$WORK/steal.json" "s3://$B/s/" >"$WORK/steal.out" 2>&1 ||
  bad "steal run: $(tail -3 "$WORK/steal.out")"
ws=$(json "$WORK/static.json" 'd["wall_s"]'); wt=$(json "$WORK/steal.json" 'd["wall_s"]')
slow_static=$(json "$WORK/static.json" '[r["objects"] for r in d["per_rank"] if r["rank"] == 1][0]')
slow_steal=$(json "$WORK/steal.json" '[r["objects"] for r in d["per_rank"] if r["rank"] == 1][0]')
all=$(json "$WORK/steal.json" 'd["totals"]["objects"]')
echo "static: ${ws}s (slow rank did $slow_static objects); steal: ${wt}s (slow rank did $slow_steal)"
[ "$all" = $N ] && ok || bad "steal staged $all of $N objects"
[ "$slow_steal" -lt "$slow_static" ] && ok || bad "the slow rank did less work with --steal"
# the delay makes the gap seconds wide (static: N/NP x 250 ms on the slow rank)
awk -v a="$wt" -v b="$ws" 'BEGIN { exit !(a < 0.75 * b) }' && ok || bad "steal ${wt}s not faster than static ${ws}s"
"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish
