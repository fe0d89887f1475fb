/* Calls that make several attempts (SPEC v2: hedging, retries) through
 * hystrix_command_queue on a virtual clock: two runs of one call open at
 * once, the winner's value delivered, the loser told to stop and its
 * completion answered with the "still yours" status; which attempt a
 * completion handle is (hystrix_completion_attempt); a call's own events
 * (hystrix_call_events); the limit and budget (hystrix_command_limit_budget);
 * two threads completing both runs of a hedged call at once; and the
 * blocking hystrix_command_execute retrying on the caller's thread, each
 * run told its attempt by hystrix_current_attempt. */
#include "hystrix.h"
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

static char WINNER[] = "winner";
static char LOSER[] = "loser";
static char FALLBACK_VALUE[] = "fallback";

#define MAX_RUNS 4

typedef struct {
    uint64_t id; /* the call handle */
    uint64_t runs[MAX_RUNS];
    uint32_t attempts[MAX_RUNS];
    int n_runs;
    uint64_t cancelled[MAX_RUNS];
    int n_cancels;
    bool fail_runs; /* complete each run at once with a failure */
    bool racing;    /* its handles are being completed from other threads */
    uint64_t fallback;
    int fallbacks;
    int dones, frees;
    hystrix_status done_status;
    void *done_value;
    hystrix_event events[8];
    size_t n_events;
    hystrix_status events_status;
    char log[32]; /* R run, C cancel, F fallback, D done, X freed */
} call;

static void note(call *c, char what) {
    size_t n = strlen(c->log);
    if (n + 1 < sizeof c->log) c->log[n] = what;
}

static void on_run(void *ud, uint64_t completion) {
    call *c = ud;
    note(c, 'R');
    CHECK(c->n_runs < MAX_RUNS);
    if (c->n_runs >= MAX_RUNS) return;
    uint32_t attempt = 0;
    CHECK_STATUS(hystrix_completion_attempt(completion, &attempt), HYSTRIX_OK);
    c->runs[c->n_runs] = completion;
    c->attempts[c->n_runs] = attempt;
    c->n_runs++;
    if (c->fail_runs) CHECK_STATUS(hystrix_complete(completion, HYSTRIX_FAILURE, NULL), HYSTRIX_OK);
}

static void on_cancel(void *ud, uint64_t completion) {
    call *c = ud;
    note(c, 'C');
    /* The handle stays valid until completed: it still names its attempt
     * (unless another thread is completing it right now). */
    uint32_t attempt = 0;
    if (!c->racing) CHECK_STATUS(hystrix_completion_attempt(completion, &attempt), HYSTRIX_OK);
    if (c->n_cancels < MAX_RUNS) c->cancelled[c->n_cancels++] = completion;
}

static void on_fallback(void *ud, hystrix_status cause, uint64_t completion) {
    (void)cause;
    call *c = ud;
    note(c, 'F');
    c->fallbacks++;
    c->fallback = completion;
    /* A fallback's handle is no run's. */
    uint32_t attempt = 777;
    CHECK_STATUS(hystrix_completion_attempt(completion, &attempt), HYSTRIX_INVALID_ARGUMENT);
    CHECK_EQ(attempt, 777);
    CHECK_STATUS(hystrix_complete(completion, HYSTRIX_OK, FALLBACK_VALUE), HYSTRIX_OK);
}

static void on_done(void *ud, hystrix_status status, void *value) {
    call *c = ud;
    note(c, 'D');
    c->dones++;
    c->done_status = status;
    c->done_value = value;
    /* The call's events can be read until done has returned. */
    c->events_status = hystrix_call_events(c->id, c->events, 8, &c->n_events);
}

static void on_free(void *ud) {
    call *c = ud;
    note(c, 'X');
    c->frees++;
}

typedef struct {
    hystrix_clock *clock;
    hystrix_command *cmd;
} fixture;

