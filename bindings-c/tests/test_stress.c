/* Exact accounting under contention (issue #11): 2, 8 and 32 pthreads
 * drive hystrix_command_execute on one command with random outcomes
 * (success, failure, bad request, runs slow enough to time out, fallbacks
 * that succeed, fail or are missing), on a shared program clock that the
 * runs move forward so a 4-bucket window of 4-8 ms wraps every few hundred
 * calls. Meanwhile one thread snapshots and another reconfigures (bulkhead
 * limit 2 or 4, window 4 or 8 ms).
 *
 * Checked:
 * - every cumulative event count equals what the threads observed for that
 *   event (derived from which callbacks ran, with what cause, and the
 *   status each call returned), and execution events == calls;
 * - each call returned once and ran its run and its fallback at most once;
 * - the event listener, which runs on the calling thread, heard exactly
 *   each call's events in order (and names the original cause of a
 *   FALLBACK_REJECTED call, which no status or callback carries);
 * - `concurrent` (snapshots, and a count kept by the runs themselves) never
 *   above the largest limit configured; every permit back at the end;
 * - no spurious rejection: every SEMAPHORE_REJECTED overlaps at least
 *   `limit` calls whose run was admitted (interval log on a global atomic
 *   sequence counter; the limit is the smallest one that may have been in
 *   force during the rejection);
 * - cumulative counts never go down between snapshots;
 * - the interval check itself flags a rejection with one permit too few
 *   (test_rejection_check_has_teeth).
 *
 * Sized for valgrind in `make c-test`; HYSTRIX_STRESS_SCALE=N multiplies
 * the number of calls. */
#define _POSIX_C_SOURCE 200809L
#include "hystrix.h"
#include "check.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* Limits the reconfiguring thread alternates between. */
#define LIMIT_LOW 2
#define LIMIT_HIGH 4
#define FALLBACK_LIMIT 2
#define TIMEOUT_MS 3
#define MAX_CONFIGS 100000
/* The self-check's demand: one overlap more than the limit. */
#define STRICT_SLACK 1

/* The program clock every command reads (milliseconds). */
static _Atomic uint64_t g_now;
/* The global sequence that orders the interval log. */
static _Atomic uint64_t g_seq;
/* Runs in flight, as the runs themselves count them, and the worst seen. */
static atomic_int g_in_run, g_in_run_max;
static atomic_int g_in_fallback, g_in_fallback_max;

static uint64_t now_fn(void *user_data) {
    (void)user_data;
    return atomic_load(&g_now);
}

static uint64_t seq(void) { return atomic_fetch_add(&g_seq, 1) + 1; }

static void raise_max(atomic_int *max, int v) {
    int m = atomic_load(max);
    while (v > m && !atomic_compare_exchange_weak(max, &m, v)) {
    }
}

