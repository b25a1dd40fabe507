#!/usr/bin/env bash
# slurm/checkpoint-save.sbatch and checkpoint-restore.sbatch as a dependency chain: save (2 tasks)
# -> restore of the latest, afterok:save -> a "training" job, afterok:restore, that compares the
# restored files with the saved ones; all three COMPLETED 0:0 with reports under
# profiles/<job id>/. Then a restore where no checkpoint exists: Slurm reports it FAILED with
# exit 1:0 ("no latest checkpoint"), and the training job that depends on it never starts
# (PENDING, DependencyNeverSatisfied) until cancelled.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
B=it-slurm-ckpt-$$-$RANDOM
"$CLI" mb -q "s3://$B" || { bad "setup: mb"; finish; exit; }
mkdir -p "$WORK/ckpt/sub"
make_file "$WORK/ckpt/model.bin" 3000000
make_file "$WORK/ckpt/sub/optim.bin" 700000
echo '{"step": 1200}' >"$WORK/ckpt/meta.json"
EXP="ALL,S3DLIO_MPI=$CLI,S3DLIO_PROFILES=$WORK/profiles,S3DLIO_URI=s3://$B/run1"

s=$(submit checkpoint-save.sbatch -n 2 --export="$EXP,S3DLIO_CKPT_SRC=$WORK/ckpt,S3DLIO_CKPT_NAME=step-%j")
r=$(submit checkpoint-restore.sbatch -n 2 --dependency="afterok:$s" --export="$EXP,S3DLIO_TO=dir:$WORK/restart-%j")
t=$(cd "$WORK" && sbatch --parsable -n 1 -o "$WORK/train-%j.out" --dependency="afterok:$r" \
  --wrap "diff -r '$WORK/ckpt' '$WORK/restart-$r' && echo TRAIN-OK")

expect_job "checkpoint save" "$s" "COMPLETED 0:0"
[ "$(json "$WORK/profiles/$s/report.json" '(d["command"], d["ranks"], d["totals"]["failures"])')" = "('checkpoint save', 2, 0)" ] &&
  ok || bad "save: report: $(head -c 300 "$WORK/profiles/$s/report.json" 2>&1)"
"$CLI" checkpoint list "s3://$B/run1" >"$WORK/list.out" 2>&1 && grep -q "step-$s" "$WORK/list.out" && ok ||
  bad "save: checkpoint step-$s not listed: $(cat "$WORK/list.out")"
expect_job "checkpoint restore (latest, afterok:save)" "$r" "COMPLETED 0:0"
[ "$(json "$WORK/profiles/$r/report.json" '(d["command"], d["ranks"], d["totals"]["failures"])')" = "('checkpoint restore', 2, 0)" ] &&
  ok || bad "restore: report"
expect_job "training job (afterok:restore)" "$t" "COMPLETED 0:0"
grep -q TRAIN-OK "$WORK/train-$t.out" && ok || bad "training job: restored files differ: $(head -5 "$WORK/train-$t.out")"
no_secret "$s"
no_secret "$r"

# no checkpoint under this prefix: the restore fails and the job after it never runs
f=$(submit checkpoint-restore.sbatch -n 2 --export="ALL,S3DLIO_MPI=$CLI,S3DLIO_PROFILES=$WORK/profiles,S3DLIO_URI=s3://$B/none,S3DLIO_TO=dir:$WORK/restart-none")
t2=$(cd "$WORK" && sbatch --parsable -n 1 -o "$WORK/train-%j.out" --dependency="afterok:$f" --wrap "echo SHOULD-NOT-RUN")
expect_job "restore of a missing checkpoint" "$f" "FAILED 1:0"
grep -q "no latest checkpoint" "$(job_out "$f")" && ok || bad "missing checkpoint: $(tail -5 "$(job_out "$f")")"
for _ in $(seq 1 40); do
  [ "$(job_field "$t2" Reason)" = DependencyNeverSatisfied ] && break
  sleep 0.3
done
[ "$(job_field "$t2" JobState) $(job_field "$t2" Reason)" = "PENDING DependencyNeverSatisfied" ] && ok ||
  bad "dependent job: $(job_field "$t2" JobState) $(job_field "$t2" Reason)"
scancel "$t2"
[ ! -e "$WORK/train-$t2.out" ] && ok || bad "the job after a failed restore ran"

"$CLI" rm -q -r "s3://$B/" && "$CLI" rb -q "s3://$B"
finish
