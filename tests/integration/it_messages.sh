#!/usr/bin/env bash
# What a user sees, tried as a new user would (issue 8): options before the command, one
# line per error naming the operation the user asked for and the cause, keys that cannot
# rewrite a terminal, progress the same everywhere, -q quiet, usage errors once under mpirun.
#   it_messages.sh MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/lib.sh"
MPIEXEC=$1; shift
PRE=("$@")
B=it-msg-$$-$RANDOM
S=s3://$B
"$CLI" mb -q "$S" || { echo "cannot create bucket" >&2; exit 1; }
"$CLI" put -q --generate --count 12 --min-size 20KiB --max-size 60KiB --seed 5 "$S/set/" ||
  { echo "upload failed" >&2; exit 1; }

# 1. connection options before the command, as awscli and git take them
endpoint=$AWS_ENDPOINT_URL
check "--endpoint-url before the command" env -u AWS_ENDPOINT_URL "$CLI" --endpoint-url "$endpoint" ls "$S/set/"
[ "$(wc -l <"$WORK/check.out")" = 12 ] && ok || bad "ls after a leading option: $(head -3 "$WORK/check.out")"
check "-q and --region before the command" "$CLI" -q --region us-east-1 get -r "$S/set/" "$WORK/g0"
[ ! -s "$WORK/check.out" ] && ok || bad "-q before the command is quiet: $(head -3 "$WORK/check.out")"
expect "unknown option before the command" 2 "unknown option '--nope' before the command" -- \
  "$CLI" --nope ls "$S/"
expect "no value before the command" 2 "no value for option '--region' before the command" -- \
  "$CLI" --region

# 2. errors name what the user asked for, and the cause
expect "rm of a missing key says rm" 1 "^s3dlio-mpi: rm '$S/absent': NoSuchKey \(HTTP 404, request id" -- \
  "$CLI" rm "$S/absent"
expect "stat, unknown access key" 1 "stat '$S/set/obj-00000000.bin': InvalidAccessKeyId \(HTTP 403, request id [^)]+\)" -- \
  env AWS_ACCESS_KEY_ID=AKIDNOBODYHAS "$CLI" stat "$S/set/obj-00000000.bin"
expect "stat, wrong secret" 1 "stat '$S/set/obj-00000000.bin': SignatureDoesNotMatch \(HTTP 403" -- \
  env AWS_SECRET_ACCESS_KEY=not-the-secret-value "$CLI" stat "$S/set/obj-00000000.bin"
grep -q "not-the-secret-value" "$WORK/stderr" && bad "the secret appears in the error" || ok
expect "get, unknown access key" 1 "HTTP 403.*credentials were not accepted" -- \
  env AWS_ACCESS_KEY_ID=AKIDNOBODYHAS "$CLI" get "$S/set/obj-00000000.bin" "$WORK/forbidden"

# 3. a wrong --seed is a mismatch, not a transient fault: one attempt per object, no retries
"$CLI" get -r --verify-pattern --seed 6 "$S/set/" null: >"$WORK/vp.out" 2>&1
rc=$?
[ "$rc" = 1 ] && ok || bad "wrong seed exit $rc"
grep -q "data differs from the generated pattern" "$WORK/vp.out" && ok || bad "mismatch named: $(head -2 "$WORK/vp.out")"
grep -q "after [0-9]* attempts" "$WORK/vp.out" && bad "a mismatch was retried: $(head -2 "$WORK/vp.out")" || ok
grep -q "get: 0 of 12 objects done (12 failed).*, 0 retries" "$WORK/vp.out" && ok ||
  bad "summary: listed, done, failed, no retries: $(tail -1 "$WORK/vp.out")"

# 4. keys with control characters cannot rewrite the terminal; one line per key
echo x >"$WORK/x"
esc=$(printf '\033')
"$CLI" put -q "$WORK/x" "$S/odd/a${esc}[31mred" || bad "put odd key"
"$CLI" put -q "$WORK/x" "$S/odd/back\\slash" || bad "put backslash key"
"$CLI" ls "$S/odd/" >"$WORK/odd.out" 2>&1
grep -q "$esc" "$WORK/odd.out" && bad "ls prints ESC raw" || ok
grep -Fq "$S/odd/a\\x1b[31mred" "$WORK/odd.out" && ok || bad "ESC shown as \\x1b: $(cat -v "$WORK/odd.out")"
grep -Fq "$S/odd/back\\\\slash" "$WORK/odd.out" && ok || bad "backslash doubled: $(cat "$WORK/odd.out")"
expect "error line escapes the key" 1 "stat '$S/odd/none\\\\x1b\\[0m': NoSuchKey" -- \
  "$CLI" stat "$S/odd/none${esc}[0m"

