#!/usr/bin/env bash
# mpirun -n NP s3dlio-mpi stage against the real server: a few hundred 2-8 MiB objects
# staged to a directory (byte for byte against the generator), to memory and to null:;
# the report JSON checked (totals, imbalance, schema); same seed, same assignment; a key
# deleted between listing and GET is reported and fails the job.
#   it_stage.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
SCHEMA="$(dirname "$0")/../../docs/report-schema.json"
CHECK_SCHEMA="$(dirname "$0")/../unit/check-report-schema.py"
GEN_DUMP=${S3DLIO_GEN_DUMP:?S3DLIO_GEN_DUMP must name the gen_dump binary}
B=it-stage-np$NP-$$-$RANDOM
N=${STAGE_OBJECTS:-200}
run() { "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" "$@"; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

"$CLI" mb -q "s3://$B" || { echo "cannot create bucket" >&2; exit 1; }
"$CLI" put -q --generate --count "$N" --seed 11 "s3://$B/set/" || { echo "upload failed" >&2; exit 1; }
total=$("$CLI" ls -r "s3://$B/set/" | awk '{ s += $1 } END { print s }')

# 1. to a directory: every object exactly once, byte for byte
run stage -q --to "dir:$WORK/out" --report "$WORK/dir.json" "s3://$B/set/" >"$WORK/dir.out" 2>&1 &&
  ok || bad "stage to dir: $(tail -5 "$WORK/dir.out")"
[ "$(find "$WORK/out" -type f | wc -l)" = "$N" ] && ok || bad "$N files staged"
"$CLI" ls -r "s3://$B/set/" | awk -v b="s3://$B/" '{ k = $2; sub(b, "", k); print k, $1 }' >"$WORK/expected"
mismatch=0
while read -r key size; do
  f="$WORK/out/${key#set/}"
  [ "$(stat -c %s "$f" 2>/dev/null)" = "$size" ] || { mismatch=$((mismatch + 1)); continue; }
  cmp -s "$f" <("$GEN_DUMP" --seed 11 --key "$key" --size "$size") || mismatch=$((mismatch + 1))
done <"$WORK/expected"
[ "$mismatch" = 0 ] && ok || bad "$mismatch staged files differ from the source"
[ "$(json "$WORK/dir.json" 'd["totals"]["objects"]')" = "$N" ] && ok || bad "report objects"
[ "$(json "$WORK/dir.json" 'd["totals"]["bytes"]')" = "$total" ] && ok || bad "report bytes"
[ "$(json "$WORK/dir.json" 'd["ranks"]')" = "$NP" ] && ok || bad "report ranks"
python3 "$CHECK_SCHEMA" "$SCHEMA" "$WORK/dir.json" >"$WORK/schema.out" 2>&1 && ok ||
  bad "report schema: $(cat "$WORK/schema.out")"

# 2. to memory with size partitioning: balanced within 5%, per-rank bytes add up
run stage --to mem --partition size --report "$WORK/mem.json" "s3://$B/set/" >"$WORK/mem.out" 2>&1 &&
  ok || bad "stage to mem: $(tail -5 "$WORK/mem.out")"
grep -q "verdict" "$WORK/mem.out" && ok || bad "the table has a verdict line: $(head -40 "$WORK/mem.out")"
json "$WORK/mem.json" 'd["imbalance"]["bytes"] <= 1.05' | grep -q True && ok ||
  bad "size partitioning max/mean bytes $(json "$WORK/mem.json" 'd["imbalance"]')"
[ "$(json "$WORK/mem.json" 'sum(r["bytes"] for r in d["per_rank"])')" = "$total" ] && ok ||
  bad "per-rank bytes add up to the listing"

# progress: plain lines on a non-terminal stderr (interval shortened for the test; a proxy
# slows every object GET so that the run lasts long enough to show some)
slow=$(proxy_start slow --delay-ms 20 --only GET --only-path-regex 'obj-') || bad "proxy did not start"
S3DLIO_PROGRESS_SECONDS=0.05 run stage --endpoint-url "$slow" --to null --report "$WORK/prog.json" \
  "s3://$B/set/" >"$WORK/prog.out" 2>"$WORK/prog.err" || bad "stage with progress: $(tail -3 "$WORK/prog.err")"
proxy_stop slow
grep -Eq "^progress: [0-9.]+% [0-9.]+ of [0-9.]+ MiB, [0-9.]+ MB/s, ETA" "$WORK/prog.err" && ok ||
  bad "progress lines on stderr: $(head -5 "$WORK/prog.err")"
run stage -q --to null --report "$WORK/quiet.json" "s3://$B/set/" >/dev/null 2>"$WORK/quiet.err"
! grep -q "progress" "$WORK/quiet.err" && ok || bad "-q prints no progress"

# 3. same seed, same assignment; null: destination
for i in 1 2; do
  run stage -q --to null --partition count --shuffle 7 --report "$WORK/s$i.json" "s3://$B/set/" \
    >"$WORK/s$i.out" 2>&1 || bad "stage --shuffle run $i: $(tail -3 "$WORK/s$i.out")"
done
a=$(json "$WORK/s1.json" '[(r["rank"], r["objects"], r["bytes"]) for r in d["per_rank"]]')
b=$(json "$WORK/s2.json" '[(r["rank"], r["objects"], r["bytes"]) for r in d["per_rank"]]')
[ -n "$a" ] && [ "$a" = "$b" ] && ok || bad "same seed, same assignment: $a vs $b"

# 4. a key deleted between listing and GET: reported as failed, exit non-zero (the proxy
#    holds each object GET 1.5 s, the listing passes at once)
"$CLI" put -q --generate --count 6 --seed 3 "s3://$B/gone/" || bad "setup gone/"
slow=$(proxy_start gone --delay-ms 1500 --only GET --only-path-regex 'obj-') || bad "proxy did not start"
run stage -v --endpoint-url "$slow" --to null --report "$WORK/gone.json" "s3://$B/gone/" \
  >"$WORK/gone.out" 2>&1 &
pid=$!
for _ in $(seq 1 200); do grep -q "listed 6 objects" "$WORK/gone.out" && break; sleep 0.05; done
"$CLI" rm -q "s3://$B/gone/obj-00000003.bin" || bad "delete during the job"
wait $pid
rc=$?
proxy_stop gone
[ "$rc" = 1 ] && ok || bad "exit code $rc after a vanished key: $(tail -5 "$WORK/gone.out")"
grep -q "gone/obj-00000003.bin.*NoSuchKey" "$WORK/gone.out" && ok || bad "failed key in the table"
[ "$(json "$WORK/gone.json" 'd["failed"][0]["key"]')" = "gone/obj-00000003.bin" ] && ok || bad "failed key in JSON"
[ "$(json "$WORK/gone.json" 'd["totals"]["objects"]')" = 5 ] && ok || bad "the other 5 objects staged"

# 5. --max-memory: the shard does not fit; one clear line naming the rank, exit 1
run stage -q --to mem --max-memory 1MiB "s3://$B/set/" >"$WORK/cap.out" 2>&1
rc=$?
[ "$rc" = 1 ] && ok || bad "memory cap exit code $rc"
# (a job of one process has no other rank to tell apart: no rank named there)
want_rank=1; [ "$NP" = 1 ] && want_rank=0
[ "$(grep -c "exceeds --max-memory" "$WORK/cap.out")" = 1 ] && [ "$(grep -c "rank [0-9]* (" "$WORK/cap.out")" = $want_rank ] && ok ||
  bad "memory cap message: $(cat "$WORK/cap.out")"
# an error agreed on at several steps names its rank once
grep -q "rank [0-9]* ([^)]*): rank" "$WORK/cap.out" && bad "the rank named twice: $(cat "$WORK/cap.out")" || ok

# 5b. a missing bucket: one line naming NoSuchBucket; the rank named at most once (the error
#     passes through several agreements: listing, planning)
run stage --to null "s3://$B-missing/set/" >"$WORK/nob.out" 2>&1
rc=$?
[ "$rc" = 1 ] && [ "$(grep -c NoSuchBucket "$WORK/nob.out")" = 1 ] && ok || bad "missing bucket: exit $rc: $(cat "$WORK/nob.out")"
[ "$(grep -o "rank [0-9]* (" "$WORK/nob.out" | wc -l)" -le 1 ] && ok || bad "the rank named more than once: $(cat "$WORK/nob.out")"

# 6. the engine's commands spread over the ranks: put --generate, get --verify-pattern,
#    get -r to a directory and put -r of that directory
run put -q --generate --count 40 --seed 21 --report "$WORK/pg.json" "s3://$B/dist/" >"$WORK/pg.out" 2>&1 &&
  ok || bad "distributed put --generate: $(tail -3 "$WORK/pg.out")"
[ "$("$CLI" ls -r "s3://$B/dist/" | wc -l)" = 40 ] && ok || bad "40 generated objects"
[ "$(json "$WORK/pg.json" 'len([r for r in d["per_rank"] if r["objects"] > 0])')" = "$NP" ] && ok ||
  bad "every rank generated a share"
run get -q -r --verify-pattern --seed 21 --report "$WORK/gv.json" "s3://$B/dist/" null: >"$WORK/gv.out" 2>&1 &&
  ok || bad "distributed get --verify-pattern: $(tail -3 "$WORK/gv.out")"
run get -q -r --report "$WORK/gd.json" "s3://$B/dist/" "$WORK/dist" >"$WORK/gd.out" 2>&1 && ok || bad "distributed get -r"
run put -q -r --report "$WORK/pd.json" "$WORK/dist" "s3://$B/again/" >"$WORK/pd.out" 2>&1 && ok || bad "distributed put -r"
"$CLI" get -q -r "s3://$B/again/" "$WORK/again" && diff -r "$WORK/dist" "$WORK/again" >/dev/null && ok ||
  bad "put -r then get -r gives the same tree"

# More rows per rank than one chunk of jobs (1,024, src/xfer/feed.h), on file://: every
# object once in each direction, whichever chunk planned it; the report counts them all
F=$WORK/feedsrc
mkdir -p "$F/d" && (cd "$F/d" && for i in $(seq 1 2600); do printf '%s' "$i" >"f$i"; done)
run put -q -r --report "$WORK/fp.json" "$F" "file://$WORK/feedstore/" \
  >"$WORK/fp.out" 2>&1 && ok || bad "put -r of 2600 files: $(tail -3 "$WORK/fp.out")"
[ "$(json "$WORK/fp.json" 'd["totals"]["objects"]')" = 2600 ] && ok || bad "put -r: 2600 objects done"
run stage -q --partition count --to "dir:$WORK/feedback" --report "$WORK/fs.json" \
  "file://$WORK/feedstore/" >"$WORK/fs.out" 2>&1 && ok || bad "stage of 2600 objects: $(tail -3 "$WORK/fs.out")"
diff -r "$F" "$WORK/feedback" >/dev/null && ok || bad "stage of 2600 objects: trees differ"
[ "$(json "$WORK/fs.json" 'sum(r["objects"] for r in d["per_rank"])')" = 2600 ] && ok ||
  bad "stage: the ranks' objects add up to 2600"
run put -q --generate --count 2100 --min-size 0 --max-size 10 --seed 5 --report "$WORK/fg.json" \
  "file://$WORK/feedgen/" >"$WORK/fg.out" 2>&1 && ok || bad "put --generate 2100: $(tail -3 "$WORK/fg.out")"
[ "$(find "$WORK/feedgen" -type f | wc -l)" = 2100 ] && ok || bad "put --generate: 2100 files"
run get -q -r --verify-pattern --seed 5 --report "$WORK/fv.json" "file://$WORK/feedgen/" null: \
  >"$WORK/fv.out" 2>&1 && ok || bad "get --verify-pattern of 2100: $(tail -3 "$WORK/fv.out")"
[ "$(json "$WORK/fv.json" 'd["totals"]["objects"]')" = 2100 ] && ok || bad "get --verify-pattern: 2100 objects"

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish
