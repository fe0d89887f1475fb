/* hystrix_command_execute: values, fallbacks and their causes, bad
 * requests, short-circuits, bulkhead rejection, fallback failure and
 * disabling, and synchronous timeouts measured on a program clock. */
#include "hystrix.h"
#include "check.h"

#include <pthread.h>
#include <stdlib.h>

static char RUN_VALUE[] = "run";
static char FALLBACK_VALUE[] = "fallback";
static char SENTINEL[] = "untouched";

/* What the callbacks saw. */
typedef struct {
    int runs;
    int fallbacks;
    hystrix_status cause;
    int32_t run_result;      /* what run returns */
    int32_t fallback_result; /* what the fallback returns */
    uint64_t *now;           /* program clock a run may advance */
    uint64_t run_takes_ms;   /* how far run advances it */
} probe;

static int32_t run_cb(void *ud, void **out) {
    probe *p = ud;
    p->runs++;
    if (p->now) *p->now += p->run_takes_ms;
    if (p->run_result == HYSTRIX_OK) *out = RUN_VALUE;
    return p->run_result;
}

static int32_t fallback_cb(void *ud, hystrix_status cause, void **out) {
    probe *p = ud;
    p->fallbacks++;
    p->cause = cause;
    if (p->fallback_result == HYSTRIX_OK) *out = FALLBACK_VALUE;
    return p->fallback_result;
}

static hystrix_config config_for_tests(void) {
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.health_snapshot_interval_ms = 0;
    return cfg;
}

static hystrix_command *make_command(const hystrix_config *cfg, hystrix_clock **clock_out) {
    hystrix_clock *clock = NULL;
    hystrix_command *cmd = NULL;
    CHECK_STATUS(hystrix_clock_new_virtual(&clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_new(cfg, "sync", clock, &cmd), HYSTRIX_OK);
    *clock_out = clock;
    return cmd;
}

static hystrix_snapshot snap(const hystrix_command *cmd) {
    hystrix_snapshot s;
    memset(&s, 0xab, sizeof s);
    CHECK_STATUS(hystrix_command_snapshot(cmd, &s), HYSTRIX_OK);
    return s;
}

static void free_all(hystrix_command *cmd, hystrix_clock *clock) {
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(clock), HYSTRIX_OK);
}

static void test_value_from_run(void) {
    hystrix_config cfg = config_for_tests();
    hystrix_clock *clock;
    hystrix_command *cmd = make_command(&cfg, &clock);
    probe p = {.run_result = HYSTRIX_OK, .fallback_result = HYSTRIX_OK};
    void *value = NULL;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, fallback_cb, &p, &value), HYSTRIX_OK);
    CHECK(value == RUN_VALUE);
    CHECK_EQ(p.runs, 1);
    CHECK_EQ(p.fallbacks, 0);
    hystrix_snapshot s = snap(cmd);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_SUCCESS], 1);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_SUCCESS], 1);
    CHECK_EQ(s.health_total, 1);
    CHECK_EQ(s.health_errors, 0);
    CHECK_EQ(s.concurrent, 0);
    CHECK_EQ(s.state, HYSTRIX_STATE_CLOSED);
    /* Without a fallback too. */
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, NULL, &p, &value), HYSTRIX_OK);
    CHECK(value == RUN_VALUE);
    free_all(cmd, clock);
}

static void test_fallback_on_failure(void) {
    hystrix_config cfg = config_for_tests();
    hystrix_clock *clock;
    hystrix_command *cmd = make_command(&cfg, &clock);
    /* Any non-OK, non-bad-request value is a failure, even an odd one. */
    int32_t failures[] = {HYSTRIX_FAILURE, HYSTRIX_TIMEOUT, -1, 42};
    for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++) {
        probe p = {.run_result = failures[i], .fallback_result = HYSTRIX_OK, .cause = HYSTRIX_OK};
        void *value = NULL;
        CHECK_STATUS(hystrix_command_execute(cmd, run_cb, fallback_cb, &p, &value), HYSTRIX_OK);
        CHECK(value == FALLBACK_VALUE);
        CHECK_EQ(p.runs, 1);
        CHECK_EQ(p.fallbacks, 1);
        CHECK_STATUS(p.cause, HYSTRIX_FAILURE);
    }
    hystrix_snapshot s = snap(cmd);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FAILURE], 4);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FALLBACK_SUCCESS], 4);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_TIMEOUT], 0);
    CHECK_EQ(s.health_errors, 4);
    CHECK_EQ(s.fallback_concurrent, 0);

    /* No fallback: the failure itself, FALLBACK_MISSING recorded. */
    probe p = {.run_result = HYSTRIX_FAILURE};
    void *value = SENTINEL;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, NULL, &p, &value), HYSTRIX_FAILURE);
    CHECK(value == SENTINEL);
    s = snap(cmd);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FALLBACK_MISSING], 1);
    free_all(cmd, clock);
}

static void test_bad_request(void) {
    hystrix_config cfg = config_for_tests();
    hystrix_clock *clock;
    hystrix_command *cmd = make_command(&cfg, &clock);
    probe p = {.run_result = HYSTRIX_BAD_REQUEST, .fallback_result = HYSTRIX_OK};
    void *value = SENTINEL;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, fallback_cb, &p, &value), HYSTRIX_BAD_REQUEST);
    CHECK(value == SENTINEL);
    CHECK_EQ(p.runs, 1);
    CHECK_EQ(p.fallbacks, 0);
    hystrix_snapshot s = snap(cmd);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_BAD_REQUEST], 1);
    CHECK_EQ(s.health_total, 0);
    CHECK_EQ(s.health_errors, 0);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FALLBACK_MISSING], 0);
    CHECK_EQ(s.concurrent, 0);
    /* Many bad requests never trip the circuit. */
    cfg.request_volume_threshold = 1;
    cfg.error_threshold_percentage = 0;
    CHECK_STATUS(hystrix_command_configure(cmd, &cfg), HYSTRIX_OK);
    for (int i = 0; i < 5; i++)
        CHECK_STATUS(hystrix_command_execute(cmd, run_cb, fallback_cb, &p, &value), HYSTRIX_BAD_REQUEST);
    s = snap(cmd);
    CHECK_EQ(s.state, HYSTRIX_STATE_CLOSED);
    CHECK_EQ(s.health_total, 0);
    CHECK_EQ(p.fallbacks, 0);
    free_all(cmd, clock);
}

static void test_short_circuit_force_open(void) {
    hystrix_config cfg = config_for_tests();
    cfg.force_open = true;
    cfg.force_closed = true; /* force_open wins */
    hystrix_clock *clock;
    hystrix_command *cmd = make_command(&cfg, &clock);
    probe p = {.run_result = HYSTRIX_OK, .fallback_result = HYSTRIX_OK};
    void *value = NULL;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, fallback_cb, &p, &value), HYSTRIX_OK);
    CHECK(value == FALLBACK_VALUE);
    CHECK_EQ(p.runs, 0);
    CHECK_STATUS(p.cause, HYSTRIX_SHORT_CIRCUITED);
    value = SENTINEL;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, NULL, &p, &value), HYSTRIX_SHORT_CIRCUITED);
    CHECK(value == SENTINEL);
    CHECK_EQ(p.runs, 0);
    hystrix_snapshot s = snap(cmd);
    CHECK_EQ(s.state, HYSTRIX_STATE_OPEN);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_SHORT_CIRCUITED], 2);
    CHECK_EQ(s.health_total, 0);
    /* Lifting the flag closes it again. */
    cfg.force_open = false;
    cfg.force_closed = false;
    CHECK_STATUS(hystrix_command_configure(cmd, &cfg), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, NULL, &p, &value), HYSTRIX_OK);
    CHECK(value == RUN_VALUE);
    CHECK_EQ(p.runs, 1);
    free_all(cmd, clock);
}