static fixture setup(void (*tweak)(hystrix_config *)) {
    fixture f = {NULL, NULL};
    hystrix_config cfg;
    CHECK_STATUS(hystrix_config_default(&cfg), HYSTRIX_OK);
    cfg.timeout_ms = 100;
    cfg.health_snapshot_interval_ms = 0;
    if (tweak) tweak(&cfg);
    CHECK_STATUS(hystrix_clock_new_virtual(&f.clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_new(&cfg, "multi", f.clock, &f.cmd), HYSTRIX_OK);
    return f;
}

static void teardown(fixture f) {
    CHECK_STATUS(hystrix_command_free(f.cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(f.clock), HYSTRIX_OK);
}

static uint32_t concurrent(fixture f) {
    hystrix_snapshot s;
    CHECK_STATUS(hystrix_command_snapshot(f.cmd, &s), HYSTRIX_OK);
    return s.concurrent;
}

static void set_hedge(hystrix_config *cfg) {
    cfg->hedge_max_attempts = 2;
    cfg->hedge_delay_ms = 10;
}

static void test_hedge_winner_and_loser(void) {
    fixture f = setup(set_hedge);
    call c;
    memset(&c, 0, sizeof c);
    CHECK_STATUS(hystrix_command_queue(f.cmd, on_run, on_cancel, NULL, on_done, &c, on_free, &c.id), HYSTRIX_OK);
    CHECK_EQ(c.n_runs, 1);
    CHECK_EQ(c.attempts[0], 1);
    /* The hedge starts after hedge_delay_ms: two runs of one call are open. */
    CHECK_STATUS(hystrix_clock_advance(f.clock, 10), HYSTRIX_OK);
    CHECK_EQ(c.n_runs, 2);
    CHECK_EQ(c.attempts[1], 2);
    CHECK(c.runs[0] != c.runs[1]);
    CHECK_EQ(concurrent(f), 2);
    /* While the call runs its events are those so far. */
    hystrix_event so_far[4];
    size_t n = 0;
    CHECK_STATUS(hystrix_call_events(c.id, so_far, 4, &n), HYSTRIX_OK);
    CHECK_EQ(n, 1);
    CHECK_EQ(so_far[0], HYSTRIX_EVENT_HEDGE);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 2), HYSTRIX_OK);
    /* The hedge wins: the first run is told to stop, then done gets the
     * winner's value. */
    CHECK_STATUS(hystrix_complete(c.runs[1], HYSTRIX_OK, WINNER), HYSTRIX_OK);
    CHECK(strcmp(c.log, "RRCD") == 0);
    CHECK_EQ(c.n_cancels, 1);
    CHECK_EQ(c.cancelled[0], c.runs[0]);
    CHECK_STATUS(c.done_status, HYSTRIX_OK);
    CHECK(c.done_value == WINNER);
    CHECK_STATUS(c.events_status, HYSTRIX_OK);
    CHECK_EQ(c.n_events, 3);
    CHECK_EQ(c.events[0], HYSTRIX_EVENT_HEDGE);
    CHECK_EQ(c.events[1], HYSTRIX_EVENT_SUCCESS);
    CHECK_EQ(c.events[2], HYSTRIX_EVENT_CANCELLED);
    /* The loser holds its permit until its completion, which is still
     * yours: cancelled, its value unused. */
    CHECK_EQ(concurrent(f), 1);
    CHECK_EQ(c.frees, 0);
    uint32_t attempt = 0;
    CHECK_STATUS(hystrix_completion_attempt(c.runs[0], &attempt), HYSTRIX_OK);
    CHECK_EQ(attempt, 1);
    CHECK_STATUS(hystrix_complete(c.runs[0], HYSTRIX_OK, LOSER), HYSTRIX_CANCELLED);
    CHECK_EQ(concurrent(f), 0);
    CHECK_EQ(c.dones, 1);
    CHECK(c.done_value == WINNER);
    CHECK_EQ(c.frees, 1);
    /* Completed handles are unknown now; outputs untouched on error. */
    attempt = 99;
    CHECK_STATUS(hystrix_completion_attempt(c.runs[0], &attempt), HYSTRIX_INVALID_STATE);
    CHECK_STATUS(hystrix_completion_attempt(c.runs[1], &attempt), HYSTRIX_INVALID_STATE);
    CHECK_STATUS(hystrix_completion_attempt(c.id, &attempt), HYSTRIX_INVALID_STATE);
    CHECK_EQ(attempt, 99);
    CHECK_STATUS(hystrix_completion_attempt(c.runs[0], NULL), HYSTRIX_NULL_ARGUMENT);
    CHECK_STATUS(hystrix_complete(c.runs[0], HYSTRIX_OK, LOSER), HYSTRIX_INVALID_STATE);
    /* Once done has returned, the call's events are gone. */
    n = 42;
    CHECK_STATUS(hystrix_call_events(c.id, NULL, 0, &n), HYSTRIX_INVALID_STATE);
    CHECK_STATUS(hystrix_call_events(c.runs[0], NULL, 0, &n), HYSTRIX_INVALID_ARGUMENT);
    CHECK_STATUS(hystrix_call_events(0, NULL, 0, &n), HYSTRIX_INVALID_ARGUMENT);
    CHECK_EQ(n, 42);
    teardown(f);
}

