#!/usr/bin/env bash
# --steal --to mem holds only its share: every page a rank allocates is touched
# (MALLOC_PERTURB_), and its peak RSS stays under the bytes it took plus a fixed bound (a rank
# that allocated the whole data set would pass it); --max-memory holds with --steal, and fails
# clearly when no rank has room; the library's shards list exactly the objects each rank took.
#   it_steal_memory.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
SHARD=${S3DLIO_STAGE_SHARD:?S3DLIO_STAGE_SHARD must name the stage_shard test binary}
B=it-stealmem-np$NP-$$-$RANDOM
run() { "$MPIEXEC" -n "$NP" "${PRE[@]}" "$@"; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
if [ -n "${S3DLIO_SANITIZED:-}" ]; then
  echo "skipped: RSS under sanitizers is not the program's" >&2
  exit 77
fi
"$CLI" mb -q "s3://$B" &&
  "$CLI" put -q --generate --count 96 --min-size 1MiB --max-size 3MiB --seed 31 "s3://$B/m/" ||
  { echo "setup failed" >&2; exit 1; }
total=$("$CLI" ls -r "s3://$B/m/" | awk '{ s += $1 } END { print s }')
BOUND=$((72 * 1024 * 1024)) # the process itself: MPI, curl, buffers, the job table

# 1. peak RSS per rank: its bytes plus the bound, with every allocated page touched
MALLOC_PERTURB_=165 run "$CLI" stage -q --steal --steal-chunk 4 --to mem --report "$WORK/s.json" "s3://$B/m/" \
  >"$WORK/s.out" 2>&1 && ok || bad "stage --steal --to mem: $(tail -3 "$WORK/s.out")"
over=$(json "$WORK/s.json" "[(r['rank'], r['peak_rss_kib'] * 1024 - r['bytes']) for r in d['per_rank'] if r['peak_rss_kib'] * 1024 > r['bytes'] + $BOUND]")
[ "$over" = "[]" ] && ok || bad "ranks over their share + $BOUND bytes (rank, excess): $over (data set $total bytes)"
[ "$(json "$WORK/s.json" 'd["totals"]["bytes"]')" = "$total" ] && ok || bad "every byte staged"

# 2. --max-memory with --steal: each rank stops taking chunks that would not fit
cap=$((total * 3 / (NP * 2) + 4 * 3 * 1024 * 1024))
run "$CLI" stage -q --steal --steal-chunk 4 --to mem --max-memory "$cap" --report "$WORK/c.json" "s3://$B/m/" \
  >"$WORK/c.out" 2>&1 && ok || bad "stage --steal under --max-memory $cap: $(tail -3 "$WORK/c.out")"
[ "$(json "$WORK/c.json" "all(r['bytes'] <= $cap for r in d['per_rank'])")" = True ] && ok ||
  bad "a rank holds more than --max-memory: $(json "$WORK/c.json" '[r["bytes"] for r in d["per_rank"]]')"
# ... and with too little room in all, the job fails naming what was left
small=$((total / (NP * 3)))
run "$CLI" stage -q --steal --steal-chunk 4 --to mem --max-memory "$small" --report "$WORK/f.json" "s3://$B/m/" \
  >"$WORK/f.out" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -Eq "[0-9]+ objects \([0-9]+ bytes\) not staged: every rank reached --max-memory $small" "$WORK/f.out" &&
  ok || bad "no room: exit $rc: $(tail -3 "$WORK/f.out")"

# 3. the library's view: shards hold exactly what each rank fetched
for mode in static steal steal-capped; do
  SHARD_TOTAL_BYTES=$total run "$SHARD" "s3://$B/m/" 31 "$mode" >"$WORK/shard-$mode.out" 2>&1 && ok ||
    bad "shards ($mode): $(tail -5 "$WORK/shard-$mode.out")"
done

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish
