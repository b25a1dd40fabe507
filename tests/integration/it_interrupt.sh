#!/usr/bin/env bash
# Interrupted runs leave nothing behind: SIGINT / SIGTERM in the middle of a GET removes its
# temporary files and a PUT aborts its multipart uploads on the server, a summary says what
# completed, and the exit code is 130 / 143. A signal during the listing stops it at once.
# The same under mpirun, which forwards the signal to every rank.   it_interrupt.sh [MPIEXEC MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/lib.sh"
MPIEXEC=${1:-}
[ $# -gt 0 ] && shift
PRE=("$@")
set -m # job control: background jobs take SIGINT like a foreground command would
B=it-intr-$$-$RANDOM
MIB=$((1024 * 1024))
"$CLI" mb -q "s3://$B" || { echo "cannot create bucket" >&2; exit 1; }
mkdir -p "$WORK/up"
for i in 1 2 3 4; do make_file "$WORK/up/big$i" $((20 * MIB)); done
"$CLI" put -q -r "$WORK/up" "s3://$B/src/" || { echo "upload failed" >&2; exit 1; }
tmp_left() { find "$1" -name '*s3dlio-tmp*' 2>/dev/null | head -3; }
uploads_left() { uploads_open "$B"; }
# run_and_signal SIG DELAY OUT CMD...: start CMD, send SIG to its process group after DELAY
# s (as a terminal's Ctrl-C does: mpirun and its local ranks get it); its exit code in rc
# (not through $(...): a subshell has no job control, so no process group of its own)
# (CMD runs with SIGINT at its default even when this script was started with it ignored, as
# a shell's background job is: s3dlio-mpi, like any well-behaved tool, keeps an ignored signal
# ignored)
DEFAULT_SIGNALS=(python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])')
run_and_signal() {
  local sig=$1 delay=$2 out=$3; shift 3
  [ "$(type -t "$1")" = function ] || set -- "${DEFAULT_SIGNALS[@]}" "$@"
  "$@" >"$out" 2>&1 &
  local pid=$!
  sleep "$delay"
  kill -"$sig" -- -"$pid" 2>/dev/null || kill -"$sig" "$pid"
  wait "$pid"
  rc=$?
}

# every object GET and every part PUT is held 3 s by the proxy: signals land mid-transfer
url=$(proxy_start slow --delay-ms 3000 --only GET,PUT --only-path-regex 'big')

# 1. Ctrl-C during a single get: exit 130, no file, no temporary file
run_and_signal INT 1 "$WORK/g1.out" "$CLI" get --endpoint-url "$url" "s3://$B/src/big1" "$WORK/g1/big1"
[ "$rc" = 130 ] && ok || bad "get + SIGINT: exit $rc: $(cat "$WORK/g1.out")"
grep -q "get: interrupted: 0 of 1 objects complete" "$WORK/g1.out" && ok || bad "get summary: $(cat "$WORK/g1.out")"
[ ! -e "$WORK/g1/big1" ] && [ -z "$(tmp_left "$WORK/g1")" ] && ok || bad "get + SIGINT left files"

# 2. SIGTERM during get -r into a directory
run_and_signal TERM 1 "$WORK/g2.out" "$CLI" get -r --endpoint-url "$url" "s3://$B/src/" "$WORK/g2"
[ "$rc" = 143 ] && ok || bad "get -r + SIGTERM: exit $rc: $(cat "$WORK/g2.out")"
# the jobs are made chunk by chunk as the run goes (src/xfer/feed.c): the count still covers all
grep -q "get: interrupted: 0 of 4 objects complete (0 bytes), 0 failed, the rest not done" "$WORK/g2.out" &&
  ok || bad "get -r summary: $(cat "$WORK/g2.out")"
[ -z "$(tmp_left "$WORK/g2")" ] && [ -z "$(find "$WORK/g2" -type f 2>/dev/null)" ] && ok ||
  bad "get -r + SIGTERM left files: $(find "$WORK/g2" -type f)"

