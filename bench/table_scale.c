/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How the listing reaches the ranks at scale: rank 0 makes a synthetic listing of N keys
 * (no server), partitions it by bytes as stage does, and hands it out the way stage would:
 *   bcast    the whole table to every rank (before issue 12; --to h5 still)
 *   scatter  each rank its own rows (static partitions after a single listing)
 *   shared   the whole table once per node, in an MPI shared-memory window (--steal)
 *   deal     no whole listing anywhere: each rank makes the units of the key space a parallel
 *            listing would leave it, and s3dlio_table_deal sends the rows to their owners
 *            (static partitions after a parallel listing, stage's default under mpirun)
 * then each rank walks its rows as stage's build_jobs does. Prints one JSON line (rank 0):
 * seconds to distribute (slowest rank), packed bytes received over all ranks, peak RSS of
 * each rank (getrusage) and the node's proportional set size (PSS: shared pages counted once).
 *   s3dlio-bench-table N bcast|scatter|shared|deal
 * A benchmark: it reports, it asserts nothing (scripts/bench-scale runs it).
 */
#include <mpi.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "coord/coord_int.h"
#include "s3dlio/partition.h"

/* Proportional set size of this process in KiB (0 when the kernel does not say). */
static uint64_t pss_kib(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    uint64_t kib = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "Pss: %" SCNu64, &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static uint64_t peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)ru.ru_maxrss;
}

/* Object i: a name like a training set's (40-odd bytes), a 32-hex-digit ETag, 64 KiB to 4 MiB. */
static uint64_t object(size_t i, char *key, size_t klen, char *etag, size_t elen)
{
    uint64_t x = (uint64_t)i * 0x9E3779B97F4A7C15u + 0x632BE59BD9B4E019u;
    x ^= x >> 31, x *= 0xBF58476D1CE4E5B9u, x ^= x >> 29;
    snprintf(key, klen, "train/shard-%04zu/sample-%09zu.tfrecord", i / 4096, i);
    snprintf(etag, elen, "%016" PRIx64 "%016" PRIx64, x, x * 31);
    return 65536 + x % (4u << 20);
}

static void make_listing(size_t n, struct s3dlio_objlist *list)
{
    for (size_t i = 0; i < n; i++) {
        char key[96], etag[40];
        uint64_t size = object(i, key, sizeof(key), etag, sizeof(etag));
        s3dlio_objlist_add(list, key, size, -1, etag);
    }
}

/* deal: the listing as the ranks list it in parallel, 8 units of the key space per rank,
 * unit u listed by rank u % nranks (as s3dlio_coord_list_spread leaves it) */
static void make_spread(size_t n, int rank, int nranks, struct s3dlio_spread *s)
{
    size_t units = (size_t)nranks * 8;
    s->total_units = units;
    for (size_t u = (size_t)rank; u < units; u += (size_t)nranks) {
        s->units = realloc(s->units, (s->nunits + 1) * sizeof(*s->units));
        s->unit_pos = realloc(s->unit_pos, (s->nunits + 1) * sizeof(*s->unit_pos));
        struct s3dlio_rowpack *p = &s->units[s->nunits];
        memset(p, 0, sizeof(*p));
        s->unit_pos[s->nunits++] = u;
        for (size_t i = u * n / units; i < (u + 1) * n / units; i++) {
            char key[96], etag[40];
            uint64_t size = object(i, key, sizeof(key), etag, sizeof(etag));
            s3dlio_rowpack_add(p, key, etag, size);
        }
    }
}

