#!/usr/bin/env bash
# The retry budget outlasts a server restart: the test's own RGW is stopped for ~5 s in the
# middle of a stage at NP ranks (connections refused, transfers cut) and started again. The
# run completes, every byte right, and the report shows the retries.
#   it_restart.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
export AWS_EC2_METADATA_DISABLED=true
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
HERE=$(cd "$(dirname "$0")" && pwd)
SERVER=$HERE/../fixtures/s3server
CLI=${S3DLIO_CLI:?S3DLIO_CLI must name the s3dlio-mpi binary}
GEN_DUMP=${S3DLIO_GEN_DUMP:?S3DLIO_GEN_DUMP must name the gen_dump binary}
# a server of its own: stopping the shared one would fail the tests running beside it
STATE=$(mktemp -d -t s3dlio-restart.XXXXXX)
"$SERVER" start "$STATE/s3" >"$STATE/start.log" 2>&1 || {
  echo "cannot start a server" >&2; tail "$STATE/start.log" >&2; "$SERVER" stop "$STATE/s3" >/dev/null 2>&1
  rm -rf "$STATE"; exit 1
}
# shellcheck disable=SC1091
. "$STATE/s3/s3server.env"
. "$HERE/../integration/lib.sh"
# after lib.sh, whose own EXIT trap this one replaces (so it removes WORK too)
cleanup() { "$SERVER" stop "$STATE/s3" >/dev/null 2>&1; rm -rf "$STATE" "$WORK"; }
trap cleanup EXIT
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
B=it-restart-$$
N=120
"$CLI" mb -q "s3://$B" && "$CLI" put -q --generate --count $N --min-size 256KiB --max-size 1MiB --seed 23 "s3://$B/r/" ||
  { echo "setup failed" >&2; exit 1; }

# 120 objects at 10 requests per second per rank: several seconds of transfer to cut into
"$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" stage --max-request-rate 10 --to "dir:$WORK/out" \
  --report "$WORK/r.json" "s3://$B/r/" >"$WORK/r.out" 2>&1 &
pid=$!
sleep 2
"$SERVER" rgw-stop "$STATE/s3" >>"$STATE/start.log" 2>&1 || bad "rgw-stop"
sleep 5
"$SERVER" rgw-start "$STATE/s3" >>"$STATE/start.log" 2>&1 || bad "rgw-start"
wait $pid
rc=$?
[ "$rc" = 0 ] && ok || bad "stage across a restart: exit $rc: $(tail -5 "$WORK/r.out")"
[ "$(json "$WORK/r.json" 'd["totals"]["objects"]')" = $N ] && ok || bad "every object staged"
[ "$(json "$WORK/r.json" 'd["totals"]["retries"] > 0')" = True ] && ok || bad "the report shows no retries"
mismatch=0
"$CLI" ls -r "s3://$B/r/" | awk -v b="s3://$B/" '{ k = $2; sub(b, "", k); print k, $1 }' >"$WORK/expected"
while read -r key size; do
  cmp -s "$WORK/out/${key#r/}" <("$GEN_DUMP" --seed 23 --key "$key" --size "$size") || mismatch=$((mismatch + 1))
done <"$WORK/expected"
[ "$mismatch" = 0 ] && ok || bad "$mismatch files differ after the restart"
finish
