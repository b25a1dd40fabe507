/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Collective failure is agreed, not assumed (hpc/ior src/ior.c CountErrors): before a step
 * that depends on every rank, ranks reduce their status so all take the same branch, and
 * the failing rank's message reaches rank 0 to be printed once.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "coord/coord_int.h"

enum s3dlio_rc s3dlio_coord_agree(MPI_Comm comm, enum s3dlio_rc rc, struct s3dlio_error *err)
{
    int rank, first = 0, mine;
    MPI_Comm_rank(comm, &rank);
    mine = rc ? rank : INT32_MAX;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
    if (first == INT32_MAX)
        return S3DLIO_OK;
    struct s3dlio_error e = {0};
    if (rank == first && err) {
        char host[64] = "", prefix[96];
        int size;
        gethostname(host, sizeof(host) - 1);
        MPI_Comm_size(comm, &size);
        e = *err;
        e.rc = rc;
        /* name the rank where it broke, once: an error agreed on at several steps of a job
         * passes through here each time, and one process has no other rank to tell apart */
        snprintf(prefix, sizeof(prefix), "rank %d (%s): ", rank, host);
        if (size > 1 && strncmp(err->message, prefix, strlen(prefix))) {
            char msg[sizeof(e.message) + sizeof(prefix)];
            snprintf(msg, sizeof(msg), "%s%s", prefix, err->message);
            msg[sizeof(e.message) - 1] = '\0'; /* cut to fit, as every message is */
            memcpy(e.message, msg, sizeof(e.message));
        }
    }
    MPI_Bcast(&e, (int)sizeof(e), MPI_BYTE, first, comm);
    if (err)
        *err = e;
    return e.rc ? e.rc : S3DLIO_E_INTERNAL;
}
