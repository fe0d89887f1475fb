/* Threads: worker threads completing handles queued by the main thread,
 * synchronous execution from several threads on one command, timeouts
 * fired by a clock's own timer thread, and a HYSTRIX_TIMERS_CALLER clock
 * driven by the program's loop. No tight timing assertions: waits are
 * bounded generously and only ever fail a test if nothing happens. */
#define _POSIX_C_SOURCE 200809L
#include "hystrix.h"
#include "check.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

/* Bounds waits for something that must happen (a timer thread firing, a
 * worker finishing): generous, since under valgrind on a loaded machine a
 * thread can be kept off the CPU for seconds. Only a broken build waits it out. */
#define WAIT_BOUND_MS 30000

static char RUN_VALUE[] = "run";
static char FALLBACK_VALUE[] = "fallback";

/* A deadline for pthread_cond_timedwait, `ms` from now. */
static struct timespec deadline_in(long ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static void sleep_ms(uint64_t ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static hystrix_snapshot snap(const hystrix_command *cmd) {
    hystrix_snapshot s;
    memset(&s, 0xab, sizeof s);
    CHECK_STATUS(hystrix_command_snapshot(cmd, &s), HYSTRIX_OK);
    return s;
}

/* ---------------------------------------------------------------------
 * Worker threads completing handles queued by the main thread.
 * ------------------------------------------------------------------- */

enum { CALLS = 2000, WORKERS = 4, QCAP = 4096 };

typedef struct {
    uint64_t handle;
    int index;   /* -1: stop */
    bool fallback;
} item;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    item items[QCAP];
    size_t head, len;
} work_queue;

static void wq_push(work_queue *q, item it) {
    pthread_mutex_lock(&q->mu);
    if (q->len == QCAP) {
        fprintf(stderr, "work queue full\n");
        abort();
    }
    q->items[(q->head + q->len++) % QCAP] = it;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

static item wq_pop(work_queue *q) {
    pthread_mutex_lock(&q->mu);
    while (q->len == 0) pthread_cond_wait(&q->cv, &q->mu);
    item it = q->items[q->head];
    q->head = (q->head + 1) % QCAP;
    q->len--;
    pthread_mutex_unlock(&q->mu);
    return it;
}

typedef struct {
    work_queue *q;
    int index;
    atomic_int dones, frees, runs, fallbacks;
    _Atomic(hystrix_status) status;
    void *_Atomic value;
} wcall;

static wcall wcalls[CALLS];
static pthread_mutex_t finished_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t finished_cv = PTHREAD_COND_INITIALIZER;
static int finished;
static atomic_int complete_errors;

static bool run_fails(int index) { return index % 4 == 0; }

static void w_run(void *ud, uint64_t completion) {
    wcall *c = ud;
    atomic_fetch_add(&c->runs, 1);
    wq_push(c->q, (item){completion, c->index, false});
}

static void w_fallback(void *ud, hystrix_status cause, uint64_t completion) {
    wcall *c = ud;
    if (cause != HYSTRIX_FAILURE) atomic_fetch_add(&complete_errors, 1);
    atomic_fetch_add(&c->fallbacks, 1);
    wq_push(c->q, (item){completion, c->index, true});
}

static void w_done(void *ud, hystrix_status status, void *value) {
    wcall *c = ud;
    atomic_store(&c->status, status);
    atomic_store(&c->value, value);
    atomic_fetch_add(&c->dones, 1);
}

static void w_free(void *ud) {
    wcall *c = ud;
    atomic_fetch_add(&c->frees, 1);
    pthread_mutex_lock(&finished_mu);
    finished++;
    pthread_cond_broadcast(&finished_cv);
    pthread_mutex_unlock(&finished_mu);
}

static void *worker(void *arg) {
    work_queue *q = arg;
    for (;;) {
        item it = wq_pop(q);
        if (it.index < 0) return NULL;
        hystrix_status st;
        if (it.fallback)
            st = hystrix_complete(it.handle, HYSTRIX_OK, FALLBACK_VALUE);
        else if (run_fails(it.index))
            st = hystrix_complete(it.handle, HYSTRIX_FAILURE, NULL);
        else
            st = hystrix_complete(it.handle, HYSTRIX_OK, &wcalls[it.index]);
        if (st != HYSTRIX_OK) atomic_fetch_add(&complete_errors, 1);
    }
}

/* Checks that every timeout was disarmed, then frees the command and clock. */
static void free_with_no_timer_armed(hystrix_command *cmd, hystrix_clock *clock) {
    bool has = true;
    uint64_t deadline = 1;
    CHECK_STATUS(hystrix_clock_next_deadline(clock, &has, &deadline), HYSTRIX_OK);
    CHECK(!has);
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(clock), HYSTRIX_OK);
}

static void test_workers_complete_queued_handles(void) {
    static work_queue q;
    memset(&q, 0, sizeof q);
    pthread_mutex_init(&q.mu, NULL);
    pthread_cond_init(&q.cv, NULL);
    finished = 0;

    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.circuit_breaker_enabled = false;
    cfg.max_concurrent_requests = CALLS;
    cfg.fallback_max_concurrent_requests = CALLS;
    cfg.timeout_ms = 60000;
    hystrix_clock *clock = NULL;
    hystrix_command *cmd = NULL;
    /* A virtual clock that never moves: timeouts are armed and disarmed
     * from every thread but never fire. */
    CHECK_STATUS(hystrix_clock_new_virtual(&clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_new(&cfg, "workers", clock, &cmd), HYSTRIX_OK);

    pthread_t threads[WORKERS];
    for (int i = 0; i < WORKERS; i++) CHECK(pthread_create(&threads[i], NULL, worker, &q) == 0);
    for (int i = 0; i < CALLS; i++) {
        wcall *c = &wcalls[i];
        memset(c, 0, sizeof *c);
        c->q = &q;
        c->index = i;
        atomic_store(&c->status, HYSTRIX_PANIC);
        CHECK_STATUS(hystrix_command_queue(cmd, w_run, NULL, w_fallback, w_done, c, w_free, NULL), HYSTRIX_OK);
    }
    /* Wait (bounded) until every call has been finalized. */
    struct timespec until = deadline_in(60000);
    pthread_mutex_lock(&finished_mu);
    while (finished < CALLS)
        if (pthread_cond_timedwait(&finished_cv, &finished_mu, &until) != 0) break;
    int seen = finished;
    pthread_mutex_unlock(&finished_mu);
    CHECK_EQ(seen, CALLS);
    for (int i = 0; i < WORKERS; i++) wq_push(&q, (item){0, -1, false});
    for (int i = 0; i < WORKERS; i++) pthread_join(threads[i], NULL);
    CHECK_EQ(atomic_load(&complete_errors), 0);

    int bad = 0, ok_run = 0, ok_fallback = 0;
    for (int i = 0; i < CALLS; i++) {
        wcall *c = &wcalls[i];
        if (atomic_load(&c->dones) != 1 || atomic_load(&c->frees) != 1 || atomic_load(&c->runs) != 1) bad++;
        if (atomic_load(&c->status) != HYSTRIX_OK) bad++;
        void *v = atomic_load(&c->value);
        if (run_fails(i)) {
            if (v == FALLBACK_VALUE && atomic_load(&c->fallbacks) == 1) ok_fallback++;
        } else if (v == c && atomic_load(&c->fallbacks) == 0) {
            ok_run++;
        }
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(ok_run, CALLS - CALLS / 4);
    CHECK_EQ(ok_fallback, CALLS / 4);

    hystrix_snapshot s = snap(cmd);
    CHECK_EQ(s.concurrent, 0);
    CHECK_EQ(s.fallback_concurrent, 0);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_SUCCESS], CALLS - CALLS / 4);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_FAILURE], CALLS / 4);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_FALLBACK_SUCCESS], CALLS / 4);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_TIMEOUT], 0);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_SEMAPHORE_REJECTED], 0);
    uint64_t total = 0;
    for (int e = 0; e < HYSTRIX_EVENT_COUNT; e++) total += s.cumulative[e];
    CHECK_EQ(total, CALLS + CALLS / 4);
    CHECK(s.rolling_max_concurrent >= 1);
    free_with_no_timer_armed(cmd, clock);
    pthread_mutex_destroy(&q.mu);
    pthread_cond_destroy(&q.cv);
}

