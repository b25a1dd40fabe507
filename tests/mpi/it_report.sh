#!/usr/bin/env bash
# Honest run reports under mpirun: wall time is the slowest rank's own elapsed time (not
# clocks compared across ranks); objects listed / done / failed add up in the table and the
# JSON; a total outage is named as failures first; a failed 908-byte key and its error reach
# report.json whole; --run-id must be a name (../ refused before anything is written); an
# unwritable report destination stops the job before any transfer; a rank with no work has
# no CPU% (null) and is not blamed in the verdict. Every report is checked against the schema.
#   it_report.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
# Exit 77 only when everything else passed but the read-only mount was not permitted.
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
SCHEMA="$(dirname "$0")/../../docs/report-schema.json"
CHECK_SCHEMA="$(dirname "$0")/../unit/check-report-schema.py"
B=it-report-np$NP-$$-$RANDOM
RO=$WORK/ro
# the read-only mount must go before lib.sh's cleanup removes the work dir
trap 'mountpoint -q "$RO" 2>/dev/null && umount "$RO"; rm -rf "$WORK"' EXIT
run() { "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" "$@"; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
schema_ok() {
  python3 "$CHECK_SCHEMA" "$SCHEMA" "$1" >"$WORK/schema.out" 2>&1 && ok ||
    bad "$2: report schema: $(cat "$WORK/schema.out")"
}
# the one line our program printed (mpirun may add its own notice after a non-zero exit)
our_lines() { grep -c "^s3dlio-mpi: " "$1"; }

"$CLI" mb -q "s3://$B" &&
  "$CLI" put -q --generate --count 20 --min-size 4KiB --max-size 16KiB --seed 5 "s3://$B/part/" &&
  "$CLI" put -q --generate --count 1 --min-size 4KiB --max-size 4KiB --seed 6 "s3://$B/one/" ||
  { echo "setup failed" >&2; exit 1; }
LONG="long/$(head -c 903 /dev/zero | tr '\0' k)" # 908 bytes, the S3 limit is 1024
head -c 1000 /dev/urandom >"$WORK/small"
"$CLI" put -q "$WORK/small" "s3://$B/$LONG" || { echo "setup: the long key" >&2; exit 1; }

# 1. some GETs refused: listed = done + failed, in the table and in the JSON
url=$(proxy_start some --status-every 3 --status 403 --only GET --only-path-regex '/part/obj-')
run stage --endpoint-url "$url" --to null --report "$WORK/some.json" "s3://$B/part/" \
  >"$WORK/some.out" 2>"$WORK/some.err"
rc=$?
proxy_stop some
[ "$rc" = 1 ] && ok || bad "some failed: exit $rc, want 1: $(tail -3 "$WORK/some.err")"
done_=$(json "$WORK/some.json" 'd["totals"]["objects"]')
failed=$(json "$WORK/some.json" 'd["totals"]["failures"]')
[ "$(json "$WORK/some.json" 'd["totals"]["listed"]')" = 20 ] && ok || bad "JSON totals.listed is not 20"
[ "$((done_ + failed))" = 20 ] && [ "$failed" -gt 0 ] && ok ||
  bad "done $done_ + failed $failed != 20 listed"
grep -q "^  objects       20 listed, $done_ done, $failed failed\$" "$WORK/some.out" && ok ||
  bad "table objects row: $(grep "objects" "$WORK/some.out")"
json "$WORK/some.json" 'd["verdict"]' | grep -q "^failures: $failed of 20 objects failed (first: get '" &&
  ok || bad "verdict does not start with the failures: $(json "$WORK/some.json" 'd["verdict"]')"
schema_ok "$WORK/some.json" "some failed"

# 2. a total outage: the verdict says so first, not "concurrency-bound"
url=$(proxy_start all --status-every 1 --status 403 --only GET --only-path-regex '/part/obj-')
run stage --endpoint-url "$url" --to null --report "$WORK/all.json" "s3://$B/part/" \
  >"$WORK/all.out" 2>"$WORK/all.err"
rc=$?
proxy_stop all
[ "$rc" = 1 ] && ok || bad "outage: exit $rc, want 1"
grep -q "^  objects       20 listed, 0 done, 20 failed\$" "$WORK/all.out" && ok ||
  bad "outage table objects row: $(grep "objects" "$WORK/all.out")"
first="get 's3://$B/part/obj-[0-9]+\.bin': AccessDenied \(HTTP 403"
grep -Eq "^  verdict       failures: 20 of 20 objects failed \(first: $first" "$WORK/all.out" && ok ||
  bad "outage verdict: $(grep verdict "$WORK/all.out")"
schema_ok "$WORK/all.json" "outage"
# stderr says it too, in one line (the table may be off with -q)
[ "$(grep -c "^s3dlio-mpi: stage: 20 of 20 objects failed; the report names each key" "$WORK/all.err")" = 1 ] &&
  ok || bad "outage on stderr: $(head -3 "$WORK/all.err")"

# 3. a 908-byte key that fails: key and error whole in report.json
url=$(proxy_start long --status-every 1 --status 403 --only GET --only-path-regex '/long/k')
run stage -q --endpoint-url "$url" --to null --report "$WORK/long.json" "s3://$B/long/" \
  >"$WORK/long.out" 2>&1
proxy_stop long
[ "$(json "$WORK/long.json" 'd["failed"][0]["key"]')" = "$LONG" ] && ok ||
  bad "failed key not whole: $(json "$WORK/long.json" 'len(d["failed"][0]["key"])') of ${#LONG} bytes"
want="get 's3://$B/$LONG': AccessDenied (HTTP 403"
[ "$(json "$WORK/long.json" 'd["failed"][0]["error"]' | cut -c1-${#want})" = "$want" ] && ok ||
  bad "failed error not whole: $(json "$WORK/long.json" 'd["failed"][0]["error"]' | tail -c 120)"
json "$WORK/long.json" 'd["failed"][0]["error"]' | grep -q "Access Denied\$" && ok ||
  bad "the error's message is cut: $(json "$WORK/long.json" 'd["failed"][0]["error"]' | tail -c 60)"
schema_ok "$WORK/long.json" "long key"

# 4. --run-id is a name: a path is refused (exit 2, one line naming it), nothing written
mkdir -p "$WORK/cwd"
for id in ../../escape a/b . ..; do
  (cd "$WORK/cwd" && run stage -q --run-id "$id" --to "dir:$WORK/cwd/data" "s3://$B/one/") \
    >"$WORK/id.out" 2>"$WORK/id.err"
  rc=$?
  [ "$rc" = 2 ] && ok || bad "--run-id '$id': exit $rc, want 2: $(head -3 "$WORK/id.err")"
  [ "$(our_lines "$WORK/id.err")" = 1 ] && grep -Fq "'$id'" "$WORK/id.err" &&
    grep -Eiq "run[ -]id" "$WORK/id.err" && ok ||
    bad "--run-id '$id': want one line naming it: $(head -3 "$WORK/id.err")"
done
[ -z "$(find "$WORK/cwd" -mindepth 1 -print -quit)" ] && [ ! -e "$WORK/escape" ] &&
  ok || bad "a refused run id wrote something: $(find "$WORK/cwd" "$WORK/escape" 2>/dev/null | head -5)"

# 5. a rank with no work (1 object, NP ranks): no CPU% from a microsecond, nobody blamed
run stage --to null --report "$WORK/idle.json" "s3://$B/one/" >"$WORK/idle.out" 2>"$WORK/idle.err" &&
  ok || bad "stage of one object: $(tail -3 "$WORK/idle.err")"
short_cpu='[(r["rank"], r["wall_s"], r["cpu_pct"]) for r in d["per_rank"]
            if r["wall_s"] < 0.1 and r["cpu_pct"] is not None]'
