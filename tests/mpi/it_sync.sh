#!/usr/bin/env bash
# mpirun -n NP s3dlio-mpi sync against the real server: s3 -> file -> s3 round trip byte for
# byte (0 bytes, small, one 17 MiB multipart object, nested keys); a second run copies
# nothing; --delete removes exactly the extras; --dry-run changes nothing and prints the
# plan; s3 -> s3 copies on the server (CopyObject and UploadPartCopy in the trace, no bytes
# through the client); a source changed between listing and copy fails by name and leaves
# nothing; bad URIs and a missing bucket are one line with exit 1 or 2.
#   it_sync.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
SCHEMA="$(dirname "$0")/../../docs/report-schema.json"
CHECK_SCHEMA="$(dirname "$0")/../unit/check-report-schema.py"
B=it-sync-np$NP-$$-$RANDOM
C=$B-copy
run() { "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" "$@"; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
# "size key" lines of a listing, keys below the prefix
listing() { "$CLI" ls -r "$1" | awk -v p="$1" '{ k = $2; sub(p, "", k); print $1, k }' | sort; }
tree() { (cd "$1" && find . -type f -printf '%s %P\n' | sort); }

"$CLI" mb -q "s3://$B" && "$CLI" mb -q "s3://$C" || { echo "cannot create buckets" >&2; exit 1; }
SRC=$WORK/src
mkdir -p "$SRC/a/b" "$SRC/c"
: >"$SRC/empty.bin"
make_file "$SRC/one.bin" 1
make_file "$SRC/a/small.bin" 4097
make_file "$SRC/a/b/deep.bin" 300000
make_file "$SRC/c/big.bin" $((17 * 1024 * 1024 + 5))
for i in 1 2 3 4 5 6; do make_file "$SRC/c/f$i" $((i * 1000)); done
"$CLI" put -q -r "$SRC" "s3://$B/set/" || bad "setup upload"

# 1. s3 -> file: every object, byte for byte; the report is stage's
run sync --report "$WORK/down.json" "s3://$B/set/" "file://$WORK/down" >"$WORK/down.out" 2>&1 &&
  ok || bad "sync s3 -> file: $(tail -5 "$WORK/down.out")"
[ "$(tree "$WORK/down")" = "$(tree "$SRC")" ] && ok || bad "file tree after s3 -> file: $(tree "$WORK/down")"
mismatch=0
while read -r _ rel; do cmp -s "$SRC/$rel" "$WORK/down/$rel" || mismatch=$((mismatch + 1)); done < <(tree "$SRC")
[ "$mismatch" = 0 ] && ok || bad "$mismatch files differ after s3 -> file"
[ "$(json "$WORK/down.json" 'd["command"], d["totals"]["objects"], d["ranks"]')" = "('sync', 11, $NP)" ] && ok ||
  bad "report: $(json "$WORK/down.json" 'd["command"], d["totals"]["objects"], d["ranks"]')"
python3 "$CHECK_SCHEMA" "$SCHEMA" "$WORK/down.json" >"$WORK/schema.out" 2>&1 && ok ||
  bad "report schema: $(cat "$WORK/schema.out")"

# 2. file -> s3 into another prefix, then back to a second directory: the same bytes
run sync -q --report "$WORK/up.json" "file://$WORK/down" "s3://$B/back" >"$WORK/up.out" 2>&1 &&
  ok || bad "sync file -> s3: $(tail -5 "$WORK/up.out")"
[ "$(listing "s3://$B/back/")" = "$(listing "s3://$B/set/")" ] && ok || bad "listing after file -> s3"
run sync -q --report "$WORK/again.json" "s3://$B/back/" "file://$WORK/again" >"$WORK/again.out" 2>&1 &&
  ok || bad "sync s3 -> file (round trip): $(tail -5 "$WORK/again.out")"
diff -r "$SRC" "$WORK/again" >/dev/null && ok || bad "round trip s3 -> file -> s3 -> file differs"

# 3. a second run right after the first copies nothing (every --compare)
for cmp in size mtime etag; do
  run sync --compare "$cmp" --report "$WORK/second-$cmp.json" "s3://$B/set/" "file://$WORK/down" \
    >"$WORK/second.out" 2>&1 && ok || bad "second sync --compare $cmp: $(tail -3 "$WORK/second.out")"
  [ "$(json "$WORK/second-$cmp.json" 'd["totals"]["objects"], d["totals"]["requests"]')" = "(0, 0)" ] &&
    ok || bad "second sync --compare $cmp copied: $(json "$WORK/second-$cmp.json" 'd["totals"]')"
done
grep -q "compared by size" "$WORK/second.out" && ok || bad "--compare etag with a file side says so"
run sync -q --report "$WORK/second-up.json" "file://$WORK/down" "s3://$B/back/" >/dev/null 2>&1 &&
  [ "$(json "$WORK/second-up.json" 'd["totals"]["objects"]')" = 0 ] && ok || bad "second file -> s3 copied"

# 4. --dry-run: the plan, and nothing changes (listing and mtimes)
make_file "$WORK/down/extra1" 10
mkdir -p "$WORK/down/x" && make_file "$WORK/down/x/extra2" 20
make_file "$WORK/down/c/f3" 5 # another size: copied again
"$CLI" put -q "$SRC/one.bin" "s3://$B/back/extra3" || bad "setup extra3"
before=$(cd "$WORK/down" && find . -type f -printf '%s %T@ %P\n' | sort)
run sync --dry-run --delete "s3://$B/set/" "file://$WORK/down" >"$WORK/dry.out" 2>"$WORK/dry.err" &&
  ok || bad "dry run: $(cat "$WORK/dry.err")"
after=$(cd "$WORK/down" && find . -type f -printf '%s %T@ %P\n' | sort)
[ "$before" = "$after" ] && ok || bad "dry run changed the destination"
[ "$(grep -c '^copy ' "$WORK/dry.out")" = 1 ] && grep -q '^copy c/f3 (3000 bytes)$' "$WORK/dry.out" && ok ||
  bad "dry run copy lines: $(cat "$WORK/dry.out")"
[ "$(grep '^delete ' "$WORK/dry.out" | sort | tr '\n' ' ')" = "delete extra1 delete x/extra2 " ] && ok ||
  bad "dry run delete lines: $(cat "$WORK/dry.out")"
grep -q "^sync: dry run: 1 to copy (3000 bytes), 2 to delete, 10 unchanged; nothing was changed$" \
  "$WORK/dry.out" && ok || bad "dry run summary: $(tail -1 "$WORK/dry.out")"
[ ! -d profiles ] || [ -z "$(ls profiles 2>/dev/null | grep sync)" ] || true
b_list=$(listing "s3://$B/back/")
run sync -q --dry-run --delete "file://$WORK/down" "s3://$B/back/" >"$WORK/dry2.out" 2>&1 || bad "dry run to s3"
[ "$(listing "s3://$B/back/")" = "$b_list" ] && ok || bad "dry run changed the bucket"
grep -q "^delete extra3$" "$WORK/dry2.out" && ok || bad "dry run to s3 plan: $(cat "$WORK/dry2.out")"
# the ranks list both sides in pieces (-n 2 and more); the single lister plans the same
run sync -q --dry-run --delete --list-parallel off "s3://$B/set/" "file://$WORK/down" >"$WORK/dry-one.out" 2>&1 &&
  [ "$(sort "$WORK/dry-one.out")" = "$(sort "$WORK/dry.out")" ] && ok ||
  bad "the single lister plans otherwise: $(diff <(sort "$WORK/dry.out") <(sort "$WORK/dry-one.out") | head -5)"

# 5. --delete removes exactly the extras, after the copies
run sync -q --delete --report "$WORK/del.json" "s3://$B/set/" "file://$WORK/down" >"$WORK/del.out" 2>&1 &&
  ok || bad "sync --delete: $(tail -3 "$WORK/del.out")"
[ "$(tree "$WORK/down")" = "$(tree "$SRC")" ] && ok || bad "after --delete to file: $(tree "$WORK/down")"
cmp -s "$SRC/c/f3" "$WORK/down/c/f3" && ok || bad "the changed file was copied again"
[ "$(json "$WORK/del.json" 'd["totals"]["objects"]')" = 1 ] && ok || bad "--delete run copied one object"
run sync -q --delete "s3://$B/set/" "s3://$B/back/" >"$WORK/del2.out" 2>&1 && ok || bad "s3 --delete: $(cat "$WORK/del2.out")"
[ "$(listing "s3://$B/back/")" = "$(listing "s3://$B/set/")" ] && ok || bad "after --delete to s3 the listings differ"

# 6. s3 -> s3 on one endpoint: server-side copies, no bytes through the client
run sync --copy-threshold 8MiB --report "$WORK/copy.json" --trace "$WORK/copy.trace.json" \
  "s3://$B/set/" "s3://$C/mirror/" >"$WORK/copy.out" 2>&1 && ok || bad "sync s3 -> s3: $(tail -5 "$WORK/copy.out")"
[ "$(listing "s3://$C/mirror/")" = "$(listing "s3://$B/set/")" ] && ok || bad "listing after s3 -> s3"
[ "$(json "$WORK/copy.json" 'd["totals"]["objects"], d["totals"]["bytes"]')" = "(11, 0)" ] && ok ||
  bad "s3 -> s3 report: $(json "$WORK/copy.json" 'd["totals"]')"
ops=$(python3 -c '
import collections, json, sys
d = json.load(open(sys.argv[1])); ev = d["traceEvents"] if isinstance(d, dict) else d
c = collections.Counter(e.get("name") for e in ev if e.get("ph") == "X" and e.get("cat") != "phase")
print(" ".join("%s=%d" % (k, c[k]) for k in ("CopyObject", "UploadPartCopy", "GET", "PUT", "UploadPart")))' \
  "$WORK/copy.trace.json")
# 10 objects up to 8 MiB by CopyObject, the 17 MiB one in three 8 MiB parts by UploadPartCopy
[ "$ops" = "CopyObject=10 UploadPartCopy=3 GET=0 PUT=0 UploadPart=0" ] && ok || bad "s3 -> s3 requests: $ops"
"$CLI" get -q -r "s3://$C/mirror/" "$WORK/mirror" && diff -r "$SRC" "$WORK/mirror" >/dev/null && ok ||
  bad "s3 -> s3 copies differ from the source"
run sync -q --compare etag --report "$WORK/copy2.json" "s3://$B/set/" "s3://$C/mirror/" >/dev/null 2>&1 &&
  [ "$(json "$WORK/copy2.json" 'd["totals"]["objects"]')" = 0 ] && ok || bad "second s3 -> s3 --compare etag copied"

# 6b. a source that changes between listing and copy: the copies are pinned to the ETag
#     listed (x-amz-copy-source-if-match), which RGW ignores, so the source is asked again
#     once copied: the changed objects fail by name, a multipart copy (its parts may mix two
#     versions) is aborted, a single copy is one whole version (the new one) but still fails,
#     and the unchanged ones are copied. The proxy holds every PUT (CopyObject,
#     UploadPartCopy) 5 s; the source is rewritten, straight to the server, meanwhile.
PX=$(proxy_start hold --only PUT --delay-ms 5000) || bad "proxy for the changing source"
AWS_ENDPOINT_URL=$PX run sync -q --copy-threshold 8MiB --report "$WORK/changed.json" "s3://$B/set/" "s3://$C/changed/" \
  >"$WORK/changed.out" 2>&1 &
pid=$!
for _ in $(seq 150); do
  [ "$(proxy_stat hold 'd["requests_matching"]' 2>/dev/null)" -gt 0 ] 2>/dev/null && break
  sleep 0.1
done
make_file "$WORK/f2.new" 2000
make_file "$WORK/big.new" $((17 * 1024 * 1024 + 5))
"$CLI" put -q "$WORK/f2.new" "s3://$B/set/c/f2" && "$CLI" put -q "$WORK/big.new" "s3://$B/set/c/big.bin" ||
  bad "rewriting the source during the sync"
wait "$pid"
rc=$?
proxy_stop hold
[ "$rc" = 1 ] && ok || bad "changed source: exit $rc, want 1: $(tail -5 "$WORK/changed.out")"
failed=$(json "$WORK/changed.json" '" ".join(sorted(f["key"] for f in d["failed"]))')
[ "$failed" = "changed/c/big.bin changed/c/f2" ] && ok || bad "changed source: failed keys '$failed'"
for k in c/f2 c/big.bin; do
  json "$WORK/changed.json" '[f["error"] for f in d["failed"] if f["key"] == "changed/'$k'"][0]' |
    grep -q "the source '$B/set/$k' changed during the copy" && ok || bad "changed $k: $(cat "$WORK/changed.json")"
done
[ "$(json "$WORK/changed.json" 'd["totals"]["changed"]')" = 2 ] && ok || bad "changed source: changed count"
[ "$(listing "s3://$C/changed/" | awk '{print $2}' | sort | tr '\n' ' ')" = \
  "a/b/deep.bin a/small.bin c/f1 c/f2 c/f3 c/f4 c/f5 c/f6 empty.bin one.bin " ] && ok ||
  bad "after a changed source DST holds: $(listing "s3://$C/changed/" | tr '\n' ' ')"
"$CLI" get -q "s3://$C/changed/c/f2" "$WORK/f2.got" && cmp -s "$WORK/f2.got" "$WORK/f2.new" && ok ||
  bad "the single copy of a changed source is not the source as it is now"
[ "$(uploads_open "$C")" = 0 ] && ok || bad "a part-copied upload was left ($(uploads_open "$C"))"
cp "$WORK/f2.new" "$SRC/c/f2" && cp "$WORK/big.new" "$SRC/c/big.bin" # the source as it is now
# 6c. ... and a server that ignores If-Match on that HEAD too, answering for another version
#     (the proxy rewrites the HEAD's ETag): the multipart copy still fails; the single copies,
#     whose new ETags are the listed ones, need no HEAD and succeed
PX=$(proxy_start etag --only HEAD --etag-every 1) || bad "proxy for the HEAD's ETag"
AWS_ENDPOINT_URL=$PX run sync -q --copy-threshold 8MiB --report "$WORK/etag.json" "s3://$B/set/c/" \
  "s3://$C/etag/" >"$WORK/etag.out" 2>&1
rc=$?
proxy_stop etag
failed=$(json "$WORK/etag.json" '" ".join(f["key"] + ": " + f["error"] for f in d["failed"])')
[ "$rc" = 1 ] && [[ "$failed" == "etag/big.bin: "*"changed during the copy"*"ETag is now '00000000000000000000000000000000'"* ]] &&
  ok || bad "a HEAD answering for another version: exit $rc, failed: $failed"
[ "$(listing "s3://$C/etag/" | awk '{print $2}' | sort | tr '\n' ' ')" = "f1 f2 f3 f4 f5 f6 " ] && ok ||
  bad "after a HEAD answering for another version DST holds: $(listing "s3://$C/etag/" | tr '\n' ' ')"
[ "$(uploads_open "$C")" = 0 ] && ok || bad "an upload was left after the HEAD's other version ($(uploads_open "$C"))"

# 6d. Ctrl-C while big.bin is held at a proxy (its GETs; its part copies): nothing partial is
#     left (no temporary file, no multipart upload, no big.bin), --delete has not run, and it
#     says so (exit non-zero: Open MPI's mpirun exits 1 when it was the process signalled)
for kind in file s3; do
  if [ "$kind" = file ]; then
    mkdir -p "$WORK/int" && make_file "$WORK/int/extra" 10
    dst="file://$WORK/int"; held=GET
  else
    "$CLI" put -q "$SRC/one.bin" "s3://$C/int/extra" || bad "setup int/extra"
    dst="s3://$C/int/"; held=PUT
  fi
  PX=$(proxy_start "int$kind" --only $held --only-path-regex 'big\.bin' --delay-ms 20000) ||
    bad "proxy for the interrupted sync"
  AWS_ENDPOINT_URL=$PX interrupt_when_held "int$kind" INT "$WORK/int$kind.out" "$MPIEXEC" -n "$NP" \
    "${PRE[@]}" "$CLI" sync -q --delete --copy-threshold 8MiB "s3://$B/set/" "$dst"
  proxy_stop "int$kind"
  [ "$rc" != 0 ] && grep -q "sync: interrupted: .* copies complete, nothing deleted" "$WORK/int$kind.out" &&
    ok || bad "interrupted sync to $kind: exit $rc: $(tail -3 "$WORK/int$kind.out")"
  if [ "$kind" = file ]; then
    [ -z "$(find "$WORK/int" -name '*s3dlio-tmp*')" ] && [ ! -e "$WORK/int/c/big.bin" ] &&
      [ -e "$WORK/int/extra" ] && ok || bad "interrupted sync to a directory left: $(find "$WORK/int" | tr '\n' ' ')"
  else
    keys=$(listing "s3://$C/int/" | awk '{print $2}' | tr '\n' ' ')
    [[ "$keys" == *extra* && "$keys" != *big.bin* ]] && [ "$(uploads_open "$C")" = 0 ] && ok ||
      bad "interrupted sync to s3 left: $keys; uploads $(uploads_open "$C")"
  fi
done

# 7. bad input: one line, exit 2 for usage, 1 for a failed operation (one process: mpirun
#    adds its own lines about a non-zero exit; it_messages checks rank 0 says it once)
expect "missing bucket" 1 "list 's3://$B-nope/x/': NoSuchBucket \\(HTTP 404, request id" -- \
  "$CLI" sync -q "s3://$B-nope/x/" "file://$WORK/nope"
expect "missing source directory" 1 "sync 'file://$WORK/nosuch': .*no such directory" -- \
  "$CLI" sync -q --delete "file://$WORK/nosuch" "s3://$B/back/"
[ "$(listing "s3://$B/back/")" = "$(listing "s3://$B/set/")" ] && ok || bad "a missing source deleted something"
expect "bad scheme" 2 "unknown scheme 'ftp'" -- "$CLI" sync -q "ftp://x/y" "file://$WORK/nope"
expect "bad compare" 2 "--compare must be" -- "$CLI" sync -q --compare md5 "s3://$B/set/" "file://$WORK/nope"
expect "one argument" 2 "expected SRC and DST" -- "$CLI" sync -q "s3://$B/set/"
expect "overlap" 2 "overlap" -- "$CLI" sync -q "file://$WORK/down" "file://$WORK/down/sub"
expect "copy threshold" 2 "--copy-threshold" -- "$CLI" sync -q --copy-threshold 1KiB "s3://$B/set/" "s3://$C/x/"
[ ! -e "$WORK/nope" ] && ok || bad "a failed sync created its destination"

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup $B"
"$CLI" rm -q --recursive "s3://$C/" && "$CLI" rb -q "s3://$C" || bad "cleanup $C"
finish
