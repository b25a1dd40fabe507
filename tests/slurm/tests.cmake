# Slurm (label slurm): the batch scripts of slurm/ submitted to a real one-node Slurm cluster
# (munged, slurmctld, slurmd on 127.0.0.1; scripts/slurm-cluster) against the local S3 server.
# slurm_up / slurm_down start and stop the cluster, by the pids in its state directory; the
# tests need both it and the s3 fixture. Without the Slurm packages: a failure, or a skip (77)
# when S3DLIO_SLURM_OPTIONAL=1 says they may be missing.
set(SLURM_STATE ${CMAKE_CURRENT_BINARY_DIR}/slurm-cluster)
set(SLURM_TEST_ENV "${TEST_ENV};S3DLIO_CLI=${CLI};S3DLIO_SLURM_STATE=${SLURM_STATE}")
if(S3DLIO_SANITIZE)
  # the jobs inherit the environment (sbatch --export=ALL): ranks need what mpirun tests get
  list(APPEND SLURM_TEST_ENV "S3DLIO_SANITIZED=${S3DLIO_SANITIZE}")
endif()

add_test(NAME slurm_up COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/slurm/cluster.sh up ${SLURM_STATE})
set_tests_properties(slurm_up PROPERTIES FIXTURES_SETUP slurm LABELS slurm TIMEOUT 120
                     SKIP_RETURN_CODE 77 ENVIRONMENT "${TEST_ENV}")
add_test(NAME slurm_down COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/slurm/cluster.sh down ${SLURM_STATE})
set_tests_properties(slurm_down PROPERTIES FIXTURES_CLEANUP slurm LABELS slurm TIMEOUT 120
                     ENVIRONMENT "${TEST_ENV}")

# s3dlio_slurm_test(NAME SCRIPT): tests/slurm/SCRIPT with the server's env and the cluster's
function(s3dlio_slurm_test name script)
  add_test(NAME ${name} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/integration/run-with-server
           ${S3STATE} bash ${CMAKE_CURRENT_SOURCE_DIR}/slurm/${script})
  set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED "s3;slurm" LABELS slurm PROCESSORS 2
    TIMEOUT 400 SKIP_RETURN_CODE 77 ENVIRONMENT "${SLURM_TEST_ENV}")
endfunction()
# stage.sbatch through srun --mpi=pmix (to a directory) and mpirun (to HDF5); a failing stage
s3dlio_slurm_test(slurm_stage it_stage.sh)
# checkpoint-save -> checkpoint-restore -> a job, as afterok dependencies; a missing checkpoint
s3dlio_slurm_test(slurm_checkpoint it_checkpoint.sh)
# sync-bench.sbatch and lifecycle.sbatch
s3dlio_slurm_test(slurm_bench it_bench.sh)