/* xorshift64*: a small deterministic generator per thread. */
static uint64_t rng_next(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(uint64_t *s, uint64_t n) { return rng_next(s) % n; }

/* One call as its thread saw it. */
typedef struct {
    uint64_t start, end;       /* sequence before execute, after it returned */
    uint64_t decided;          /* rejections: sequence once the outcome was known */
    int run_calls, fallback_calls;
    int32_t run_status;        /* what the run returned */
    int32_t fallback_status;   /* what the fallback returned */
    hystrix_status cause;      /* the fallback's cause */
    hystrix_status status;     /* what execute returned */
    bool has_fallback;
    hystrix_event execution;   /* the execution event it must have recorded */
    int fallback_event;        /* the fallback event, or -1 */
    hystrix_event heard[4];    /* the events the listener heard, in order */
    int n_heard;
} call_log;

/* The call this thread is making, for the event listener. */
static _Thread_local call_log *tl_call;
/* Events heard on a thread that was making no call. */
static atomic_int g_stray_events;

/* The event listener: runs on the thread that caused the event, so it
 * files the event under that thread's call. */
static void on_event(void *user_data, const char *command, hystrix_event event, uint64_t at_ms) {
    (void)user_data, (void)command, (void)at_ms;
    call_log *l = tl_call;
    if (l == NULL) {
        atomic_fetch_add(&g_stray_events, 1);
    } else if (l->n_heard < 4) {
        l->heard[l->n_heard] = event;
        l->n_heard++;
    }
}

/* The per-call state the callbacks see. */
typedef struct {
    call_log *log;
    uint64_t *rng;
    int outcome; /* 0 success, 1 failure, 2 bad request, 3 slow (times out) */
    bool fallback_fails;
} call_ctx;

static int32_t run_cb(void *user_data, void **out_value) {
    call_ctx *c = user_data;
    c->log->run_calls++;
    raise_max(&g_in_run_max, atomic_fetch_add(&g_in_run, 1) + 1);
    /* A little work, and now and then the clock moves (window wraps). */
    for (uint64_t spin = below(c->rng, 64); spin > 0; spin--) {
        if (spin % 16 == 0) sched_yield();
    }
    if (below(c->rng, 8) == 0) atomic_fetch_add(&g_now, 1);
    if (c->outcome == 3) atomic_fetch_add(&g_now, TIMEOUT_MS);
    atomic_fetch_sub(&g_in_run, 1);
    static char value[] = "v";
    *out_value = value;
    switch (c->outcome) {
        case 1: return c->log->run_status = HYSTRIX_FAILURE;
        case 2: return c->log->run_status = HYSTRIX_BAD_REQUEST;
        default: return c->log->run_status = HYSTRIX_OK;
    }
}

static int32_t fallback_cb(void *user_data, hystrix_status cause, void **out_value) {
    call_ctx *c = user_data;
    c->log->fallback_calls++;
    c->log->cause = cause;
    if (cause == HYSTRIX_REJECTED) c->log->decided = seq();
    raise_max(&g_in_fallback_max, atomic_fetch_add(&g_in_fallback, 1) + 1);
    if (below(c->rng, 4) == 0) sched_yield();
    atomic_fetch_sub(&g_in_fallback, 1);
    static char value[] = "f";
    *out_value = value;
    return c->log->fallback_status = c->fallback_fails ? HYSTRIX_FAILURE : HYSTRIX_OK;
}

/* The execution event a cause status stands for. */
static int event_of_cause(hystrix_status st) {
    switch (st) {
        case HYSTRIX_FAILURE: return HYSTRIX_EVENT_FAILURE;
        case HYSTRIX_TIMEOUT: return HYSTRIX_EVENT_TIMEOUT;
        case HYSTRIX_SHORT_CIRCUITED: return HYSTRIX_EVENT_SHORT_CIRCUITED;
        case HYSTRIX_REJECTED: return HYSTRIX_EVENT_SEMAPHORE_REJECTED;
        default: return -1;
    }
}

/* Decides which events a finished call recorded, from what its callbacks
 * and status showed; false if the observations are inconsistent. Only a
 * FALLBACK_REJECTED call hides its original cause (neither the status nor
 * a callback carries it): the listener's first event names it, and must
 * fit whether the run ran. */
static bool derive(call_log *l) {
    l->fallback_event = -1;
    if (l->run_calls > 1 || l->fallback_calls > 1) return false;
    if (l->fallback_calls == 1) {
        int e = event_of_cause(l->cause);
        if (e < 0) return false;
        l->execution = (hystrix_event)e;
        l->fallback_event = l->fallback_status == HYSTRIX_OK ? HYSTRIX_EVENT_FALLBACK_SUCCESS : HYSTRIX_EVENT_FALLBACK_FAILURE;
        hystrix_status want = l->fallback_status == HYSTRIX_OK ? HYSTRIX_OK : HYSTRIX_FALLBACK_FAILURE;
        if (l->status != want) return false;
        return (l->run_calls == 1) == (e == HYSTRIX_EVENT_FAILURE || e == HYSTRIX_EVENT_TIMEOUT);
    }
    switch (l->status) {
        case HYSTRIX_OK:
            if (l->run_calls != 1 || l->run_status != HYSTRIX_OK) return false;
            l->execution = HYSTRIX_EVENT_SUCCESS;
            return true;
        case HYSTRIX_BAD_REQUEST:
            if (l->run_calls != 1 || l->run_status != HYSTRIX_BAD_REQUEST) return false;
            l->execution = HYSTRIX_EVENT_BAD_REQUEST;
            return true;
        case HYSTRIX_FALLBACK_REJECTED: {
            if (!l->has_fallback) return false;
            if (l->n_heard < 1) return false;
            int e = (int)l->heard[0];
            l->execution = (hystrix_event)e;
            l->fallback_event = HYSTRIX_EVENT_FALLBACK_REJECTION;
            if (e == HYSTRIX_EVENT_SEMAPHORE_REJECTED) l->decided = l->end;
            return (l->run_calls == 1) == (e == HYSTRIX_EVENT_FAILURE || e == HYSTRIX_EVENT_TIMEOUT) &&
                   e <= HYSTRIX_EVENT_SEMAPHORE_REJECTED;
        }
        default: {
            /* No fallback given: the caller gets the original cause. */
            int e = event_of_cause(l->status);
            if (e < 0 || l->has_fallback) return false;
            l->execution = (hystrix_event)e;
            l->fallback_event = HYSTRIX_EVENT_FALLBACK_MISSING;
            if (e == HYSTRIX_EVENT_SEMAPHORE_REJECTED) l->decided = l->end;
            return (l->run_calls == 1) == (e == HYSTRIX_EVENT_FAILURE || e == HYSTRIX_EVENT_TIMEOUT);
        }
    }
}

/* derive(), then: the listener heard exactly the derived events, in order. */
static bool classify(call_log *l) {
    if (!derive(l)) return false;
    int n = l->fallback_event >= 0 ? 2 : 1;
    return l->n_heard == n && l->heard[0] == l->execution && (n == 1 || (int)l->heard[1] == l->fallback_event);
}

/* One configuration change, bracketed by the sequence. */
typedef struct {
    uint64_t before, after;
    uint64_t limit;
} config_log;

typedef struct {
    hystrix_command *cmd;
    pthread_barrier_t *start;
    _Atomic bool *stop;
    call_log *logs;
    size_t calls;
    uint64_t seed;
    int bad_calls;
} worker_arg;

static void *worker(void *p) {
    worker_arg *w = p;
    uint64_t rng = w->seed;
    pthread_barrier_wait(w->start);
    for (size_t i = 0; i < w->calls; i++) {
        call_log *l = &w->logs[i];
        memset(l, 0, sizeof *l);
        call_ctx c = {.log = l, .rng = &rng, .fallback_fails = below(&rng, 3) == 0};
        /* 5% slow, 10% bad request, 15% failure, 70% success. */
        uint64_t r = below(&rng, 20);
        c.outcome = r == 0 ? 3 : r <= 2 ? 2 : r <= 5 ? 1 : 0;
        l->has_fallback = below(&rng, 4) != 0;
        /* The clock moves between calls too: open circuits get to probe. */
        if (below(&rng, 8) == 0) atomic_fetch_add(&g_now, 1);
        void *out = NULL;
        tl_call = l;
        l->start = seq();
        l->status = hystrix_command_execute(w->cmd, run_cb, l->has_fallback ? fallback_cb : NULL, &c, &out);
        l->end = seq();
        tl_call = NULL;
        if (!classify(l)) {
            w->bad_calls++;
            if (w->bad_calls <= 3)
                fprintf(stderr, "inconsistent call: status %s, run %d (%d), fallback %d (cause %s, %d), heard %d events\n",
                        hystrix_status_name(l->status), l->run_calls, l->run_status, l->fallback_calls,
                        hystrix_status_name(l->cause), l->fallback_status, l->n_heard);
        }
    }
    return NULL;
}

static hystrix_config stress_config(uint64_t limit, uint64_t window_ms) {
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.max_concurrent_requests = limit;
    cfg.fallback_max_concurrent_requests = FALLBACK_LIMIT;
    cfg.timeout_ms = TIMEOUT_MS;
    cfg.rolling_window_ms = window_ms;
    cfg.rolling_window_buckets = 4;
    cfg.request_volume_threshold = 5;
    cfg.error_threshold_percentage = 70;
    cfg.sleep_window_ms = 2;
    cfg.half_open_max_calls = 2;
    cfg.health_snapshot_interval_ms = 1;
    return cfg;
}

typedef struct {
    hystrix_command *cmd;
    pthread_barrier_t *start;
    _Atomic bool *stop;
    bool reconfigure;
    config_log *configs;
    size_t n_configs;
    uint32_t worst_concurrent, worst_fallback;
    int dips, snapshots;
} observer_arg;

static void *observer(void *p) {
    observer_arg *o = p;
    pthread_barrier_wait(o->start);
    uint64_t last_total = 0;
    bool flip = false;
    while (!atomic_load(o->stop)) {
        hystrix_snapshot snap;
        if (hystrix_command_snapshot(o->cmd, &snap) == HYSTRIX_OK) {
            o->snapshots++;
            if (snap.concurrent > o->worst_concurrent) o->worst_concurrent = snap.concurrent;
            if (snap.fallback_concurrent > o->worst_fallback) o->worst_fallback = snap.fallback_concurrent;
            uint64_t total = 0;
            for (int e = 0; e < HYSTRIX_EVENT_COUNT; e++) total += snap.cumulative[e];
            if (total < last_total) o->dips++;
            if (total > last_total) last_total = total;
        }
        if (o->reconfigure && o->n_configs < MAX_CONFIGS) {
            flip = !flip;
            uint64_t limit = flip ? LIMIT_LOW : LIMIT_HIGH;
            hystrix_config cfg = stress_config(limit, flip ? 8 : 4);
            config_log *c = &o->configs[o->n_configs];
            c->limit = limit;
            c->before = seq();
            CHECK_STATUS(hystrix_command_configure(o->cmd, &cfg), HYSTRIX_OK);
            c->after = seq();
            o->n_configs++;
        }
        sched_yield();
    }
    return NULL;
}

/* The smallest limit that may have been in force at some instant of
 * [from, to]: the one in force before `from` and any whose change overlaps. */
static uint64_t min_limit(const config_log *configs, size_t n, uint64_t initial, uint64_t from, uint64_t to) {
    uint64_t before = initial, least = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        if (configs[i].after < from) before = configs[i].limit;
        else if (configs[i].before <= to && configs[i].limit < least) least = configs[i].limit;
    }
    return before < least ? before : least;
}

