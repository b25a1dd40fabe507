#!/usr/bin/env bash
# mpirun -n NP s3dlio-mpi sync s3 -> s3 across two endpoints: the relay (GET into PUT through
# bounded memory). The other endpoint is a fault proxy in front of the same server (another
# host:port is another endpoint to the tool). Shown: small objects in memory batches and
# 40 MiB ones through the pipe as multipart uploads (--relay-memory 8MiB), byte for byte; no
# CopyObject (trace) and every payload byte through the client (proxy counters); a second run
# copies nothing; --delete removes exactly the extras; a PUT refused (403) and a GET cut in the
# middle of a piped object each fail that object with one line, exit 1, leave no object and
# no multipart upload, and --delete does not run; SIGTERM in the middle of a piped multipart
# upload leaves none either (exit 143 for one process).
#   it_sync_relay.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
B=it-relay-np$NP-$$-$RANDOM
C=$B-dst
D=$AWS_ENDPOINT_URL
run() { "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" "$@"; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
listing() { "$CLI" ls -r "$1" | awk -v p="$1" '{ k = $2; sub(p, "", k); print $1, k }' | sort; }
# multipart uploads in progress in DST's bucket
uploads() { uploads_open "$C" "$D"; }
# requests of the trace by name, e.g. "CopyObject=0 UploadPartCopy=0 GET=5 ..."
trace_ops() {
  python3 -c '
import collections, json, sys
d = json.load(open(sys.argv[1])); ev = d["traceEvents"] if isinstance(d, dict) else d
c = collections.Counter(e.get("name") for e in ev if e.get("ph") == "X" and e.get("cat") != "phase")
print(" ".join("%s=%d" % (k, c[k]) for k in ("CopyObject", "UploadPartCopy", "GET", "PUT", "UploadPart")))' "$1"
}
command -v aws >/dev/null || { echo "SKIP: awscli is needed to list multipart uploads" >&2; exit 77; }

"$CLI" mb -q "s3://$B" && "$CLI" mb -q "s3://$C" || { echo "cannot create buckets" >&2; exit 1; }
SRC=$WORK/src
mkdir -p "$SRC/a"
: >"$SRC/empty.bin"
make_file "$SRC/one.bin" 1
make_file "$SRC/a/small.bin" 70000
make_file "$SRC/a/mid.bin" $((3 * 1024 * 1024 + 7))
make_file "$SRC/a/mid2.bin" $((6 * 1024 * 1024))
make_file "$SRC/big.bin" $((40 * 1024 * 1024 + 3))
"$CLI" put -q -r "$SRC" "s3://$B/set/" || bad "setup upload"
TOTAL=$(find "$SRC" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
NOBJ=$(find "$SRC" -type f | wc -l)

# 1. DST behind a proxy (another endpoint), SRC on the server: a relay, byte for byte
dst=$(proxy_start dst --only PUT)
run sync --endpoint-url "$dst" --source-endpoint-url "$D" --relay-memory 8MiB \
  --report "$WORK/r1.json" --trace "$WORK/r1.trace.json" "s3://$B/set/" "s3://$C/set/" \
  >"$WORK/r1.out" 2>&1 && ok || bad "relay sync: $(tail -5 "$WORK/r1.out")"
grep -q "relayed from the source endpoint" "$WORK/r1.out" && ok || bad "summary: $(tail -2 "$WORK/r1.out")"
"$CLI" get -q -r "s3://$C/set/" "$WORK/back" && diff -r "$SRC" "$WORK/back" >/dev/null && ok ||
  bad "relayed objects differ from the source"
[ "$(json "$WORK/r1.json" 'd["totals"]["objects"], d["totals"]["failures"], d["totals"]["bytes"]')" = \
  "($NOBJ, 0, $TOTAL)" ] && ok || bad "relay report: $(json "$WORK/r1.json" 'd["totals"]')"
ops=$(trace_ops "$WORK/r1.trace.json")
# the piped object in six 8 MiB parts, the others (within 8 MiB) as single PUTs
case "$ops" in
  "CopyObject=0 UploadPartCopy=0 GET="*" PUT=5 UploadPart=6") ok ;;
  *) bad "relay requests: $ops" ;;