[ "$(json "$WORK/idle.json" "$short_cpu")" = "[]" ] && ok ||
  bad "CPU% from under 0.1 s (rank, wall_s, cpu_pct): $(json "$WORK/idle.json" "$short_cpu")"
idle=$(json "$WORK/idle.json" '" ".join(str(r["rank"]) for r in d["per_rank"] if r["requests"] == 0)')
verdict=$(json "$WORK/idle.json" 'd["verdict"]')
blamed=""
for r in $idle; do echo "$verdict" | grep -q "rank $r\b" && blamed="$blamed $r"; done
[ -z "$blamed" ] && ok || bad "idle rank(s)$blamed blamed: $verdict"
echo "$verdict" | grep -q "CPU saturated" && bad "CPU verdict on a run of one small object: $verdict" || ok
slowest='max(r["wall_s"] for r in d["per_rank"])'
[ "$(json "$WORK/idle.json" "abs(d['wall_s'] - $slowest) < 1e-6")" = True ] && ok ||
  bad "wall $(json "$WORK/idle.json" 'd["wall_s"]') is not the slowest rank's $(json "$WORK/idle.json" "$slowest")"
[ "$(json "$WORK/idle.json" 'd["totals"]["listed"]')" = 1 ] && ok || bad "idle: listed is not 1"
schema_ok "$WORK/idle.json" "idle ranks"

# 6. the report destination is checked before any transfer (read-only file system; as root
#    permission bits do not stop a write, a read-only mount does)
ro_skipped=0
mkdir -p "$RO"
if mount -t tmpfs -o ro,size=1m tmpfs "$RO" 2>/dev/null; then
  run stage -q --to "dir:$WORK/dest" --report "$RO/report.json" "s3://$B/part/" \
    >"$WORK/ro.out" 2>"$WORK/ro.err"
  rc=$?
  [ "$rc" = 1 ] && ok || bad "read-only report: exit $rc, want 1: $(head -3 "$WORK/ro.err")"
  [ "$(our_lines "$WORK/ro.err")" = 1 ] && grep -q "Read-only file system.*report" "$WORK/ro.err" && ok ||
    bad "read-only report: want one line naming the report: $(head -3 "$WORK/ro.err")"
  [ -z "$(find "$WORK/dest" -type f -print -quit 2>/dev/null)" ] && ok ||
    bad "read-only report: objects were transferred anyway: $(find "$WORK/dest" -type f | head -3)"
  umount "$RO"
else
  echo "SKIP: read-only report destination: mounting a tmpfs is not permitted here" >&2
  ro_skipped=1
fi

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish || exit 1
[ "$ro_skipped" = 0 ] || exit 77
