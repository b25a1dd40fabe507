/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3dlio_coord_stage --to mem as a library caller sees it: each rank's shard lists exactly
 * the objects it fetched, each whole and byte for byte as generated; over all ranks every
 * object once; and a rank holds memory for its own objects only (with --steal too, and under
 * --max-memory).
 *   stage_shard URI SEED MODE     MODE: static | steal | steal-capped
 */
#include <mpi.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "s3dlio/coord.h"
#include "s3dlio/s3dlio.h"
#include "xfer/datagen.h"
#include "mpi_expect.h"


int main(int argc, char **argv)
{
    int rank, nranks, provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (argc != 4) {
        if (rank == 0)
            fprintf(stderr, "usage: stage_shard URI SEED static|steal|steal-capped\n");
        MPI_Finalize();
        return 2;
    }
    struct s3dlio_config cfg = {0};
    struct s3dlio_error err = {0};
    if (s3dlio_global_init(&err) || s3dlio_config_load(&cfg, NULL, &err)) {
        fprintf(stderr, "setup: %s\n", err.message);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    struct s3dlio_gen gen = {.seed = strtoull(argv[2], NULL, 10)};
    const char *mode = argv[3];
    struct s3dlio_stage_opts o = {.kind = S3DLIO_JOB_GET, .command = "stage", .uri = argv[1],
                                  .dest = S3DLIO_DEST_MEM, .steal = strcmp(mode, "static") != 0,
                                  .steal_chunk = 3, .report_path = "/dev/null"};
    s3dlio_xfer_opts_default(&o.xfer);
    /* capped: each rank may hold 60% of the set (4 ranks) or 75% (2): together room enough */
    uint64_t total_hint = strtoull(getenv("SHARD_TOTAL_BYTES") ? getenv("SHARD_TOTAL_BYTES") : "0",
                                   NULL, 10);
    if (!strcmp(mode, "steal-capped"))
        o.max_memory = total_hint * (nranks > 2 ? 60 : 75) / 100;
    struct s3dlio_stage_result res;
    enum s3dlio_rc rc = s3dlio_coord_stage(MPI_COMM_WORLD, &cfg, &o, NULL, &res, &err);
    EXPECT(rc == S3DLIO_OK, "stage (%s): %s", mode, err.message);

    const struct s3dlio_shard *s = &res.shard;
    uint64_t sum = 0;
    int bad = 0;
    for (size_t i = 0; i < s->n; i++) {
        sum += s->sizes[i];
        if (!s3dlio_gen_verify(&gen, s->keys[i], 0, s->data[i], (size_t)s->sizes[i], NULL))
            bad++;
    }
    EXPECT(bad == 0, "%d objects of the shard differ from the generator", bad);
    EXPECT(s->bytes == sum, "holds %" PRIu64 " bytes for objects of %" PRIu64 " bytes", s->bytes, sum);
    if (o.max_memory)
        EXPECT(s->bytes <= o.max_memory, "holds %" PRIu64 " bytes over --max-memory %" PRIu64,
               s->bytes, o.max_memory);

    uint64_t mine[2] = {s->n, sum}, all[2];
    MPI_Allreduce(mine, all, 2, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    EXPECT(all[0] == res.objects, "shards list %" PRIu64 " objects, %" PRIu64 " were staged", all[0],
           res.objects);
    if (total_hint)
        EXPECT(all[1] == total_hint, "shards hold %" PRIu64 " bytes of %" PRIu64, all[1], total_hint);
    /* every key once over all ranks: gather them to rank 0 and look for a duplicate */
    size_t keybytes = 0;
    for (size_t i = 0; i < s->n; i++)
        keybytes += strlen(s->keys[i]) + 1;
    char *mykeys = malloc(keybytes + 1), *p = mykeys;
    for (size_t i = 0; i < s->n; i++)
        p = stpcpy(p, s->keys[i]) + 1;
    int mylen = (int)keybytes, *lens = NULL, *displs = NULL, totlen = 0;
    if (rank == 0) {
        lens = calloc((size_t)nranks, sizeof(int));
        displs = calloc((size_t)nranks, sizeof(int));
    }
    MPI_Gather(&mylen, 1, MPI_INT, lens, 1, MPI_INT, 0, MPI_COMM_WORLD);
    for (int i = 0; rank == 0 && i < nranks; i++) {
        displs[i] = totlen;
        totlen += lens[i];
    }
    char *allkeys = rank == 0 ? malloc((size_t)totlen + 1) : NULL;
    MPI_Gatherv(mykeys, mylen, MPI_CHAR, allkeys, lens, displs, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        int dups = 0, n = 0;
        for (char *a = allkeys; a < allkeys + totlen; a += strlen(a) + 1, n++)
            for (char *b = a + strlen(a) + 1; b < allkeys + totlen; b += strlen(b) + 1)
                dups += !strcmp(a, b);
        EXPECT(dups == 0, "%d keys are in two shards", dups);
        EXPECT((uint64_t)n == res.objects, "%d keys in the shards, %" PRIu64 " staged", n, res.objects);
    }
    free(mykeys);
    free(allkeys);
    free(lens);
    free(displs);
    s3dlio_shard_release(&res.shard);
    s3dlio_config_release(&cfg);
    s3dlio_global_cleanup();
    int counts[2] = {passed, failed}, sums[2];
    MPI_Reduce(counts, sums, 2, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    int any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0)
        printf("%d passed, %d failed (%s)\n", sums[0], sums[1], mode);
    MPI_Finalize();
    return any ? 1 : 0;
}