/* The calls whose run was admitted, as [start, end] intervals sorted by start. */
static int by_start(const void *a, const void *b) {
    const call_log *x = *(call_log *const *)a, *y = *(call_log *const *)b;
    return (x->start > y->start) - (x->start < y->start);
}

/* Counts rejections with fewer than `limit + slack` admitted calls
 * overlapping them (slack 0 is the invariant; the self-check uses 1). */
static size_t spurious_rejections(call_log *const *admitted, size_t n_admitted, call_log *const *rejected,
                                  size_t n_rejected, const config_log *configs, size_t n_configs, uint64_t slack) {
    size_t spurious = 0;
    for (size_t i = 0; i < n_rejected; i++) {
        const call_log *r = rejected[i];
        uint64_t overlap = 0;
        for (size_t j = 0; j < n_admitted && admitted[j]->start <= r->decided; j++) {
            if (admitted[j]->end >= r->start) overlap++;
        }
        uint64_t limit = min_limit(configs, n_configs, LIMIT_HIGH, r->start, r->decided);
        if (overlap < limit + slack) {
            if (spurious++ < 3 && slack == 0)
                fprintf(stderr, "spurious rejection: seq %llu..%llu overlaps %llu admitted calls, limit %llu\n",
                        (unsigned long long)r->start, (unsigned long long)r->decided,
                        (unsigned long long)overlap, (unsigned long long)limit);
        }
    }
    return spurious;
}