/* The loser of a hedge that ignores the stop completes later; the first
 * attempt can win as well, and a second completion of the winner's handle
 * is refused. */
static void test_hedge_first_attempt_wins(void) {
    fixture f = setup(set_hedge);
    call c;
    memset(&c, 0, sizeof c);
    CHECK_STATUS(hystrix_command_queue(f.cmd, on_run, on_cancel, NULL, on_done, &c, on_free, &c.id), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 15), HYSTRIX_OK);
    CHECK_EQ(c.n_runs, 2);
    CHECK_STATUS(hystrix_complete(c.runs[0], HYSTRIX_OK, WINNER), HYSTRIX_OK);
    CHECK(c.done_value == WINNER);
    CHECK_EQ(c.n_cancels, 1);
    CHECK_EQ(c.cancelled[0], c.runs[1]);
    CHECK_STATUS(hystrix_complete(c.runs[0], HYSTRIX_OK, WINNER), HYSTRIX_INVALID_STATE);
    /* The loser's own timeout is gone with its attempt: nothing fires. */
    CHECK_STATUS(hystrix_clock_advance(f.clock, 500), HYSTRIX_OK);
    CHECK(strcmp(c.log, "RRCD") == 0);
    CHECK_STATUS(hystrix_complete(c.runs[1], HYSTRIX_FAILURE, NULL), HYSTRIX_CANCELLED);
    CHECK(strcmp(c.log, "RRCDX") == 0);
    CHECK_EQ(concurrent(f), 0);
    teardown(f);
}

/* A hedge's own timeout: the timed-out attempt's completion is still
 * yours with HYSTRIX_TIMEOUT, while the other attempt goes on. */
static void test_hedge_timeout_of_one_attempt(void) {
    fixture f = setup(set_hedge);
    call c;
    memset(&c, 0, sizeof c);
    CHECK_STATUS(hystrix_command_queue(f.cmd, on_run, on_cancel, NULL, on_done, &c, on_free, &c.id), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 10), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 90), HYSTRIX_OK); /* t=100: attempt 1 times out */
    CHECK_EQ(c.n_cancels, 1);
    CHECK_EQ(c.dones, 0);
    CHECK_STATUS(hystrix_complete(c.runs[0], HYSTRIX_OK, LOSER), HYSTRIX_TIMEOUT);
    CHECK_STATUS(hystrix_complete(c.runs[1], HYSTRIX_OK, WINNER), HYSTRIX_OK);
    CHECK_STATUS(c.done_status, HYSTRIX_OK);
    CHECK(c.done_value == WINNER);
    CHECK(strcmp(c.log, "RRCDX") == 0);
    teardown(f);
}

