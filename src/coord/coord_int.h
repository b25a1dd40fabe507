/* SPDX-License-Identifier: Apache-2.0 */
/* Internal pieces of the coordination layer. */
#ifndef S3DLIO_COORD_INT_H
#define S3DLIO_COORD_INT_H

#include <mpi.h>
#include "coord/rowpack.h"
#include "coord/trace_int.h"
#include "s3dlio/profile.h"
#include "s3dlio/backend.h"
#include "s3dlio/plan.h"
#include "xfer/feed.h"
#include "s3dlio/coord.h"
#include "s3dlio/stats.h"
#include "s3dlio/uri.h"
#include "util/atomic_file.h"

/*
 * The listing as a rank sees it: every row after the broadcast, its own rows (owner == this
 * rank) after the scatter.
 */
struct s3dlio_table {
    size_t n;            /* rows here */
    size_t listed;       /* rows in the whole listing */
    bool share_only;     /* scattered: the rows are this rank's share only */
    uint64_t received_bytes; /* packed bytes this rank received (rank 0: none) */
    bool shared;         /* blob is the node's shared window win (one copy per node) */
    MPI_Win win;
    uint64_t *sizes;
    int *owner;
    bool *dir_conflict;  /* another key has this one as its directory (a GET to dir: fails it) */
    const char **keys;   /* point into blob, each followed by its ETag (s3dlio_table_etag) */
    char *blob;          /* the packed broadcast buffer */
    char **parts;        /* dealt (s3dlio_table_deal): the chunks of packed rows the keys point
                          * into; sizes and dir_conflict are NULL (read them with the accessors) */
    size_t nparts;
    uint64_t total_bytes; /* of the whole listing */
};
/* Collective over the node for a shared table (every rank of it releases it together). */
void s3dlio_table_release(struct s3dlio_table *t);

/* Row i's size and directory conflict: from the arrays, or (dealt: sizes NULL) from the
 * packed row around its key (rowpack.h: size, flag, key). */
static inline uint64_t s3dlio_table_size(const struct s3dlio_table *t, size_t i)
{
    return t->sizes ? t->sizes[i] : s3dlio_row_size(t->keys[i] - 9);
}
static inline bool s3dlio_table_conflict(const struct s3dlio_table *t, size_t i)
{
    return t->sizes ? t->dir_conflict[i] : t->keys[i][-1] != 0;
}

/* Row i's ETag as listed ("" unknown): packed behind its key. */
static inline const char *s3dlio_table_etag(const struct s3dlio_table *t, size_t i)
{
    return t->keys[i] + strlen(t->keys[i]) + 1;
}

/*
 * Rank 0 packs list (sizes, ETags, owners, directory conflicts, keys) and broadcasts it; the
 * other ranks unpack. owner and dir_conflict (NULL: none) are rank 0's only. Collective.
 */
enum s3dlio_rc s3dlio_table_bcast(MPI_Comm comm, const struct s3dlio_objlist *list, const int *owner,
                                  const bool *dir_conflict, struct s3dlio_table *t,
                                  struct s3dlio_error *err);

/*
 * The whole table on every rank as s3dlio_table_bcast, but one copy per node: the node's
 * leader holds it in an MPI shared-memory window (rank 0 packs into its own; the other
 * leaders receive a broadcast among leaders) and the node's other ranks point into it.
 * Read-only once made. Collective.
 */
enum s3dlio_rc s3dlio_table_bcast_shared(MPI_Comm comm, const struct s3dlio_objlist *list,
                                         const int *owner, const bool *dir_conflict,
                                         struct s3dlio_table *t, struct s3dlio_error *err);

/*
 * Rank 0 packs each rank's rows of list (owner[i] == that rank, in listing order) and sends
 * them, one rank's at a time: a rank receives its share only, and the whole listing's count and bytes
 * (t->listed, t->total_bytes). dir_conflict (NULL: none) is computed by the caller over the
 * whole listing. Collective.
 */
