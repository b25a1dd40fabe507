/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3dlio-bench-h5: the HDF5 write path of `stage --to h5:` (the writer fed through its sink
 * exactly as the engine feeds it, in pieces as curl delivers them, no S3) against a plain
 * MPI-IO write of the same bytes in the same extents (MPI_File_write_at per object), in one
 * run, alternating, several repetitions; rank 0 prints the medians and their ratio.
 *   mpirun -n N s3dlio-bench-h5 [--dir DIR] [--mib TOTAL] [--object-mib M] [--reps R]
 *                               [--piece-kib K] [--slots S]
 * Both timings run from before the file is opened to after it is closed (and, for HDF5, the
 * index written and the file renamed), the slowest rank's time.
 */
#include <inttypes.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "h5/h5_writer.h"

struct args {
    const char *dir;
    uint64_t total_mib, object_mib, piece_kib;
    int reps, slots;
};

struct layout {
    size_t n;
    char **keys;
    uint64_t *sizes, *offsets; /* offsets: as the writer lays /data out */
    int *owner;
};

static int parse(int argc, char **argv, struct args *a)
{
    *a = (struct args){
        .dir = "/tmp", .total_mib = 512, .object_mib = 8, .piece_kib = 256, .reps = 5, .slots = 32
    };
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--dir"))
            a->dir = v;
        else if (!strcmp(k, "--mib"))
            a->total_mib = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--object-mib"))
            a->object_mib = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--piece-kib"))
            a->piece_kib = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--reps"))
            a->reps = (int)strtol(v, NULL, 10);
        else if (!strcmp(k, "--slots"))
            a->slots = (int)strtol(v, NULL, 10);
        else
            return -1;
    }
    return a->object_mib && a->total_mib >= a->object_mib && a->piece_kib && a->reps > 0 &&
                   a->slots > 0
               ? 0
               : -1;
}

/* Objects round-robin over the ranks; offsets rank by rank, as the writer lays them out. */
static void make_layout(struct layout *l, const struct args *a, int nranks)
{
    l->n = a->total_mib / a->object_mib;
    l->keys = calloc(l->n, sizeof(*l->keys));
    l->sizes = calloc(l->n, sizeof(*l->sizes));
    l->offsets = calloc(l->n, sizeof(*l->offsets));
    l->owner = calloc(l->n, sizeof(*l->owner));
    uint64_t at = 0;
    for (size_t i = 0; i < l->n; i++) {
        char key[32];
        snprintf(key, sizeof(key), "obj-%06zu", i);
        l->keys[i] = strdup(key);
        l->sizes[i] = a->object_mib << 20;
        l->owner[i] = (int)(i % (size_t)nranks);
    }
    for (int r = 0; r < nranks; r++)
        for (size_t i = 0; i < l->n; i++)
            if (l->owner[i] == r) {
                l->offsets[i] = at;
                at += l->sizes[i];
            }
}

