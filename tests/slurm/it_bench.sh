#!/usr/bin/env bash
# slurm/sync-bench.sbatch (2 rounds, 2 tasks) and slurm/lifecycle.sbatch (a few MiB, 2 tasks):
# COMPLETED 0:0, bench-sync.json and bench-sync.svg / lifecycle.json under profiles/<job id>/
# with every round and every phase; the lifecycle bucket gone afterwards; no secret in the output.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
B=it-slurm-bench-$$-$RANDOM
"$CLI" mb -q "s3://$B" && "$CLI" put -q --generate --count 6 --min-size 64KiB --max-size 512KiB "s3://$B/data/" ||
  { bad "setup: upload"; finish; exit; }
EXP="ALL,S3DLIO_MPI=$CLI,S3DLIO_PROFILES=$WORK/profiles"

s=$(submit sync-bench.sbatch -n 2 --export="$EXP,S3DLIO_URI=s3://$B/data/,S3DLIO_ROUNDS=2")
l=$(submit lifecycle.sbatch -n 2 --export="$EXP,S3DLIO_BUCKET=s3://$B-lc,S3DLIO_TEST_SIZE_GB=0.005,S3DLIO_MIN_OBJECT_MB=1,S3DLIO_MAX_OBJECT_MB=1")

expect_job "bench sync" "$s" "COMPLETED 0:0"
R=$WORK/profiles/$s/bench-sync.json
[ "$(json "$R" '(d["run_id"], d["ranks"], d["rounds_done"], d["dataset"]["objects"])')" = "('$s', 2, 2, 6)" ] && ok ||
  bad "bench sync: report: $(head -c 400 "$R" 2>&1)"
[ -s "$WORK/profiles/$s/bench-sync.svg" ] && ok || bad "bench sync: no bench-sync.svg"
no_secret "$s"

expect_job "bench lifecycle" "$l" "COMPLETED 0:0"
R=$WORK/profiles/$l/lifecycle.json
[ "$(json "$R" 'all(p["ran"] for p in d["phases"]) and d["cleaned_up"] and d["bucket_deleted"]')" = True ] && ok ||
  bad "lifecycle: report: $(head -c 400 "$R" 2>&1)"
! "$CLI" ls "s3://$B-lc" >/dev/null 2>&1 && ok || bad "lifecycle: the bucket is still there"
no_secret "$l"

"$CLI" rm -q -r "s3://$B/" && "$CLI" rb -q "s3://$B"
finish
