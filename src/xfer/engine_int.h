/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the transfer engine, shared by its files: engine.c (the loop: queues,
 * concurrency, retries, cancellation), xobj.c (one object's life: HEAD, parts, multipart
 * control, change handling, finishing), xstream.c (PUT from a stream: parts made as the
 * input arrives) and verify.c (--verify of GETs).
 * Everything here runs on the loop's thread only.
 */
#ifndef S3DLIO_XFER_ENGINE_INT_H
#define S3DLIO_XFER_ENGINE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include "s3dlio/xfer.h"
#include "util/digest.h"
#include "util/retry.h"
#include "xfer/adapt.h"
#include "xfer/local.h"

/* What a request of the engine is for. */
enum xstep {
    STEP_DATA,     /* a GET range, a single PUT or an UploadPart */
    STEP_HEAD,     /* GET of unknown size: size and ETag first */
    STEP_LAYOUT,   /* GET --verify of a multipart object: HEAD ?partNumber=1 for its parts */
    STEP_RECHECK,  /* GET that met a change: what is there now (message, restart) */
    STEP_CREATE,   /* CreateMultipartUpload */
    STEP_COMPLETE, /* CompleteMultipartUpload */
    STEP_ABORT,    /* AbortMultipartUpload of a failed or interrupted upload */
    STEP_CONFIRM,  /* a Complete retry met NoSuchUpload: did the first one succeed? */
    STEP_SOURCE,   /* a copy's source, once its data is copied: still the version listed? */
};

struct xfer;
struct xobj;

/* One request's worth of an object: a data range or part, or a control call. */
struct xreq {
    struct xfer *x;
    struct xobj *o;
    struct xreq *next;       /* in one of the engine's queues */
    enum xstep step;
    uint64_t off, len;       /* DATA: range in the object (len unknown for unsized GETs) */
    uint64_t done;           /* GET bytes already delivered: a retry resumes after them */
    int number;              /* multipart part number, 0 for other requests */
    int attempt;             /* retries so far */
    uint64_t first_fail_ns;  /* when this request first failed (time-based retry budget) */
    uint64_t not_before_ns;  /* backoff */
    uint64_t started_ns;     /* when the current attempt was submitted */
    uint64_t ended_ns;       /* ... and when it ended (only with a span callback) */
    bool whole;              /* the whole object in one request */
    bool complete;           /* DATA: finished successfully */
    bool fatal;              /* failed in a way a retry cannot fix (local I/O, bad data) */
    bool held;               /* a stream's part, full, waiting for the upload to exist */
    enum s3dlio_rc rc;       /* of the last completion */
    struct s3dlio_req req;
    struct s3dlio_error sink_err;
    unsigned char *buf;      /* buffered PUT body (hashing on), filled once */
    size_t buf_cap;
    char md5_b64[25];
    char sha256[65];
    struct s3dlio_md5 md5;   /* --verify of a multipart object: MD5 of this part */
    bool md5_started;
    uint64_t md5_len;        /* bytes in md5 so far */
    unsigned char md5_raw[16];
    bool md5_ok;             /* md5_raw holds the part's digest */
};

/* How --verify checks a GET. */
enum vmode {
    V_NONE,   /* not asked */
    V_WHOLE,  /* single-part ETag: MD5 of the whole object, hashed in order */
    V_PARTS,  /* multipart ETag: MD5 per upload part, then MD5 of those, "-N" */
    V_NOTE,   /* cannot be verified; verify_note says why */
};

struct xobj {
    struct s3dlio_xfer_job *job;
    struct s3dlio_local local;
    bool local_open;         /* a GET's destination is opened when its parts are made */
    uint64_t size;
    char etag[80];           /* GET: the version pinned (listing, HEAD or first answer);
                                COPY: the source's, as listed */
    char source_bucket[64];  /* COPY: the source's bucket (STEP_SOURCE asks there) */
    struct xreq *parts;
    size_t nparts, outstanding;
    struct xreq ctl;         /* the control call in progress (one at a time) */
    bool failed;
    bool changed;            /* a request saw the object change; parts drain, then RECHECK */
    bool restarted;
    struct s3dlio_error change_err;
    char *upload_id;
    struct s3dlio_part *mpu_parts; /* COMPLETE's part list */
    size_t mpu_n, mpu_alloc;
    /* PUT from a stream (stdin): parts are the slots of `parts`, filled as input arrives */
    bool reading;            /* the input has not ended, nor has the object failed */
    bool multi;              /* more than the multipart threshold came: an upload is made */
    struct xreq *filling;    /* the slot being read into */
    uint64_t slot_size;      /* its parts' size */
    int made;                /* part numbers handed out */
    /* --verify of a GET (verify.c) */
    enum vmode vmode;
    int layout_n;            /* V_PARTS: parts in the ETag ("-N") */
    uint64_t layout_part;    /* V_PARTS: the upload's part size, 0 while unknown */
    bool layout_asked;       /* the server was asked for it (STEP_LAYOUT) */
    bool layout_guessed;     /* ... inferred, not told by the server */
    struct s3dlio_md5 md5;   /* V_WHOLE */
    bool md5_started;
    uint64_t hashed;         /* V_WHOLE: bytes hashed, in order, so far */
};

struct queue {
    struct xreq *head, *tail;
};

/* The adaptive target of one direction (GET; PUT and COPY) and its measuring interval. */
struct xadapt {
    bool on;
    bool seen;               /* a job of this direction started */
    struct s3dlio_adapt ctl;
    uint64_t t0_ns;          /* interval start */
    uint64_t completed, bytes;
    double lat_sum_ms, inflight_sum;
    bool throttled;
};