# 5. DEST that ends in '/' names a directory: DEST/name, never DEST//name
mkdir -p "$WORK/g2"
"$CLI" get "$S/set/obj-00000001.bin" "$WORK/g2/" >"$WORK/slash.out" 2>&1 || bad "get to dir/: $(cat "$WORK/slash.out")"
grep -q "g2//" "$WORK/slash.out" && bad "double slash: $(cat "$WORK/slash.out")" || ok
[ -f "$WORK/g2/obj-00000001.bin" ] && ok || bad "file in the directory"

# 5b. a device or FIFO as DEST is written in place: a rename over /dev/null (as root) once
#     replaced the device with a regular file for every user of the machine
"$CLI" get -q "$S/set/obj-00000001.bin" /dev/null && ok || bad "get to /dev/null"
[ -c /dev/null ] && ok || bad "/dev/null is no longer a character device"
mkfifo "$WORK/pipe"
wc -c <"$WORK/pipe" >"$WORK/pipe.count" &
reader=$!
"$CLI" get -q "$S/set/obj-00000001.bin" "$WORK/pipe" || bad "get to a FIFO"
wait "$reader"
[ "$(cat "$WORK/pipe.count")" = "$(stat -c %s "$WORK/g2/obj-00000001.bin")" ] && ok ||
  bad "the FIFO's reader got the object: $(cat "$WORK/pipe.count") bytes"
[ -p "$WORK/pipe" ] && ok || bad "the FIFO was replaced"
mkdir -p "$WORK/gr"; mkfifo "$WORK/gr/obj-00000004.bin"
"$CLI" get -r "$S/set/" "$WORK/gr" >"$WORK/gr.out" 2>&1
[ $? = 1 ] && ok || bad "get -r onto a FIFO exits 1"
grep -q "gr/obj-00000004.bin': usage error: is a FIFO: refusing to replace it" "$WORK/gr.out" && ok ||
  bad "FIFO named: $(grep -v '^get:' "$WORK/gr.out" | head -2)"
[ -p "$WORK/gr/obj-00000004.bin" ] && [ "$(find "$WORK/gr" -type f | wc -l)" = 11 ] && ok ||
  bad "the FIFO kept, the 11 others written"

# 6. --keys-from with a key that answers 404 leaves no directory for it
printf 'set/obj-00000002.bin\nnothere/deeper/x.bin\n' >"$WORK/keys"
"$CLI" get --keys-from "$WORK/keys" "$S/" "$WORK/kf" >"$WORK/kf.out" 2>&1
[ $? = 1 ] && ok || bad "keys-from with a 404 exits 1"
[ ! -e "$WORK/kf/nothere" ] && ok || bad "a 404 key left a directory: $(find "$WORK/kf")"
[ -f "$WORK/kf/set/obj-00000002.bin" ] && ok || bad "the other key arrived"

# 7. a full disk: the errno, and no file left behind
mkdir -p "$WORK/full"
if mount -t tmpfs -o size=16k tmpfs "$WORK/full" 2>/dev/null; then
  expect "get on a full disk" 1 "get '$WORK/full/x': I/O error: .*No space left on device" -- \
    "$CLI" get "$S/set/obj-00000003.bin" "$WORK/full/x"
  [ -z "$(ls -A "$WORK/full")" ] && ok || bad "full disk left: $(ls -A "$WORK/full")"
  umount "$WORK/full"
else
  echo "note: cannot mount a tmpfs here; the full-disk case is not checked"
fi

# 8. progress the same everywhere: plain lines when not a terminal, a bar on one, none with -q
slow=(--max-request-rate 6 --get-concurrency 1)
S3DLIO_PROGRESS_SECONDS=1 "$CLI" get -r "${slow[@]}" "$S/set/" "$WORK/p1" >"$WORK/p1.out" 2>&1
grep -q "^progress: .*MiB" "$WORK/p1.out" && ok || bad "get -r progress lines: $(cat "$WORK/p1.out")"
mkdir -p "$WORK/up"; for i in 1 2 3 4 5 6 7 8; do head -c 30000 /dev/urandom >"$WORK/up/f$i"; done
S3DLIO_PROGRESS_SECONDS=1 "$CLI" put -r --max-request-rate 4 --put-concurrency 1 "$WORK/up" "$S/up/" \
  >"$WORK/p2.out" 2>&1
