#!/usr/bin/env bash
# cluster.sh up|down DIR - the slurm_up / slurm_down fixtures: scripts/slurm-cluster, after the
# check that Slurm is installed (skip 77 only with S3DLIO_SLURM_OPTIONAL=1).
set -euo pipefail
export AWS_EC2_METADATA_DISABLED=true
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/require.sh"
case ${1:-} in
  up) slurm_require ;;
  down) [ -d "${2:?}" ] || exit 0 ;;   # nothing was started
esac
exec bash "$HERE/../../scripts/slurm-cluster" "$@"