enum s3dlio_rc s3dlio_table_scatter(MPI_Comm comm, const struct s3dlio_objlist *list,
                                    const int *owner, const bool *dir_conflict,
                                    struct s3dlio_table *t, struct s3dlio_error *err);
/* The same in messages of at most piece_bytes (1 GiB above): tests use it small. */
enum s3dlio_rc s3dlio_table_scatter_rounds(MPI_Comm comm, const struct s3dlio_objlist *list,
                                           const int *owner, const bool *dir_conflict,
                                           uint64_t piece_bytes, struct s3dlio_table *t,
                                           struct s3dlio_error *err);

/*
 * A parallel listing left where it was listed (s3dlio_coord_list_spread): this rank's units
 * of the key space (its pieces; on rank 0 also the keys it met finding them), in key order,
 * none empty, packed as listed, each with its position among the units of the whole listing.
 */
struct s3dlio_spread {
    struct s3dlio_rowpack *units; /* unit u's rows, ascending; every unit after the last */
    uint64_t *unit_pos;           /* unit u's position in the whole listing's order of units */
    size_t nunits, units_alloc, pos_alloc;
    uint64_t total_units;         /* units of the whole listing (every rank's) */
    uint64_t markers;             /* folder markers (keys ending in '/') this rank left out */
};
void s3dlio_spread_release(struct s3dlio_spread *s);

/*
 * List uri's prefix in pieces over the ranks as s3dlio_coord_list does, but leave each piece
 * on the rank that listed it, packed as its pages arrive and without its folder markers: no
 * rank gathers the whole listing. Collective; agreed rc.
 */
enum s3dlio_rc s3dlio_coord_list_spread(MPI_Comm comm, const struct s3dlio_config *cfg,
                                        const struct s3dlio_uri *uri, struct s3dlio_spread *out,
                                        struct s3dlio_error *err);

/* How a spread listing is partitioned and what is worked out on the way. */
struct s3dlio_deal {
    enum s3dlio_partition_mode mode;
    const uint64_t *shuffle_seed; /* NULL: in listing order */
    bool dir_conflicts;           /* find keys another key uses as a directory (GET to dir:) */
};

/*
 * The table of a spread listing dealt to its owners: only the sizes travel to rank 0, which
 * partitions them as it would the merged listing (the same owners, by the same function),
 * and each rank sends its rows straight to the ranks that own them. A rank ends with its
 * share in key order, as s3dlio_table_scatter gives it, and the spread released; no rank
 * ever holds the whole listing (rank 0, while it partitions: sizes, owners and LPT's pairs,
 * 8 + 4 + 16 bytes an object). Collective; agreed rc.
 */
enum s3dlio_rc s3dlio_table_deal(MPI_Comm comm, struct s3dlio_spread *s, const struct s3dlio_deal *d,
                                 struct s3dlio_table *t, struct s3dlio_error *err);

/*
 * Agree on failure: every rank passes its rc; all learn whether any failed, and the first
 * failing rank's error (with "rank R (host): " prepended) reaches every rank's err. Returns
 * the first failing rank's rc, or S3DLIO_OK. Collective.
 */
enum s3dlio_rc s3dlio_coord_agree(MPI_Comm comm, enum s3dlio_rc rc, struct s3dlio_error *err);

/* What --steal works on: the whole job list, of which each rank takes chunks. */
struct s3dlio_steal_work {
    struct s3dlio_xfer_job *jobs;  /* every object, in listing order; or: */
    struct s3dlio_feed *feed;      /* the rows of every object, planned per chunk taken */
    size_t n;                      /* objects (jobs or the feed's rows) */
    bool *taken;                   /* n flags: this rank took the job */
    uint64_t chunk;                /* objects per chunk (0: about n / (8 x ranks)) */
    bool mem;                      /* --to mem: memory per chunk taken, into shard */
    uint64_t max_memory;           /* 0: none */
    struct s3dlio_shard *shard;    /* blocks are added here */
    const char *uri;               /* for messages */
    bool memory_full;              /* out: this rank stopped taking chunks at --max-memory */
};