/* ---------------------------------------------------------------------
 * Synchronous execution from several threads at once on one command.
 * ------------------------------------------------------------------- */

enum { SYNC_THREADS = 4, SYNC_CALLS = 500 };

typedef struct {
    const hystrix_command *cmd;
    int id;
    bool contend;           /* yield inside the run to overlap with others */
    int ok_run, ok_fallback, rejected, errors;
} sync_worker;

static atomic_int in_flight, max_in_flight;

static int32_t s_run(void *ud, void **out) {
    sync_worker *w = ud;
    int now = atomic_fetch_add(&in_flight, 1) + 1;
    int seen = atomic_load(&max_in_flight);
    while (now > seen && !atomic_compare_exchange_weak(&max_in_flight, &seen, now)) {
    }
    if (w->contend) sched_yield();
    atomic_fetch_sub(&in_flight, 1);
    *out = RUN_VALUE;
    return (w->ok_run + w->ok_fallback + w->rejected) % 3 == 0 ? HYSTRIX_FAILURE : HYSTRIX_OK;
}

static int32_t s_fallback(void *ud, hystrix_status cause, void **out) {
    (void)ud;
    *out = cause == HYSTRIX_REJECTED ? NULL : FALLBACK_VALUE;
    return HYSTRIX_OK;
}

static void *sync_thread(void *arg) {
    sync_worker *w = arg;
    for (int i = 0; i < SYNC_CALLS; i++) {
        void *value = NULL;
        hystrix_status st = hystrix_command_execute(w->cmd, s_run, s_fallback, w, &value);
        if (st != HYSTRIX_OK) w->errors++;
        else if (value == RUN_VALUE) w->ok_run++;
        else if (value == FALLBACK_VALUE) w->ok_fallback++;
        else w->rejected++; /* the fallback's answer to a rejection */
    }
    return NULL;
}

static void run_sync_threads(uint64_t permits, bool contend) {
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.force_closed = true;
    cfg.max_concurrent_requests = permits;
    /* On the real clock a synchronous run is judged a timeout once it took
     * timeout_ms; a thread kept off the CPU mid-run (valgrind, a loaded
     * machine) must not turn these instant runs into timeouts. */
    cfg.timeout_ms = 60000;
    hystrix_command *cmd = NULL;
    /* NULL clock: the shared default monotonic clock. */
    CHECK_STATUS(hystrix_command_new(&cfg, "sync-threads", NULL, &cmd), HYSTRIX_OK);
    atomic_store(&in_flight, 0);
    atomic_store(&max_in_flight, 0);
    sync_worker w[SYNC_THREADS];
    pthread_t t[SYNC_THREADS];
    for (int i = 0; i < SYNC_THREADS; i++) {
        w[i] = (sync_worker){.cmd = cmd, .id = i, .contend = contend};
        CHECK(pthread_create(&t[i], NULL, sync_thread, &w[i]) == 0);
    }
    int ok_run = 0, ok_fallback = 0, rejected = 0, errors = 0;
    for (int i = 0; i < SYNC_THREADS; i++) {
        pthread_join(t[i], NULL);
        ok_run += w[i].ok_run;
        ok_fallback += w[i].ok_fallback;
        rejected += w[i].rejected;
        errors += w[i].errors;
    }
    CHECK_EQ(errors, 0);
    CHECK_EQ(ok_run + ok_fallback + rejected, SYNC_THREADS * SYNC_CALLS);
    CHECK(atomic_load(&max_in_flight) <= (int)permits);
    hystrix_snapshot s = snap(cmd);
    CHECK_EQ(s.concurrent, 0);
    CHECK_EQ(s.fallback_concurrent, 0);
    CHECK_EQ(s.state, HYSTRIX_STATE_CLOSED);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_SUCCESS], ok_run);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_FAILURE], ok_fallback);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_SEMAPHORE_REJECTED], rejected);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_FALLBACK_SUCCESS], ok_fallback + rejected);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_TIMEOUT], 0);
    CHECK(s.rolling_max_concurrent <= permits);
    if (!contend) CHECK_EQ(rejected, 0);
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
}

static void test_sync_execute_from_many_threads(void) { run_sync_threads(SYNC_THREADS, false); }

static void test_sync_bulkhead_under_contention(void) { run_sync_threads(2, true); }

/* ---------------------------------------------------------------------
 * Freeing a command while a synchronous execution of it runs on another
 * thread: the execution keeps the command alive (valgrind: no read of
 * freed memory) and is recorded normally.
 * ------------------------------------------------------------------- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    hystrix_command *cmd;
    bool running, freed, waited_out;
    hystrix_status status;
    void *value;
    int successes, listener_frees;
} free_race;

static void fr_signal(free_race *r, bool *flag) {
    pthread_mutex_lock(&r->mu);
    *flag = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

/* Waits (bounded) for *flag; returns whether it was set. */
static bool fr_wait(free_race *r, bool *flag) {
    struct timespec until = deadline_in(WAIT_BOUND_MS);
    pthread_mutex_lock(&r->mu);
    while (!*flag)
        if (pthread_cond_timedwait(&r->cv, &r->mu, &until) != 0) break;
    bool ok = *flag;
    pthread_mutex_unlock(&r->mu);
    return ok;
}