static void set_retry(hystrix_config *cfg) {
    cfg->retry_max_attempts = 3;
    cfg->retry_base_delay_ms = 20;
    cfg->retry_jitter = HYSTRIX_JITTER_NONE;
}

/* Retries: every run fails at once; the backoffs fire inside
 * hystrix_clock_advance; then the fallback answers. */
static void test_retries_then_fallback(void) {
    fixture f = setup(set_retry);
    call c;
    memset(&c, 0, sizeof c);
    c.fail_runs = true;
    CHECK_STATUS(hystrix_command_queue(f.cmd, on_run, on_cancel, on_fallback, on_done, &c, on_free, &c.id),
                 HYSTRIX_OK);
    CHECK_EQ(c.n_runs, 1);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 1000), HYSTRIX_OK);
    CHECK_EQ(c.n_runs, 3);
    for (int i = 0; i < c.n_runs; i++) CHECK_EQ(c.attempts[i], (uint32_t)i + 1);
    CHECK_EQ(c.fallbacks, 1);
    CHECK_STATUS(c.done_status, HYSTRIX_OK);
    CHECK(c.done_value == FALLBACK_VALUE);
    CHECK(strcmp(c.log, "RRRFDX") == 0);
    CHECK_STATUS(c.events_status, HYSTRIX_OK);
    static const hystrix_event want[] = {HYSTRIX_EVENT_FAILURE, HYSTRIX_EVENT_RETRY, HYSTRIX_EVENT_FAILURE,
                                         HYSTRIX_EVENT_RETRY, HYSTRIX_EVENT_FAILURE, HYSTRIX_EVENT_FALLBACK_SUCCESS};
    CHECK_EQ(c.n_events, 6);
    for (size_t i = 0; i < 6 && i < c.n_events; i++) CHECK_EQ(c.events[i], want[i]);
    teardown(f);
}

/* hystrix_call_events with too small an array: the count says how many. */
static void test_call_events_count(void) {
    fixture f = setup(set_retry);
    call c;
    memset(&c, 0, sizeof c);
    CHECK_STATUS(hystrix_command_queue(f.cmd, on_run, on_cancel, NULL, on_done, &c, on_free, &c.id), HYSTRIX_OK);
    CHECK_STATUS(hystrix_complete(c.runs[0], HYSTRIX_FAILURE, NULL), HYSTRIX_OK); /* a retry waits */
    hystrix_event one[1] = {HYSTRIX_EVENT_HEDGE};
    size_t n = 0;
    CHECK_STATUS(hystrix_call_events(c.id, one, 1, &n), HYSTRIX_OK);
    CHECK_EQ(n, 2);
    CHECK_EQ(one[0], HYSTRIX_EVENT_FAILURE);
    CHECK_STATUS(hystrix_call_events(c.id, NULL, 0, &n), HYSTRIX_OK);
    CHECK_EQ(n, 2);
    CHECK_STATUS(hystrix_call_events(c.id, NULL, 1, &n), HYSTRIX_NULL_ARGUMENT);
    CHECK_STATUS(hystrix_call_events(c.id, one, 1, NULL), HYSTRIX_NULL_ARGUMENT);
    /* Cancelled in its backoff: settles at once, no further attempt. */
    CHECK_STATUS(hystrix_call_cancel(c.id), HYSTRIX_OK);
    CHECK_STATUS(c.done_status, HYSTRIX_CANCELLED);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 1000), HYSTRIX_OK);
    CHECK_EQ(c.n_runs, 1);
    CHECK_EQ(c.frees, 1);
    teardown(f);
}

static void set_hedge_at_once(hystrix_config *cfg) {
    cfg->hedge_max_attempts = 2;
    cfg->hedge_delay_ms = 0;
}

typedef struct {
    uint64_t handle;
    void *value;
    hystrix_status rc;
} racer;