/*
 * Rank 0: the owner rank of each object of list (heap, list->n entries) by mode, visited in
 * listing order or, with shuffle_seed, in that seed's shuffle.
 */
int *s3dlio_coord_partition_list(const struct s3dlio_objlist *list, enum s3dlio_partition_mode mode,
                                 const uint64_t *shuffle_seed, int nranks);
/* The same from the sizes alone (n of them, in listing order), as rank 0 deals a spread
 * listing. */
int *s3dlio_coord_partition_sizes(const uint64_t *sizes, size_t n, enum s3dlio_partition_mode mode,
                                  const uint64_t *shuffle_seed, int nranks);
/*
 * MEM: one block for jobs[0..n), each job's `mem` pointing at its place in it; the block
 * joins sh->blocks. Returns its bytes.
 */
uint64_t s3dlio_shard_add_block(struct s3dlio_shard *sh, struct s3dlio_xfer_job *jobs, size_t n);

/*
 * Run one engine on the chunks this rank takes (collective: window and barriers). Rank 0
 * returns S3DLIO_E_LIMIT when chunks were left because no rank had room for them.
 */
enum s3dlio_rc s3dlio_coord_steal(MPI_Comm comm, struct s3dlio_backend *be,
                                  struct s3dlio_steal_work *w, struct s3dlio_xfer_opts *xo,
                                  struct s3dlio_xfer_stats *st, struct s3dlio_error *err);

/* Live progress: a counter window on rank 0 that every rank adds its bytes to. */
struct s3dlio_progress {
    MPI_Win win;
    uint64_t *counter;     /* rank 0's window memory */
    uint64_t reported;     /* what this rank has added so far */
    struct s3dlio_progress_line line; /* rank 0's display */
    int mode;              /* S3DLIO_PROGRESS_* */
    int rank;
    bool active;
};
void s3dlio_progress_init(struct s3dlio_progress *p, MPI_Comm comm, uint64_t total, int mode);
/* Add this rank's bytes (absolute, monotonic) and, on rank 0, print. */
void s3dlio_progress_update(struct s3dlio_progress *p, uint64_t bytes_done);
void s3dlio_progress_finish(struct s3dlio_progress *p);

/* ---- run.c: running a planned job and reporting on it ---- */

#define RUN_ID_MAX sizeof(((struct s3dlio_report *)0)->run_id)

/* ---- observe.c: phases, bytes over time, CPU samples; pictures at the end ---- */

#define OBSERVE_MAX_PHASES 16
#define OBSERVE_MAX_FILES (2 * S3DLIO_PHASE_COUNT + 4)

struct s3dlio_observed_phase {
    enum s3dlio_phase phase;
    uint64_t start_ns, end_ns;     /* CLOCK_MONOTONIC of this rank */
};

struct s3dlio_observe {
    int hz;                        /* --profile-cpu: samples per CPU-second; 0 off */
    bool per_rank;                 /* a root frame per rank */
    bool sampling;                 /* this rank's sampler was started */
    bool timeline_off;             /* no throughput.svg (a job of jobs that draw their own) */
    uint64_t t0_ns;                /* after the barrier that starts the job */
    struct s3dlio_timeline timeline;
    uint64_t run_bytes;            /* the engine's byte count at its last tick */
    uint64_t last_tick_ns;
    enum s3dlio_phase current;
    enum s3dlio_phase transfer;    /* what the transfer is called (download, checkpoint_save...) */
    struct s3dlio_observed_phase phases[OBSERVE_MAX_PHASES];
    int nphases;
    char run_id[64];
    const struct s3dlio_coord_trace *trace; /* --trace: phases are recorded in it too */
    const char *trace_path;        /* --trace: listed in the report once written */
    struct s3dlio_report_file files[OBSERVE_MAX_FILES]; /* rank 0: what was written */
    size_t nfiles;
};

/* Start observing (the sampler with o->profile_hz); collective, agreed. */
enum s3dlio_rc s3dlio_observe_begin(MPI_Comm comm, const struct s3dlio_stage_opts *o,
                                    struct s3dlio_observe *ob, struct s3dlio_error *err);