static int32_t fr_run(void *ud, void **out) {
    free_race *r = ud;
    fr_signal(r, &r->running);
    if (!fr_wait(r, &r->freed)) r->waited_out = true; /* the handle is freed meanwhile */
    *out = RUN_VALUE;
    return HYSTRIX_OK;
}

static void fr_event(void *ud, const char *command, hystrix_event event, uint64_t at_ms) {
    (void)command;
    (void)at_ms;
    if (event == HYSTRIX_EVENT_SUCCESS) ((free_race *)ud)->successes++;
}

static void fr_listener_free(void *ud) { ((free_race *)ud)->listener_frees++; }

static void *fr_thread(void *arg) {
    free_race *r = arg;
    r->status = hystrix_command_execute(r->cmd, fr_run, NULL, r, &r->value);
    return NULL;
}

static void test_free_command_during_sync_execute_elsewhere(void) {
    free_race r;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    r.status = HYSTRIX_PANIC;
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.timeout_ms = 600000; /* the run waits on this thread: never a timeout */
    CHECK_STATUS(hystrix_command_new(&cfg, "freed-while-running", NULL, &r.cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_on_event(r.cmd, fr_event, &r, fr_listener_free, NULL), HYSTRIX_OK);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, fr_thread, &r) == 0);
    CHECK(fr_wait(&r, &r.running));
    CHECK_STATUS(hystrix_command_free(r.cmd), HYSTRIX_OK);
    fr_signal(&r, &r.freed);
    pthread_join(t, NULL);
    CHECK(!r.waited_out);
    CHECK_STATUS(r.status, HYSTRIX_OK);
    CHECK(r.value == RUN_VALUE);
    CHECK_EQ(r.successes, 1);      /* recorded after the handle was freed */
    CHECK_EQ(r.listener_frees, 1); /* and the command went with the execution */
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
}