grep -q "^progress: " "$WORK/p2.out" && ok || bad "put -r progress lines: $(cat "$WORK/p2.out")"
S3DLIO_PROGRESS_SECONDS=1 "$CLI" get -q -r "${slow[@]}" "$S/set/" "$WORK/p3" >"$WORK/p3.out" 2>&1
[ ! -s "$WORK/p3.out" ] && ok || bad "-q prints nothing: $(cat "$WORK/p3.out")"
if command -v script >/dev/null; then
  script -qec "'$CLI' get -r ${slow[*]} '$S/set/' '$WORK/p4'" /dev/null >"$WORK/p4.out" 2>&1
  grep -q $'\r' "$WORK/p4.out" && grep -q "%" "$WORK/p4.out" && ok || bad "a bar on a terminal: $(cat -v "$WORK/p4.out" | head -3)"
fi

# 9. stage -q: no table, no progress; the JSON report is still written
"$CLI" stage -q --to null --report "$WORK/q.json" "$S/set/" >"$WORK/q.out" 2>"$WORK/q.err"
[ $? = 0 ] && ok || bad "stage -q exit: $(cat "$WORK/q.err")"
[ ! -s "$WORK/q.out" ] && [ ! -s "$WORK/q.err" ] && ok || bad "stage -q printed: $(head -3 "$WORK/q.out" "$WORK/q.err")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d["totals"]["objects"] != 12)' \
  "$WORK/q.json" && ok || bad "stage -q wrote the report"

# 9b. --report /dev/null discards the JSON and leaves the device a device
"$CLI" stage -q --to null --report /dev/null "$S/set/" >"$WORK/rn.out" 2>&1 && ok ||
  bad "stage --report /dev/null: $(cat "$WORK/rn.out")"
[ -c /dev/null ] && ok || bad "--report /dev/null replaced the device"

# 10. usage errors under mpirun: said once, by rank 0, not once per rank
if command -v "$MPIEXEC" >/dev/null; then
  "$MPIEXEC" -n 3 "${PRE[@]}" "$CLI" get "$S/set/" >"$WORK/u.out" 2>&1
  [ "$(grep -c "expected URI and DEST" "$WORK/u.out")" = 1 ] && ok || bad "usage error once: $(cat "$WORK/u.out")"
  "$MPIEXEC" -n 3 "${PRE[@]}" "$CLI" stage --nope "$S/set/" >"$WORK/u2.out" 2>&1
  [ "$(grep -c "unknown option '--nope'" "$WORK/u2.out")" = 1 ] && ok || bad "unknown option once: $(cat "$WORK/u2.out")"
  "$MPIEXEC" -n 3 "${PRE[@]}" "$CLI" frobnicate >"$WORK/u4.out" 2>&1
  [ "$(grep -c "'frobnicate' is not a command" "$WORK/u4.out")" = 1 ] && ok || bad "not a command, once: $(cat "$WORK/u4.out")"
  # a URI that does not parse: exit 2 and one line, whichever command (each rank parses it)
  for cmd in "get -r not-a-uri $WORK/d" "stage not-a-uri" "sync $S/x/ not-a-uri" "bench sync not-a-uri" \
             "bench lifecycle not-a-uri" "checkpoint restore --to mem not-a-uri"; do
    # shellcheck disable=SC2086  # the command's words
    "$MPIEXEC" -n 3 "${PRE[@]}" "$CLI" $cmd >"$WORK/u5.out" 2>&1
    rc=$?
    [ "$rc" = 2 ] && [ "$(grep -c "invalid URI: not a URI" "$WORK/u5.out")" = 1 ] &&
      ! grep -q "rank 0 (" "$WORK/u5.out" && ok || bad "$cmd not-a-uri: exit $rc: $(cat "$WORK/u5.out")"
  done
  "$MPIEXEC" -n 3 "${PRE[@]}" "$CLI" stage --help >"$WORK/u3.out" 2>&1
  [ "$(grep -c "^usage:" "$WORK/u3.out")" = 1 ] && ok || bad "help once: $(grep -c usage: "$WORK/u3.out")"
fi

"$CLI" rm -q --recursive "$S/" && "$CLI" rb -q "$S" || bad "cleanup"
finish