static void test_trip_then_short_circuit(void) {
    hystrix_config cfg = config_for_tests();
    cfg.request_volume_threshold = 3;
    cfg.sleep_window_ms = 1000;
    hystrix_clock *clock;
    hystrix_command *cmd = make_command(&cfg, &clock);
    probe p = {.run_result = HYSTRIX_FAILURE, .fallback_result = HYSTRIX_OK};
    void *value = NULL;
    for (int i = 0; i < 3; i++) CHECK_STATUS(hystrix_command_execute(cmd, run_cb, fallback_cb, &p, &value), HYSTRIX_OK);
    CHECK_EQ(p.runs, 3);
    CHECK_EQ(snap(cmd).state, HYSTRIX_STATE_OPEN);
    value = SENTINEL;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, NULL, &p, &value), HYSTRIX_SHORT_CIRCUITED);
    CHECK_EQ(p.runs, 3);
    CHECK(value == SENTINEL);
    /* After the sleep window a successful probe closes the circuit. */
    CHECK_STATUS(hystrix_clock_advance(clock, 1000), HYSTRIX_OK);
    p.run_result = HYSTRIX_OK;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, NULL, &p, &value), HYSTRIX_OK);
    CHECK(value == RUN_VALUE);
    hystrix_snapshot s = snap(cmd);
    CHECK_EQ(s.state, HYSTRIX_STATE_CLOSED);
    CHECK_EQ(s.health_total, 0);
    free_all(cmd, clock);
}

/* Bulkhead: an async call on this command holds the only permit. */
static void hold_run(void *ud, uint64_t completion) { *(uint64_t *)ud = completion; }
static void count_done(void *ud, hystrix_status status, void *value) {
    (void)ud;
    (void)value;
    CHECK_STATUS(status, HYSTRIX_OK);
}

static void test_rejected_while_async_call_holds_permit(void) {
    hystrix_config cfg = config_for_tests();
    cfg.max_concurrent_requests = 1;
    hystrix_clock *clock;
    hystrix_command *cmd = make_command(&cfg, &clock);
    uint64_t held = 0;
    CHECK_STATUS(hystrix_command_queue(cmd, hold_run, NULL, NULL, count_done, &held, NULL, NULL), HYSTRIX_OK);
    CHECK(held != 0);
    CHECK_EQ(snap(cmd).concurrent, 1);

    probe p = {.run_result = HYSTRIX_OK, .fallback_result = HYSTRIX_OK};
    void *value = NULL;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, fallback_cb, &p, &value), HYSTRIX_OK);
    CHECK(value == FALLBACK_VALUE);
    CHECK_STATUS(p.cause, HYSTRIX_REJECTED);
    CHECK_EQ(p.runs, 0);
    value = SENTINEL;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, NULL, &p, &value), HYSTRIX_REJECTED);
    CHECK(value == SENTINEL);
    hystrix_snapshot s = snap(cmd);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_SEMAPHORE_REJECTED], 2);
    CHECK_EQ(s.health_total, 2);
    CHECK_EQ(s.health_errors, 2);

    CHECK_STATUS(hystrix_complete(held, HYSTRIX_OK, NULL), HYSTRIX_OK);
    CHECK_EQ(snap(cmd).concurrent, 0);
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, NULL, &p, &value), HYSTRIX_OK);
    CHECK(value == RUN_VALUE);
    free_all(cmd, clock);
}

/* Bulkhead: another thread is inside a synchronous run. */
typedef struct {
    const hystrix_command *cmd;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int inside, release;
    hystrix_status status;
} blocker;

static int32_t blocking_run(void *ud, void **out) {
    blocker *b = ud;
    pthread_mutex_lock(&b->mu);
    b->inside = 1;
    pthread_cond_broadcast(&b->cv);
    while (!b->release) pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
    *out = RUN_VALUE;
    return HYSTRIX_OK;
}

static void *blocking_thread(void *arg) {
    blocker *b = arg;
    void *value = NULL;
    b->status = hystrix_command_execute(b->cmd, blocking_run, NULL, b, &value);
    return NULL;
}

