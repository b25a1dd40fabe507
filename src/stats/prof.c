/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CPU sampler (include/s3dlio/profile.h). Three parties touch its state:
 *   - the SIGPROF handler, on the sampled thread: writes ring slots at `head`;
 *   - the drain thread: reads slots up to `head`, advances `tail`, fills the stack table;
 *   - the caller's thread outside the handler: start, stop, phase, and reading the table
 *     (under `lock`, which the handler never takes).
 * The ring is single-producer single-consumer: the handler is the only writer of `head`
 * and cannot interrupt itself (SIGPROF is blocked while it runs).
 */
#define UNW_LOCAL_ONLY
#include <errno.h>
#include <libunwind.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "s3dlio/profile.h"
#include "stats/prof_int.h"
#include "util/alloc.h"

#define RING_SLOTS 4096      /* 40 s of samples at 100 Hz between two drains */
#define DRAIN_EVERY_MS 50
#define MAX_STACKS (1u << 18) /* distinct stacks kept; more are counted as dropped */

struct sample {
    uint8_t phase;
    uint8_t depth;
    uintptr_t pc[S3DLIO_PROF_DEPTH];
};

struct stack_entry {
    uint64_t hash;
    uint64_t count;
    uint32_t pc_at;          /* index of the first pc in the table's pcs */
    uint8_t phase, depth;    /* depth 0: the slot is empty */
};

struct stack_table {
    struct stack_entry *slots;
    size_t cap, used;        /* cap a power of two, kept under half full */
    uintptr_t *pcs;
    size_t npcs, pcs_cap;
};

static struct {
    struct sample *ring;
    _Atomic uint64_t head, tail;
    _Atomic uint64_t ring_dropped;
    _Atomic int phase;
    _Atomic bool on;          /* the handler records only while set */
    timer_t timer;
    struct sigaction old_action;
    pthread_t drainer;
    _Atomic bool draining;    /* the drain thread runs */
    pthread_mutex_t lock;     /* table, counts */
    struct stack_table table;
    uint64_t samples, table_dropped, per_phase[S3DLIO_PHASE_COUNT];
    bool started;             /* between start and stop */
} P = {.lock = PTHREAD_MUTEX_INITIALIZER};

bool s3dlio_prof_compiled(void)
{
    return true;
}

/* ---- the signal handler: async-signal-safe only ------------------------------------------- */

/*
 * Unwinds from the interrupted context, not from the handler: the first frame is the exact
 * instruction that was running, the rest are return addresses.
 */
static int capture(void *ucontext, uintptr_t *pc)
{
    unw_cursor_t cursor;
    if (unw_init_local2(&cursor, (unw_context_t *)ucontext, UNW_INIT_SIGNAL_FRAME) < 0)
        return 0;
    int n = 0;
    do {
        unw_word_t ip;
        if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0 || !ip)
            break;
        pc[n++] = (uintptr_t)ip;
    } while (n < S3DLIO_PROF_DEPTH && unw_step(&cursor) > 0);
    return n;
}

static void on_sigprof(int sig, siginfo_t *si, void *ucontext)
{
    (void)sig;
    if (si->si_code != SI_TIMER || !atomic_load_explicit(&P.on, memory_order_acquire))
        return;
    int saved_errno = errno;
    uint64_t head = atomic_load_explicit(&P.head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&P.tail, memory_order_acquire);
    if (head - tail >= RING_SLOTS) {
        atomic_fetch_add_explicit(&P.ring_dropped, 1, memory_order_relaxed);
    } else {
        struct sample *s = &P.ring[head % RING_SLOTS];
        s->phase = (uint8_t)atomic_load_explicit(&P.phase, memory_order_relaxed);
        s->depth = (uint8_t)capture(ucontext, s->pc);
        atomic_store_explicit(&P.head, head + 1, memory_order_release);
    }
    errno = saved_errno;
}

/* ---- the stack table ---------------------------------------------------------------------- */

