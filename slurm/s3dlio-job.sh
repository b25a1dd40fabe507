# slurm/s3dlio-job.sh - sourced by the batch scripts beside it (never run alone): settings
# shared by every job, the launcher, and one way to run the CLI and end the job with its status.
#
# Env (all optional; pass with sbatch --export=ALL,NAME=VALUE,...):
#   S3DLIO_MPI        the CLI (default: s3dlio-mpi on PATH)
#   S3DLIO_LAUNCHER   srun (default: srun --mpi=pmix) or mpirun (Open MPI's mpirun inside the
#                     allocation); see slurm/README.md for which works with which MPI
#   S3DLIO_SRUN_MPI   the --mpi plugin of srun (default pmix)
#   S3DLIO_LAUNCHER_ARGS  extra arguments for srun or mpirun (split on spaces)
#   S3DLIO_PROFILES   where reports go: S3DLIO_PROFILES/<job id>/ (default: profiles/ in the
#                     directory sbatch was called from)
#   S3DLIO_ARGS       extra options for the command (split on spaces), e.g. "--get-concurrency 16"
# Credentials and endpoint come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
# AWS_SESSION_TOKEN, AWS_ENDPOINT_URL, AWS_REGION) or a profile (AWS_PROFILE and
# ~/.aws/credentials); this file never prints them.
# shellcheck shell=bash
set -euo pipefail
export AWS_EC2_METADATA_DISABLED=true   # never ask the cloud metadata address for credentials

: "${SLURM_JOB_ID:?run this script with sbatch}"
S3DLIO_MPI=${S3DLIO_MPI:-s3dlio-mpi}
S3DLIO_LAUNCHER=${S3DLIO_LAUNCHER:-srun}
S3DLIO_PROFILES=${S3DLIO_PROFILES:-${SLURM_SUBMIT_DIR:-$PWD}/profiles}
S3DLIO_OUT=$S3DLIO_PROFILES/$SLURM_JOB_ID

s3dlio_say() { echo "s3dlio-slurm: $*" >&2; }
s3dlio_die() { s3dlio_say "$*"; exit 2; }

# s3dlio_sub STR: STR with %j replaced by the job id (for per-job paths)
s3dlio_sub() { printf '%s' "${1//%j/$SLURM_JOB_ID}"; }

# where the credentials come from, never their values
s3dlio_cred_source() {
  if [ -n "${AWS_ACCESS_KEY_ID:-}" ]; then
    echo "environment (AWS_ACCESS_KEY_ID)"
  elif [ -n "${AWS_PROFILE:-}" ]; then
    echo "profile '$AWS_PROFILE'"
  elif [ -r "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}" ]; then
    echo "profile 'default'"
  else
    echo "none found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)"
  fi
}

# s3dlio_run WHAT CLI-ARGS...: launch the CLI on every task of the allocation, write the
# report under S3DLIO_OUT, and exit with the CLI's status (non-zero: Slurm marks the job FAILED)
s3dlio_run() {
  local what=$1 rc=0 extra=()
  shift
  command -v "$S3DLIO_MPI" >/dev/null || s3dlio_die "the CLI '$S3DLIO_MPI' is not found: set S3DLIO_MPI"
  mkdir -p "$S3DLIO_OUT"
  # shellcheck disable=SC2206  # word lists on purpose
  extra=(${S3DLIO_ARGS:-})
  local launch=()
  # shellcheck disable=SC2206
  local largs=(${S3DLIO_LAUNCHER_ARGS:-})
  case $S3DLIO_LAUNCHER in
    srun)
      # ranks srun starts on an oversubscribed node busy-poll unless told to yield
      export OMPI_MCA_mpi_yield_when_idle=${OMPI_MCA_mpi_yield_when_idle:-1}
      launch=(srun --mpi="${S3DLIO_SRUN_MPI:-pmix}" --kill-on-bad-exit=1 "${largs[@]}") ;;
    mpirun)
      launch=(mpirun "${largs[@]}")
      # Open MPI refuses root without this (test clusters; a site runs jobs as users)
      [ "$(id -u)" != 0 ] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ;;
    *) s3dlio_die "S3DLIO_LAUNCHER='$S3DLIO_LAUNCHER': use srun or mpirun" ;;
  esac
  s3dlio_say "job $SLURM_JOB_ID: $what on ${SLURM_JOB_NUM_NODES:-1} node(s) (${SLURM_JOB_NODELIST:-?}), ${SLURM_NTASKS:-1} task(s)"
  s3dlio_say "launcher: ${launch[*]}; CLI: $S3DLIO_MPI; endpoint: ${AWS_ENDPOINT_URL_S3:-${AWS_ENDPOINT_URL:-default}}; credentials: $(s3dlio_cred_source)"
  s3dlio_say "run: $S3DLIO_MPI $* ${extra[*]}"
  "${launch[@]}" "$S3DLIO_MPI" "$@" "${extra[@]}" || rc=$?
  if [ $rc = 0 ]; then
    s3dlio_say "$what: done; report in $S3DLIO_OUT/"
  else
    s3dlio_say "$what: FAILED (exit $rc); what there is of the report is in $S3DLIO_OUT/"
  fi
  exit $rc
}