static size_t scale(void) {
    const char *s = getenv("HYSTRIX_STRESS_SCALE");
    long v = s ? strtol(s, NULL, 10) : 1;
    return v > 0 ? (size_t)v : 1;
}

static void run(size_t threads, size_t calls_per_thread, bool reconfigure) {
    atomic_store(&g_now, 0);
    atomic_store(&g_in_run_max, 0);
    atomic_store(&g_in_fallback_max, 0);
    hystrix_clock *clock = NULL;
    hystrix_command *cmd = NULL;
    CHECK_STATUS(hystrix_clock_new_fn(now_fn, NULL, NULL, HYSTRIX_TIMERS_CALLER, &clock), HYSTRIX_OK);
    hystrix_config cfg = stress_config(LIMIT_HIGH, 4);
    CHECK_STATUS(hystrix_command_new(&cfg, "stress", clock, &cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_on_event(cmd, on_event, NULL, NULL, NULL), HYSTRIX_OK);
    atomic_store(&g_stray_events, 0);

    size_t calls = threads * calls_per_thread;
    call_log *logs = calloc(calls, sizeof *logs);
    config_log *configs = calloc(MAX_CONFIGS, sizeof *configs);
    pthread_t *tids = calloc(threads, sizeof *tids);
    worker_arg *args = calloc(threads, sizeof *args);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    _Atomic bool stop = false;
    for (size_t i = 0; i < threads; i++) {
        args[i] = (worker_arg){cmd, &start, &stop, logs + i * calls_per_thread, calls_per_thread,
                               0x9E3779B97F4A7C15ULL ^ (i + 1), 0};
        pthread_create(&tids[i], NULL, worker, &args[i]);
    }
    observer_arg obs = {.cmd = cmd, .start = &start, .stop = &stop, .reconfigure = reconfigure, .configs = configs};
    pthread_t obs_tid;
    pthread_create(&obs_tid, NULL, observer, &obs);
    int bad_calls = 0;
    for (size_t i = 0; i < threads; i++) {
        pthread_join(tids[i], NULL);
        bad_calls += args[i].bad_calls;
    }
    atomic_store(&stop, true);
    pthread_join(obs_tid, NULL);
    pthread_barrier_destroy(&start);

    /* Every call returned once, with observations that fit together. */
    CHECK_EQ(bad_calls, 0);
    CHECK_EQ(atomic_load(&g_stray_events), 0);
    uint64_t observed[HYSTRIX_EVENT_TYPE_COUNT] = {0};
    size_t n_admitted = 0, n_rejected = 0;
    call_log **admitted = calloc(calls, sizeof *admitted);
    call_log **rejected = calloc(calls, sizeof *rejected);
    for (size_t i = 0; i < calls; i++) {
        call_log *l = &logs[i];
        CHECK(l->end > l->start);
        observed[l->execution]++;
        if (l->fallback_event >= 0) observed[l->fallback_event]++;
        if (l->run_calls == 1) admitted[n_admitted++] = l;
        if (l->execution == HYSTRIX_EVENT_SEMAPHORE_REJECTED) rejected[n_rejected++] = l;
    }

    /* The cumulative counts are exactly what the threads observed. */
    uint64_t cumulative[HYSTRIX_EVENT_TYPE_COUNT];
    CHECK_STATUS(hystrix_command_event_counts(cmd, NULL, cumulative, HYSTRIX_EVENT_TYPE_COUNT), HYSTRIX_OK);
    uint64_t executions = 0;
    for (int e = 0; e < HYSTRIX_EVENT_TYPE_COUNT; e++) {
        if (cumulative[e] != observed[e])
            fprintf(stderr, "event %d: %llu counted, %llu observed\n", e, (unsigned long long)cumulative[e],
                    (unsigned long long)observed[e]);
        CHECK_EQ(cumulative[e], observed[e]);
        if (e <= HYSTRIX_EVENT_SEMAPHORE_REJECTED) executions += cumulative[e];
    }
    CHECK_EQ(executions, calls);

    /* The bulkheads held. */
    CHECK(obs.worst_concurrent <= LIMIT_HIGH);
    CHECK(obs.worst_fallback <= FALLBACK_LIMIT);
    CHECK(atomic_load(&g_in_run_max) <= LIMIT_HIGH);
    CHECK(atomic_load(&g_in_fallback_max) <= FALLBACK_LIMIT);
    CHECK_EQ(obs.dips, 0);
    CHECK(obs.snapshots > 0);
    hystrix_snapshot end;
    CHECK_STATUS(hystrix_command_snapshot(cmd, &end), HYSTRIX_OK);
    CHECK_EQ(end.concurrent, 0);
    CHECK_EQ(end.fallback_concurrent, 0);

    /* No spurious rejection. */
    qsort(admitted, n_admitted, sizeof *admitted, by_start);
    size_t spurious = spurious_rejections(admitted, n_admitted, rejected, n_rejected, configs, obs.n_configs, 0);
    CHECK_EQ(spurious, 0);
    /* The check has teeth: demanding one more overlap than the limit
     * must flag some rejection (when rejections happened at all). */
    size_t strict = spurious_rejections(admitted, n_admitted, rejected, n_rejected, configs, obs.n_configs,
                                        STRICT_SLACK);
    printf("%zu threads x %zu calls%s: %zu admitted, %zu rejected (%zu fail at limit+%d), %llu timeouts, "
           "%llu short-circuited, %zu reconfigurations, %d snapshots, worst concurrent %u\n",
           threads, calls_per_thread, reconfigure ? " with reconfiguration" : "", n_admitted, n_rejected, strict,
           STRICT_SLACK, (unsigned long long)observed[HYSTRIX_EVENT_TIMEOUT],
           (unsigned long long)observed[HYSTRIX_EVENT_SHORT_CIRCUITED], obs.n_configs, obs.snapshots,
           obs.worst_concurrent);

    free(admitted);
    free(rejected);
    free(logs);
    free(configs);
    free(tids);
    free(args);
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(clock), HYSTRIX_OK);
}