static void test_rejected_while_other_thread_runs(void) {
    hystrix_config cfg = config_for_tests();
    cfg.max_concurrent_requests = 1;
    hystrix_clock *clock;
    hystrix_command *cmd = make_command(&cfg, &clock);
    blocker b = {.cmd = cmd, .status = HYSTRIX_PANIC};
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.cv, NULL);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, blocking_thread, &b) == 0);
    pthread_mutex_lock(&b.mu);
    while (!b.inside) pthread_cond_wait(&b.cv, &b.mu);
    pthread_mutex_unlock(&b.mu);

    probe p = {.run_result = HYSTRIX_OK, .fallback_result = HYSTRIX_OK};
    void *value = SENTINEL;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, NULL, &p, &value), HYSTRIX_REJECTED);
    CHECK(value == SENTINEL);
    CHECK_EQ(p.runs, 0);
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, fallback_cb, &p, &value), HYSTRIX_OK);
    CHECK_STATUS(p.cause, HYSTRIX_REJECTED);
    CHECK(value == FALLBACK_VALUE);

    pthread_mutex_lock(&b.mu);
    b.release = 1;
    pthread_cond_broadcast(&b.cv);
    pthread_mutex_unlock(&b.mu);
    pthread_join(t, NULL);
    CHECK_STATUS(b.status, HYSTRIX_OK);
    hystrix_snapshot s = snap(cmd);
    CHECK_EQ(s.concurrent, 0);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_SUCCESS], 1);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_SEMAPHORE_REJECTED], 2);
    pthread_mutex_destroy(&b.mu);
    pthread_cond_destroy(&b.cv);
    free_all(cmd, clock);
}

/* Re-entrancy: a run that executes the same command holds its permit. */
typedef struct {
    const hystrix_command *cmd;
    hystrix_status inner;
    probe inner_probe;
} nested;

static int32_t nesting_run(void *ud, void **out) {
    nested *n = ud;
    void *inner_value = SENTINEL;
    n->inner = hystrix_command_execute(n->cmd, run_cb, NULL, &n->inner_probe, &inner_value);
    CHECK(inner_value == SENTINEL);
    *out = RUN_VALUE;
    return HYSTRIX_OK;
}

static void test_rejected_when_nested_on_one_thread(void) {
    hystrix_config cfg = config_for_tests();
    cfg.max_concurrent_requests = 1;
    hystrix_clock *clock;
    hystrix_command *cmd = make_command(&cfg, &clock);
    nested n = {.cmd = cmd, .inner = HYSTRIX_PANIC, .inner_probe = {.run_result = HYSTRIX_OK}};
    void *value = NULL;
    CHECK_STATUS(hystrix_command_execute(cmd, nesting_run, NULL, &n, &value), HYSTRIX_OK);
    CHECK(value == RUN_VALUE);
    CHECK_STATUS(n.inner, HYSTRIX_REJECTED);
    CHECK_EQ(n.inner_probe.runs, 0);
    free_all(cmd, clock);
}

static void test_fallback_failure(void) {
    hystrix_config cfg = config_for_tests();
    hystrix_clock *clock;
    hystrix_command *cmd = make_command(&cfg, &clock);
    probe p = {.run_result = HYSTRIX_FAILURE, .fallback_result = HYSTRIX_FAILURE};
    void *value = SENTINEL;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, fallback_cb, &p, &value), HYSTRIX_FALLBACK_FAILURE);
    CHECK(value == SENTINEL);
    CHECK_EQ(p.fallbacks, 1);
    CHECK_STATUS(p.cause, HYSTRIX_FAILURE);
    /* Any non-OK fallback result is a failure. */
    p.fallback_result = 77;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, fallback_cb, &p, &value), HYSTRIX_FALLBACK_FAILURE);
    CHECK(value == SENTINEL);
    hystrix_snapshot s = snap(cmd);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FAILURE], 2);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FALLBACK_FAILURE], 2);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FALLBACK_SUCCESS], 0);
    CHECK_EQ(s.fallback_concurrent, 0);
    free_all(cmd, clock);
}