int main(int argc, char **argv)
{
    int rank, nranks;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (argc != 3 || (strcmp(argv[2], "bcast") && strcmp(argv[2], "scatter") &&
                      strcmp(argv[2], "shared") && strcmp(argv[2], "deal"))) {
        if (rank == 0)
            fprintf(stderr, "usage: s3dlio-bench-table N bcast|scatter|shared|deal\n");
        MPI_Finalize();
        return 2;
    }
    size_t n = strtoull(argv[1], NULL, 10);
    const char *mode = argv[2];
    uint64_t idle_kib = peak_rss_kib();
    struct s3dlio_objlist list = {0};
    int *owner = NULL;
    double t_list = 0, t_part = 0;
    struct s3dlio_spread spread = {0};
    bool deal = !strcmp(mode, "deal");
    if (deal) { /* every rank lists its units; the partition is part of the deal */
        double t0 = MPI_Wtime(), dt;
        make_spread(n, rank, nranks, &spread);
        dt = MPI_Wtime() - t0;
        MPI_Reduce(&dt, &t_list, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    } else if (rank == 0) {
        double t0 = MPI_Wtime();
        make_listing(n, &list);
        t_list = MPI_Wtime() - t0;
        t0 = MPI_Wtime();
        uint64_t *sizes = calloc(n ? n : 1, sizeof(*sizes));
        size_t *order = calloc(n ? n : 1, sizeof(*order));
        owner = calloc(n ? n : 1, sizeof(*owner));
        for (size_t i = 0; i < n; i++)
            sizes[i] = list.items[i].size, order[i] = i;
        s3dlio_partition(S3DLIO_PART_SIZE, sizes, order, n, nranks, owner, NULL);
        free(sizes);
        free(order);
        t_part = MPI_Wtime() - t0;
    }
    struct s3dlio_table t = {0};
    struct s3dlio_error err = {0};
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    const struct s3dlio_deal how = {.mode = S3DLIO_PART_SIZE};
    enum s3dlio_rc rc =
        deal                       ? s3dlio_table_deal(MPI_COMM_WORLD, &spread, &how, &t, &err)
        : !strcmp(mode, "bcast")   ? s3dlio_table_bcast(MPI_COMM_WORLD, &list, owner, NULL, &t, &err)
        : !strcmp(mode, "scatter") ? s3dlio_table_scatter(MPI_COMM_WORLD, &list, owner, NULL, &t, &err)
                                   : s3dlio_table_bcast_shared(MPI_COMM_WORLD, &list, owner, NULL, &t, &err);
    /* each rank walks its rows as build_jobs does (and so touches the table it holds) */
    uint64_t mine = 0, key_bytes = 0;
    for (size_t i = 0; !rc && i < t.n; i++)
        if (t.share_only || t.owner[i] == rank)
            mine++, key_bytes += strlen(t.keys[i]);
    double dt = MPI_Wtime() - t0, slowest = 0;
    MPI_Reduce(&dt, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    uint64_t got = t.received_bytes, sent = 0, objects = 0;
    MPI_Reduce(&got, &sent, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Reduce(&mine, &objects, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    uint64_t all_key_bytes = 0;
    MPI_Reduce(&key_bytes, &all_key_bytes, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    /* per rank: peak RSS, PSS now; summed per node by host name */
    struct { uint64_t peak, pss; char host[64]; } me = {peak_rss_kib(), pss_kib(), {0}}, *all = NULL;
    gethostname(me.host, sizeof(me.host) - 1);
    if (rank == 0)
        all = calloc((size_t)nranks, sizeof(*all));
    MPI_Gather(&me, (int)sizeof(me), MPI_BYTE, all, (int)sizeof(me), MPI_BYTE, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        uint64_t other_max = 0, peak_sum = 0, pss_sum = 0;
        for (int r = 0; r < nranks; r++) {
            if (r && all[r].peak > other_max)
                other_max = all[r].peak;
            if (!strcmp(all[r].host, all[0].host)) /* one machine here: node 0's sums */
                peak_sum += all[r].peak, pss_sum += all[r].pss;
        }
        printf("{\"mode\":\"%s\",\"n\":%zu,\"np\":%d,\"rc\":%d,\"objects_owned\":%" PRIu64
               ",\"key_bytes_owned\":%" PRIu64 ",\"list_s\":%.3f,\"partition_s\":%.3f,\"distribute_s\":%.3f,\"bytes_received\":%" PRIu64
               ",\"idle_rss_kib\":%" PRIu64 ",\"rank0_peak_kib\":%" PRIu64
               ",\"other_rank_peak_kib_max\":%" PRIu64 ",\"node_peak_rss_sum_kib\":%" PRIu64
               ",\"node_pss_sum_kib\":%" PRIu64 ",\"table_rows_rank0\":%zu}\n",
               mode, n, nranks, (int)rc, objects, all_key_bytes, t_list, t_part, slowest, sent, idle_kib,
               all[0].peak, other_max, peak_sum, pss_sum, t.n);
        free(all);
    }
    if (rc)
        fprintf(stderr, "[r%d] %s\n", rank, err.message);
    s3dlio_table_release(&t);
    s3dlio_objlist_release(&list);
    free(owner);
    MPI_Finalize();
    return rc ? 1 : 0;
}