# 3. Ctrl-C during a single multipart put: the upload is aborted on the server
run_and_signal INT 1 "$WORK/p1.out" "$CLI" put --endpoint-url "$url" "$WORK/up/big1" "s3://$B/dst/big1"
[ "$rc" = 130 ] && ok || bad "put + SIGINT: exit $rc: $(cat "$WORK/p1.out")"
grep -q "unfinished multipart uploads aborted" "$WORK/p1.out" && ok || bad "put summary: $(cat "$WORK/p1.out")"
[ "$(uploads_left)" = 0 ] && ok || bad "put + SIGINT left $(uploads_left) multipart uploads"
[ -z "$("$CLI" ls -r "s3://$B/dst/")" ] && ok || bad "put + SIGINT left an object"

# 4. SIGTERM during put -r
run_and_signal TERM 1 "$WORK/p2.out" "$CLI" put -r --endpoint-url "$url" "$WORK/up" "s3://$B/dst/"
[ "$rc" = 143 ] && ok || bad "put -r + SIGTERM: exit $rc: $(cat "$WORK/p2.out")"
grep -q "put: interrupted: 0 of 4 objects complete (0 bytes), 0 failed, the rest not done" "$WORK/p2.out" &&
  ok || bad "put -r summary: $(cat "$WORK/p2.out")"
[ "$(uploads_left)" = 0 ] && ok || bad "put -r + SIGTERM left $(uploads_left) multipart uploads"

# 4b. Ctrl-C while CreateMultipartUpload is in flight (held 3 s by a proxy): the creation is
#     let finish and its upload aborted. Cut off, it would leave an upload nobody knows of.
url2=$(proxy_start create --delay-ms 3000 --only POST)
run_and_signal INT 1 "$WORK/p3.out" "$CLI" put --endpoint-url "$url2" "$WORK/up/big2" "s3://$B/create/big2"
sleep 3 # the proxy forwards the held creation whether or not its client still waits, as S3 would
proxy_stop create
[ "$rc" = 130 ] && ok || bad "put + SIGINT during the create: exit $rc: $(cat "$WORK/p3.out")"
[ "$(uploads_left)" = 0 ] && ok || bad "put + SIGINT during the create left $(uploads_left) multipart uploads"
[ -z "$("$CLI" ls -r "s3://$B/create/")" ] && ok || bad "put + SIGINT during the create left an object"

# 4c. a signal during the listing stops it at once, with a line that says so: every listing
#     request is held 60 s by a proxy (a bucket of millions of keys lists for minutes), and
#     the commands must be gone well before the first page would come back
url3=$(proxy_start listing --delay-ms 60000 --only GET --only-path-regex 'list-type=2')
# listing_cut NAME WANT_RC CMD...: CMD signalled (SIGTERM) while its first listing is held
listing_cut() {
  local name=$1 want=$2 t0 secs; shift 2
  t0=$(date +%s)
  interrupt_when_held listing TERM "$WORK/$name.out" "$@"
  secs=$(($(date +%s) - t0))
  [ "$rc" = "$want" ] && ok || bad "$name + SIGTERM while listing: exit $rc, want $want: $(cat "$WORK/$name.out")"
  [ "$secs" -lt 30 ] && ok || bad "$name + SIGTERM while listing: still running ${secs} s later"
  grep -q "interrupted while listing: nothing was transferred" "$WORK/$name.out" && ok ||
    bad "$name + SIGTERM while listing: no interrupted line: $(cat "$WORK/$name.out")"
}
listing_cut l1 143 "$CLI" get -r --endpoint-url "$url3" "s3://$B/src/" "$WORK/l1"
listing_cut l2 143 "$CLI" stage --endpoint-url "$url3" --to "dir:$WORK/l2" "s3://$B/src/"
listing_cut l3 143 "$CLI" sync --endpoint-url "$url3" "s3://$B/src/" "file://$WORK/l3/"
if [ -n "$MPIEXEC" ]; then # mpirun exits 1 when a rank was signalled
  listing_cut l4 1 "$MPIEXEC" -n 2 "${PRE[@]}" "$CLI" stage --endpoint-url "$url3" --to "dir:$WORK/l4" "s3://$B/src/"
fi
[ -z "$(find "$WORK"/l[1-4] -type f 2>/dev/null)" ] && ok || bad "SIGTERM while listing left files: $(find "$WORK"/l[1-4] -type f)"
proxy_stop listing

# 5. under mpirun: the launcher forwards the signal to every rank
if [ -n "$MPIEXEC" ]; then
  run() { exec "${DEFAULT_SIGNALS[@]}" "$MPIEXEC" -n 2 "${PRE[@]}" "$CLI" "$@"; }
  run_and_signal TERM 2 "$WORK/m1.out" run put -r --report "$WORK/m1.json" --endpoint-url "$url" "$WORK/up" "s3://$B/mdst/"
  [ "$rc" != 0 ] && ok || bad "mpirun put -r + SIGTERM: exit 0"
  sleep 1
  [ "$(uploads_left)" = 0 ] && ok || bad "mpirun put -r + SIGTERM left $(uploads_left) multipart uploads: $(cat "$WORK/m1.out")"
  run_and_signal INT 2 "$WORK/m2.out" run stage --report "$WORK/m2.json" --endpoint-url "$url" --to "dir:$WORK/m2" "s3://$B/src/"
  [ "$rc" != 0 ] && ok || bad "mpirun stage + SIGINT: exit 0"
  sleep 1
  [ -z "$(tmp_left "$WORK/m2")" ] && ok || bad "mpirun stage + SIGINT left temporary files: $(tmp_left "$WORK/m2")"
fi
proxy_stop slow

"$CLI" rm -q --recursive "s3://$B/" && "$CLI" rb -q "s3://$B" || bad "cleanup"
finish