static void test_fallback_disabled(void) {
    hystrix_config cfg = config_for_tests();
    cfg.fallback_enabled = false;
    hystrix_clock *clock;
    hystrix_command *cmd = make_command(&cfg, &clock);
    probe p = {.run_result = HYSTRIX_FAILURE, .fallback_result = HYSTRIX_OK};
    void *value = SENTINEL;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, fallback_cb, &p, &value), HYSTRIX_FAILURE);
    CHECK(value == SENTINEL);
    CHECK_EQ(p.runs, 1);
    CHECK_EQ(p.fallbacks, 0);
    hystrix_snapshot s = snap(cmd);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FALLBACK_DISABLED], 1);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FALLBACK_MISSING], 0);
    /* Short-circuits keep their own cause with fallbacks disabled. */
    cfg.force_open = true;
    CHECK_STATUS(hystrix_command_configure(cmd, &cfg), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, fallback_cb, &p, &value), HYSTRIX_SHORT_CIRCUITED);
    CHECK_EQ(p.fallbacks, 0);
    CHECK(value == SENTINEL);
    free_all(cmd, clock);
}

/* Timeouts on a program clock the run advances. */
static uint64_t read_now(void *ud) { return *(uint64_t *)ud; }
static int now_freed;
static void note_now_freed(void *ud) {
    (void)ud;
    now_freed++;
}

static void test_timeout_with_fn_clock(void) {
    static uint64_t now = 1000;
    now_freed = 0;
    hystrix_clock *clock = NULL;
    CHECK_STATUS(hystrix_clock_new_fn(read_now, &now, note_now_freed, HYSTRIX_TIMERS_CALLER, &clock), HYSTRIX_OK);
    hystrix_config cfg = config_for_tests();
    cfg.timeout_ms = 100;
    hystrix_command *cmd = NULL;
    CHECK_STATUS(hystrix_command_new(&cfg, "sync-timeout", clock, &cmd), HYSTRIX_OK);

    /* Past the deadline: run's value discarded, fallback told TIMEOUT. */
    probe p = {.run_result = HYSTRIX_OK, .fallback_result = HYSTRIX_OK, .now = &now, .run_takes_ms = 150};
    void *value = NULL;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, fallback_cb, &p, &value), HYSTRIX_OK);
    CHECK(value == FALLBACK_VALUE);
    CHECK_EQ(p.runs, 1);
    CHECK_EQ(p.fallbacks, 1);
    CHECK_STATUS(p.cause, HYSTRIX_TIMEOUT);
    CHECK_EQ(now, 1150);

    /* Exactly at the deadline loses too (SPEC §1). */
    p.run_takes_ms = 100;
    p.fallbacks = 0;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, fallback_cb, &p, &value), HYSTRIX_OK);
    CHECK(value == FALLBACK_VALUE);
    CHECK_STATUS(p.cause, HYSTRIX_TIMEOUT);

    /* One millisecond before it wins. */
    p.run_takes_ms = 99;
    p.fallbacks = 0;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, fallback_cb, &p, &value), HYSTRIX_OK);
    CHECK(value == RUN_VALUE);
    CHECK_EQ(p.fallbacks, 0);

    /* No fallback: TIMEOUT and out_value untouched. */
    p.run_takes_ms = 500;
    value = SENTINEL;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, NULL, &p, &value), HYSTRIX_TIMEOUT);
    CHECK(value == SENTINEL);
    /* A failing run that is also late is a timeout. */
    p.run_result = HYSTRIX_FAILURE;
    p.fallbacks = 0;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, fallback_cb, &p, &value), HYSTRIX_OK);
    CHECK(value == FALLBACK_VALUE);
    CHECK_STATUS(p.cause, HYSTRIX_TIMEOUT);
    /* Late run, failing fallback. */
    p.fallback_result = HYSTRIX_FAILURE;
    value = SENTINEL;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, fallback_cb, &p, &value), HYSTRIX_FALLBACK_FAILURE);
    CHECK(value == SENTINEL);

    hystrix_snapshot s = snap(cmd);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_TIMEOUT], 5);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_SUCCESS], 1);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FAILURE], 0);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FALLBACK_SUCCESS], 3);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FALLBACK_FAILURE], 1);
    CHECK_EQ(s.concurrent, 0);
    CHECK_EQ(s.time_ms, now);

    /* With timeouts disabled a slow run keeps its value. */
    cfg.timeout_enabled = false;
    CHECK_STATUS(hystrix_command_configure(cmd, &cfg), HYSTRIX_OK);
    p.run_result = HYSTRIX_OK;
    p.run_takes_ms = 5000;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, NULL, &p, &value), HYSTRIX_OK);
    CHECK(value == RUN_VALUE);

    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
    CHECK_EQ(now_freed, 0);
    CHECK_STATUS(hystrix_clock_free(clock), HYSTRIX_OK);
    CHECK_EQ(now_freed, 1); /* the clock's user_data is finalized once it is gone */
}