esac
reqs=$(json "$WORK/r1.json" 'd["totals"]["requests"]')
spans=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); ev = d["traceEvents"] if isinstance(d, dict) else d
print(sum(1 for e in ev if e.get("ph") == "X" and e.get("cat") != "phase"))' "$WORK/r1.trace.json")
[ "$reqs" = "$spans" ] && ok || bad "report requests $reqs, trace spans $spans: both sides counted?"
# the payload went through the client to the destination's endpoint (CopyObject carries none)
up=$(proxy_stat dst 'd["bytes_to_upstream"]')
[ "$up" -ge "$TOTAL" ] && ok || bad "proxy saw $up bytes upstream, want at least $TOTAL"

# 2. a second run copies nothing
run sync -q --endpoint-url "$dst" --source-endpoint-url "$D" --relay-memory 8MiB \
  --report "$WORK/r2.json" "s3://$B/set/" "s3://$C/set/" >"$WORK/r2.out" 2>&1 && ok ||
  bad "second relay: $(tail -3 "$WORK/r2.out")"
[ "$(json "$WORK/r2.json" 'd["totals"]["objects"], d["totals"]["requests"]')" = "(0, 0)" ] && ok ||
  bad "second relay copied: $(json "$WORK/r2.json" 'd["totals"]')"

# 3. --delete removes exactly the extras (and copies what changed), on one endpoint with
#    --no-server-side-copy
"$CLI" put -q "$SRC/one.bin" "s3://$C/set/extra1" && "$CLI" put -q "$SRC/one.bin" "s3://$C/set/x/extra2" &&
  "$CLI" put -q "$SRC/one.bin" "s3://$C/set/a/small.bin" || bad "setup extras"
run sync -q --no-server-side-copy --verify --delete --report "$WORK/r3.json" --trace "$WORK/r3.trace.json" \
  "s3://$B/set/" "s3://$C/set/" >"$WORK/r3.out" 2>&1 && ok || bad "relay --delete: $(tail -3 "$WORK/r3.out")"
