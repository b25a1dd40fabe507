#!/usr/bin/env bash
# --trace PATH under mpirun (issue 10): a traced upload of a small dataset (multipart objects
# among them), then a traced stage of it, a traced get --recursive and checkpoint save; each
# trace is checked against the run's report by check-trace.py (request count, bytes, phases,
# lanes, ranks).
# A bad PATH (no such directory, a file as directory, an existing directory, a read-only
# file system) stops the job before any transfer with one line naming PATH, exit 1, no file
# left; a PATH that fails only when written (/dev/full) still fails the job on every rank.
# Outside an MPI job --trace is refused (exit 2).
#   it_trace.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
# Exit 77 only when everything else passed but the read-only mount was not permitted.
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
CHECK_TRACE="$(dirname "$0")/check-trace.py"
B=it-trace-np$NP-$$-$RANDOM
RO=$WORK/ro
# the read-only mount must go before lib.sh's cleanup removes the work dir
trap 'mountpoint -q "$RO" 2>/dev/null && umount "$RO"; rm -rf "$WORK"' EXIT
run() { "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" "$@"; }
# the one line our program printed (mpirun may add its own notice after a non-zero exit)
our_lines() { grep -c "^s3dlio-mpi: " "$1"; }
trace_ok() { # trace_ok NAME TRACE REPORT [OP...]
  local name=$1; shift
  python3 "$CHECK_TRACE" "$1" "$2" "$NP" "${@:3}" >"$WORK/check.out" 2>&1 && ok ||
    bad "$name: $(cat "$WORK/check.out")"
  echo "$name: $(tail -1 "$WORK/check.out")"
}
# no trace and no temporary file of one under DIR
no_trace_left() { [ -z "$(find "$1" -name '*trace*' -print -quit 2>/dev/null)" ]; }
MP=(--part-size 5MiB --multipart-threshold 8MiB --range-threshold 5MiB)

"$CLI" mb -q "s3://$B" || { echo "setup: make bucket failed" >&2; exit 1; }

# 1. a traced upload: 36 small objects and 4 multipart ones, spread over the ranks
run put -q --generate --count 36 --min-size 4KiB --max-size 64KiB --seed 11 \
  --trace "$WORK/put-small.trace.json" --report "$WORK/put-small.json" "s3://$B/ds/small/" \
  >"$WORK/put.out" 2>&1 || { echo "setup: put small failed: $(tail -3 "$WORK/put.out")" >&2; exit 1; }
trace_ok "put small" "$WORK/put-small.trace.json" "$WORK/put-small.json" PUT
run put -q --generate --count 4 --min-size 11MiB --max-size 12MiB --seed 12 "${MP[@]}" \
  --trace "$WORK/put-big.trace.json" --report "$WORK/put-big.json" "s3://$B/ds/big/" \
  >"$WORK/put.out" 2>&1 || { echo "setup: put big failed: $(tail -3 "$WORK/put.out")" >&2; exit 1; }
trace_ok "put multipart" "$WORK/put-big.trace.json" "$WORK/put-big.json" \
  CreateMultipartUpload UploadPart CompleteMultipartUpload

# 2. a traced stage: every object, the big ones in ranged GETs
run stage -q --to null "${MP[@]}" --trace "$WORK/stage.trace.json" --report "$WORK/stage.json" \
  "s3://$B/ds/" >"$WORK/stage.out" 2>&1 && ok || bad "stage: $(tail -3 "$WORK/stage.out")"
trace_ok "stage" "$WORK/stage.trace.json" "$WORK/stage.json" GET
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["objects"])' \
  "$WORK/stage.json")" = 40 ] && ok || bad "stage: not 40 objects in the report"