/* The job enters phase p (SETUP: none); ob may be NULL. */
void s3dlio_observe_phase(struct s3dlio_observe *ob, enum s3dlio_phase p);
/* An engine run starts (its byte count starts from 0), and its count so far. */
void s3dlio_observe_run_started(struct s3dlio_observe *ob);
void s3dlio_observe_bytes(struct s3dlio_observe *ob, uint64_t run_bytes);
/* The transfers are over: the sampler stops and this rank's counts go into rs. */
void s3dlio_observe_stop(struct s3dlio_observe *ob, struct s3dlio_rank_stats *rs);
/*
 * Rank 0 writes the flamegraphs (--profile-cpu) and throughput.svg into dir (rank 0's
 * argument; NULL: no pictures) and lists them in ob->files. Collective; agreed rc.
 */
enum s3dlio_rc s3dlio_observe_finish(MPI_Comm comm, struct s3dlio_observe *ob, const char *run_id,
                                     const char *dir, struct s3dlio_error *err);
void s3dlio_observe_release(struct s3dlio_observe *ob);

/* One rank's part of a job. */
struct s3dlio_rank_work {
    struct s3dlio_observe *obs;    /* optional */
    struct s3dlio_plan plan;       /* jobs and the strings they point to */
    /* optional, instead of plan (static partition only): the jobs made chunk by chunk while
     * they run and freed as they finish (src/xfer/feed.h); run_shard finishes it */
    struct s3dlio_feed *feed;
    struct s3dlio_shard *shard;
    bool *taken;                   /* plan.n flags: jobs this rank ran */
    bool mem_full;                 /* --steal: this rank reached --max-memory */
    struct s3dlio_coord_trace trace; /* --trace: begun by the job, ended by run_shard */
    /* relay (sync across endpoints): the plan's COPY jobs run as GETs from this source into
     * PUTs to run_shard's uri (s3dlio_xfer_relay); NULL: the jobs run on that uri alone */
    const struct s3dlio_uri *relay_src;
    const struct s3dlio_config *relay_cfg; /* borrowed, for relay_src */
    uint64_t relay_memory;                 /* bytes of objects in memory at once */
};

/*
 * Run this rank's jobs (w->plan or w->feed; with o->steal, chunks of all of them) with progress over
 * total_bytes, timed from a barrier all ranks leave together; rs gets the statistics.
 * Collective.
 */
enum s3dlio_rc s3dlio_coord_run_shard(MPI_Comm comm, const struct s3dlio_config *cfg,
                                      const struct s3dlio_stage_opts *o, const struct s3dlio_uri *uri,
                                      struct s3dlio_rank_work *w, struct s3dlio_rank_stats *rs,
                                      uint64_t total_bytes, struct s3dlio_error *err);

/*
 * len bytes from this rank to rank `to` of comm (and received there, into a new buffer), as
 * a length and messages of at most piece bytes (at most INT_MAX: MPI counts are int), so a
 * buffer of any size travels and its receiver needs no size known in advance.
 */
int s3dlio_coord_send_bytes(MPI_Comm comm, int to, const char *buf, uint64_t len, uint64_t piece);
int s3dlio_coord_recv_bytes(MPI_Comm comm, int from, char **buf, uint64_t *len, uint64_t piece);

/*
 * Every rank's len bytes at mine to rank 0, in rank order. Rank 0 gets the buffer (heap,
 * *total bytes; NULL elsewhere) and, if lens/displs are not NULL, each rank's length and
 * offset in it (heap). Collective.
 */
char *s3dlio_coord_gather_bytes(MPI_Comm comm, const void *mine, int len, size_t *total, int **lens,
                                int **displs);

/* Every rank's statistics and failed keys (whole, in rank order) to rank 0. Collective. */
void s3dlio_coord_gather_report(MPI_Comm comm, const struct s3dlio_rank_stats *mine,
                                const struct s3dlio_rank_work *w, struct s3dlio_report *r);

