#!/usr/bin/env bash
# --profile-cpu under mpirun, against the local RGW: a download and an upload each give a
# flamegraph per phase beside the report (well-formed SVG + folded stacks) that names the
# engine's own functions and libcurl's; merged sample counts equal the sum over ranks (in the
# folded files, the report's per-rank counts and its total); --profile-per-rank puts one root
# frame per rank whose counts equal that rank's; throughput.svg names every rank; the report
# lists every file it wrote; without --profile-cpu no flamegraph is drawn; Ctrl-C while
# sampling stops every rank cleanly.
#   it_profile.sh NP MPIEXEC [MPIEXEC_PREFLAGS...]
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
NP=$1; MPIEXEC=$2; shift 2
PRE=("$@")
SCHEMA="$(dirname "$0")/../../docs/report-schema.json"
CHECK_SCHEMA="$(dirname "$0")/../unit/check-report-schema.py"
B=it-profile-np$NP-$$-$RANDOM
run() { "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" "$@"; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
# sum of the counts of a folded file (the number after the last space), optionally of one root
folded_sum() { awk -v root="${2:-}" 'root == "" || index($0, root ";") == 1 { n += $NF } END { print n + 0 }' "$1"; }

"$CLI" mb -q "s3://$B" || { echo "setup failed" >&2; exit 1; }

# 1. upload and download with samples at the highest rate (the kernel tick decides)
D=$WORK/up
run put -q --generate --count 48 --min-size 1MiB --max-size 3MiB --seed 9 --profile-cpu \
  --profile-hz 1000 --report "$D/report.json" "s3://$B/data/" >"$WORK/up.out" 2>&1 &&
  ok || bad "put --profile-cpu: $(tail -3 "$WORK/up.out")"
[ -s "$D/upload.svg" ] && [ -s "$D/upload.folded" ] && ok || bad "no upload.svg/.folded in $D: $(ls "$D")"

D=$WORK/down
run stage --to null --profile-cpu --profile-hz 1000 --report "$D/report.json" "s3://$B/data/" \
  >"$WORK/down.out" 2>&1 && ok || bad "stage --profile-cpu: $(tail -3 "$WORK/down.out")"
for f in "$D"/*.svg "$WORK"/up/*.svg; do
  xmllint --noout "$f" 2>"$WORK/xml.err" && ok || bad "$f not well-formed: $(head -2 "$WORK/xml.err")"
done
[ -s "$D/download.svg" ] && [ -s "$D/throughput.svg" ] && ok || bad "download.svg/throughput.svg missing: $(ls "$D")"
python3 "$CHECK_SCHEMA" "$SCHEMA" "$D/report.json" >"$WORK/schema.out" 2>&1 && ok ||
  bad "report schema: $(cat "$WORK/schema.out")"

# the engine's functions and libcurl's are named (their own, not only the CLI's)
grep -q 's3dlio_xfer_run' "$D/download.folded" && ok || bad "download.folded does not name s3dlio_xfer_run"
grep -Eq ';curl_multi_[a-z_]+' "$D/download.folded" && ok || bad "download.folded names no curl_multi_* frame"
grep -q 's3dlio_coord_stage' "$D/download.folded" && ok || bad "download.folded does not name s3dlio_coord_stage"

# merged totals = sum over ranks = the report's total; every .folded and .svg is listed
total=0
for f in "$D"/*.folded; do total=$((total + $(folded_sum "$f"))); done
ranks_sum=$(json "$D/report.json" 'sum(r["cpu_samples"] for r in d["per_rank"])')
[ "$total" -gt 0 ] && [ "$total" = "$ranks_sum" ] && ok ||
  bad "folded files hold $total samples, the ranks report $ranks_sum"
[ "$(json "$D/report.json" 'd["profile"]["samples"]')" = "$ranks_sum" ] && ok || bad "profile.samples != sum over ranks"
[ "$(json "$D/report.json" 'd["profile"]["hz"]')" = 1000 ] && ok || bad "profile.hz"
listed=$(json "$D/report.json" '" ".join(sorted(f["path"].rsplit("/",1)[1] for f in d["files"]))')
present=$(cd "$D" && ls ./*.svg ./*.folded | sed 's|^\./||' | sort | tr '\n' ' ' | sed 's/ $//')
[ "$listed" = "$present" ] && ok || bad "report lists '$listed', the directory holds '$present'"
json "$D/report.json" 'all(f["samples"] > 0 for f in d["files"] if f["kind"] == "flamegraph")' | grep -qx True &&
  ok || bad "a flamegraph without samples was listed"
grep -Eq "^  (pictures)? +$D/download.svg \(download, [0-9]+ samples" "$WORK/down.out" && ok ||
  bad "the table does not name download.svg: $(grep -A5 pictures "$WORK/down.out")"
for ((r = 0; r < NP; r++)); do
  grep -q "rank $r (" "$D/throughput.svg" && ok || bad "throughput.svg does not name rank $r"
done

# 2. --profile-per-rank: one root per rank; each root's count is that rank's
D=$WORK/per
run stage --to null --profile-per-rank --profile-hz 1000 --report "$D/report.json" "s3://$B/data/" \
  >"$WORK/per.out" 2>&1 && ok || bad "stage --profile-per-rank: $(tail -3 "$WORK/per.out")"
cat "$D"/*.folded >"$WORK/per.all"
awk '{ split($0, f, ";"); if (f[1] !~ /^rank [0-9]+$/) bad = 1 } END { exit bad }' "$WORK/per.all" && ok ||
  bad "a stack without a 'rank N' root: $(grep -v '^rank [0-9]*;' "$WORK/per.all" | head -2)"
for ((r = 0; r < NP; r++)); do
  want=$(json "$D/report.json" "[x['cpu_samples'] for x in d['per_rank'] if x['rank'] == $r][0]")
  got=$(folded_sum "$WORK/per.all" "rank $r")
  [ "$got" = "$want" ] && ok || bad "rank $r: $got samples under its root, the report says $want"
done

# 3. without --profile-cpu: the throughput picture only, no sampler in the report
D=$WORK/plain
run stage --to null --report "$D/report.json" "s3://$B/data/" >"$WORK/plain.out" 2>&1 && ok ||
  bad "stage: $(tail -3 "$WORK/plain.out")"
[ "$(cd "$D" && ls)" = "$(printf 'report.json\nthroughput.svg')" ] && ok || bad "plain run wrote: $(ls "$D")"
[ "$(json "$D/report.json" 'd["profile"]["hz"]')" = 0 ] && ok || bad "plain run: profile.hz not 0"

# 4. a bad rate: one line from rank 0, exit 2, before anything runs
"$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" stage --to null --profile-hz 5000 "s3://$B/data/" \
  >"$WORK/hz.out" 2>"$WORK/hz.err"
rc=$?
[ "$rc" = 2 ] && [ "$(grep -c '^s3dlio-mpi: ' "$WORK/hz.err")" = 1 ] && grep -q 'profile-hz must be 1..1000' "$WORK/hz.err" &&
  ok || bad "--profile-hz 5000: exit $rc: $(cat "$WORK/hz.err")"

# 5. Ctrl-C (SIGINT to the job) while the sampler runs and a slow proxy holds the GETs: every
#    rank stops cleanly (the sampler's signal never kills a rank: each says it was interrupted),
#    no temporary file is left in the destination, exit non-zero
url=$(proxy_start slow --delay-ms 8000 --only GET --only-path-regex '/data/obj-')
interrupt_when_held slow INT "$WORK/int.out" "$MPIEXEC" -n "$NP" "${PRE[@]}" "$CLI" stage --endpoint-url "$url" \
  --profile-cpu --profile-hz 1000 --to "dir:$WORK/int-data" --report "$WORK/int/report.json" \
  "s3://$B/data/"
proxy_stop slow
[ "$rc" != 0 ] && ok || bad "stage --profile-cpu + SIGINT: exit 0"
! grep -Eq 'Profiling timer expired|core dumped|Segmentation' "$WORK/int.out" && ok ||
  bad "a rank died of a signal: $(grep -E 'Profiling timer|core|Segm' "$WORK/int.out" | head -2)"
grep -qi 'interrupted' "$WORK/int.out" && ok || bad "SIGINT not said: $(tail -5 "$WORK/int.out")"
[ -z "$(find "$WORK/int-data" -name '*s3dlio-tmp*' 2>/dev/null | head -1)" ] && ok ||
  bad "temporary files left: $(find "$WORK/int-data" -name '*s3dlio-tmp*' | head -3)"

"$CLI" rm -q -r "s3://$B/" >/dev/null 2>&1
"$CLI" rb -q "s3://$B" >/dev/null 2>&1
finish