/* ---------------------------------------------------------------------
 * A real monotonic clock with its own timer thread.
 * ------------------------------------------------------------------- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t main_thread;
    bool ack_in_cancel;
    uint64_t handle;
    int runs, cancels, dones, frees, timers;
    bool cancel_on_other_thread, done_on_other_thread, timer_on_other_thread;
    hystrix_status done_status, ack_status;
    void *done_value;
} tcall;

static void tcall_init(tcall *c, bool ack) {
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->main_thread = pthread_self();
    c->ack_in_cancel = ack;
    c->done_status = HYSTRIX_PANIC;
    c->ack_status = HYSTRIX_PANIC;
}

static void tcall_destroy(tcall *c) {
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}

/* Waits (bounded) until *counter reaches want; returns whether it did. */
static bool tcall_wait(tcall *c, int *counter, int want) {
    struct timespec until = deadline_in(WAIT_BOUND_MS);
    pthread_mutex_lock(&c->mu);
    while (*counter < want)
        if (pthread_cond_timedwait(&c->cv, &c->mu, &until) != 0) break;
    bool ok = *counter >= want;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

static void t_run(void *ud, uint64_t completion) {
    tcall *c = ud;
    pthread_mutex_lock(&c->mu);
    c->runs++;
    c->handle = completion; /* never completed until cancelled */
    pthread_mutex_unlock(&c->mu);
}

static void t_cancel(void *ud, uint64_t completion) {
    tcall *c = ud;
    pthread_mutex_lock(&c->mu);
    c->cancels++;
    c->cancel_on_other_thread = !pthread_equal(pthread_self(), c->main_thread);
    bool ack = c->ack_in_cancel;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    CHECK_EQ(completion, c->handle);
    if (ack) {
        hystrix_status st = hystrix_complete(completion, HYSTRIX_OK, RUN_VALUE);
        pthread_mutex_lock(&c->mu);
        c->ack_status = st;
        pthread_mutex_unlock(&c->mu);
    }
}

static void t_done(void *ud, hystrix_status status, void *value) {
    tcall *c = ud;
    pthread_mutex_lock(&c->mu);
    c->dones++;
    c->done_status = status;
    c->done_value = value;
    c->done_on_other_thread = !pthread_equal(pthread_self(), c->main_thread);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void t_free(void *ud) {
    tcall *c = ud;
    pthread_mutex_lock(&c->mu);
    c->frees++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void t_timer(void *ud) {
    tcall *c = ud;
    pthread_mutex_lock(&c->mu);
    c->timers++;
    c->timer_on_other_thread = !pthread_equal(pthread_self(), c->main_thread);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* Starts the clock's timer thread (on first use) and checks that a user
 * timer fires on it. Done before queuing calls with short timeouts, so that
 * starting a thread (slow under valgrind) does not eat into them: the race
 * that can expose is covered by test_timer_thread_never_cancels_before_run. */
static void warm_up_timer_thread(hystrix_clock *clock) {
    tcall e;
    tcall_init(&e, false);
    uint64_t now = 0;
    CHECK_STATUS(hystrix_clock_now(clock, &now), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_schedule(clock, now + 10, t_timer, &e, NULL), HYSTRIX_OK);
    CHECK(tcall_wait(&e, &e.timers, 1));
    CHECK(e.timer_on_other_thread);
    tcall_destroy(&e);
}

static hystrix_command *short_timeout_command(hystrix_clock *clock, uint64_t timeout_ms) {
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.timeout_ms = timeout_ms;
    hystrix_command *cmd = NULL;
    CHECK_STATUS(hystrix_command_new(&cfg, "timer-thread", clock, &cmd), HYSTRIX_OK);
    return cmd;
}

static void test_timer_thread_fires_timeout(void) {
    hystrix_clock *clock = NULL;
    CHECK_STATUS(hystrix_clock_new_monotonic(HYSTRIX_TIMERS_THREAD, &clock), HYSTRIX_OK);
    warm_up_timer_thread(clock);
    hystrix_command *cmd = short_timeout_command(clock, 20);

    /* The run acknowledges cancellation from the cancel callback. */
    tcall c;
    tcall_init(&c, true);
    CHECK_STATUS(hystrix_command_queue(cmd, t_run, t_cancel, NULL, t_done, &c, t_free, NULL), HYSTRIX_OK);
    CHECK(tcall_wait(&c, &c.frees, 1));
    pthread_mutex_lock(&c.mu);
    CHECK_EQ(c.runs, 1);
    CHECK_EQ(c.cancels, 1);
    CHECK_EQ(c.dones, 1);
    CHECK_EQ(c.frees, 1);
    CHECK_STATUS(c.done_status, HYSTRIX_TIMEOUT);
    CHECK(c.done_value == NULL);
    CHECK_STATUS(c.ack_status, HYSTRIX_TIMEOUT);
    CHECK(c.cancel_on_other_thread);
    CHECK(c.done_on_other_thread);
    pthread_mutex_unlock(&c.mu);
    hystrix_snapshot s = snap(cmd);
    CHECK_EQ(s.concurrent, 0);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_TIMEOUT], 1);
    tcall_destroy(&c);

    /* The main thread acknowledges after the timer thread reported. */
    tcall d;
    tcall_init(&d, false);
    CHECK_STATUS(hystrix_command_queue(cmd, t_run, t_cancel, NULL, t_done, &d, t_free, NULL), HYSTRIX_OK);
    CHECK(tcall_wait(&d, &d.dones, 1));
    CHECK_STATUS(d.done_status, HYSTRIX_TIMEOUT);
    CHECK(d.done_on_other_thread);
    CHECK_EQ(d.cancels, 1);
    CHECK_EQ(d.frees, 0);
    CHECK_EQ(snap(cmd).concurrent, 1);
    CHECK_STATUS(hystrix_complete(d.handle, HYSTRIX_OK, RUN_VALUE), HYSTRIX_TIMEOUT);
    CHECK(tcall_wait(&d, &d.frees, 1));
    CHECK_EQ(d.dones, 1);
    CHECK_EQ(snap(cmd).concurrent, 0);
    tcall_destroy(&d);

    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(clock), HYSTRIX_OK); /* joins the timer thread */
}

static void test_timers_work_after_clock_handle_freed(void) {
    hystrix_clock *clock = NULL;
    CHECK_STATUS(hystrix_clock_new_monotonic(HYSTRIX_TIMERS_THREAD, &clock), HYSTRIX_OK);
    warm_up_timer_thread(clock);
    hystrix_command *cmd = short_timeout_command(clock, 20);
    CHECK_STATUS(hystrix_clock_free(clock), HYSTRIX_OK); /* the command keeps what it needs */
    tcall c;
    tcall_init(&c, true);
    CHECK_STATUS(hystrix_command_queue(cmd, t_run, t_cancel, NULL, t_done, &c, t_free, NULL), HYSTRIX_OK);
    CHECK(tcall_wait(&c, &c.frees, 1));
    CHECK_STATUS(c.done_status, HYSTRIX_TIMEOUT);
    CHECK(c.done_on_other_thread);
    tcall_destroy(&c);
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
}

/* The timer thread must not tell a run to stop before that run has been
 * started with its handle: cancel(completion) always names the handle the
 * run was given. A clock that moves 5 ms per read makes every 1 ms timeout
 * due as soon as it is armed, so the timer thread races the queuing thread. */
enum { RACE_CALLS = 1000 };

typedef struct {
    atomic_ullong handle;
    atomic_int ran, cancels, dones, frees, bad_cancel, cancel_before_run;
} race_call;

static race_call race_calls[RACE_CALLS];
static atomic_ullong jumping_now;
static atomic_int race_frees;

static uint64_t jumping_clock(void *ud) {
    (void)ud;
    return atomic_fetch_add(&jumping_now, 5);
}
static void r_run(void *ud, uint64_t completion) {
    race_call *c = ud;
    atomic_store(&c->handle, completion);
    atomic_store(&c->ran, 1);
}
static void r_cancel(void *ud, uint64_t completion) {
    race_call *c = ud;
    if (!atomic_load(&c->ran)) atomic_fetch_add(&c->cancel_before_run, 1);
    if (completion == 0 || completion != atomic_load(&c->handle)) atomic_fetch_add(&c->bad_cancel, 1);
    atomic_fetch_add(&c->cancels, 1);
}
static void r_done(void *ud, hystrix_status status, void *value) {
    (void)status, (void)value;
    atomic_fetch_add(&((race_call *)ud)->dones, 1);
}
static void r_free(void *ud) {
    atomic_fetch_add(&((race_call *)ud)->frees, 1);
    atomic_fetch_add(&race_frees, 1);
}

static void test_timer_thread_never_cancels_before_run(void) {
    hystrix_clock *clock = NULL;
    CHECK_STATUS(hystrix_clock_new_fn(jumping_clock, NULL, NULL, HYSTRIX_TIMERS_THREAD, &clock), HYSTRIX_OK);
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.timeout_ms = 1;
    cfg.circuit_breaker_enabled = false;
    cfg.max_concurrent_requests = RACE_CALLS;
    hystrix_command *cmd = NULL;
    CHECK_STATUS(hystrix_command_new(&cfg, "race", clock, &cmd), HYSTRIX_OK);
    for (int i = 0; i < RACE_CALLS; i++)
        CHECK_STATUS(hystrix_command_queue(cmd, r_run, r_cancel, NULL, r_done, &race_calls[i], r_free, NULL), HYSTRIX_OK);
    /* Every timeout fires; wait (bounded) for every done. */
    for (int waited = 0; waited < WAIT_BOUND_MS; waited += 5) {
        int dones = 0;
        for (int i = 0; i < RACE_CALLS; i++) dones += atomic_load(&race_calls[i].dones);
        if (dones == RACE_CALLS) break;
        sleep_ms(5);
    }
    int not_done = 0, not_cancelled = 0, bad_cancel = 0, early = 0, late_ack = 0;
    for (int i = 0; i < RACE_CALLS; i++) {
        race_call *c = &race_calls[i];
        not_done += atomic_load(&c->dones) != 1;
        not_cancelled += atomic_load(&c->cancels) != 1;
        bad_cancel += atomic_load(&c->bad_cancel);
        early += atomic_load(&c->cancel_before_run);
        if (hystrix_complete(atomic_load(&c->handle), HYSTRIX_OK, NULL) == HYSTRIX_TIMEOUT) late_ack++;
    }
    CHECK_EQ(not_done, 0);
    CHECK_EQ(not_cancelled, 0);
    CHECK_EQ(early, 0);      /* cancel before the run was started */
    CHECK_EQ(bad_cancel, 0); /* cancel with a handle that is not the run's (0) */
    CHECK_EQ(late_ack, RACE_CALLS);
    CHECK_EQ(atomic_load(&race_frees), RACE_CALLS);
    CHECK_EQ(snap(cmd).concurrent, 0);
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(clock), HYSTRIX_OK);
}

/* A program clock in thread mode: its finalizer runs once the clock is
 * gone, after its timer thread has stopped. */