static void test_out_value_untouched_on_every_error(void) {
    hystrix_config cfg = config_for_tests();
    hystrix_clock *clock;
    hystrix_command *cmd = make_command(&cfg, &clock);
    /* A run that writes a value but then reports failure: not passed on. */
    probe p = {.run_result = HYSTRIX_FAILURE};
    void *value = SENTINEL;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, NULL, &p, &value), HYSTRIX_FAILURE);
    CHECK(value == SENTINEL);
    CHECK_STATUS(hystrix_command_execute(NULL, run_cb, NULL, &p, &value), HYSTRIX_NULL_ARGUMENT);
    CHECK(value == SENTINEL);
    CHECK_STATUS(hystrix_command_execute(cmd, NULL, NULL, &p, &value), HYSTRIX_NULL_ARGUMENT);
    CHECK(value == SENTINEL);
    CHECK_EQ(p.runs, 1);
    free_all(cmd, clock);
}

static void test_rolling_window_and_reshape(void) {
    hystrix_config cfg = config_for_tests();
    hystrix_clock *clock;
    hystrix_command *cmd = make_command(&cfg, &clock);
    probe p = {.run_result = HYSTRIX_OK};
    void *value = NULL;
    for (int i = 0; i < 3; i++) CHECK_STATUS(hystrix_command_execute(cmd, run_cb, NULL, &p, &value), HYSTRIX_OK);
    /* The default window is 10 s in 1 s buckets: at 9999 still counted, at 10000 gone. */
    CHECK_STATUS(hystrix_clock_advance(clock, 9999), HYSTRIX_OK);
    hystrix_snapshot s = snap(cmd);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_SUCCESS], 3);
    CHECK_STATUS(hystrix_clock_advance(clock, 1), HYSTRIX_OK);
    s = snap(cmd);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_SUCCESS], 0);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_SUCCESS], 3);
    CHECK_EQ(s.health_total, 0);
    /* A new window shape starts empty; cumulative counts carry on. */
    p.run_result = HYSTRIX_FAILURE;
    CHECK_STATUS(hystrix_command_execute(cmd, run_cb, NULL, &p, &value), HYSTRIX_FAILURE);
    cfg.rolling_window_ms = 20000;
    cfg.rolling_window_buckets = 20;
    CHECK_STATUS(hystrix_command_configure(cmd, &cfg), HYSTRIX_OK);
    s = snap(cmd);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FAILURE], 0);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_FAILURE], 1);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_SUCCESS], 3);
    hystrix_config got;
    CHECK_STATUS(hystrix_command_config(cmd, &got), HYSTRIX_OK);
    CHECK_EQ(got.rolling_window_ms, 20000);
    CHECK_EQ(got.rolling_window_buckets, 20);
    free_all(cmd, clock);
}

int main(void) {
    RUN(test_value_from_run);
    RUN(test_fallback_on_failure);
    RUN(test_bad_request);
    RUN(test_short_circuit_force_open);
    RUN(test_trip_then_short_circuit);
    RUN(test_rejected_while_async_call_holds_permit);
    RUN(test_rejected_while_other_thread_runs);
    RUN(test_rejected_when_nested_on_one_thread);
    RUN(test_fallback_failure);
    RUN(test_fallback_disabled);
    RUN(test_timeout_with_fn_clock);
    RUN(test_out_value_untouched_on_every_error);
    RUN(test_rolling_window_and_reshape);
    CHECK_STATUS(hystrix_shutdown(), HYSTRIX_OK);
    return check_summary("test_sync");
}
