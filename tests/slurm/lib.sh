# Helpers of the slurm tests (sourced): the cluster that the slurm_up fixture started, sbatch
# with the S3 server's environment, a bounded wait for a job, its state and exit code.
# The test runs under integration/run-with-server, so AWS_* name the local S3 server; jobs
# get them through sbatch --export=ALL, never through a file.
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/require.sh"
slurm_require
SLURM_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../slurm" && pwd)
STATE=${S3DLIO_SLURM_STATE:?S3DLIO_SLURM_STATE must name the slurm_up fixture directory}
[ -r "$STATE/env" ] || { echo "no cluster at $STATE (did slurm_up run?)" >&2; exit 1; }
# shellcheck disable=SC1091
. "$STATE/env"
JOB_WAIT_S=${S3DLIO_SLURM_JOB_WAIT_S:-120}

# submit SCRIPT [SBATCH OPTIONS...]: submit slurm/SCRIPT from WORK (output WORK/<name>-<id>.out,
# reports under WORK/profiles/<id>/), the CLI of this build; prints the job id
submit() {
  local script=$1
  shift
  (cd "$WORK" && sbatch --parsable -o "$WORK/%x-%j.out" \
    --export="ALL,S3DLIO_MPI=$CLI,S3DLIO_PROFILES=$WORK/profiles" "$@" "$SLURM_SCRIPTS/$script")
}
# job_field JID FIELD: one field of scontrol show job (JobState, ExitCode, Reason, ...)
job_field() { scontrol show job -o "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
# wait_job JID: until the job has ended, at most JOB_WAIT_S seconds (then cancel it); prints
# "STATE EXITCODE", e.g. "COMPLETED 0:0" or "FAILED 1:0"
wait_job() {
  local jid=$1 st deadline=$((SECONDS + JOB_WAIT_S))
  while :; do
    st=$(job_field "$jid" JobState)
    case $st in PENDING | CONFIGURING | RUNNING | COMPLETING | SUSPENDED | "") ;; *) break ;; esac
    if [ $SECONDS -ge $deadline ]; then
      echo "job $jid still $st after ${JOB_WAIT_S}s; cancelling" >&2
      scancel "$jid" 2>/dev/null || true
      break
    fi
    sleep 0.3
  done
  echo "$(job_field "$jid" JobState) $(job_field "$jid" ExitCode)"
}
# job_out JID: the job's output file
job_out() { job_field "$1" StdOut; }
# expect_job NAME JID "STATE EXIT": the job ended so; on mismatch its output is shown
expect_job() {
  local got
  got=$(wait_job "$2")
  if [ "$got" = "$3" ]; then ok; else bad "$1: job $2 ended '$got', want '$3': $(tail -n 15 "$(job_out "$2")" 2>&1)"; fi
}
# no_secret JID: the job's output holds neither the secret key nor the session token
no_secret() {
  local f
  f=$(job_out "$1")
  ! grep -qF -- "$AWS_SECRET_ACCESS_KEY" "$f" && ok || bad "job $1: the secret key is in its output"
}
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
