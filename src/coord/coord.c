/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MPI coordination lives here (partition, broadcast, reduction); it arrives with the
 * distributed commands. Until then this unit only pins the MPI dependency of the library.
 */
#include <mpi.h>

int s3dlio_coord_is_initialized(void);

int s3dlio_coord_is_initialized(void)
{
    int flag = 0;
    MPI_Initialized(&flag);
    return flag;
}