[ "$(listing "s3://$C/set/")" = "$(listing "s3://$B/set/")" ] && ok || bad "listing after --delete"
"$CLI" get -q "s3://$C/set/a/small.bin" "$WORK/small.back" && cmp -s "$SRC/a/small.bin" "$WORK/small.back" &&
  ok || bad "the changed object was not relayed again"
[ "$(trace_ops "$WORK/r3.trace.json")" = "CopyObject=0 UploadPartCopy=0 GET=1 PUT=1 UploadPart=0" ] && ok ||
  bad "--no-server-side-copy requests: $(trace_ops "$WORK/r3.trace.json")"

# 4. a PUT refused by the destination (403 on big.bin's second part): that object fails, one
#    line, exit 1, no object and no upload left, the extra not deleted
"$CLI" put -q "$SRC/one.bin" "s3://$C/f/extra" || bad "setup extra"
deny=$(proxy_start deny --only PUT --only-path-regex 'big\.bin' --status-every 2 --status 403)
run sync -q --endpoint-url "$deny" --source-endpoint-url "$D" --relay-memory 8MiB --delete \
  --report "$WORK/r4.json" "s3://$B/set/" "s3://$C/f/" >"$WORK/r4.out" 2>"$WORK/r4.err"
[ $? = 1 ] && ok || bad "refused PUT: exit $?, want 1"
[ "$(grep -c '^s3dlio-mpi: ' "$WORK/r4.err")" = 1 ] &&
  grep -q "^s3dlio-mpi: sync: 1 of $NOBJ copies failed, nothing was deleted" "$WORK/r4.err" && ok ||
  bad "refused PUT message: $(cat "$WORK/r4.err")"
json "$WORK/r4.json" 'd["failed"][0]["key"], d["failed"][0]["error"]' |
  grep -q "f/big.bin.*AccessDenied (HTTP 403, request id" && ok || bad "refused PUT in the report: $(json "$WORK/r4.json" 'd["failed"]')"
[ "$(json "$WORK/r4.json" 'd["totals"]["aborted_uploads"]')" -ge 1 ] && ok || bad "no upload aborted"
"$CLI" ls -r "s3://$C/f/" | grep -q "big.bin" && bad "a failed relay left f/big.bin" || ok
"$CLI" ls -r "s3://$C/f/extra" | grep -q extra && ok || bad "--delete ran after a failure"
[ "$(uploads)" = 0 ] && ok || bad "multipart uploads left after a refused PUT: $(uploads)"

# 5. the source cuts big.bin's body after 20 MB (no retries): the upload has parts by then,
#    and must be aborted, never completed from the short input
cut=$(proxy_start cut --only GET --only-path-regex 'big\.bin' --reset-every 1 --reset-after 20000000)
run sync -q --source-endpoint-url "$cut" --retries 0 --retry-time 100ms --relay-memory 8MiB --report "$WORK/r5.json" \
  "s3://$B/set/" "s3://$C/g/" >"$WORK/r5.out" 2>"$WORK/r5.err"
[ $? = 1 ] && ok || bad "cut GET: exit not 1: $(cat "$WORK/r5.err")"
json "$WORK/r5.json" 'd["failed"][0]["error"]' | grep -q "^get 's3://$B/set/big.bin'" && ok ||
  bad "cut GET in the report: $(json "$WORK/r5.json" 'd["failed"]')"
[ "$(json "$WORK/r5.json" 'd["totals"]["aborted_uploads"]')" -ge 1 ] && ok ||
  bad "the cut GET's upload was not begun and aborted: $(json "$WORK/r5.json" 'd["totals"]')"
"$CLI" ls -r "s3://$C/g/" | grep -q "big.bin" && bad "a cut GET left g/big.bin" || ok
[ "$(uploads)" = 0 ] && ok || bad "multipart uploads left after a cut GET: $(uploads)"
[ "$(listing "s3://$C/g/" | wc -l)" = $((NOBJ - 1)) ] && ok || bad "the other objects: $(listing "s3://$C/g/")"

# 6. SIGTERM while a piped object's multipart upload runs (the source slowed): no upload and
#    no partial object left; one process exits 143 and its report says interrupted
slow=$(proxy_start slow --only GET --only-path-regex 'big\.bin' --body-rate 1m)
# parts of 5 MiB from 5 MiB on: the upload begins early, and is far from done at the signal
SLOWSYNC=(sync --source-endpoint-url "$slow" --relay-memory 8MiB --part-size 5MiB
          --multipart-threshold 5MiB --report "$WORK/r6.json" "s3://$B/set/" "s3://$C/h/")
if [ "$NP" = 1 ]; then
  "$CLI" "${SLOWSYNC[@]}" >"$WORK/r6.out" 2>&1 &
else
  # mpirun itself (not through run(): a function in the background is a subshell, whose pid
  # would get the signal instead)
  "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" "${SLOWSYNC[@]}" >"$WORK/r6.out" 2>&1 &
fi
pid=$!
# past the multipart threshold the upload has begun (the proxy counts what it relayed: the
# other objects, 9.5 MB, then big.bin, which takes 40 s at this rate)
for _ in $(seq 300); do
  [ "$(proxy_stat slow 'd["bytes_to_client"]' 2>/dev/null || echo 0)" -gt 17000000 ] && break
  sleep 0.1
done
kill -TERM "$pid"
wait "$pid"; rc=$?
if [ "$NP" = 1 ]; then
  [ "$rc" = 143 ] && ok || bad "SIGTERM: exit $rc, want 143: $(tail -3 "$WORK/r6.out")"
  [ "$(json "$WORK/r6.json" 'd["interrupted"]')" = True ] && ok || bad "report does not say interrupted"
  grep -q "sync: interrupted" "$WORK/r6.out" && ok || bad "no interrupted line: $(head -3 "$WORK/r6.out")"
else
  [ "$rc" != 0 ] && ok || bad "SIGTERM: exit 0"
fi
# the signal came during the upload (it was aborted, not completed)
[ "$(json "$WORK/r6.json" 'd["totals"]["aborted_uploads"]')" -ge 1 ] && ok ||
  bad "no upload was aborted: $(json "$WORK/r6.json" 'd["totals"]')"
[ "$(uploads)" = 0 ] && ok || bad "multipart uploads left after SIGTERM: $(uploads)"
"$CLI" ls -r "s3://$C/h/" | grep -q "big.bin" && bad "SIGTERM left h/big.bin" || ok

# 7. bad input: one line, exit 2
expect "relay memory" 2 "--relay-memory must be above 0" -- \
  "$CLI" sync -q --relay-memory 0 "s3://$B/set/" "s3://$C/x/"
expect "source profile" 2 "profile.*no-such-profile" -- \
  "$CLI" sync -q --source-profile no-such-profile "s3://$B/set/" "s3://$C/x/"

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup $B"
"$CLI" rm -q --recursive "s3://$C/" && "$CLI" rb -q "s3://$C" || bad "cleanup $C"
finish