static void *race(void *arg) {
    racer *r = arg;
    r->rc = hystrix_complete(r->handle, HYSTRIX_OK, r->value);
    return NULL;
}

/* Both runs of a hedged call complete at once from two threads: exactly
 * one wins (HYSTRIX_OK, its value goes to done), the other's completion is
 * still yours (HYSTRIX_CANCELLED), whichever thread drives the call. */
static void test_hedge_completions_race(void) {
    fixture f = setup(set_hedge_at_once);
    for (int i = 0; i < 200; i++) {
        call c;
        memset(&c, 0, sizeof c);
        CHECK_STATUS(hystrix_command_queue(f.cmd, on_run, on_cancel, NULL, on_done, &c, on_free, &c.id),
                     HYSTRIX_OK);
        CHECK_STATUS(hystrix_clock_advance(f.clock, 0), HYSTRIX_OK); /* the hedge, at once */
        CHECK_EQ(c.n_runs, 2);
        if (c.n_runs != 2) break;
        c.racing = true;
        racer a = {c.runs[0], WINNER, HYSTRIX_PANIC}, b = {c.runs[1], LOSER, HYSTRIX_PANIC};
        pthread_t ta, tb;
        CHECK_EQ(pthread_create(&ta, NULL, race, &a), 0);
        CHECK_EQ(pthread_create(&tb, NULL, race, &b), 0);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        bool a_won = a.rc == HYSTRIX_OK;
        CHECK(a_won != (b.rc == HYSTRIX_OK));
        CHECK_STATUS(a_won ? b.rc : a.rc, HYSTRIX_CANCELLED);
        CHECK_EQ(c.dones, 1);
        CHECK_STATUS(c.done_status, HYSTRIX_OK);
        CHECK(c.done_value == (a_won ? WINNER : LOSER));
        CHECK_EQ(c.frees, 1);
        CHECK_EQ(concurrent(f), 0);
    }
    teardown(f);
}

static void set_limit(hystrix_config *cfg) { cfg->max_concurrent_requests = 7; }

static void test_limit_and_budget(void) {
    fixture f = setup(set_limit);
    uint64_t limit = 0;
    int64_t budget = -5;
    CHECK_STATUS(hystrix_command_limit_budget(f.cmd, &limit, &budget), HYSTRIX_OK);
    CHECK_EQ(limit, 7);
    CHECK_EQ(budget, 0); /* the budget is off */
    CHECK_STATUS(hystrix_command_limit_budget(f.cmd, NULL, NULL), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_limit_budget(NULL, &limit, &budget), HYSTRIX_NULL_ARGUMENT);
    teardown(f);
}

/* The blocking hystrix_command_execute retries too, calling the run again
 * on this thread; each run learns its attempt (hystrix_current_attempt). */
typedef struct {
    uint32_t attempts[MAX_RUNS];
    int runs;
    int succeed_at; /* the attempt that succeeds; 0 = none */
    int fallbacks;
    hystrix_status fallback_attempt_status;
} sync_runs;

static int sync_run(void *ud, void **out) {
    sync_runs *r = ud;
    uint32_t attempt = 0;
    CHECK_STATUS(hystrix_current_attempt(&attempt), HYSTRIX_OK);
    if (r->runs < MAX_RUNS) r->attempts[r->runs] = attempt;
    r->runs++;
    if ((int)attempt == r->succeed_at) {
        *out = WINNER;
        return HYSTRIX_OK;
    }
    return HYSTRIX_FAILURE;
}

static int sync_fallback(void *ud, hystrix_status cause, void **out) {
    sync_runs *r = ud;
    CHECK_STATUS(cause, HYSTRIX_FAILURE);
    uint32_t attempt = 99;
    r->fallback_attempt_status = hystrix_current_attempt(&attempt);
    CHECK_EQ(attempt, 99);
    r->fallbacks++;
    *out = FALLBACK_VALUE;
    return HYSTRIX_OK;
}