static atomic_int real_clock_frees;
static uint64_t real_ms(void *ud) {
    (void)ud;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
static void real_clock_free(void *ud) {
    CHECK(ud == (void *)&real_clock_frees);
    atomic_fetch_add(&real_clock_frees, 1);
}

static void test_fn_clock_thread_mode_finalizer(void) {
    hystrix_clock *clock = NULL;
    CHECK_STATUS(hystrix_clock_new_fn(real_ms, &real_clock_frees, real_clock_free, HYSTRIX_TIMERS_THREAD, &clock),
                 HYSTRIX_OK);
    warm_up_timer_thread(clock);
    hystrix_command *cmd = short_timeout_command(clock, 20);
    tcall c;
    tcall_init(&c, true);
    CHECK_STATUS(hystrix_command_queue(cmd, t_run, t_cancel, NULL, t_done, &c, t_free, NULL), HYSTRIX_OK);
    CHECK(tcall_wait(&c, &c.frees, 1));
    CHECK_STATUS(c.done_status, HYSTRIX_TIMEOUT);
    tcall_destroy(&c);
    CHECK_STATUS(hystrix_clock_free(clock), HYSTRIX_OK);
    CHECK_EQ(atomic_load(&real_clock_frees), 0); /* the command still uses it */
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
    CHECK_EQ(atomic_load(&real_clock_frees), 1);
}

/* ---------------------------------------------------------------------
 * A virtual clock advanced from several threads at once: advances are
 * serialised, so no advance is lost (the final time is the sum of them all)
 * and nobody ever sees the clock go back, inside timer callbacks or out.
 * ------------------------------------------------------------------- */

enum { ADVANCERS_MAX = 8, ADVANCES = 300 };

typedef struct {
    hystrix_clock *clock;
    atomic_bool stop;
    atomic_int went_back; /* a reading lower than one before it */
    atomic_int fired;
    pthread_mutex_t mu;   /* orders the readings taken in timer callbacks */
    uint64_t last_in_timer;
} vclock_race;

typedef struct {
    vclock_race *r;
    int id;
    uint64_t advanced;
} advancer;

static void vr_timer(void *ud) {
    vclock_race *r = ud;
    uint64_t now = 0;
    hystrix_clock_now(r->clock, &now);
    pthread_mutex_lock(&r->mu);
    if (now < r->last_in_timer) atomic_fetch_add(&r->went_back, 1);
    r->last_in_timer = now;
    pthread_mutex_unlock(&r->mu);
    atomic_fetch_add(&r->fired, 1);
    sched_yield(); /* let other threads try to advance meanwhile */
}

static void *advance_thread(void *arg) {
    advancer *a = arg;
    uint64_t last = 0;
    for (int i = 0; i < ADVANCES; i++) {
        uint64_t now = 0, ms = (uint64_t)(a->id + 1) * 1000 + (uint64_t)i;
        if (hystrix_clock_now(a->r->clock, &now) != HYSTRIX_OK || now < last) atomic_fetch_add(&a->r->went_back, 1);
        last = now;
        /* A timer inside this thread's next step, fired by whoever gets there. */
        if (hystrix_clock_schedule(a->r->clock, now + ms / 2, vr_timer, a->r, NULL) != HYSTRIX_OK ||
            hystrix_clock_advance(a->r->clock, ms) != HYSTRIX_OK) {
            atomic_fetch_add(&a->r->went_back, 1000000);
            break;
        }
        a->advanced += ms;
    }
    return NULL;
}

static void *observe_thread(void *arg) {
    vclock_race *r = arg;
    uint64_t last = 0;
    while (!atomic_load(&r->stop)) {
        uint64_t now = 0;
        hystrix_clock_now(r->clock, &now);
        if (now < last) atomic_fetch_add(&r->went_back, 1);
        last = now;
        sched_yield();
    }
    return NULL;
}

static void advance_from_threads(int threads) {
    vclock_race r;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.mu, NULL);
    CHECK_STATUS(hystrix_clock_new_virtual(&r.clock), HYSTRIX_OK);
    advancer a[ADVANCERS_MAX];
    pthread_t t[ADVANCERS_MAX], observer;
    CHECK(pthread_create(&observer, NULL, observe_thread, &r) == 0);
    for (int i = 0; i < threads; i++) {
        a[i] = (advancer){&r, i, 0};
        CHECK(pthread_create(&t[i], NULL, advance_thread, &a[i]) == 0);
    }
    uint64_t total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        total += a[i].advanced;
    }
    atomic_store(&r.stop, true);
    pthread_join(observer, NULL);
    uint64_t now = 0;
    CHECK_STATUS(hystrix_clock_now(r.clock, &now), HYSTRIX_OK);
    CHECK_EQ(now, total);
    CHECK_EQ(atomic_load(&r.went_back), 0);
    CHECK_EQ(atomic_load(&r.fired), threads * ADVANCES); /* every timer was within an advance */
    CHECK_STATUS(hystrix_clock_free(r.clock), HYSTRIX_OK);
    pthread_mutex_destroy(&r.mu);
}

static void test_virtual_clock_advanced_by_two_threads(void) { advance_from_threads(2); }

static void test_virtual_clock_advanced_by_eight_threads(void) { advance_from_threads(8); }

/* ---------------------------------------------------------------------
 * HYSTRIX_TIMERS_CALLER clocks, driven by the program.
 * ------------------------------------------------------------------- */

static uint64_t read_now(void *ud) { return *(uint64_t *)ud; }

/* Queues `c` (held until cancelled) and checks its timeout is due at `due`. */
static void queue_expecting_deadline(hystrix_clock *clock, hystrix_command *cmd, tcall *c, uint64_t due) {
    tcall_init(c, false);
    CHECK_STATUS(hystrix_command_queue(cmd, t_run, t_cancel, NULL, t_done, c, t_free, NULL), HYSTRIX_OK);
    bool has = false;
    uint64_t deadline = 0;
    CHECK_STATUS(hystrix_clock_next_deadline(clock, &has, &deadline), HYSTRIX_OK);
    CHECK(has);
    CHECK_EQ(deadline, due);
}

static void test_caller_mode_on_program_clock(void) {
    static uint64_t now = 500;
    hystrix_clock *clock = NULL;
    CHECK_STATUS(hystrix_clock_new_fn(read_now, &now, NULL, HYSTRIX_TIMERS_CALLER, &clock), HYSTRIX_OK);
    hystrix_command *cmd = short_timeout_command(clock, 20);
    tcall c;
    queue_expecting_deadline(clock, cmd, &c, 520);
    /* Not due yet: nothing fires, whatever real time passes. */
    now = 519;
    CHECK_STATUS(hystrix_clock_fire_due(clock), HYSTRIX_OK);
    sleep_ms(30);
    CHECK_EQ(c.cancels, 0);
    CHECK_EQ(c.dones, 0);
    now = 520;
    CHECK_STATUS(hystrix_clock_fire_due(clock), HYSTRIX_OK);
    CHECK_EQ(c.cancels, 1);
    CHECK_EQ(c.dones, 1);
    CHECK_STATUS(c.done_status, HYSTRIX_TIMEOUT);
    CHECK(!c.cancel_on_other_thread); /* fired on the calling thread */
    CHECK(!c.done_on_other_thread);
    bool has = false;
    uint64_t deadline = 0;
    CHECK_STATUS(hystrix_clock_next_deadline(clock, &has, &deadline), HYSTRIX_OK);
    CHECK(!has);
    CHECK_STATUS(hystrix_complete(c.handle, HYSTRIX_FAILURE, NULL), HYSTRIX_TIMEOUT);
    CHECK_EQ(c.frees, 1);
    tcall_destroy(&c);
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(clock), HYSTRIX_OK);
}

