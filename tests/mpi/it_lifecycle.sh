#!/usr/bin/env bash
# bench lifecycle under mpirun against the local RGW, small: every phase ran, the dataset's
# counts add up, the bucket is gone afterwards, the report validates against its schema, and
# with --profile-cpu both s3dlio-named flamegraphs exist; a download that fails (the fault
# proxy refuses the data GETs) still deletes what was uploaded and the bucket, exit 1; a
# bucket that holds objects is refused (exit 2, nothing touched) unless --allow-nonempty,
# which leaves the bucket and its other objects alone; a byte flipped in a download fails
# the run (every byte is checked against the generator) and still cleans up; Ctrl-C during
# the upload stops the run, removes what it made, and the report says interrupted.
#   it_lifecycle.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
SCHEMA="$(dirname "$0")/../../docs/lifecycle-schema.json"
CHECK_SCHEMA="$(dirname "$0")/../unit/check-report-schema.py"
B=it-lifecycle-np$NP-$$-$RANDOM
run() { "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" "$@"; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
bucket_gone() { ! "$CLI" ls "s3://$1" >/dev/null 2>&1; }
export S3DLIO_TEST_SIZE_GB=0.04 S3DLIO_MIN_OBJECT_MB=1 S3DLIO_MAX_OBJECT_MB=3

# a build without the sampler (-DS3DLIO_PROFILING=OFF: the sanitizer build) runs it unprofiled
PROF=(--profile-cpu --profile-hz 1000)
"$CLI" bench profile-selftest --cpu-time 100ms -o "$WORK/selftest.svg" >/dev/null 2>&1 || PROF=()

# 1. the whole lifecycle, profiled
R=$WORK/ok/lifecycle.json
run bench lifecycle "${PROF[@]}" --report "$R" "s3://$B" >"$WORK/ok.out" 2>&1 &&
  ok || bad "lifecycle: $(tail -5 "$WORK/ok.out")"
python3 "$CHECK_SCHEMA" "$SCHEMA" "$R" >"$WORK/schema.out" 2>&1 && ok || bad "schema: $(cat "$WORK/schema.out")"
[ "$(json "$R" 'all(p["ran"] for p in d["phases"])')" = True ] && ok || bad "not every phase ran"
objects=$(json "$R" 'd["objects"]')
[ "$objects" -gt 5 ] && [ "$(json "$R" 'd["deleted"]')" = "$objects" ] && ok ||
  bad "objects $objects, deleted $(json "$R" 'd["deleted"]')"
# the dataset is what the upload and download stage reports moved, every byte verified
up=$(json "$R" 'd["upload"]["report"]'); down=$(json "$R" 'd["download"]["report"]')
[ "$(json "$up" 'd["totals"]["bytes"]')" = "$(json "$R" 'd["bytes"]')" ] && ok || bad "upload bytes != dataset bytes"
[ "$(json "$down" 'd["totals"]["bytes"]')" = "$(json "$R" 'd["bytes"]')" ] && ok || bad "download bytes != dataset bytes"
[ "$(json "$down" 'd["totals"]["objects"]')" = "$objects" ] && ok || bad "download objects"
bucket_gone "$B" && ok || bad "the bucket is still there"
[ "$(json "$R" 'd["bucket_deleted"] and d["cleaned_up"]')" = True ] && ok || bad "not cleaned up per the report"
if [ ${#PROF[@]} -gt 0 ]; then
  for f in large_scale_upload_profile.svg large_scale_download_profile.svg; do
    xmllint --noout "$WORK/ok/$f" 2>"$WORK/xml.err" && ok || bad "$f: $(head -2 "$WORK/xml.err")"
    grep -q "$WORK/ok/$f" "$WORK/ok.out" && ok || bad "the table does not name $f"
  done
  grep -q 's3dlio_xfer_run' "$WORK/ok/download.folded" && ok || bad "download.folded does not name the engine"
  # every picture the report lists (a phase with samples has one: delete too, when sampled) is there
  [ "$(json "$R" 'len(d["files"])')" -ge 4 ] && ok || bad "the report lists $(json "$R" 'len(d["files"])') files"
  for f in $(json "$R" '" ".join(f["path"] for f in d["files"])'); do
    case $f in
      *.svg) xmllint --noout "$f" 2>"$WORK/xml.err" && ok || bad "listed $f: $(head -2 "$WORK/xml.err")" ;;
      *) [ -s "$f" ] && ok || bad "listed $f is missing or empty" ;;
    esac
  done
fi
grep -Eq '^  upload +[0-9.]+ +[0-9.]+$' "$WORK/ok.out" && grep -Eq '^  download +[0-9.]+ +[0-9.]+$' "$WORK/ok.out" &&
  ok || bad "table rows: $(grep -E '^  (upload|download) ' "$WORK/ok.out")"

# 2. the download fails: cleaned up all the same, exit 1, the phase named
B2=$B-fail
url=$(proxy_start fail --status-every 1 --status 403 --only GET --only-path-regex 's3dlio-lifecycle-.*/obj-')
run bench lifecycle --endpoint-url "$url" --retries 0 --report "$WORK/fail/lifecycle.json" "s3://$B2" \
  >"$WORK/fail.out" 2>"$WORK/fail.err"
rc=$?
proxy_stop fail
[ "$rc" = 1 ] && ok || bad "failed download: exit $rc, want 1: $(tail -3 "$WORK/fail.err")"
[ "$(grep -c '^s3dlio-mpi: ' "$WORK/fail.err")" -ge 1 ] && grep -q '403' "$WORK/fail.err" && ok ||
  bad "failed download: no one-line error naming the 403: $(cat "$WORK/fail.err")"
[ "$(json "$WORK/fail/lifecycle.json" 'd["failed_phase"]')" = download ] && ok || bad "failed_phase is not download"
[ "$(json "$WORK/fail/lifecycle.json" 'd["cleaned_up"]')" = True ] && ok || bad "failed run: not cleaned up"
bucket_gone "$B2" && ok || bad "failed run: the bucket is still there"

# 3. a bucket in use: refused and untouched; --allow-nonempty runs beside its objects
B3=$B-used
"$CLI" mb -q "s3://$B3" && head -c 1000 /dev/urandom >"$WORK/keepme" && "$CLI" put -q "$WORK/keepme" "s3://$B3/keepme" ||
  bad "setup of the used bucket"
run bench lifecycle --report "$WORK/used/lifecycle.json" "s3://$B3" >"$WORK/used.out" 2>"$WORK/used.err"
rc=$?
[ "$rc" = 2 ] && grep -q "holds objects (e.g. 'keepme')" "$WORK/used.err" && ok ||
  bad "used bucket: exit $rc: $(cat "$WORK/used.err")"
run bench lifecycle -q --allow-nonempty --report "$WORK/used2/lifecycle.json" "s3://$B3" >"$WORK/used2.out" 2>&1 &&
  ok || bad "--allow-nonempty: $(tail -3 "$WORK/used2.out")"
[ "$("$CLI" ls -r "s3://$B3/" | awk '{print $2}')" = "s3://$B3/keepme" ] && ok ||
  bad "the used bucket holds: $("$CLI" ls -r "s3://$B3/")"
"$CLI" rm -q "s3://$B3/keepme"; "$CLI" rb -q "s3://$B3"

# 3b. one byte flipped in one download: the generator check fails it, exit 1, cleaned up
B5=$B-flip
url=$(proxy_start flip --flip-every 3 --flip-at 100 --max-faults 1 --only GET --only-path-regex 's3dlio-lifecycle-.*/obj-')
run bench lifecycle --endpoint-url "$url" --retries 0 --report "$WORK/flip/lifecycle.json" "s3://$B5" \
  >"$WORK/flip.out" 2>"$WORK/flip.err"
rc=$?
flips=$(proxy_stat flip 'd["faults"].get("flip", 0)')
proxy_stop flip
[ "$flips" = 1 ] && ok || bad "the proxy flipped $flips bytes, want 1"
[ "$rc" = 1 ] && ok || bad "flipped byte: exit $rc, want 1: $(tail -3 "$WORK/flip.err")"
grep -q 'differs from the generated pattern' "$WORK/flip.err" && ok ||
  bad "flipped byte: not named as a mismatch: $(cat "$WORK/flip.err")"
[ "$(json "$WORK/flip/lifecycle.json" 'd["failed_phase"], d["cleaned_up"]')" = "('download', True)" ] && ok ||
  bad "flipped byte: report $(json "$WORK/flip/lifecycle.json" 'd["failed_phase"], d["cleaned_up"]')"
bucket_gone "$B5" && ok || bad "flipped byte: the bucket is still there"

# 3c. SIGINT to the job (a terminal's Ctrl-C) while the upload is held by a slow proxy:
#     the run stops, deletes what it uploaded and the bucket it made, and says interrupted
B6=$B-int
url=$(proxy_start slow --delay-ms 8000 --only PUT --only-path-regex 's3dlio-lifecycle-.*/obj-')
interrupt_when_held slow INT "$WORK/int.out" "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" bench lifecycle \
  --endpoint-url "$url" --report "$WORK/int/lifecycle.json" "s3://$B6"
proxy_stop slow
[ "$rc" != 0 ] && ok || bad "SIGINT: exit 0"
grep -qi 'interrupted' "$WORK/int.out" && ok || bad "SIGINT: not said: $(tail -5 "$WORK/int.out")"
[ "$(json "$WORK/int/lifecycle.json" 'd["cleaned_up"]')" = True ] && ok ||
  bad "SIGINT: report says not cleaned up: $(tail -5 "$WORK/int.out")"
bucket_gone "$B6" && ok || bad "SIGINT: the bucket is still there"

# 4. bad input: a prefix instead of a bucket; --trace (two jobs cannot share one trace)
rc=$("$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" bench lifecycle --trace "$WORK/t.json" "s3://$B" >/dev/null 2>"$WORK/t.err"; echo $?)
[ "$rc" = 2 ] && grep -q -- '--trace is not supported here' "$WORK/t.err" && ok || bad "--trace: exit $rc: $(cat "$WORK/t.err")"
expect_one() { "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" "$@" >/dev/null 2>"$WORK/e.err"; echo $?; }
rc=$(expect_one bench lifecycle "s3://$B/some/prefix/")
[ "$rc" = 2 ] && grep -q 'name a bucket, not a prefix' "$WORK/e.err" && ok || bad "prefix: exit $rc: $(cat "$WORK/e.err")"
finish