ranged=$(python3 -c 'import json,sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
print(sum(1 for e in ev if e.get("name") == "GET" and not e["args"]["range"].endswith("-")))' \
  "$WORK/stage.trace.json")
[ "$ranged" -ge 8 ] && ok || bad "stage: $ranged ranged GETs in the trace, want the big objects' parts"

# 3. get --recursive under mpirun takes it too
run get -q --recursive --trace "$WORK/get.trace.json" --report "$WORK/get.json" \
  "s3://$B/ds/small/" "$WORK/got/" >"$WORK/get.out" 2>&1 && ok || bad "get -r: $(tail -3 "$WORK/get.out")"
trace_ok "get -r" "$WORK/get.trace.json" "$WORK/get.json" GET
# ... and checkpoint save (its jobs run as stage's do)
run checkpoint save -q --name t1 --trace "$WORK/save.trace.json" --report "$WORK/save.json" \
  "$WORK/got" "s3://$B/ckpt/" >"$WORK/save.out" 2>&1 && ok || bad "checkpoint save: $(tail -3 "$WORK/save.out")"
trace_ok "checkpoint save" "$WORK/save.trace.json" "$WORK/save.json" PUT

# 4. bad PATHs: refused before any transfer, one line naming PATH, nothing left behind
mkdir -p "$WORK/bad" "$WORK/bad/adir"
: >"$WORK/bad/afile"
for path in "$WORK/bad/nodir/t.json" "$WORK/bad/afile/t.json" "$WORK/bad/adir"; do
  run stage --to "dir:$WORK/bad/dest" --trace "$path" "s3://$B/ds/small/" \
    >"$WORK/bad.out" 2>"$WORK/bad.err"
  rc=$?
  [ "$rc" = 1 ] && ok || bad "--trace $path: exit $rc, want 1: $(head -3 "$WORK/bad.err")"
  [ "$(our_lines "$WORK/bad.err")" = 1 ] && grep -Fq "'$path'" "$WORK/bad.err" && ok ||
    bad "--trace $path: want one line naming it: $(head -3 "$WORK/bad.err")"
  [ ! -e "$WORK/bad/dest" ] && ok || bad "--trace $path: objects were transferred anyway"
done
no_trace_left "$WORK/bad" && [ -z "$(find "$WORK/bad/adir" -mindepth 1 -print -quit)" ] && ok ||
  bad "a refused --trace left a file: $(find "$WORK/bad" | head -5)"

ro_skipped=0
mkdir -p "$RO"
if mount -t tmpfs -o ro,size=1m tmpfs "$RO" 2>/dev/null; then
  run stage --to "dir:$WORK/ro-dest" --trace "$RO/t.json" "s3://$B/ds/small/" \
    >"$WORK/ro.out" 2>"$WORK/ro.err"
  rc=$?
  [ "$rc" = 1 ] && ok || bad "read-only --trace: exit $rc, want 1: $(head -3 "$WORK/ro.err")"
  [ "$(our_lines "$WORK/ro.err")" = 1 ] && grep -q "'$RO/t.json'.*Read-only file system" "$WORK/ro.err" &&
    ok || bad "read-only --trace: want one line naming it: $(head -3 "$WORK/ro.err")"
  [ ! -e "$WORK/ro-dest" ] && ok || bad "read-only --trace: objects were transferred anyway"
  umount "$RO"
else
  echo "SKIP: read-only --trace: mounting a tmpfs is not permitted here" >&2
  ro_skipped=1
fi

# 5. a trace that fails only when written: the job fails on every rank, saying so once
if [ -w /dev/full ]; then
  run stage --to null --trace /dev/full --report "$WORK/full.json" "s3://$B/ds/small/" \
    >"$WORK/full.out" 2>"$WORK/full.err"
  rc=$?
  [ "$rc" = 1 ] && ok || bad "--trace /dev/full: exit $rc, want 1: $(head -3 "$WORK/full.err")"
  [ "$(grep -c "^s3dlio-mpi: stage '/dev/full'" "$WORK/full.err")" = 1 ] &&
    [ "$(our_lines "$WORK/full.err")" = 2 ] && grep -q "^s3dlio-mpi: report written" "$WORK/full.err" &&
    grep -q "'/dev/full'.*No space left" "$WORK/full.err" && ok ||
    bad "--trace /dev/full: want one line naming it (and the report's): $(head -3 "$WORK/full.err")"
fi

# 6. outside an MPI job the option is refused, not ignored
expect "--trace without mpirun" 2 "--trace.*mpirun" -- \
  "$CLI" get -r --trace "$WORK/single.json" "s3://$B/ds/small/" "$WORK/single/"
[ ! -e "$WORK/single.json" ] && ok || bad "--trace without mpirun wrote a trace"

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish || exit 1
[ "$ro_skipped" = 0 ] || exit 77