/* Issue 11.7: a program event loop running 5 s late. The run completes long after its
 * deadline, before the loop has fired the (late) timeout timer: the run
 * still lost its race with the deadline, so the call is a TIMEOUT, exactly
 * as the same run is through hystrix_command_execute. */
typedef struct {
    uint64_t *now;
    uint64_t takes_ms;
} late_sync_run;

static int32_t ls_run(void *ud, void **out) {
    late_sync_run *r = ud;
    *r->now += r->takes_ms;
    *out = RUN_VALUE;
    return HYSTRIX_OK;
}

static void test_late_loop_run_past_deadline_is_timeout(void) {
    static uint64_t now = 1000;
    hystrix_clock *clock = NULL;
    CHECK_STATUS(hystrix_clock_new_fn(read_now, &now, NULL, HYSTRIX_TIMERS_CALLER, &clock), HYSTRIX_OK);
    hystrix_command *cmd = short_timeout_command(clock, 100);

    /* The sync path, for reference: a 5 s run is a timeout. */
    late_sync_run r = {&now, 5000};
    void *value = NULL;
    CHECK_STATUS(hystrix_command_execute(cmd, ls_run, NULL, &r, &value), HYSTRIX_TIMEOUT);
    CHECK(value == NULL);

    /* The async path: queued at 6000, deadline 6100. */
    tcall c;
    queue_expecting_deadline(clock, cmd, &c, 6100);
    /* The loop wakes 5 s late and handles the run's completion first. */
    now = 11000;
    CHECK_STATUS(hystrix_complete(c.handle, HYSTRIX_OK, RUN_VALUE), HYSTRIX_TIMEOUT); /* value not used */
    CHECK_EQ(c.dones, 1);
    CHECK_STATUS(c.done_status, HYSTRIX_TIMEOUT);
    CHECK(c.done_value == NULL);
    CHECK_EQ(c.frees, 1);
    /* Then its timers: the timeout has nothing left to do. */
    CHECK_STATUS(hystrix_clock_fire_due(clock), HYSTRIX_OK);
    CHECK_EQ(c.dones, 1);
    CHECK_EQ(c.cancels, 0);
    hystrix_snapshot s = snap(cmd);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_TIMEOUT], 2);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_SUCCESS], 0);
    CHECK_EQ(s.concurrent, 0);
    tcall_destroy(&c);
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(clock), HYSTRIX_OK);
}

/* A program event loop on a monotonic caller-driven clock. */
typedef struct {
    uint64_t handle;
    int runs, dones;
    hystrix_status status;
    void *value;
    bool done_on_main;
    pthread_t main_thread;
} loop_call;

static void l_run(void *ud, uint64_t completion) {
    loop_call *c = ud;
    c->runs++;
    c->handle = completion;
}

static void l_done(void *ud, hystrix_status status, void *value) {
    loop_call *c = ud;
    c->dones++;
    c->status = status;
    c->value = value;
    c->done_on_main = pthread_equal(pthread_self(), c->main_thread);
}

static void l_complete_timer(void *ud) {
    loop_call *c = ud;
    CHECK_STATUS(hystrix_complete(c->handle, HYSTRIX_OK, RUN_VALUE), HYSTRIX_OK);
}

static void l_late_ack(void *ud, uint64_t completion) {
    (void)ud;
    CHECK_STATUS(hystrix_complete(completion, HYSTRIX_OK, NULL), HYSTRIX_TIMEOUT);
}

static void test_caller_mode_event_loop(void) {
    hystrix_clock *clock = NULL;
    CHECK_STATUS(hystrix_clock_new_monotonic(HYSTRIX_TIMERS_CALLER, &clock), HYSTRIX_OK);
    hystrix_command *cmd = short_timeout_command(clock, 200);
    loop_call slow = {.main_thread = pthread_self(), .status = HYSTRIX_PANIC};
    loop_call fast = {.main_thread = pthread_self(), .status = HYSTRIX_PANIC};
    /* Read before queuing: both timeouts are due at start + 200 or later,
     * whenever this thread gets to run the calls. */
    uint64_t start = 0;
    CHECK_STATUS(hystrix_clock_now(clock, &start), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_queue(cmd, l_run, l_late_ack, NULL, l_done, &slow, NULL, NULL), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_queue(cmd, l_run, l_late_ack, NULL, l_done, &fast, NULL, NULL), HYSTRIX_OK);
    /* The fast run completes from a timer 10 ms in, long before its timeout.
     * Due timers fire in due order, so this holds even if the loop below
     * oversleeps past both deadlines. */
    CHECK_STATUS(hystrix_clock_schedule(clock, start + 10, l_complete_timer, &fast, NULL), HYSTRIX_OK);

    int iterations = 0;
    for (;;) {
        bool has = false;
        uint64_t deadline = 0, now = 0;
        CHECK_STATUS(hystrix_clock_next_deadline(clock, &has, &deadline), HYSTRIX_OK);
        if (!has) break;
        CHECK_STATUS(hystrix_clock_now(clock, &now), HYSTRIX_OK);
        if (now - start > WAIT_BOUND_MS) break;
        if (deadline > now) sleep_ms(deadline - now);
        CHECK_STATUS(hystrix_clock_fire_due(clock), HYSTRIX_OK);
        iterations++;
    }
    CHECK(iterations >= 1);
    CHECK_EQ(fast.dones, 1);
    CHECK_STATUS(fast.status, HYSTRIX_OK);
    CHECK(fast.value == RUN_VALUE);
    CHECK(fast.done_on_main);
    CHECK_EQ(slow.dones, 1);
    CHECK_STATUS(slow.status, HYSTRIX_TIMEOUT);
    CHECK(slow.done_on_main);
    hystrix_snapshot s = snap(cmd);
    CHECK_EQ(s.concurrent, 0);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_SUCCESS], 1);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_TIMEOUT], 1);
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(clock), HYSTRIX_OK);
}

/* A run whose timeout fires on the timer thread while the run callback is
 * still executing, and which then completes from inside that callback, is a
 * TIMEOUT (SPEC §3: it was still going when the timeout fired), not a success. */
static atomic_int late_status;
static void late_run(void *ud, uint64_t completion) {
    const hystrix_command *cmd = ud;
    /* Still inside the run callback: wait (bounded) until the 20 ms timeout
     * has fired on the timer thread and recorded TIMEOUT, however late the
     * timer thread gets to run; only then complete. */
    for (int waited = 0; waited < WAIT_BOUND_MS && snap(cmd).cumulative[HYSTRIX_EVENT_TIMEOUT] == 0; waited += 5)
        sleep_ms(5);
    atomic_store(&late_status, (int)hystrix_complete(completion, HYSTRIX_OK, (void *)0x1234));
}
static atomic_int late_done_status = -1, late_dones;
static void late_done(void *ud, hystrix_status status, void *value) {
    (void)ud;
    CHECK(value == NULL);
    atomic_store(&late_done_status, (int)status);
    atomic_fetch_add(&late_dones, 1);
}
static void test_timeout_during_run_callback_is_a_timeout(void) {
    hystrix_clock *clock = NULL;
    CHECK_STATUS(hystrix_clock_new_monotonic(HYSTRIX_TIMERS_THREAD, &clock), HYSTRIX_OK);
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.timeout_ms = 20;
    hystrix_command *cmd = NULL;
    CHECK_STATUS(hystrix_command_new(&cfg, "late", clock, &cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_queue(cmd, late_run, NULL, NULL, late_done, cmd, NULL, NULL), HYSTRIX_OK);
    for (int waited = 0; waited < WAIT_BOUND_MS && atomic_load(&late_dones) == 0; waited += 5) sleep_ms(5);
    CHECK_EQ(atomic_load(&late_dones), 1);
    CHECK_EQ(atomic_load(&late_done_status), HYSTRIX_TIMEOUT);
    CHECK_EQ(atomic_load(&late_status), HYSTRIX_TIMEOUT);
    hystrix_snapshot s = snap(cmd);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_TIMEOUT], 1);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_SUCCESS], 0);
    CHECK_EQ(s.concurrent, 0);
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(clock), HYSTRIX_OK);
}

/* ---------------------------------------------------------------------
 * A call's callbacks never overlap: a worker completes the run, or cancels
 * the call, while the run callback is still running on the main thread;
 * `cancel` and `done` then run on the main thread once the run callback
 * has returned, never on the worker meanwhile.
 * ------------------------------------------------------------------- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t handle;
    bool started, completed;
    hystrix_status complete_status;
    int dones;
    bool done_in_run, done_on_main;
    bool in_run;
    pthread_t main_thread;
    bool cancel;    /* the worker cancels the call instead of completing the run */
    uint64_t id;
    int cancels;
    hystrix_status ack_status;
} overlap_call;

static void *overlap_worker(void *arg) {
    overlap_call *c = arg;
    pthread_mutex_lock(&c->mu);
    while (!c->started) pthread_cond_wait(&c->cv, &c->mu);
    uint64_t handle = c->handle;
    pthread_mutex_unlock(&c->mu);
    hystrix_status st = c->cancel ? hystrix_call_cancel(c->id) : hystrix_complete(handle, HYSTRIX_OK, RUN_VALUE);
    pthread_mutex_lock(&c->mu);
    c->complete_status = st;
    c->completed = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void overlap_run(void *ud, uint64_t completion) {
    overlap_call *c = ud;
    pthread_mutex_lock(&c->mu);
    c->in_run = true;
    c->handle = completion;
    c->started = true;
    pthread_cond_broadcast(&c->cv);
    /* Waits (bounded) until the worker's hystrix_complete has returned. */
    struct timespec until = deadline_in(WAIT_BOUND_MS);
    while (!c->completed && pthread_cond_timedwait(&c->cv, &c->mu, &until) == 0) {
    }
    CHECK(c->completed);
    CHECK_EQ(c->dones, 0); /* not delivered by the worker while the run runs */
    c->in_run = false;
    pthread_mutex_unlock(&c->mu);
}

static void overlap_done(void *ud, hystrix_status status, void *value) {
    overlap_call *c = ud;
    pthread_mutex_lock(&c->mu);
    c->dones++;
    c->done_in_run = c->in_run;
    c->done_on_main = pthread_equal(pthread_self(), c->main_thread);
    CHECK_STATUS(status, c->cancel ? HYSTRIX_CANCELLED : HYSTRIX_OK);
    CHECK(value == (c->cancel ? NULL : RUN_VALUE));
    pthread_mutex_unlock(&c->mu);
}

static void overlap_cancel(void *ud, uint64_t completion) {
    overlap_call *c = ud;
    pthread_mutex_lock(&c->mu);
    c->cancels++;
    CHECK(!c->in_run);
    CHECK(pthread_equal(pthread_self(), c->main_thread));
    pthread_mutex_unlock(&c->mu);
    c->ack_status = hystrix_complete(completion, HYSTRIX_OK, NULL); /* stops at once */
}

static void overlap(bool cancel) {
    hystrix_clock *clock = NULL;
    CHECK_STATUS(hystrix_clock_new_virtual(&clock), HYSTRIX_OK);
    hystrix_command *cmd = short_timeout_command(clock, 1000);
    overlap_call c;
    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    c.main_thread = pthread_self();
    c.cancel = cancel;
    pthread_t worker;
    CHECK(pthread_create(&worker, NULL, overlap_worker, &c) == 0);
    CHECK_STATUS(hystrix_command_queue(cmd, overlap_run, overlap_cancel, NULL, overlap_done, &c, NULL, &c.id),
                 HYSTRIX_OK);
    pthread_join(worker, NULL);
    CHECK_STATUS(c.complete_status, HYSTRIX_OK);
    CHECK_EQ(c.dones, 1);
    CHECK_EQ(c.cancels, cancel ? 1 : 0);
    if (cancel) CHECK_STATUS(c.ack_status, HYSTRIX_CANCELLED);
    CHECK(!c.done_in_run);
    CHECK(c.done_on_main);
    hystrix_snapshot s = snap(cmd);
    CHECK_EQ(s.concurrent, 0);
    CHECK_EQ(s.rolling[cancel ? HYSTRIX_EVENT_CANCELLED : HYSTRIX_EVENT_SUCCESS], 1);
    pthread_cond_destroy(&c.cv);
    pthread_mutex_destroy(&c.mu);
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(clock), HYSTRIX_OK);
}

static void test_callbacks_of_a_call_never_overlap(void) {
    overlap(false);
    overlap(true);
}

/* ---------------------------------------------------------------------
 * hystrix_call_cancel racing hystrix_complete: a completer thread
 * completes every run while a canceller thread cancels every call (and,
 * with 1 ms timeouts on a timer-thread clock, the timer thread times them
 * out). Each call settles exactly once, with the run's value (the
 * completion came first), HYSTRIX_CANCELLED (the cancellation did) or
 * HYSTRIX_TIMEOUT (the timeout did), and what hystrix_complete returned
 * says which.
 * ------------------------------------------------------------------- */

enum { RACE_CANCEL_CALLS = 1000 };

typedef struct {
    work_queue *completer;
    int index;
    atomic_int dones, frees, cancels;
    _Atomic(hystrix_status) status, complete_status, cancel_status;
    uint64_t id;
} ccall;

static ccall ccalls[RACE_CANCEL_CALLS];
static atomic_int ccalls_freed;

