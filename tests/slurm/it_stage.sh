#!/usr/bin/env bash
# slurm/stage.sbatch on the one-node cluster: 2 tasks stage a small prefix into a directory
# through srun --mpi=pmix and into one HDF5 file through mpirun inside the allocation; each job
# COMPLETED with exit 0:0, its report in profiles/<job id>/ counting every object, the files
# byte for byte, and no secret in the job's output. A prefix that does not exist fails the
# job (FAILED, 1:0).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
B=it-slurm-stage-$$-$RANDOM
"$CLI" mb -q "s3://$B" && "$CLI" put -q --generate --count 8 --min-size 64KiB --max-size 1MiB "s3://$B/data/" ||
  { bad "setup: upload"; finish; exit; }

# 1. srun --mpi=pmix, into a directory (%j: the job id)
j1=$(submit stage.sbatch -n 2 --export="ALL,S3DLIO_MPI=$CLI,S3DLIO_PROFILES=$WORK/profiles,S3DLIO_LAUNCHER=srun,S3DLIO_URI=s3://$B/data/,S3DLIO_TO=dir:$WORK/stage-%j")
# 2. mpirun inside the allocation, into one HDF5 file
j2=$(submit stage.sbatch -n 2 --export="ALL,S3DLIO_MPI=$CLI,S3DLIO_PROFILES=$WORK/profiles,S3DLIO_LAUNCHER=mpirun,S3DLIO_URI=s3://$B/data/,S3DLIO_TO=h5:$WORK/stage.h5")
# 3. a prefix with nothing under it... and a bucket that does not exist: the job fails
j3=$(submit stage.sbatch -n 2 --export="ALL,S3DLIO_MPI=$CLI,S3DLIO_PROFILES=$WORK/profiles,S3DLIO_URI=s3://$B-missing/data/")

expect_job "stage srun dir" "$j1" "COMPLETED 0:0"
R=$WORK/profiles/$j1/report.json
[ "$(json "$R" '(d["run_id"], d["ranks"], d["totals"]["objects"], d["totals"]["failures"])')" = "('$j1', 2, 8, 0)" ] &&
  ok || bad "srun: report $R: $(head -c 300 "$R" 2>&1)"
[ -s "$WORK/profiles/$j1/throughput.svg" ] && ok || bad "srun: no throughput.svg beside the report"
"$CLI" get -q -r "s3://$B/data/" "$WORK/ref/" && diff -r "$WORK/ref" "$WORK/stage-$j1" >/dev/null && ok ||
  bad "srun: the staged directory differs from the prefix"
no_secret "$j1"
grep -q 'launcher: srun --mpi=pmix' "$(job_out "$j1")" && ok || bad "srun: the output does not name the launcher"

expect_job "stage mpirun h5" "$j2" "COMPLETED 0:0"
[ "$(json "$WORK/profiles/$j2/report.json" '(d["ranks"], d["totals"]["objects"])')" = "(2, 8)" ] && ok || bad "mpirun: report"
"$CLI" h5 verify "$WORK/stage.h5" >"$WORK/verify.out" 2>&1 && ok || bad "mpirun: h5 verify: $(cat "$WORK/verify.out")"
no_secret "$j2"

expect_job "stage of a missing bucket" "$j3" "FAILED 1:0"
grep -q 's3dlio-mpi: .*NoSuchBucket' "$(job_out "$j3")" && ok || bad "missing bucket: $(tail -5 "$(job_out "$j3")")"
grep -q 'stage: FAILED (exit 1)' "$(job_out "$j3")" && ok || bad "missing bucket: the job does not say it failed"

"$CLI" rm -q -r "s3://$B/" && "$CLI" rb -q "s3://$B"
finish