static uint64_t stack_hash(int phase, int depth, const uintptr_t *pc)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)phase;
    for (int i = 0; i < depth; i++) {
        h ^= (uint64_t)pc[i];
        h *= 1099511628211ull;
        h ^= h >> 29;
    }
    return h | 1; /* 0 never names a stack */
}

static bool same_stack(const struct stack_table *t, const struct stack_entry *e, int phase, int depth,
                       const uintptr_t *pc)
{
    return e->phase == phase && e->depth == depth &&
           !memcmp(&t->pcs[e->pc_at], pc, (size_t)depth * sizeof(*pc));
}

static void table_grow(struct stack_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 4096;
    struct stack_entry *slots = s3dlio_xcalloc(cap, sizeof(*slots));
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].depth)
            continue;
        size_t j = t->slots[i].hash & (cap - 1);
        while (slots[j].depth)
            j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
}

/* Counts one sample; false when the table is full and it is a new stack. Under P.lock. */
static bool table_add(struct stack_table *t, int phase, int depth, const uintptr_t *pc)
{
    if (t->used < MAX_STACKS && (t->used + 1) * 2 > t->cap)
        table_grow(t);
    uint64_t h = stack_hash(phase, depth, pc);
    size_t j = h & (t->cap - 1);
    for (; t->slots[j].depth; j = (j + 1) & (t->cap - 1)) {
        if (t->slots[j].hash == h && same_stack(t, &t->slots[j], phase, depth, pc)) {
            t->slots[j].count++;
            return true;
        }
    }
    if (t->used >= MAX_STACKS)
        return false;
    if (t->npcs + (size_t)depth > t->pcs_cap) {
        t->pcs_cap = t->pcs_cap ? t->pcs_cap * 2 : 65536;
        t->pcs = s3dlio_xrealloc(t->pcs, t->pcs_cap * sizeof(*t->pcs));
    }
    memcpy(&t->pcs[t->npcs], pc, (size_t)depth * sizeof(*pc));
    t->slots[j] = (struct stack_entry){.hash = h, .count = 1, .pc_at = (uint32_t)t->npcs,
                                       .phase = (uint8_t)phase, .depth = (uint8_t)depth};
    t->npcs += (size_t)depth;
    t->used++;
    return true;
}

/* ---- the drain thread --------------------------------------------------------------------- */

static void drain_ring(void)
{
    uint64_t head = atomic_load_explicit(&P.head, memory_order_acquire);
    uint64_t tail = atomic_load_explicit(&P.tail, memory_order_relaxed);
    pthread_mutex_lock(&P.lock);
    for (; tail != head; tail++) {
        const struct sample *s = &P.ring[tail % RING_SLOTS];
        if (!s->depth)
            continue; /* the stack could not be read at all */
        if (table_add(&P.table, s->phase, s->depth, s->pc)) {
            P.samples++;
            P.per_phase[s->phase]++;
        } else {
            P.table_dropped++;
        }
    }
    pthread_mutex_unlock(&P.lock);
    atomic_store_explicit(&P.tail, tail, memory_order_release);
}

static void *drain_loop(void *unused)
{
    (void)unused;
    struct timespec every = {0, DRAIN_EVERY_MS * 1000000L};
    while (atomic_load(&P.draining)) {
        nanosleep(&every, NULL);
        drain_ring();
    }
    drain_ring();
    return NULL;
}

/* ---- the interface ------------------------------------------------------------------------ */