static void c_run(void *ud, uint64_t completion) {
    ccall *c = ud;
    wq_push(c->completer, (item){completion, c->index, false});
}

static void c_cancel(void *ud, uint64_t completion) {
    (void)completion; /* the completer completes it */
    ccall *c = ud;
    atomic_fetch_add(&c->cancels, 1);
}

static void c_done(void *ud, hystrix_status status, void *value) {
    ccall *c = ud;
    atomic_store(&c->status, status);
    if (status == HYSTRIX_OK && value != c) atomic_store(&c->status, HYSTRIX_PANIC);
    atomic_fetch_add(&c->dones, 1);
}

static void c_free(void *ud) {
    ccall *c = ud;
    atomic_fetch_add(&c->frees, 1);
    atomic_fetch_add(&ccalls_freed, 1);
}

static void *completer(void *arg) {
    work_queue *q = arg;
    for (item it = wq_pop(q); it.index >= 0; it = wq_pop(q)) {
        atomic_store(&ccalls[it.index].complete_status, hystrix_complete(it.handle, HYSTRIX_OK, &ccalls[it.index]));
    }
    return NULL;
}

static void *canceller(void *arg) {
    work_queue *q = arg;
    for (item it = wq_pop(q); it.index >= 0; it = wq_pop(q)) {
        atomic_store(&ccalls[it.index].cancel_status, hystrix_call_cancel(it.handle));
    }
    return NULL;
}

static void cancel_race(bool timeouts) {
    static work_queue completions, cancels;
    memset(&completions, 0, sizeof completions);
    memset(&cancels, 0, sizeof cancels);
    pthread_mutex_init(&completions.mu, NULL);
    pthread_cond_init(&completions.cv, NULL);
    pthread_mutex_init(&cancels.mu, NULL);
    pthread_cond_init(&cancels.cv, NULL);
    atomic_store(&ccalls_freed, 0);
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.circuit_breaker_enabled = false;
    cfg.max_concurrent_requests = RACE_CANCEL_CALLS;
    cfg.timeout_ms = timeouts ? 1 : 60000;
    hystrix_clock *clock = NULL;
    hystrix_command *cmd = NULL;
    if (timeouts) {
        CHECK_STATUS(hystrix_clock_new_monotonic(HYSTRIX_TIMERS_THREAD, &clock), HYSTRIX_OK);
        warm_up_timer_thread(clock);
    } else {
        CHECK_STATUS(hystrix_clock_new_virtual(&clock), HYSTRIX_OK); /* never moves: no timeout fires */
    }
    CHECK_STATUS(hystrix_command_new(&cfg, "cancel-race", clock, &cmd), HYSTRIX_OK);
    pthread_t threads[2];
    CHECK(pthread_create(&threads[0], NULL, completer, &completions) == 0);
    CHECK(pthread_create(&threads[1], NULL, canceller, &cancels) == 0);
    for (int i = 0; i < RACE_CANCEL_CALLS; i++) {
        ccall *c = &ccalls[i];
        memset(c, 0, sizeof *c);
        c->completer = &completions;
        c->index = i;
        atomic_store(&c->status, HYSTRIX_PANIC);
        CHECK_STATUS(hystrix_command_queue(cmd, c_run, c_cancel, NULL, c_done, c, c_free, &c->id), HYSTRIX_OK);
        wq_push(&cancels, (item){c->id, i, false});
    }
    for (int waited = 0; waited < WAIT_BOUND_MS && atomic_load(&ccalls_freed) < RACE_CANCEL_CALLS; waited += 5) {
        sleep_ms(5);
    }
    CHECK_EQ(atomic_load(&ccalls_freed), RACE_CANCEL_CALLS);
    wq_push(&completions, (item){0, -1, false});
    wq_push(&cancels, (item){0, -1, false});
    pthread_join(threads[0], NULL);
    pthread_join(threads[1], NULL);

    int bad = 0, ok = 0, cancelled = 0, timed_out = 0, cancels_accepted = 0, cancel_callbacks = 0;
    for (int i = 0; i < RACE_CANCEL_CALLS; i++) {
        ccall *c = &ccalls[i];
        hystrix_status st = atomic_load(&c->status), completed = atomic_load(&c->complete_status);
        hystrix_status cancel = atomic_load(&c->cancel_status);
        if (atomic_load(&c->dones) != 1 || atomic_load(&c->frees) != 1) bad++;
        if (st == HYSTRIX_OK && completed == HYSTRIX_OK) {
            ok++;
        } else if (st == HYSTRIX_CANCELLED && completed == HYSTRIX_CANCELLED) {
            cancelled++;
        } else if (timeouts && st == HYSTRIX_TIMEOUT && completed == HYSTRIX_TIMEOUT) {
            timed_out++;
        } else {
            bad++;
        }
        if (cancel == HYSTRIX_OK) {
            cancels_accepted++;
        } else if (cancel != HYSTRIX_INVALID_STATE) {
            bad++;
        }
        cancel_callbacks += atomic_load(&c->cancels);
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(ok + cancelled + timed_out, RACE_CANCEL_CALLS);
    CHECK(cancels_accepted >= cancelled);
    CHECK(cancel_callbacks <= cancelled + timed_out);
    hystrix_snapshot s = snap(cmd);
    CHECK_EQ(s.concurrent, 0);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_SUCCESS], ok);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_CANCELLED], cancelled);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_TIMEOUT], timed_out);
    free_with_no_timer_armed(cmd, clock);
    pthread_mutex_destroy(&completions.mu);
    pthread_cond_destroy(&completions.cv);
    pthread_mutex_destroy(&cancels.mu);
    pthread_cond_destroy(&cancels.cv);
}

static void test_cancel_races_completion(void) {
    cancel_race(false);
    cancel_race(true);
}

int main(void) {
    RUN(test_workers_complete_queued_handles);
    RUN(test_sync_execute_from_many_threads);
    RUN(test_sync_bulkhead_under_contention);
    RUN(test_free_command_during_sync_execute_elsewhere);
    RUN(test_timer_thread_fires_timeout);
    RUN(test_timers_work_after_clock_handle_freed);
    RUN(test_timer_thread_never_cancels_before_run);
    RUN(test_fn_clock_thread_mode_finalizer);
    RUN(test_virtual_clock_advanced_by_two_threads);
    RUN(test_virtual_clock_advanced_by_eight_threads);
    RUN(test_caller_mode_on_program_clock);
    RUN(test_caller_mode_event_loop);
    RUN(test_late_loop_run_past_deadline_is_timeout);
    RUN(test_timeout_during_run_callback_is_a_timeout);
    RUN(test_callbacks_of_a_call_never_overlap);
    RUN(test_cancel_races_completion);
    CHECK_STATUS(hystrix_shutdown(), HYSTRIX_OK);
    return check_summary("test_threads");
}
