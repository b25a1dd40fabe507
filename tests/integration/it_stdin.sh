#!/usr/bin/env bash
# `put - URI` uploads standard input, of a length nobody told: what ends within the multipart
# threshold goes as one PUT, longer input as a multipart upload whose parts go as they fill,
# with memory bounded by --put-concurrency and --part-size however long the stream. Whatever
# fails (a part, the input, a signal) aborts the upload: no object, no upload left over.
# Under mpirun it is a usage error.   it_stdin.sh [MPIEXEC MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/lib.sh"
MPIEXEC=${1:-}
[ $# -gt 0 ] && shift
PRE=("$@")
B=it-stdin-$$-$RANDOM
MIB=$((1024 * 1024))
SMALL_PARTS=(--part-size 5MiB --multipart-threshold 5MiB)
"$CLI" mb -q "s3://$B" || { echo "cannot create bucket" >&2; exit 1; }

etag() { "$CLI" stat "s3://$B/$1" | awk '$1 == "etag:" { print $2 }'; }
absent() { ! "$CLI" stat "s3://$B/$1" >/dev/null 2>&1; }
same_as() { # same_as KEY FILE: the object's bytes are the file's
  "$CLI" get -q "s3://$B/$1" "$WORK/got-$1" && same_file "$WORK/got-$1" "$2"
}
# multipart uploads open in the bucket (awscli asks the server; without it: not checked)
HAVE_AWS=$(command -v aws >/dev/null && echo 1 || echo 0)
[ "$HAVE_AWS" = 1 ] || echo "note: no awscli: leftover multipart uploads are not checked"
no_uploads_left() { [ "$HAVE_AWS" = 0 ] || [ "$(uploads_open "$B")" = 0 ]; }

# 1. small input: one PUT, whose ETag is the data's MD5; 12 MiB spans two part buffers and is
#    still one PUT under the default 16 MiB threshold
make_file "$WORK/f100k" 100000
make_file "$WORK/f12m" $((12 * MIB))
cat "$WORK/f100k" | "$CLI" put - "s3://$B/small" 2>"$WORK/small.err" && ok ||
  bad "small put from a pipe: $(cat "$WORK/small.err")"
grep -q "put - -> s3://$B/small (100000 bytes)" "$WORK/small.err" && ok || bad "small: $(cat "$WORK/small.err")"
same_as small "$WORK/f100k" && ok || bad "small: bytes differ"
[ "$(etag small)" = "$(md5sum <"$WORK/f100k" | cut -c1-32)" ] && ok || bad "small: not one PUT: $(etag small)"
cat "$WORK/f12m" | "$CLI" put -q --verify - "s3://$B/mid" || bad "12 MiB put --verify from a pipe"
same_as mid "$WORK/f12m" && ok || bad "12 MiB: bytes differ"
[ "$(etag mid)" = "$(md5sum <"$WORK/f12m" | cut -c1-32)" ] && ok || bad "12 MiB: not one PUT: $(etag mid)"

# 2. empty input: an empty object
: | "$CLI" put -q - "s3://$B/empty" && ok || bad "empty put"
"$CLI" stat "s3://$B/empty" | grep -Eq "size: +0$" && ok || bad "empty: not 0 bytes"
[ "$(etag empty)" = d41d8cd98f00b204e9800998ecf8427e ] && ok || bad "empty: etag $(etag empty)"

# 3. a 40 MiB stream through a pipe: 8 parts of 5 MiB, each with Content-MD5 (--verify) and
#    its payload hashed (--payload-signing full); progress lines say how much went so far
head -c $((40 * MIB)) /dev/urandom | tee "$WORK/f40" |
  S3DLIO_LOG=s3:trace "$CLI" put --verify --payload-signing full "${SMALL_PARTS[@]}" - "s3://$B/big" \
    2>"$WORK/big.trace" && ok || bad "40 MiB put from a pipe: $(grep -v '^\[' "$WORK/big.trace" | tail -3)"
same_as big "$WORK/f40" && ok || bad "40 MiB: bytes differ"
[[ "$(etag big)" =~ ^[0-9a-f]{32}-8$ ]] && ok || bad "40 MiB: not 8 parts: $(etag big)"
[ "$(grep -c '> Content-MD5: ' "$WORK/big.trace")" = 8 ] && ok || bad "Content-MD5 on each of 8 parts"
[ "$(grep -Ec '> x-amz-content-sha256: [0-9a-f]{64}' "$WORK/big.trace")" -ge 8 ] && ok ||
  bad "payload hashes: $(grep -m3 'x-amz-content-sha256' "$WORK/big.trace")"
"$CLI" get -q --verify "s3://$B/big" "$WORK/big.v" && ok || bad "get --verify of the streamed upload"
(head -c $((6 * MIB)) "$WORK/f40"; sleep 1; head -c $((6 * MIB)) "$WORK/f40") |
  S3DLIO_PROGRESS_SECONDS=0.2 "$CLI" put "${SMALL_PARTS[@]}" - "s3://$B/slow" 2>"$WORK/slow.err" &&
  grep -Eq "^progress: [0-9.]+ MiB so far, [0-9.]+ MB/s" "$WORK/slow.err" && ok ||
  bad "progress of a slow stream: $(cat "$WORK/slow.err")"
# a fraction only once the input has ended and its length is known (the upload may still run)
awk '/%/ { frac = 1; if ($0 !~ / of 12\.0 MiB/) bad = 1 } /so far/ && frac { bad = 1 } END { exit bad }' \
  "$WORK/slow.err" && ok || bad "a stream shown as a fraction before its length was known: $(cat "$WORK/slow.err")"

# 4. memory stays bounded by --put-concurrency and --part-size, not by the stream's length
if [ -n "${S3DLIO_SANITIZED:-}" ]; then
  echo "note: built with -fsanitize=$S3DLIO_SANITIZED (shadow memory, quarantine): RSS not checked"
elif [ ! -x /usr/bin/time ]; then
  echo "note: no GNU time (Debian package time): RSS not checked"
else
  # MALLOC_PERTURB_: every allocated page is touched, so RSS counts all of every buffer
  head -c $((200 * MIB)) /dev/zero | MALLOC_PERTURB_=165 /usr/bin/time -f '%M' -o "$WORK/rss" \
    "$CLI" put -q --put-concurrency 2 "${SMALL_PARTS[@]}" - "s3://$B/long" && ok || bad "200 MiB stream"
  rss=$(tail -1 "$WORK/rss")
  echo "peak RSS of a 200 MiB stream (2 parts of 5 MiB in flight): $rss KiB"
  [ "$rss" -lt $((100 * 1024)) ] && ok || bad "200 MiB stream: peak RSS $rss KiB is not under 100 MiB"
  "$CLI" stat "s3://$B/long" | grep -Eq "size: +$((200 * MIB))$" && ok || bad "200 MiB stream: size"
fi

# 5. a part refused for good (403 on the 3rd PUT): one line, exit 1, the upload aborted
url=$(proxy_start deny --only PUT --status-every 3 --status 403)
expect "part refused" 1 "put 's3://$B/denied': AccessDenied \(HTTP 403" -- \
  bash -c 'head -c $((30 * 1024 * 1024)) /dev/urandom |
    "$0" put -q --endpoint-url "$1" --part-size 5MiB --multipart-threshold 5MiB - "$2"' \
  "$CLI" "$url" "s3://$B/denied"
proxy_stop deny
absent denied && ok || bad "a failed stream left an object"
no_uploads_left && ok || bad "a failed stream left its multipart upload"

# 6. transient faults (503 on every 3rd PUT) are retried from the part's buffer: byte-exact
url=$(proxy_start flaky --only PUT --status-every 3 --status 503)
head -c $((30 * MIB)) /dev/urandom | tee "$WORK/f30" |
  S3DLIO_LOG=xfer:info "$CLI" put --endpoint-url "$url" "${SMALL_PARTS[@]}" - "s3://$B/flaky" \
    >"$WORK/flaky.out" 2>&1 && ok || bad "stream through 503s: $(tail -3 "$WORK/flaky.out")"
proxy_stop flaky
grep -q "retry 1 of 'flaky'" "$WORK/flaky.out" && ok || bad "no part was retried: $(cat "$WORK/flaky.out")"
same_as flaky "$WORK/f30" && ok || bad "stream through 503s: bytes differ"

# 7. the input breaks (a directory is no stream): one line, exit 1, nothing uploaded
expect "unreadable input" 1 "put 's3://$B/dir': I/O error: reading the input failed: Is a directory" -- \
  bash -c '"$0" put -q - "$1" <"$2"' "$CLI" "s3://$B/dir" "$WORK"
absent dir && ok || bad "an unreadable input left an object"

# 8. SIGTERM while the stream waits for more: exit 143, upload aborted, no object. The input
#    is a FIFO this shell writes to and keeps open, so the upload is mid-way when signalled.
mkfifo "$WORK/fifo"
"$CLI" put "${SMALL_PARTS[@]}" - "s3://$B/term" <"$WORK/fifo" >"$WORK/term.out" 2>&1 &
pid=$!
exec 3>"$WORK/fifo"
head -c $((12 * MIB)) /dev/urandom >&3
for _ in $(seq 50); do # until the upload exists (12 MiB > the 5 MiB threshold)
  [ "$HAVE_AWS" = 1 ] && [ "$(uploads_open "$B")" = 1 ] && break
  sleep 0.2
done
sleep 0.5 # its two full parts go; the third waits for input that does not come
kill -TERM "$pid"
wait "$pid"
rc=$?
exec 3>&-
[ "$rc" = 143 ] && ok || bad "SIGTERM: exit $rc: $(cat "$WORK/term.out")"
grep -q "put: interrupted: 0 of 1 objects complete.*unfinished multipart uploads aborted" \
  "$WORK/term.out" && ok || bad "SIGTERM: $(cat "$WORK/term.out")"
absent term && ok || bad "SIGTERM left an object"
no_uploads_left && ok || bad "SIGTERM left its multipart upload"

# 9. usage: stdin needs a key, one process, no mpirun
expect "stdin to a prefix" 2 "standard input has no file name: the URI must name the object key" -- \
  "$CLI" put - "s3://$B/dir/"
if [ -n "$MPIEXEC" ]; then
  "$MPIEXEC" -n 2 "${PRE[@]}" "$CLI" put - "s3://$B/mpi" </dev/null >"$WORK/mpi.out" 2>&1
  rc=$?
  [ "$rc" = 2 ] && ok || bad "put - under mpirun: exit $rc, want 2: $(cat "$WORK/mpi.out")"
  [ "$(grep -c "standard input ('-') is read by one process: run 'put -' without mpirun" \
    "$WORK/mpi.out")" = 1 ] && ok || bad "put - under mpirun, said once: $(cat "$WORK/mpi.out")"
else
  echo "note: no MPIEXEC given: put - under mpirun not checked"
fi

# 10. the file:// backend (no multipart): a small stream is one file
mkdir -p "$WORK/fb"
cat "$WORK/f100k" | "$CLI" put -q - "file://$WORK/fb/one" && same_file "$WORK/fb/one" "$WORK/f100k" &&
  ok || bad "stdin to file://"

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish
