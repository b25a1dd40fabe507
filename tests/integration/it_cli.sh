#!/usr/bin/env bash
# The CLI against the real local server and the file:// backend: mb, put, ls, stat, get
# (file, directory, stdout), rm (key and --recursive), rb.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
B=it-cli-$$-$RANDOM
S=s3://$B

check "mb" "$CLI" mb "$S"
make_file "$WORK/small.bin" 1234
make_file "$WORK/big.bin" $((21 * 1024 * 1024))
: >"$WORK/empty.bin"
check "put small" "$CLI" put "$WORK/small.bin" "$S/dir/small.bin"
check "put to prefix appends name" "$CLI" put "$WORK/empty.bin" "$S/dir/"
check "put multipart" "$CLI" put --part-size 5MiB --multipart-threshold 5MiB "$WORK/big.bin" "$S/big.bin"
check "put key with spaces" "$CLI" put "$WORK/small.bin" "$S/with space/a+b=c.bin"

"$CLI" ls "$S/" >"$WORK/ls.out" 2>&1
grep -Eq "^ +22020096  $S/big.bin$" "$WORK/ls.out" && ok || bad "ls shows size then URI: $(cat "$WORK/ls.out")"
grep -Eq "^ +DIR  $S/dir/$" "$WORK/ls.out" && ok || bad "ls shows DIR for a prefix: $(cat "$WORK/ls.out")"
"$CLI" ls --recursive "$S/" >"$WORK/lsr.out" 2>&1
[ "$(wc -l <"$WORK/lsr.out")" = 4 ] && ok || bad "ls --recursive lists 4 objects: $(cat "$WORK/lsr.out")"
grep -Eq "^ +0  $S/dir/empty.bin$" "$WORK/lsr.out" && ok || bad "0-byte object listed"
grep -Fq "$S/with space/a+b=c.bin" "$WORK/lsr.out" && ok || bad "odd key listed as written"

"$CLI" stat "$S/big.bin" >"$WORK/stat.out" 2>&1
grep -Eq '^size: +22020096$' "$WORK/stat.out" && ok || bad "stat size: $(cat "$WORK/stat.out")"
grep -Eq '^etag: +[0-9a-f]{32}-5$' "$WORK/stat.out" && ok || bad "stat multipart etag: $(cat "$WORK/stat.out")"

check "get big" "$CLI" get "$S/big.bin" "$WORK/big.back"
same_file "$WORK/big.bin" "$WORK/big.back" && ok || bad "multipart object read back byte for byte"
mkdir -p "$WORK/into"
check "get into dir" "$CLI" get "$S/dir/small.bin" "$WORK/into"
same_file "$WORK/small.bin" "$WORK/into/small.bin" && ok || bad "get into a directory"
"$CLI" get "$S/with space/a+b=c.bin" - >"$WORK/stdout.back" 2>/dev/null && ok || bad "get to stdout"
same_file "$WORK/small.bin" "$WORK/stdout.back" && ok || bad "stdout bytes"
check "get empty" "$CLI" get "$S/dir/empty.bin" "$WORK/empty.back"
[ -f "$WORK/empty.back" ] && [ ! -s "$WORK/empty.back" ] && ok || bad "0-byte get"

# virtual-hosted style (the fixture sets rgw_dns_name=localhost) and fully signed payloads
ep_virtual=${AWS_ENDPOINT_URL/127.0.0.1/localhost}
S3DLIO_LOG=s3:debug "$CLI" put --addressing virtual --endpoint-url "$ep_virtual" "$WORK/small.bin" \
  "$S/virtual.bin" >"$WORK/v.out" 2>&1 && ok || bad "virtual-hosted put: $(cat "$WORK/v.out")"
grep -q "PUT http://$B.localhost:" "$WORK/v.out" && ok || bad "bucket in the host name: $(cat "$WORK/v.out")"
check "virtual-hosted get" "$CLI" get --addressing virtual --endpoint-url "$ep_virtual" "$S/virtual.bin" "$WORK/v.back"
same_file "$WORK/small.bin" "$WORK/v.back" && ok || bad "virtual-hosted bytes"
check "put, payload signed" "$CLI" put --payload-signing full "$WORK/big.bin" "$S/signed.bin"
check "get, payload signed" "$CLI" get --payload-signing full "$S/signed.bin" "$WORK/signed.back"
same_file "$WORK/big.bin" "$WORK/signed.back" && ok || bad "payload-signed bytes"
check "rm virtual" "$CLI" rm "$S/virtual.bin"
check "rm signed" "$CLI" rm "$S/signed.bin"

check "rm one" "$CLI" rm "$S/big.bin"
expect "stat after rm" 1 "NoSuchKey" -- "$CLI" stat "$S/big.bin"
for i in $(seq 1 30); do echo "$i" >"$WORK/f$i"; "$CLI" put -q "$WORK/f$i" "$S/many/f$i" || bad "put f$i"; done
expect "rb non-empty" 1 "BucketNotEmpty \(HTTP 409" -- "$CLI" rb "$S"
"$CLI" rm --recursive "$S/" >"$WORK/rm.out" 2>&1 && ok || bad "rm --recursive: $(cat "$WORK/rm.out")"
grep -q "deleted 33 object" "$WORK/rm.out" && ok || bad "rm --recursive count: $(cat "$WORK/rm.out")"
"$CLI" ls --recursive "$S/" >"$WORK/empty.ls" 2>&1
[ ! -s "$WORK/empty.ls" ] && ok || bad "bucket empty after rm --recursive"
check "rb" "$CLI" rb "$S"
expect "ls after rb" 1 "NoSuchBucket" -- "$CLI" ls "$S/"

# the same commands on the file:// backend
F=file://$WORK/store
check "mb file" "$CLI" mb "$F/sub"
check "put file" "$CLI" put "$WORK/small.bin" "$F/sub/a.bin"
check "put file 2" "$CLI" put "$WORK/small.bin" "$F/sub/deeper/b.bin"
"$CLI" ls --recursive "$F/" >"$WORK/fls.out" 2>&1
grep -Eq "^ +1234  $F/sub/a.bin$" "$WORK/fls.out" && ok || bad "file ls: $(cat "$WORK/fls.out")"
check "get file" "$CLI" get "$F/sub/deeper/b.bin" "$WORK/b.back"
same_file "$WORK/small.bin" "$WORK/b.back" && ok || bad "file get bytes"
check "rm file recursive" "$CLI" rm --recursive "$F/sub/"
[ -z "$(find "$WORK/store" -type f)" ] && ok || bad "file rm --recursive left files"

# put -r / get -r of more objects than one chunk of jobs (1024, src/xfer/feed.h): each
# object once, whichever chunk planned it, and the summary counts them all
mkdir -p "$WORK/many/d"
(cd "$WORK/many/d" && for i in $(seq 1 2500); do printf '%s' "$i" >"f$i"; done)
"$CLI" put -r "$WORK/many" "$F/many/" >"$WORK/many_put.out" 2>&1 &&
  grep -q "^put: 2500 objects, 8893 bytes" "$WORK/many_put.out" && ok ||
  bad "put -r of 2500 files: $(cat "$WORK/many_put.out")"
"$CLI" get -r "$F/many/" "$WORK/many_back" >"$WORK/many_get.out" 2>&1 &&
  grep -q "^get: 2500 objects, 8893 bytes" "$WORK/many_get.out" && ok ||
  bad "get -r of 2500 objects: $(cat "$WORK/many_get.out")"
diff -r "$WORK/many" "$WORK/many_back" >/dev/null && ok || bad "get -r of 2500 objects: trees differ"
finish