static double time_h5(const struct args *a, const struct layout *l, const char *path, int rank,
                      const unsigned char *buf)
{
    struct s3dlio_h5_spec spec = {
        .path = path,
        .tmp_tag = "bench",
        .source = "bench:",
        .n = l->n,
        .keys = (const char *const *)l->keys,
        .sizes = l->sizes,
        .owner = l->owner,
        .nslots = (size_t)a->slots,
    };
    struct s3dlio_h5_writer *w = NULL;
    struct s3dlio_error err = { 0 };
    size_t piece = a->piece_kib << 10;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    enum s3dlio_rc rc = s3dlio_h5_writer_open(MPI_COMM_WORLD, &spec, &w, &err);
    double t_open = MPI_Wtime() - t0;
    for (size_t i = 0; !rc && i < l->n; i++) {
        if (l->owner[i] != rank)
            continue;
        struct s3dlio_xfer_job job = { .key = l->keys[i], .size = l->sizes[i] };
        void *ud = s3dlio_h5_writer_ud(w, i);
        for (uint64_t off = 0; !rc && off < l->sizes[i]; off += piece) {
            size_t n = l->sizes[i] - off < piece ? (size_t)(l->sizes[i] - off) : piece;
            rc = s3dlio_h5_sink.write(ud, &job, off, buf + off, n, &err);
        }
        if (!rc)
            rc = s3dlio_h5_sink.close(ud, &job, true, &err);
    }
    double t_write = MPI_Wtime() - t0;
    if (w)
        rc = s3dlio_h5_writer_finish(MPI_COMM_WORLD, w, rc, &err);
    if (getenv("S3DLIO_BENCH_PHASES"))
        fprintf(stderr, "[r%d] open %.3f s, writes to %.3f s, finished at %.3f s\n", rank, t_open,
                t_write, MPI_Wtime() - t0);
    double dt = MPI_Wtime() - t0, slowest = 0;
    MPI_Allreduce(&dt, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (rc && rank == 0)
        fprintf(stderr, "s3dlio-bench-h5: HDF5 write failed: %s\n", err.message);
    return rc ? -1 : slowest;
}

static double time_mpiio(const struct layout *l, const char *path, int rank,
                         const unsigned char *buf)
{
    MPI_File fh;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    int st =
        MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &fh);
    for (size_t i = 0; st == MPI_SUCCESS && i < l->n; i++)
        if (l->owner[i] == rank)
            st = MPI_File_write_at(fh, (MPI_Offset)l->offsets[i], buf, (int)l->sizes[i], MPI_BYTE,
                                   MPI_STATUS_IGNORE);
    MPI_File_close(&fh);
    double dt = MPI_Wtime() - t0, slowest = 0;
    MPI_Allreduce(&dt, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return st == MPI_SUCCESS ? slowest : -1;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    int rank, nranks, provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    struct args a;
    if (parse(argc, argv, &a)) {
        if (rank == 0)
            fprintf(stderr, "usage: s3dlio-bench-h5 [--dir DIR] [--mib TOTAL] [--object-mib M] "
                            "[--reps R] [--piece-kib K] [--slots S]\n");
        MPI_Finalize();
        return 2;
    }
    struct layout l;
    make_layout(&l, &a, nranks);
    unsigned char *buf = malloc(a.object_mib << 20);
    for (uint64_t i = 0; i < a.object_mib << 20; i++)
        buf[i] = (unsigned char)(i * 2654435761u >> 13);
    char h5path[1024], iopath[1040];
    snprintf(h5path, sizeof(h5path), "%s/s3dlio-bench-h5-%d.h5", a.dir, (int)getpid());
    MPI_Bcast(h5path, sizeof(h5path), MPI_CHAR, 0, MPI_COMM_WORLD);
    snprintf(iopath, sizeof(iopath), "%s.mpiio", h5path);
    double *th5 = calloc((size_t)a.reps, sizeof(double)),
           *tio = calloc((size_t)a.reps, sizeof(double));
    int failed = 0;
    for (int r = 0; r < a.reps && !failed; r++) {
        /* alternate which goes first: neither always meets a cold or warm page cache */
        for (int k = 0; k < 2; k++) {
            if ((r + k) % 2 == 0)
                th5[r] = time_h5(&a, &l, h5path, rank, buf);
            else
                tio[r] = time_mpiio(&l, iopath, rank, buf);
        }
        failed = th5[r] < 0 || tio[r] < 0;
        if (rank == 0) {
            unlink(h5path);
            unlink(iopath);
        }
    }
    if (rank == 0 && !failed) {
        double mib = (double)(l.n * (a.object_mib << 20)) / (1 << 20);
        double mh = median(th5, a.reps), mio = median(tio, a.reps);
        printf("%5s %9s %5s %12s %12s %12s %12s %7s\n", "ranks", "MiB", "reps", "hdf5 s",
               "hdf5 MiB/s", "mpiio s", "mpiio MiB/s", "ratio");
        printf("%5d %9.0f %5d %12.3f %12.0f %12.3f %12.0f %7.3f\n", nranks, mib, a.reps, mh,
               mib / mh, mio, mib / mio, mh / mio);
    }
    for (size_t i = 0; i < l.n; i++)
        free(l.keys[i]);
    free(l.keys);
    free(l.sizes);
    free(l.offsets);
    free(l.owner);
    free(buf);
    free(th5);
    free(tio);
    MPI_Finalize();
    return failed ? 1 : 0;
}