/* As set_retry, with 0 ms backoffs: a blocking call on a virtual clock
 * nobody advances must not wait. */
static void set_sync_retry(hystrix_config *cfg) {
    set_retry(cfg);
    cfg->retry_base_delay_ms = 0;
}

static void test_sync_execute_retries(void) {
    fixture f = setup(set_sync_retry);
    uint32_t attempt = 5;
    CHECK_STATUS(hystrix_current_attempt(&attempt), HYSTRIX_INVALID_STATE);
    CHECK_EQ(attempt, 5);
    CHECK_STATUS(hystrix_current_attempt(NULL), HYSTRIX_NULL_ARGUMENT);

    /* Two failures, then a success on the third attempt. */
    sync_runs r;
    memset(&r, 0, sizeof r);
    r.succeed_at = 3;
    void *value = NULL;
    CHECK_STATUS(hystrix_command_execute(f.cmd, sync_run, sync_fallback, &r, &value), HYSTRIX_OK);
    CHECK(value == WINNER);
    CHECK_EQ(r.runs, 3);
    for (int i = 0; i < 3; i++) CHECK_EQ(r.attempts[i], (uint32_t)i + 1);
    CHECK_EQ(r.fallbacks, 0);

    /* Every attempt fails: three runs, then the fallback (no attempt). */
    memset(&r, 0, sizeof r);
    value = NULL;
    CHECK_STATUS(hystrix_command_execute(f.cmd, sync_run, sync_fallback, &r, &value), HYSTRIX_OK);
    CHECK(value == FALLBACK_VALUE);
    CHECK_EQ(r.runs, 3);
    CHECK_EQ(r.fallbacks, 1);
    CHECK_STATUS(r.fallback_attempt_status, HYSTRIX_INVALID_STATE);

    /* Without a fallback the caller sees the last attempt's failure. */
    memset(&r, 0, sizeof r);
    CHECK_STATUS(hystrix_command_execute(f.cmd, sync_run, NULL, &r, &value), HYSTRIX_FAILURE);
    CHECK_EQ(r.runs, 3);
    CHECK_STATUS(hystrix_current_attempt(&attempt), HYSTRIX_INVALID_STATE);

    hystrix_snapshot s;
    CHECK_STATUS(hystrix_command_snapshot(f.cmd, &s), HYSTRIX_OK);
    CHECK_EQ(s.concurrent, 0);
    teardown(f);
}

/* A command without retry: one run, attempt 1. */
static void test_sync_execute_single_attempt(void) {
    fixture f = setup(NULL);
    sync_runs r;
    memset(&r, 0, sizeof r);
    r.succeed_at = 1;
    void *value = NULL;
    CHECK_STATUS(hystrix_command_execute(f.cmd, sync_run, NULL, &r, &value), HYSTRIX_OK);
    CHECK(value == WINNER);
    CHECK_EQ(r.runs, 1);
    CHECK_EQ(r.attempts[0], 1);
    teardown(f);
}

/* Nested blocking calls: a run of A executes B, whose runs fail and whose
 * fallback answers; B's runs see B's attempts, B's fallback sees none, and
 * A's run sees its own attempt again after B returned. */
typedef struct {
    hystrix_command *inner;
    sync_runs inner_runs;
    uint32_t outer_attempts[MAX_RUNS], after_inner[MAX_RUNS];
    int outer_runs;
} nested;

static int outer_run(void *ud, void **out) {
    nested *n = ud;
    uint32_t mine = 0, after = 0;
    CHECK_STATUS(hystrix_current_attempt(&mine), HYSTRIX_OK);
    void *v = NULL;
    CHECK_STATUS(hystrix_command_execute(n->inner, sync_run, sync_fallback, &n->inner_runs, &v), HYSTRIX_OK);
    CHECK(v == FALLBACK_VALUE);
    CHECK_STATUS(hystrix_current_attempt(&after), HYSTRIX_OK);
    if (n->outer_runs < MAX_RUNS) {
        n->outer_attempts[n->outer_runs] = mine;
        n->after_inner[n->outer_runs] = after;
    }
    n->outer_runs++;
    if (mine < 2) return HYSTRIX_FAILURE;
    *out = WINNER;
    return HYSTRIX_OK;
}

static void test_sync_execute_nested(void) {
    fixture outer = setup(set_sync_retry);
    fixture inner = setup(set_sync_retry);
    nested n;
    memset(&n, 0, sizeof n);
    n.inner = inner.cmd;
    void *value = NULL;
    CHECK_STATUS(hystrix_command_execute(outer.cmd, outer_run, NULL, &n, &value), HYSTRIX_OK);
    CHECK(value == WINNER);
    CHECK_EQ(n.outer_runs, 2);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(n.outer_attempts[i], (uint32_t)i + 1);
        CHECK_EQ(n.after_inner[i], (uint32_t)i + 1);
    }
    CHECK_EQ(n.inner_runs.runs, 6); /* three attempts per inner call */
    for (int i = 0; i < MAX_RUNS; i++) CHECK_EQ(n.inner_runs.attempts[i], (uint32_t)(i % 3) + 1);
    CHECK_EQ(n.inner_runs.fallbacks, 2);
    /* The inner fallback ran inside the outer run: still "no run of this call". */
    CHECK_STATUS(n.inner_runs.fallback_attempt_status, HYSTRIX_INVALID_STATE);
    teardown(inner);
    teardown(outer);
}

/* A blocking retry's backoff on a virtual clock waits for the clock: here
 * another thread advances it (1 ms a step) until the call has returned. */
typedef struct {
    hystrix_clock *clock;
    atomic_int stop;
    int steps;
} ticker;

static void *tick(void *arg) {
    ticker *t = arg;
    while (!atomic_load(&t->stop)) {
        hystrix_clock_advance(t->clock, 1);
        t->steps++;
        struct timespec pause = {0, 200000L};
        nanosleep(&pause, NULL);
    }
    return NULL;
}

static void set_slow_sync_retry(hystrix_config *cfg) {
    set_retry(cfg); /* 3 attempts, 20 ms backoffs, no jitter */
    cfg->timeout_ms = 100000;
}

static void test_sync_execute_backoff_waits_for_the_clock(void) {
    fixture f = setup(set_slow_sync_retry);
    ticker t = {f.clock, 0, 0};
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, tick, &t), 0);
    sync_runs r;
    memset(&r, 0, sizeof r);
    r.succeed_at = 3;
    void *value = NULL;
    CHECK_STATUS(hystrix_command_execute(f.cmd, sync_run, NULL, &r, &value), HYSTRIX_OK);
    uint64_t done_at = 0;
    CHECK_STATUS(hystrix_clock_now(f.clock, &done_at), HYSTRIX_OK);
    atomic_store(&t.stop, 1);
    pthread_join(th, NULL);
    CHECK(value == WINNER);
    CHECK_EQ(r.runs, 3);
    /* Two backoffs of 20 ms then 40 ms (doubling) passed on the clock. */
    CHECK(done_at >= 60);
    teardown(f);
}

int main(void) {
    RUN(test_hedge_winner_and_loser);
    RUN(test_hedge_first_attempt_wins);
    RUN(test_hedge_timeout_of_one_attempt);
    RUN(test_retries_then_fallback);
    RUN(test_call_events_count);
    RUN(test_limit_and_budget);
    RUN(test_hedge_completions_race);
    RUN(test_sync_execute_retries);
    RUN(test_sync_execute_single_attempt);
    RUN(test_sync_execute_nested);
    RUN(test_sync_execute_backoff_waits_for_the_clock);
    CHECK_STATUS(hystrix_shutdown(), HYSTRIX_OK);
    return check_summary("test_multi_attempt");
}
