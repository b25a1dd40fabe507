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
        char host[64] = "";
        gethostname(host, sizeof(host) - 1);
        e = *err;
        e.rc = rc;
        /* name the rank: the user must know where it broke */
        char msg[sizeof(e.message) + sizeof(host) + 32];
        snprintf(msg, sizeof(msg), "rank %d (%s): %s", rank, host, err->message);
        msg[sizeof(e.message) - 1] = '\0'; /* cut to fit, as every message is */
        memcpy(e.message, msg, sizeof(e.message));
    }
    MPI_Bcast(&e, (int)sizeof(e), MPI_BYTE, first, comm);
    if (err)
        *err = e;
    return e.rc ? e.rc : S3DLIO_E_INTERNAL;
}