/*
 * After the transfers: this rank's samples stop (obs), every rank's statistics and failed
 * keys reach r on rank 0, the counts every rank needs reach res, and the pictures are drawn
 * beside the report (s3dlio_coord_pictures_dir) and named in r. Collective; the pictures'
 * rc, agreed.
 */
enum s3dlio_rc s3dlio_coord_gather_job(MPI_Comm comm, const struct s3dlio_stage_opts *o,
                                       struct s3dlio_observe *obs, struct s3dlio_rank_stats *rs,
                                       const struct s3dlio_rank_work *w,
                                       const struct s3dlio_atomic_file *rfile,
                                       struct s3dlio_stage_result *res, struct s3dlio_report *r,
                                       struct s3dlio_error *err);

/* Counts every rank needs (objects, failures, interrupted), summed over comm. Collective. */
void s3dlio_coord_sum_outcome(MPI_Comm comm, const struct s3dlio_rank_stats *rs,
                              struct s3dlio_stage_result *res);

/*
 * The job's outcome on every rank, after the report: rc (the report's, agreed here); an
 * interrupted run gives S3DLIO_E_ABORTED; failed objects the kind of failure (S3DLIO_E_S3 if
 * none is known); a loop failure without failed objects (run_rc, run_err) is agreed, its
 * message into local. Collective.
 */
enum s3dlio_rc s3dlio_coord_outcome(MPI_Comm comm, enum s3dlio_rc rc, enum s3dlio_rc run_rc,
                                    const struct s3dlio_stage_result *res,
                                    struct s3dlio_error *local, const struct s3dlio_error *run_err);

/*
 * Rank 0, before any transfer: the report (o->report_path, or profiles/<run_id>/report.json)
 * opened as a temporary file beside its final name, so an unwritable destination fails the
 * job before it moves a byte and a job that dies leaves no half-written report.
 */
enum s3dlio_rc s3dlio_coord_open_report(const struct s3dlio_stage_opts *o, const char *run_id,
                                        struct s3dlio_atomic_file *f, char *path, size_t pathlen,
                                        struct s3dlio_error *err);
/* Write r as JSON into f and publish it under its final name. */
/* Writes what (by write) into f, then publishes it; on failure f is discarded, err says why. */
typedef enum s3dlio_rc s3dlio_coord_writer_fn(const void *what, FILE *out);
enum s3dlio_rc s3dlio_coord_write_atomic(struct s3dlio_atomic_file *f, const char *op,
                                         s3dlio_coord_writer_fn *write, const void *what,
                                         struct s3dlio_error *err);
/*
 * This rank's failed jobs of plan as "key\0error\0" pairs, whole however long: at most
 * max_keys pairs and budget bytes (whole pairs only), so rank 0's int displacements cannot
 * overflow. Returns the heap buffer (NULL when empty) and its length.
 */
char *s3dlio_coord_pack_failed(const struct s3dlio_plan *plan, size_t max_keys, size_t budget, int *len);
enum s3dlio_rc s3dlio_coord_write_report(const struct s3dlio_report *r, struct s3dlio_atomic_file *f,
                                         const char *op, struct s3dlio_error *err);

/*
 * Rank 0: where a job's pictures go: beside the report when it is a file, else (a device)
 * under profiles/<run_id> when CPU samples were asked for, else nowhere (NULL).
 */
const char *s3dlio_coord_pictures_dir(const struct s3dlio_stage_opts *o, const char *run_id,
                                      const struct s3dlio_atomic_file *report, const char *report_path,
                                      char *buf, size_t len);
/* o->run_id is a plain name (see s3dlio_coord_stage), or NULL. */
enum s3dlio_rc s3dlio_coord_check_run_id(const struct s3dlio_stage_opts *o, struct s3dlio_error *err);
/* o->run_id, or "<command>-<UTC time>-<pid>" made on rank 0, on every rank. Collective. */
void s3dlio_coord_make_run_id(MPI_Comm comm, const struct s3dlio_stage_opts *o,
                              char out[RUN_ID_MAX]);

#endif