/* The teeth of the interval check: LIMIT_HIGH runs held open, then a call
 * from this thread is rejected; it overlaps exactly LIMIT_HIGH admitted
 * calls, so it passes at the limit and is flagged when one more is
 * demanded, or when one holder is left out (an off-by-one bulkhead would be
 * caught). */
static atomic_int g_entered;
static atomic_bool g_release;

static int32_t holding_run(void *user_data, void **out_value) {
    call_log *l = user_data;
    l->run_calls++;
    atomic_fetch_add(&g_entered, 1);
    while (!atomic_load(&g_release)) sched_yield();
    static char value[] = "v";
    *out_value = value;
    return HYSTRIX_OK;
}

static int32_t noting_fallback(void *user_data, hystrix_status cause, void **out_value) {
    call_log *l = user_data;
    l->cause = cause;
    l->decided = seq();
    static char value[] = "f";
    *out_value = value;
    return HYSTRIX_OK;
}

typedef struct {
    hystrix_command *cmd;
    call_log *log;
} holder_arg;

static void *holder(void *p) {
    holder_arg *h = p;
    void *out = NULL;
    h->log->start = seq();
    h->log->status = hystrix_command_execute(h->cmd, holding_run, NULL, h->log, &out);
    h->log->end = seq();
    return NULL;
}