enum s3dlio_rc s3dlio_prof_start(int hz, struct s3dlio_error *err)
{
    if (hz < 1 || hz > S3DLIO_PROF_HZ_MAX)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "profile", "--profile-hz",
                                "%d samples per second is out of range (1..%d)", hz, S3DLIO_PROF_HZ_MAX);
    if (P.started)
        return s3dlio_error_set(err, S3DLIO_E_USAGE, "profile", "", "the sampler runs already");
    if (!P.ring)
        P.ring = s3dlio_xcalloc(RING_SLOTS, sizeof(*P.ring));
    atomic_store(&P.head, 0);
    atomic_store(&P.tail, 0);
    atomic_store(&P.phase, S3DLIO_PHASE_SETUP);
    /* the global cache takes a lock and masks signals around every step: a system call or two
     * per frame in the handler; the sampled thread's own cache needs neither */
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    /* the first unwind loads libunwind's tables: done here, not in the handler */
    uintptr_t warm[4];
    (void)unw_backtrace((void **)warm, 4);

    struct sigaction sa = {0};
    sa.sa_sigaction = on_sigprof;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPROF, &sa, &P.old_action))
        return s3dlio_error_set(err, S3DLIO_E_IO, "profile", "SIGPROF", "sigaction: %s", strerror(errno));
    struct sigevent ev = {0};
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGPROF;
    ev._sigev_un._tid = gettid(); /* sigev_notify_thread_id, which this glibc does not name */
    if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &P.timer)) {
        int e = errno;
        sigaction(SIGPROF, &P.old_action, NULL);
        return s3dlio_error_set(err, S3DLIO_E_IO, "profile", "timer", "timer_create: %s", strerror(e));
    }
    atomic_store(&P.draining, true);
    if (pthread_create(&P.drainer, NULL, drain_loop, NULL)) {
        atomic_store(&P.draining, false);
        timer_delete(P.timer);
        sigaction(SIGPROF, &P.old_action, NULL);
        return s3dlio_error_set(err, S3DLIO_E_IO, "profile", "thread", "cannot start the drain thread");
    }
    long ns = 1000000000L / hz;
    struct itimerspec its = {.it_interval = {ns / 1000000000L, ns % 1000000000L},
                             .it_value = {ns / 1000000000L, ns % 1000000000L}};
    atomic_store_explicit(&P.on, true, memory_order_release);
    timer_settime(P.timer, 0, &its, NULL);
    P.started = true;
    return S3DLIO_OK;
}

void s3dlio_prof_phase(enum s3dlio_phase p)
{
    if ((unsigned)p < S3DLIO_PHASE_COUNT)
        atomic_store_explicit(&P.phase, (int)p, memory_order_relaxed);
}

void s3dlio_prof_stop(void)
{
    if (!P.started)
        return;
    /* the handler goes only once no signal of the timer can still arrive: SIGPROF's default
     * action ends the process */
    sigset_t prof, old;
    sigemptyset(&prof);
    sigaddset(&prof, SIGPROF);
    pthread_sigmask(SIG_BLOCK, &prof, &old);
    atomic_store_explicit(&P.on, false, memory_order_release);
    timer_delete(P.timer);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&prof, NULL, &zero) > 0) {
    }
    sigaction(SIGPROF, &P.old_action, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    atomic_store(&P.draining, false);
    pthread_join(P.drainer, NULL);
    P.started = false;
}

void s3dlio_prof_counts(struct s3dlio_prof_counts *c)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_lock(&P.lock);
    c->samples = P.samples;
    c->dropped = P.table_dropped + atomic_load(&P.ring_dropped);
    c->stacks = P.table.used;
    memcpy(c->per_phase, P.per_phase, sizeof(c->per_phase));
    pthread_mutex_unlock(&P.lock);
}

void s3dlio_prof_each_stack(s3dlio_prof_stack_fn *fn, void *ud)
{
    pthread_mutex_lock(&P.lock);
    const struct stack_table *t = &P.table;
    for (size_t i = 0; i < t->cap; i++) {
        const struct stack_entry *e = &t->slots[i];
        if (e->depth)
            fn(ud, (enum s3dlio_phase)e->phase, &t->pcs[e->pc_at], e->depth, e->count);
    }
    pthread_mutex_unlock(&P.lock);
}

void s3dlio_prof_reset(void)
{
    s3dlio_prof_stop();
    pthread_mutex_lock(&P.lock);
    free(P.table.slots);
    free(P.table.pcs);
    memset(&P.table, 0, sizeof(P.table));
    P.samples = P.table_dropped = 0;
    memset(P.per_phase, 0, sizeof(P.per_phase));
    pthread_mutex_unlock(&P.lock);
    atomic_store(&P.ring_dropped, 0);
    free(P.ring);
    P.ring = NULL;
}
