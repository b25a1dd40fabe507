# slurm_require (sourced): are the Slurm and munge programs here? If not: exit 77 (skip) when
# S3DLIO_SLURM_OPTIONAL=1 says they may be missing, else exit 1, since scripts/test installs them.
# shellcheck shell=bash
slurm_require() {
  local b missing=()
  for b in sbatch scontrol squeue scancel sinfo slurmctld slurmd munged mungekey; do
    command -v "$b" >/dev/null 2>&1 || missing+=("$b")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "${S3DLIO_SLURM_OPTIONAL:-0}" = 1 ]; then
    echo "skipped: no ${missing[*]} (S3DLIO_SLURM_OPTIONAL=1); scripts/install-deps installs them" >&2
    exit 77
  fi
  echo "missing ${missing[*]}: run scripts/install-deps (or set S3DLIO_SLURM_OPTIONAL=1 to skip)" >&2
  exit 1
}