static void test_rejection_check_has_teeth(void) {
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.max_concurrent_requests = LIMIT_HIGH;
    hystrix_command *cmd = NULL;
    CHECK_STATUS(hystrix_command_new(&cfg, "teeth", NULL, &cmd), HYSTRIX_OK);
    atomic_store(&g_entered, 0);
    atomic_store(&g_release, false);
    call_log logs[LIMIT_HIGH + 1];
    memset(logs, 0, sizeof logs);
    call_log *holders[LIMIT_HIGH], *rejected = &logs[LIMIT_HIGH];
    holder_arg args[LIMIT_HIGH];
    pthread_t tids[LIMIT_HIGH];
    for (int i = 0; i < LIMIT_HIGH; i++) {
        holders[i] = &logs[i];
        args[i] = (holder_arg){cmd, &logs[i]};
        pthread_create(&tids[i], NULL, holder, &args[i]);
    }
    while (atomic_load(&g_entered) < LIMIT_HIGH) sched_yield();
    void *out = NULL;
    rejected->start = seq();
    CHECK_STATUS(hystrix_command_execute(cmd, holding_run, noting_fallback, rejected, &out), HYSTRIX_OK);
    rejected->end = seq();
    atomic_store(&g_release, true);
    for (int i = 0; i < LIMIT_HIGH; i++) pthread_join(tids[i], NULL);
    CHECK_EQ(rejected->cause, HYSTRIX_REJECTED);
    CHECK_EQ(rejected->run_calls, 0);
    CHECK_EQ(spurious_rejections(holders, LIMIT_HIGH, &rejected, 1, NULL, 0, 0), 0);
    CHECK_EQ(spurious_rejections(holders, LIMIT_HIGH, &rejected, 1, NULL, 0, 1), 1);
    CHECK_EQ(spurious_rejections(holders + 1, LIMIT_HIGH - 1, &rejected, 1, NULL, 0, 0), 1);
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
}

static void test_2_threads(void) { run(2, 2000 * scale(), false); }
static void test_8_threads(void) { run(8, 500 * scale(), false); }
static void test_32_threads(void) { run(32, 125 * scale(), false); }
static void test_8_threads_reconfigured(void) { run(8, 500 * scale(), true); }
static void test_32_threads_reconfigured(void) { run(32, 125 * scale(), true); }

int main(void) {
    RUN(test_rejection_check_has_teeth);
    RUN(test_2_threads);
    RUN(test_8_threads);
    RUN(test_32_threads);
    RUN(test_8_threads_reconfigured);
    RUN(test_32_threads_reconfigured);
    CHECK_STATUS(hystrix_shutdown(), HYSTRIX_OK);
    return check_summary("stress");
}