struct xfer {
    struct s3dlio_backend *be;
    const struct s3dlio_xfer_opts *o;
    struct s3dlio_xfer_stats *st;
    struct s3dlio_retry_policy retry;
    struct s3dlio_xfer_job *jobs;
    size_t njobs, next_job;
    bool no_more;            /* the refill callback has nothing more */
    size_t active;           /* objects started and not yet finished */
    int inflight;
    struct queue ready, delayed, completed;
    uint64_t start_ns, next_token_ns;
    uint64_t rng;
    double cwnd;             /* in-flight limit: halved on overload, +1 per success */
    double cwnd_max;         /* ... up to the largest target */
    struct xadapt adapt[2];  /* GET; PUT and COPY */
    uint64_t last_decrease_ns;
    enum s3dlio_rc first_rc;
    struct xobj *stream;     /* the object reading a stream: objects after it wait their turn */
    bool cancelling;
    int cancel_seen;         /* value of *opts->cancel acted on */
    uint64_t cancel_deadline_ns;
    unsigned char *scratch;  /* verify: reading back parts that landed out of order */
    unsigned char **free_bufs; /* bounded buffer pool: at most one buffer per request in flight,
                                  and a stream's slots */
    size_t *free_caps, nfree, free_alloc;
};

/* ---- engine.c ---- */
uint64_t xfer_now_ns(void);
void xq_push(struct queue *q, struct xreq *r);
void xq_push_front(struct queue *q, struct xreq *r);
void xfer_pool_get(struct xfer *x, struct xreq *r, size_t len);
void xfer_pool_put(struct xfer *x, struct xreq *r);
/* Schedule another attempt of r if the policy allows; false: the caller fails it. */
bool xfer_retry(struct xfer *x, struct xreq *r, struct s3dlio_error *err);
/* r's current attempt ended with rc, bytes as s3dlio_req_span says: the span callback
 * hears of it (nothing without one). Once per submitted attempt, before any retry. */
void xfer_span(struct xfer *x, const struct xreq *r, enum s3dlio_rc rc, uint64_t bytes);
/* A request succeeded or failed: feed the in-flight limit (AIMD). */
void xfer_limit_success(struct xfer *x);
void xfer_limit_failure(struct xfer *x, const struct xreq *r, const struct s3dlio_error *err);
/* A request came back (before the object handles it): measured for the adaptive target. */
void xfer_adapt_completed(struct xfer *x, const struct xreq *r);

/* ---- xobj.c ---- */
/* Start job's object: queues its first request(s), or finishes it at once on failure. */
void xobj_start(struct xfer *x, struct s3dlio_xfer_job *job);
/* Fill r->req for its step; non-OK (with r->sink_err set) when it cannot be sent. */
enum s3dlio_rc xobj_setup(struct xfer *x, struct xreq *r);
/* A request of the object came back (r->rc, r->req results). */
void xobj_completed(struct xfer *x, struct xreq *r);
/* Give up r without sending it: the run is interrupted, or (a data request) its object
 * already failed or changed. */
void xobj_abandon(struct xfer *x, struct xreq *r, bool interrupted);
/* Mark o failed with err (the first failure is kept). */
void xobj_fail(struct xfer *x, struct xobj *o, const struct s3dlio_error *err);
/* Queue o's next control call (ahead of new work). */
void xobj_ctl_start(struct xfer *x, struct xobj *o, enum xstep step);
/* Every request of o is retired: its next step (Complete, Abort) or its end. */
void xobj_settled(struct xfer *x, struct xobj *o);

/* ---- xstream.c: PUT from a stream of unknown length ---- */
/* o's input is read as it comes into part buffers (o->parts are their slots). */
void xstream_start(struct xfer *x, struct xobj *o);
/* Read what the stream being uploaded has ready, without waiting; parts that fill are queued. */
void xstream_pump(struct xfer *x);
/* o's input ended, or will not be read further (o failed, the run stops). */
void xstream_reading_done(struct xfer *x, struct xobj *o);
/* The local side of the stream waiting for input (with room for it), or NULL. */
struct s3dlio_local *xstream_input(struct xfer *x);
/* The multipart upload exists (CreateMultipartUpload answered): the parts held go. */
void xstream_created(struct xfer *x, struct xobj *o);
/* Part r succeeded: Complete's list keeps its ETag, as its slot is reused. */
void xstream_part_done(struct xobj *o, const struct xreq *r);

/* ---- verify.c ---- */
/* Decide how o can be verified (after its ETag, and a HEAD if one was made, are known). */
void xverify_plan(struct xfer *x, struct xobj *o, const struct s3dlio_req *head);
/* Whether o needs a HEAD ?partNumber=1 to learn its part layout. */
bool xverify_needs_layout(const struct xfer *x, const struct xobj *o);
/* The answer to that HEAD (NULL: none came), or a guess: o's part layout, or V_NOTE. */
void xverify_layout(struct xfer *x, struct xobj *o, const struct s3dlio_req *head);
/* Bytes of r landed at offset. */
void xverify_data(struct xfer *x, struct xreq *r, uint64_t offset, const void *data, size_t len);
/* r finished successfully. */
enum s3dlio_rc xverify_part_done(struct xfer *x, struct xreq *r, struct s3dlio_error *err);
/* Every part of o arrived: the verdict (non-OK: the data does not match its ETag). */
enum s3dlio_rc xverify_finish(struct xfer *x, struct xobj *o, struct s3dlio_error *err);
/* Forget what was hashed (release; also for a restart). */
void xverify_reset(struct xobj *o);

#endif
