/* hystrix_command_queue / hystrix_complete on a virtual clock: immediate
 * and later completion, timeouts (cancel, then done; the permit held until
 * the late completion), async fallbacks, fallback rejection, `done` and
 * `free_user_data` exactly once, the circuit's whole cycle, and the
 * ordering of hystrix_clock_schedule / hystrix_clock_cancel timers. */
#include "hystrix.h"
#include "check.h"

#include <stdbool.h>
#include <stdlib.h>

static char RUN_VALUE[] = "run";
static char FALLBACK_VALUE[] = "fallback";
static char LATE_VALUE[] = "late";

/* How a run or a fallback behaves once started. */
typedef enum {
    HOLD,  /* keep the handle; the test completes it */
    NOW,   /* complete inside the callback */
    AFTER, /* complete from a timer `after_ms` later on the virtual clock */
} mode;

typedef struct {
    mode how;
    int32_t status;
    void *value;
    uint64_t after_ms;
} behaviour;

/* One queued call and everything that happened to it. */
typedef struct {
    hystrix_clock *clock;
    const hystrix_command *cmd;
    behaviour run, fallback;
    bool ack_cancel;          /* complete the run from its cancel callback */
    hystrix_status ack_expect, ack_status; /* what that completion must return, and returned */
    bool cancel_in_run;       /* the run cancels its own call, twice */
    hystrix_status cancel_in_run_status[2];
    uint64_t id;              /* the call handle (hystrix_call_cancel) */
    uint64_t run_handle, fallback_handle;
    int pending;              /* handles started but not completed */
    int runs, cancels, fallbacks, dones, frees;
    hystrix_status cause, done_status;
    void *done_value;
    hystrix_status timed_complete; /* what a timer's hystrix_complete returned */
    uint32_t concurrent_at_done;
    char log[32];             /* R run, C cancel, F fallback, D done, X freed */
} call;

static void note(call *c, char what) {
    size_t n = strlen(c->log);
    if (n + 1 < sizeof c->log) c->log[n] = what;
}

static hystrix_status complete(call *c, uint64_t *handle, int32_t status, void *value) {
    /* Counted as completed before the call: the finalizer may run inside it. */
    c->pending--;
    hystrix_status st = hystrix_complete(*handle, status, value);
    if (st != HYSTRIX_OK && st != HYSTRIX_TIMEOUT && st != HYSTRIX_CANCELLED) c->pending++;
    return st;
}

static void run_timer(void *ud) {
    call *c = ud;
    c->timed_complete = complete(c, &c->run_handle, c->run.status, c->run.value);
}

static void fallback_timer(void *ud) {
    call *c = ud;
    c->timed_complete = complete(c, &c->fallback_handle, c->fallback.status, c->fallback.value);
}

static void start(call *c, behaviour *b, uint64_t *handle, hystrix_timer_fn timer) {
    if (b->how == NOW) {
        CHECK_STATUS(complete(c, handle, b->status, b->value), HYSTRIX_OK);
    } else if (b->how == AFTER) {
        uint64_t now = 0;
        CHECK_STATUS(hystrix_clock_now(c->clock, &now), HYSTRIX_OK);
        CHECK_STATUS(hystrix_clock_schedule(c->clock, now + b->after_ms, timer, c, NULL), HYSTRIX_OK);
    }
}

static void on_run(void *ud, uint64_t completion) {
    call *c = ud;
    note(c, 'R');
    c->runs++;
    c->pending++;
    CHECK(completion != 0);
    c->run_handle = completion;
    CHECK(c->id != 0); /* written before any callback */
    if (c->cancel_in_run) {
        c->cancel_in_run_status[0] = hystrix_call_cancel(c->id);
        c->cancel_in_run_status[1] = hystrix_call_cancel(c->id);
        CHECK_EQ(c->dones, 0); /* not while the run callback runs */
    }
    start(c, &c->run, &c->run_handle, run_timer);
}

static void on_cancel(void *ud, uint64_t completion) {
    call *c = ud;
    note(c, 'C');
    c->cancels++;
    CHECK_EQ(completion, c->run_handle);
    if (c->ack_cancel) {
        c->ack_status = complete(c, &c->run_handle, HYSTRIX_OK, LATE_VALUE);
        CHECK_STATUS(c->ack_status, c->ack_expect);
    }
}

static void on_fallback(void *ud, hystrix_status cause, uint64_t completion) {
    call *c = ud;
    note(c, 'F');
    c->fallbacks++;
    c->pending++;
    c->cause = cause;
    CHECK(completion != 0);
    CHECK(completion != c->run_handle);
    c->fallback_handle = completion;
    start(c, &c->fallback, &c->fallback_handle, fallback_timer);
}

static void on_done(void *ud, hystrix_status status, void *value) {
    call *c = ud;
    note(c, 'D');
    c->dones++;
    c->done_status = status;
    c->done_value = value;
    if (status != HYSTRIX_OK) CHECK(value == NULL);
    hystrix_snapshot s;
    CHECK_STATUS(hystrix_command_snapshot(c->cmd, &s), HYSTRIX_OK);
    c->concurrent_at_done = s.concurrent;
}

static void on_free(void *ud) {
    call *c = ud;
    note(c, 'X');
    c->frees++;
    /* Only once every callback has run and every handle is completed. */
    CHECK_EQ(c->dones, 1);
    CHECK_EQ(c->pending, 0);
}

static call new_call(hystrix_clock *clock, const hystrix_command *cmd) {
    call c;
    memset(&c, 0, sizeof c);
    c.clock = clock;
    c.cmd = cmd;
    c.cause = HYSTRIX_OK;
    c.done_status = HYSTRIX_PANIC;
    c.timed_complete = HYSTRIX_PANIC;
    c.ack_expect = HYSTRIX_TIMEOUT;
    c.ack_status = HYSTRIX_PANIC;
    c.run = (behaviour){HOLD, HYSTRIX_OK, RUN_VALUE, 0};
    c.fallback = (behaviour){HOLD, HYSTRIX_OK, FALLBACK_VALUE, 0};
    return c;
}

static void queue(call *c, bool with_fallback) {
    CHECK_STATUS(hystrix_command_queue(c->cmd, on_run, on_cancel, with_fallback ? on_fallback : NULL, on_done, c,
                                       on_free, &c->id),
                 HYSTRIX_OK);
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
    CHECK_STATUS(hystrix_command_new(&cfg, "async", f.clock, &f.cmd), HYSTRIX_OK);
    return f;
}

static void teardown(fixture f) {
    CHECK_STATUS(hystrix_command_free(f.cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(f.clock), HYSTRIX_OK);
}

static hystrix_snapshot snap(fixture f) {
    hystrix_snapshot s;
    memset(&s, 0xab, sizeof s);
    CHECK_STATUS(hystrix_command_snapshot(f.cmd, &s), HYSTRIX_OK);
    return s;
}

static void test_immediate_completion(void) {
    fixture f = setup(NULL);
    call c = new_call(f.clock, f.cmd);
    c.run.how = NOW;
    queue(&c, true);
    /* done ran before hystrix_command_queue returned; then the finalizer. */
    CHECK_CONTAINS(c.log, "RDX");
    CHECK_EQ(strlen(c.log), 3);
    CHECK_STATUS(c.done_status, HYSTRIX_OK);
    CHECK(c.done_value == RUN_VALUE);
    CHECK_EQ(c.fallbacks, 0);
    CHECK_EQ(c.concurrent_at_done, 0);
    /* The handle is spent. */
    CHECK_STATUS(hystrix_complete(c.run_handle, HYSTRIX_OK, NULL), HYSTRIX_INVALID_STATE);

    /* Immediate failure, immediate fallback. */
    call d = new_call(f.clock, f.cmd);
    d.run = (behaviour){NOW, HYSTRIX_FAILURE, RUN_VALUE, 0};
    d.fallback.how = NOW;
    queue(&d, true);
    CHECK(strcmp(d.log, "RFDX") == 0);
    CHECK_STATUS(d.cause, HYSTRIX_FAILURE);
    CHECK_STATUS(d.done_status, HYSTRIX_OK);
    CHECK(d.done_value == FALLBACK_VALUE);

    /* Immediate bad request: no fallback. */
    call e = new_call(f.clock, f.cmd);
    e.run = (behaviour){NOW, HYSTRIX_BAD_REQUEST, RUN_VALUE, 0};
    queue(&e, true);
    CHECK(strcmp(e.log, "RDX") == 0);
    CHECK_STATUS(e.done_status, HYSTRIX_BAD_REQUEST);
    CHECK(e.done_value == NULL);

    /* Immediate failure without a fallback. */
    call g = new_call(f.clock, f.cmd);
    g.run = (behaviour){NOW, HYSTRIX_FAILURE, RUN_VALUE, 0};
    queue(&g, false);
    CHECK(strcmp(g.log, "RDX") == 0);
    CHECK_STATUS(g.done_status, HYSTRIX_FAILURE);

    hystrix_snapshot s = snap(f);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_SUCCESS], 1);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FAILURE], 2);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_BAD_REQUEST], 1);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FALLBACK_SUCCESS], 1);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FALLBACK_MISSING], 1);
    CHECK_EQ(s.health_total, 3);
    CHECK_EQ(s.concurrent, 0);
    teardown(f);
}

static void test_later_completion(void) {
    fixture f = setup(NULL);
    call c = new_call(f.clock, f.cmd);
    queue(&c, true);
    CHECK(strcmp(c.log, "R") == 0);
    CHECK_EQ(snap(f).concurrent, 1);
    bool has = false;
    uint64_t deadline = 0;
    CHECK_STATUS(hystrix_clock_next_deadline(f.clock, &has, &deadline), HYSTRIX_OK);
    CHECK(has);
    CHECK_EQ(deadline, 100); /* the run's timeout */
    CHECK_STATUS(hystrix_clock_advance(f.clock, 30), HYSTRIX_OK);
    CHECK_EQ(c.dones, 0);
    CHECK_STATUS(complete(&c, &c.run_handle, HYSTRIX_OK, RUN_VALUE), HYSTRIX_OK);
    CHECK(strcmp(c.log, "RDX") == 0);
    CHECK(c.done_value == RUN_VALUE);
    CHECK_EQ(c.concurrent_at_done, 0);
    /* Completion disarmed the timeout. */
    CHECK_STATUS(hystrix_clock_next_deadline(f.clock, &has, &deadline), HYSTRIX_OK);
    CHECK(!has);
    CHECK_EQ(deadline, 0);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 1000), HYSTRIX_OK);
    CHECK_EQ(c.cancels, 0);
    CHECK_EQ(c.dones, 1);
    hystrix_snapshot s = snap(f);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_SUCCESS], 1);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_TIMEOUT], 0);
    CHECK_EQ(s.latency_run.count, 1);
    CHECK_EQ(s.latency_run.p100, 30);
    CHECK_EQ(s.latency_total.p100, 30);

    /* Completed by a timer one millisecond before the deadline: still a success. */
    call d = new_call(f.clock, f.cmd);
    d.run = (behaviour){AFTER, HYSTRIX_OK, RUN_VALUE, 99};
    queue(&d, true);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 200), HYSTRIX_OK);
    CHECK(strcmp(d.log, "RDX") == 0);
    CHECK_STATUS(d.timed_complete, HYSTRIX_OK);
    CHECK(d.done_value == RUN_VALUE);
    teardown(f);
}

static void test_timeout_cancel_then_done(void) {
    fixture f = setup(NULL);
    call c = new_call(f.clock, f.cmd);
    queue(&c, false);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 99), HYSTRIX_OK);
    CHECK_EQ(c.cancels, 0);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 1), HYSTRIX_OK);
    CHECK(strcmp(c.log, "RCD") == 0);
    CHECK_STATUS(c.done_status, HYSTRIX_TIMEOUT);
    CHECK(c.done_value == NULL);
    /* The run has not stopped: its permit is still held, its call alive. */
    CHECK_EQ(c.concurrent_at_done, 1);
    hystrix_snapshot s = snap(f);
    CHECK_EQ(s.concurrent, 1);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_TIMEOUT], 1);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FALLBACK_MISSING], 1);
    CHECK_EQ(s.health_errors, 1);
    CHECK_EQ(c.frees, 0);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 5000), HYSTRIX_OK);
    CHECK_EQ(c.cancels, 1);
    CHECK_EQ(c.dones, 1);
    CHECK_EQ(snap(f).concurrent, 1);
    /* The late completion releases the permit; its value is not used. */
    CHECK_STATUS(complete(&c, &c.run_handle, HYSTRIX_OK, LATE_VALUE), HYSTRIX_TIMEOUT);
    CHECK(strcmp(c.log, "RCDX") == 0);
    CHECK_EQ(c.dones, 1);
    CHECK(c.done_value == NULL);
    s = snap(f);
    CHECK_EQ(s.concurrent, 0);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_SUCCESS], 0);
    CHECK_STATUS(hystrix_complete(c.run_handle, HYSTRIX_OK, NULL), HYSTRIX_INVALID_STATE);
    teardown(f);
}

static void set_one_permit(hystrix_config *cfg) { cfg->max_concurrent_requests = 1; }

static void test_timed_out_run_keeps_permit(void) {
    fixture f = setup(set_one_permit);
    call c = new_call(f.clock, f.cmd);
    queue(&c, false);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 100), HYSTRIX_OK);
    CHECK_STATUS(c.done_status, HYSTRIX_TIMEOUT);
    /* The only permit is still held: the next call is rejected. */
    call d = new_call(f.clock, f.cmd);
    queue(&d, true);
    CHECK_EQ(d.runs, 0);
    CHECK(strcmp(d.log, "F") == 0);
    CHECK_STATUS(d.cause, HYSTRIX_REJECTED);
    CHECK_STATUS(complete(&d, &d.fallback_handle, HYSTRIX_OK, FALLBACK_VALUE), HYSTRIX_OK);
    CHECK(strcmp(d.log, "FDX") == 0);
    CHECK(d.done_value == FALLBACK_VALUE);
    /* Once the timed-out run acknowledges, the permit is free again. */
    CHECK_STATUS(complete(&c, &c.run_handle, HYSTRIX_FAILURE, NULL), HYSTRIX_TIMEOUT);
    CHECK_EQ(c.frees, 1);
    call e = new_call(f.clock, f.cmd);
    e.run.how = NOW;
    queue(&e, true);
    CHECK(strcmp(e.log, "RDX") == 0);
    CHECK(e.done_value == RUN_VALUE);
    hystrix_snapshot s = snap(f);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_SEMAPHORE_REJECTED], 1);
    CHECK_EQ(s.concurrent, 0);
    teardown(f);
}

static void test_cancel_acknowledged_at_once(void) {
    fixture f = setup(NULL);
    call c = new_call(f.clock, f.cmd);
    c.ack_cancel = true; /* completes the run from inside cancel */
    c.fallback.how = NOW;
    queue(&c, true);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 100), HYSTRIX_OK);
    CHECK(strcmp(c.log, "RCFDX") == 0);
    CHECK_STATUS(c.cause, HYSTRIX_TIMEOUT);
    CHECK_STATUS(c.done_status, HYSTRIX_OK);
    CHECK(c.done_value == FALLBACK_VALUE);
    CHECK_EQ(c.concurrent_at_done, 0);
    teardown(f);
}

static void test_run_finishing_at_deadline_loses(void) {
    fixture f = setup(NULL);
    /* The run's completion timer is armed after the timeout (which is armed
     * before the run starts), both due at 100: the timeout fires first. */
    call c = new_call(f.clock, f.cmd);
    c.run = (behaviour){AFTER, HYSTRIX_OK, RUN_VALUE, 100};
    queue(&c, true);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 100), HYSTRIX_OK);
    CHECK(strcmp(c.log, "RCF") == 0);
    CHECK_STATUS(c.cause, HYSTRIX_TIMEOUT);
    CHECK_STATUS(c.timed_complete, HYSTRIX_TIMEOUT);
    CHECK_EQ(snap(f).concurrent, 0);
    CHECK_STATUS(complete(&c, &c.fallback_handle, HYSTRIX_OK, FALLBACK_VALUE), HYSTRIX_OK);
    CHECK(strcmp(c.log, "RCFDX") == 0);
    CHECK(c.done_value == FALLBACK_VALUE);
    teardown(f);
}

static void test_timeout_then_async_fallback_then_late_run(void) {
    fixture f = setup(NULL);
    call c = new_call(f.clock, f.cmd);
    queue(&c, true);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 100), HYSTRIX_OK);
    CHECK(strcmp(c.log, "RCF") == 0);
    CHECK_STATUS(c.cause, HYSTRIX_TIMEOUT);
    hystrix_snapshot s = snap(f);
    CHECK_EQ(s.concurrent, 1);
    CHECK_EQ(s.fallback_concurrent, 1);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 10), HYSTRIX_OK);
    CHECK_STATUS(complete(&c, &c.fallback_handle, HYSTRIX_OK, FALLBACK_VALUE), HYSTRIX_OK);
    CHECK(strcmp(c.log, "RCFD") == 0);
    CHECK(c.done_value == FALLBACK_VALUE);
    s = snap(f);
    CHECK_EQ(s.fallback_concurrent, 0);
    CHECK_EQ(s.concurrent, 1);
    CHECK_EQ(c.frees, 0);
    CHECK_STATUS(complete(&c, &c.run_handle, HYSTRIX_OK, LATE_VALUE), HYSTRIX_TIMEOUT);
    CHECK(strcmp(c.log, "RCFDX") == 0);
    CHECK_EQ(snap(f).concurrent, 0);
    CHECK(c.done_value == FALLBACK_VALUE);
    teardown(f);
}

static void test_async_fallback_own_completion(void) {
    fixture f = setup(NULL);
    call c = new_call(f.clock, f.cmd);
    c.run = (behaviour){NOW, HYSTRIX_FAILURE, NULL, 0};
    queue(&c, true);
    CHECK(strcmp(c.log, "RF") == 0);
    CHECK_STATUS(c.cause, HYSTRIX_FAILURE);
    hystrix_snapshot s = snap(f);
    CHECK_EQ(s.concurrent, 0);
    CHECK_EQ(s.fallback_concurrent, 1);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 20), HYSTRIX_OK);
    CHECK_EQ(c.dones, 0);
    CHECK_STATUS(complete(&c, &c.fallback_handle, HYSTRIX_OK, FALLBACK_VALUE), HYSTRIX_OK);
    CHECK(strcmp(c.log, "RFDX") == 0);
    CHECK_STATUS(c.done_status, HYSTRIX_OK);
    CHECK(c.done_value == FALLBACK_VALUE);
    CHECK_STATUS(hystrix_complete(c.fallback_handle, HYSTRIX_OK, NULL), HYSTRIX_INVALID_STATE);
    s = snap(f);
    CHECK_EQ(s.fallback_concurrent, 0);
    CHECK_EQ(s.latency_total.p100, 20);

    /* A failing fallback, completed by a timer. */
    call d = new_call(f.clock, f.cmd);
    d.run = (behaviour){NOW, HYSTRIX_FAILURE, NULL, 0};
    d.fallback = (behaviour){AFTER, HYSTRIX_FAILURE, FALLBACK_VALUE, 5};
    queue(&d, true);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 5), HYSTRIX_OK);
    CHECK(strcmp(d.log, "RFDX") == 0);
    CHECK_STATUS(d.timed_complete, HYSTRIX_OK);
    CHECK_STATUS(d.done_status, HYSTRIX_FALLBACK_FAILURE);
    CHECK(d.done_value == NULL);

    /* A fallback completed with a bad-request status is a failure too. */
    call e = new_call(f.clock, f.cmd);
    e.run = (behaviour){NOW, HYSTRIX_FAILURE, NULL, 0};
    e.fallback = (behaviour){NOW, HYSTRIX_BAD_REQUEST, FALLBACK_VALUE, 0};
    queue(&e, true);
    CHECK_STATUS(e.done_status, HYSTRIX_FALLBACK_FAILURE);
    CHECK(e.done_value == NULL);

    s = snap(f);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FALLBACK_SUCCESS], 1);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FALLBACK_FAILURE], 2);
    teardown(f);
}

static void set_one_fallback(hystrix_config *cfg) { cfg->fallback_max_concurrent_requests = 1; }

static void test_fallback_rejected(void) {
    fixture f = setup(set_one_fallback);
    call a = new_call(f.clock, f.cmd);
    a.run = (behaviour){NOW, HYSTRIX_FAILURE, NULL, 0};
    queue(&a, true);
    CHECK(strcmp(a.log, "RF") == 0);
    /* The only fallback slot is taken. */
    call b = new_call(f.clock, f.cmd);
    b.run = (behaviour){NOW, HYSTRIX_FAILURE, NULL, 0};
    queue(&b, true);
    CHECK(strcmp(b.log, "RDX") == 0);
    CHECK_EQ(b.fallbacks, 0);
    CHECK_STATUS(b.done_status, HYSTRIX_FALLBACK_REJECTED);
    CHECK(b.done_value == NULL);
    hystrix_snapshot s = snap(f);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FALLBACK_REJECTION], 1);
    CHECK_EQ(s.fallback_concurrent, 1);
    /* Freed again once the first fallback settles. */
    CHECK_STATUS(complete(&a, &a.fallback_handle, HYSTRIX_OK, FALLBACK_VALUE), HYSTRIX_OK);
    call c = new_call(f.clock, f.cmd);
    c.run = (behaviour){NOW, HYSTRIX_FAILURE, NULL, 0};
    c.fallback.how = NOW;
    queue(&c, true);
    CHECK(strcmp(c.log, "RFDX") == 0);
    CHECK(c.done_value == FALLBACK_VALUE);
    CHECK_EQ(snap(f).fallback_concurrent, 0);
    teardown(f);
}

static void set_force_open(hystrix_config *cfg) { cfg->force_open = true; }

static void test_short_circuit_async(void) {
    fixture f = setup(set_force_open);
    call c = new_call(f.clock, f.cmd);
    queue(&c, true);
    CHECK(strcmp(c.log, "F") == 0);
    CHECK_STATUS(c.cause, HYSTRIX_SHORT_CIRCUITED);
    CHECK_STATUS(complete(&c, &c.fallback_handle, HYSTRIX_OK, FALLBACK_VALUE), HYSTRIX_OK);
    CHECK(strcmp(c.log, "FDX") == 0);
    call d = new_call(f.clock, f.cmd);
    queue(&d, false);
    CHECK(strcmp(d.log, "DX") == 0);
    CHECK_STATUS(d.done_status, HYSTRIX_SHORT_CIRCUITED);
    teardown(f);
}

static void set_breaker(hystrix_config *cfg) {
    cfg->request_volume_threshold = 4;
    cfg->sleep_window_ms = 1000;
    cfg->timeout_ms = 500;
}

static void test_trip_short_circuit_half_open_recovery(void) {
    fixture f = setup(set_breaker);
    call fails[4];
    for (int i = 0; i < 4; i++) {
        fails[i] = new_call(f.clock, f.cmd);
        fails[i].run = (behaviour){NOW, HYSTRIX_FAILURE, NULL, 0};
        queue(&fails[i], false);
        CHECK_STATUS(fails[i].done_status, HYSTRIX_FAILURE);
        CHECK_EQ(fails[i].frees, 1);
    }
    hystrix_snapshot s = snap(f);
    CHECK_EQ(s.state, HYSTRIX_STATE_OPEN);
    CHECK_EQ(s.health_total, 4);
    CHECK_EQ(s.health_error_percentage, 100);

    call sc = new_call(f.clock, f.cmd);
    queue(&sc, false);
    CHECK(strcmp(sc.log, "DX") == 0);
    CHECK_STATUS(sc.done_status, HYSTRIX_SHORT_CIRCUITED);

    CHECK_STATUS(hystrix_clock_advance(f.clock, 999), HYSTRIX_OK);
    call sc2 = new_call(f.clock, f.cmd);
    queue(&sc2, false);
    CHECK_STATUS(sc2.done_status, HYSTRIX_SHORT_CIRCUITED);
    CHECK_EQ(snap(f).state, HYSTRIX_STATE_OPEN); /* a snapshot never moves open to half-open */

    /* Sleep window over: one probe admitted; it times out; open again. */
    CHECK_STATUS(hystrix_clock_advance(f.clock, 1), HYSTRIX_OK);
    call probe1 = new_call(f.clock, f.cmd);
    queue(&probe1, false);
    CHECK(strcmp(probe1.log, "R") == 0);
    CHECK_EQ(snap(f).state, HYSTRIX_STATE_HALF_OPEN);
    call extra = new_call(f.clock, f.cmd);
    queue(&extra, false);
    CHECK_STATUS(extra.done_status, HYSTRIX_SHORT_CIRCUITED);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 500), HYSTRIX_OK); /* t = 1500 */
    CHECK_STATUS(probe1.done_status, HYSTRIX_TIMEOUT);
    CHECK_EQ(snap(f).state, HYSTRIX_STATE_OPEN);
    CHECK_STATUS(complete(&probe1, &probe1.run_handle, HYSTRIX_OK, NULL), HYSTRIX_TIMEOUT);

    /* A fresh sleep window from the probe's failure. */
    CHECK_STATUS(hystrix_clock_advance(f.clock, 999), HYSTRIX_OK);
    call sc3 = new_call(f.clock, f.cmd);
    queue(&sc3, false);
    CHECK_STATUS(sc3.done_status, HYSTRIX_SHORT_CIRCUITED);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 1), HYSTRIX_OK); /* t = 2500 */
    call probe2 = new_call(f.clock, f.cmd);
    queue(&probe2, false);
    CHECK_EQ(snap(f).state, HYSTRIX_STATE_HALF_OPEN);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 50), HYSTRIX_OK);
    CHECK_STATUS(complete(&probe2, &probe2.run_handle, HYSTRIX_OK, RUN_VALUE), HYSTRIX_OK);
    CHECK(probe2.done_value == RUN_VALUE);
    s = snap(f);
    CHECK_EQ(s.state, HYSTRIX_STATE_CLOSED);
    CHECK_EQ(s.health_total, 0); /* health reset on close */
    CHECK_EQ(s.health_errors, 0);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_SHORT_CIRCUITED], 4); /* rolling counts are not reset */
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_TIMEOUT], 1);

    call after = new_call(f.clock, f.cmd);
    after.run.how = NOW;
    queue(&after, false);
    CHECK(after.done_value == RUN_VALUE);
    CHECK_EQ(snap(f).health_total, 1);
    teardown(f);
}

/* Timers armed with hystrix_clock_schedule. */
typedef struct {
    hystrix_clock *clock;
    char order[16];
    uint64_t seen_now[16];
    int n;
    uint64_t chain_due; /* if set, the 'a' timer arms 'z' at this time */
} timers;

typedef struct {
    timers *t;
    char name;
} timer_arg;

static void on_timer(void *ud) {
    timer_arg *a = ud;
    timers *t = a->t;
    CHECK_STATUS(hystrix_clock_now(t->clock, &t->seen_now[t->n]), HYSTRIX_OK);
    t->order[t->n++] = a->name;
    if (a->name == 'a' && t->chain_due) {
        static timer_arg z;
        z.t = t;
        z.name = 'z';
        CHECK_STATUS(hystrix_clock_schedule(t->clock, t->chain_due, on_timer, &z, NULL), HYSTRIX_OK);
    }
}

static void test_schedule_and_cancel_ordering(void) {
    timers t;
    memset(&t, 0, sizeof t);
    CHECK_STATUS(hystrix_clock_new_virtual(&t.clock), HYSTRIX_OK);
    timer_arg a = {&t, 'a'}, b = {&t, 'b'}, c = {&t, 'c'}, d = {&t, 'd'}, e = {&t, 'e'};
    uint64_t ia = 0, ib = 0, ic = 0, id = 0, ie = 0;
    CHECK_STATUS(hystrix_clock_schedule(t.clock, 10, on_timer, &a, &ia), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_schedule(t.clock, 5, on_timer, &b, &ib), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_schedule(t.clock, 10, on_timer, &c, &ic), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_schedule(t.clock, 7, on_timer, &d, &id), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_schedule(t.clock, 10, on_timer, &e, &ie), HYSTRIX_OK);
    CHECK(ia != ib && ib != ic && ic != id && id != ie && ia != ie);
    CHECK_STATUS(hystrix_clock_cancel(t.clock, id), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_cancel(t.clock, id), HYSTRIX_INVALID_STATE);

    bool has = false;
    uint64_t deadline = 0;
    CHECK_STATUS(hystrix_clock_next_deadline(t.clock, &has, &deadline), HYSTRIX_OK);
    CHECK(has);
    CHECK_EQ(deadline, 5);
    CHECK_STATUS(hystrix_clock_advance(t.clock, 4), HYSTRIX_OK);
    CHECK_EQ(t.n, 0);
    CHECK_STATUS(hystrix_clock_advance(t.clock, 6), HYSTRIX_OK);
    /* Due time first, then arming order; each fired with the clock at its due time. */
    CHECK(strcmp(t.order, "bace") == 0);
    CHECK_EQ(t.seen_now[0], 5);
    CHECK_EQ(t.seen_now[1], 10);
    CHECK_EQ(t.seen_now[3], 10);
    CHECK_STATUS(hystrix_clock_cancel(t.clock, ia), HYSTRIX_INVALID_STATE); /* already fired */
    CHECK_STATUS(hystrix_clock_next_deadline(t.clock, &has, &deadline), HYSTRIX_OK);
    CHECK(!has);

    /* A timer armed by a timer fires within the same advance if due. */
    memset(t.order, 0, sizeof t.order);
    t.n = 0;
    t.chain_due = 25;
    CHECK_STATUS(hystrix_clock_schedule(t.clock, 20, on_timer, &a, NULL), HYSTRIX_OK); /* NULL out_id is fine */
    CHECK_STATUS(hystrix_clock_schedule(t.clock, 30, on_timer, &b, NULL), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_advance(t.clock, 100), HYSTRIX_OK);
    CHECK(strcmp(t.order, "azb") == 0);
    CHECK_EQ(t.seen_now[0], 20);
    CHECK_EQ(t.seen_now[1], 25);
    CHECK_EQ(t.seen_now[2], 30);
    uint64_t now = 0;
    CHECK_STATUS(hystrix_clock_now(t.clock, &now), HYSTRIX_OK);
    CHECK_EQ(now, 110);

    /* A timer due now (or earlier) fires on the next advance, even by 0. */
    memset(t.order, 0, sizeof t.order);
    t.n = 0;
    t.chain_due = 0;
    CHECK_STATUS(hystrix_clock_schedule(t.clock, 110, on_timer, &c, NULL), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_schedule(t.clock, 50, on_timer, &d, NULL), HYSTRIX_OK);
    CHECK_EQ(t.n, 0);
    CHECK_STATUS(hystrix_clock_advance(t.clock, 0), HYSTRIX_OK);
    CHECK(strcmp(t.order, "dc") == 0);
    CHECK_EQ(t.seen_now[0], 110); /* time never goes back */
    CHECK_STATUS(hystrix_clock_free(t.clock), HYSTRIX_OK);
}

/* An advance from inside a timer callback moves on from the callback's
 * instant; the outer advance then never takes the clock back (SPEC §1). */
typedef struct {
    hystrix_clock *clock;
    uint64_t seen[4];
    char order[8];
    int n;
    uint64_t after_nested;
} nested;

static void nested_note(nested *t, char what) {
    uint64_t now = 0;
    CHECK_STATUS(hystrix_clock_now(t->clock, &now), HYSTRIX_OK);
    if (t->n < 4) {
        t->seen[t->n] = now;
        t->order[t->n++] = what;
    }
}

static void nested_mark(void *ud) { nested_note(ud, 'b'); }

static void nested_advancer(void *ud) {
    nested *t = ud;
    nested_note(t, 'a');
    CHECK_STATUS(hystrix_clock_advance(t->clock, 100), HYSTRIX_OK); /* from 5 to 105 */
    CHECK_STATUS(hystrix_clock_now(t->clock, &t->after_nested), HYSTRIX_OK);
}

static void test_advance_inside_timer_callback(void) {
    nested t;
    memset(&t, 0, sizeof t);
    CHECK_STATUS(hystrix_clock_new_virtual(&t.clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_schedule(t.clock, 5, nested_advancer, &t, NULL), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_schedule(t.clock, 50, nested_mark, &t, NULL), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_schedule(t.clock, 200, nested_mark, &t, NULL), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_advance(t.clock, 10), HYSTRIX_OK);
    CHECK(strcmp(t.order, "ab") == 0); /* the timer at 50 fired inside the nested advance */
    CHECK_EQ(t.seen[0], 5);
    CHECK_EQ(t.seen[1], 50);
    CHECK_EQ(t.after_nested, 105);
    uint64_t now = 0;
    CHECK_STATUS(hystrix_clock_now(t.clock, &now), HYSTRIX_OK);
    CHECK_EQ(now, 105); /* not back to the outer target, 10 */
    CHECK_STATUS(hystrix_clock_advance(t.clock, 95), HYSTRIX_OK);
    CHECK(strcmp(t.order, "abb") == 0);
    CHECK_EQ(t.seen[2], 200);
    CHECK_STATUS(hystrix_clock_now(t.clock, &now), HYSTRIX_OK);
    CHECK_EQ(now, 200);
    CHECK_STATUS(hystrix_clock_free(t.clock), HYSTRIX_OK);
}

/* A user timer and a run's timeout due at the same time fire in arming order. */
static void on_marker(void *ud) { note((call *)ud, 'T'); }

static void test_user_timer_orders_with_timeouts(void) {
    fixture f = setup(NULL);
    call c = new_call(f.clock, f.cmd);
    CHECK_STATUS(hystrix_clock_schedule(f.clock, 100, on_marker, &c, NULL), HYSTRIX_OK); /* before the timeout */
    queue(&c, false);                                                                  /* timeout due at 100 */
    CHECK_STATUS(hystrix_clock_schedule(f.clock, 100, on_marker, &c, NULL), HYSTRIX_OK); /* after it */
    CHECK_STATUS(hystrix_clock_advance(f.clock, 100), HYSTRIX_OK);
    CHECK(strcmp(c.log, "RTCDT") == 0);
    CHECK_STATUS(complete(&c, &c.run_handle, HYSTRIX_OK, NULL), HYSTRIX_TIMEOUT);
    CHECK(strcmp(c.log, "RTCDTX") == 0);
    teardown(f);
}

/* hystrix_clock_cancel only cancels timers the program scheduled: the id of
 * a run's timeout (whatever number it has) is refused, and the call still
 * times out. */
static void test_cancel_refuses_library_timers(void) {
    fixture f = setup(NULL);
    call c = new_call(f.clock, f.cmd);
    uint64_t before = 0, after = 0;
    CHECK_STATUS(hystrix_clock_schedule(f.clock, 500, on_marker, &c, &before), HYSTRIX_OK);
    queue(&c, false); /* its timeout is armed between the two user timers */
    CHECK_STATUS(hystrix_clock_schedule(f.clock, 500, on_marker, &c, &after), HYSTRIX_OK);
    int refused = 0;
    for (uint64_t id = 0; id < 64; id++) {
        if (id == before || id == after) continue;
        hystrix_status st = hystrix_clock_cancel(f.clock, id);
        CHECK_STATUS(st, HYSTRIX_INVALID_STATE);
        if (st == HYSTRIX_INVALID_STATE) refused++;
    }
    CHECK_EQ(refused, 62);
    char msg[256] = "";
    size_t len = 0;
    CHECK_STATUS(hystrix_clock_cancel(f.clock, 1000000), HYSTRIX_INVALID_STATE);
    CHECK_STATUS(hystrix_last_error_message(msg, sizeof msg, &len), HYSTRIX_OK);
    CHECK_CONTAINS(msg, "hystrix_clock_schedule");
    CHECK_STATUS(hystrix_clock_cancel(f.clock, after), HYSTRIX_OK); /* the program's own: fine */
    CHECK_STATUS(hystrix_clock_advance(f.clock, 100), HYSTRIX_OK);
    CHECK(strcmp(c.log, "RCD") == 0); /* the timeout still fired */
    CHECK_EQ(c.done_status, HYSTRIX_TIMEOUT);
    CHECK_EQ(snap(f).cumulative[HYSTRIX_EVENT_TIMEOUT], 1);
    CHECK_STATUS(complete(&c, &c.run_handle, HYSTRIX_OK, NULL), HYSTRIX_TIMEOUT);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 400), HYSTRIX_OK);
    CHECK(strcmp(c.log, "RCDXT") == 0); /* `before` still fires; `after` was cancelled */
    teardown(f);
}

/* Many calls, every outcome: done and the finalizer exactly once each. */
static void set_no_breaker(hystrix_config *cfg) {
    cfg->circuit_breaker_enabled = false;
    cfg->max_concurrent_requests = 1000;
    cfg->fallback_max_concurrent_requests = 1000;
}

static void test_done_and_free_exactly_once(void) {
    fixture f = setup(set_no_breaker);
    enum { N = 60 };
    static call calls[N];
    for (int i = 0; i < N; i++) {
        call *c = &calls[i];
        *c = new_call(f.clock, f.cmd);
        switch (i % 6) {
        case 0: c->run = (behaviour){NOW, HYSTRIX_OK, RUN_VALUE, 0}; break;
        case 1: c->run = (behaviour){AFTER, HYSTRIX_FAILURE, NULL, 10}; c->fallback.how = NOW; break;
        case 2: c->run = (behaviour){AFTER, HYSTRIX_OK, RUN_VALUE, 150}; break; /* times out, completes late */
        case 3: c->run = (behaviour){AFTER, HYSTRIX_BAD_REQUEST, NULL, 20}; break;
        case 4: c->run = (behaviour){HOLD, HYSTRIX_OK, NULL, 0}; c->ack_cancel = true;
                c->fallback = (behaviour){AFTER, HYSTRIX_OK, FALLBACK_VALUE, 30}; break;
        case 5: c->run = (behaviour){AFTER, HYSTRIX_OK, RUN_VALUE, 40};
                c->fallback = (behaviour){AFTER, HYSTRIX_FAILURE, NULL, 5}; break;
        }
        queue(c, i % 6 != 2);
        CHECK_STATUS(hystrix_clock_advance(f.clock, 1), HYSTRIX_OK);
    }
    CHECK_STATUS(hystrix_clock_advance(f.clock, 1000), HYSTRIX_OK);
    for (int i = 0; i < N; i++) {
        call *c = &calls[i];
        CHECK_EQ(c->dones, 1);
        CHECK_EQ(c->frees, 1);
        CHECK_EQ(c->pending, 0);
        switch (i % 6) {
        case 0: case 5: CHECK_STATUS(c->done_status, HYSTRIX_OK); CHECK(c->done_value == RUN_VALUE); break;
        case 1: case 4: CHECK_STATUS(c->done_status, HYSTRIX_OK); CHECK(c->done_value == FALLBACK_VALUE); break;
        case 2: CHECK_STATUS(c->done_status, HYSTRIX_TIMEOUT); CHECK_STATUS(c->timed_complete, HYSTRIX_TIMEOUT); break;
        case 3: CHECK_STATUS(c->done_status, HYSTRIX_BAD_REQUEST); break;
        }
    }
    hystrix_snapshot s = snap(f);
    CHECK_EQ(s.concurrent, 0);
    CHECK_EQ(s.fallback_concurrent, 0);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_SUCCESS], 20);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_TIMEOUT], 20);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_FAILURE], 10);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_BAD_REQUEST], 10);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_FALLBACK_SUCCESS], 20);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_FALLBACK_MISSING], 10);
    teardown(f);
}

/* free_user_data NULL is allowed; done still runs. */
static int bare_dones;
static void bare_run(void *ud, uint64_t completion) {
    (void)ud;
    CHECK_STATUS(hystrix_complete(completion, HYSTRIX_OK, RUN_VALUE), HYSTRIX_OK);
}
static void bare_done(void *ud, hystrix_status status, void *value) {
    CHECK(ud == NULL);
    CHECK_STATUS(status, HYSTRIX_OK);
    CHECK(value == RUN_VALUE);
    bare_dones++;
}

static void test_no_finalizer_no_optional_callbacks(void) {
    fixture f = setup(NULL);
    CHECK_STATUS(hystrix_command_queue(f.cmd, bare_run, NULL, NULL, bare_done, NULL, NULL, NULL), HYSTRIX_OK);
    CHECK_EQ(bare_dones, 1);
    teardown(f);
}

/* One failure trips the circuit (threshold 1); then its 1000 ms sleep window passes. */
static void trip_and_sleep(fixture f) {
    call trip = new_call(f.clock, f.cmd);
    trip.run = (behaviour){NOW, HYSTRIX_FAILURE, NULL, 0};
    queue(&trip, false);
    CHECK_EQ(snap(f).state, HYSTRIX_STATE_OPEN);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 1000), HYSTRIX_OK);
}

static void set_two_probes(hystrix_config *cfg) {
    cfg->request_volume_threshold = 1;
    cfg->sleep_window_ms = 1000;
    cfg->half_open_max_calls = 2;
    cfg->timeout_ms = 5000;
}

static void test_half_open_with_two_probes(void) {
    fixture f = setup(set_two_probes);
    trip_and_sleep(f);
    call p1 = new_call(f.clock, f.cmd), p2 = new_call(f.clock, f.cmd), p3 = new_call(f.clock, f.cmd);
    queue(&p1, false);
    queue(&p2, false);
    queue(&p3, false);
    CHECK_EQ(p1.runs + p2.runs, 2);
    CHECK_EQ(p3.runs, 0); /* only two probes per episode */
    CHECK_STATUS(p3.done_status, HYSTRIX_SHORT_CIRCUITED);
    /* A probe's bad request frees its slot without deciding. */
    CHECK_STATUS(complete(&p1, &p1.run_handle, HYSTRIX_BAD_REQUEST, NULL), HYSTRIX_OK);
    CHECK_EQ(snap(f).state, HYSTRIX_STATE_HALF_OPEN);
    call p4 = new_call(f.clock, f.cmd);
    queue(&p4, false);
    CHECK_EQ(p4.runs, 1);
    /* Both remaining probes must succeed to close. */
    CHECK_STATUS(complete(&p2, &p2.run_handle, HYSTRIX_OK, RUN_VALUE), HYSTRIX_OK);
    CHECK_EQ(snap(f).state, HYSTRIX_STATE_HALF_OPEN);
    CHECK_STATUS(complete(&p4, &p4.run_handle, HYSTRIX_OK, RUN_VALUE), HYSTRIX_OK);
    CHECK_EQ(snap(f).state, HYSTRIX_STATE_CLOSED);
    teardown(f);
}

static void set_two_permits(hystrix_config *cfg) {
    cfg->max_concurrent_requests = 2;
    cfg->circuit_breaker_enabled = false;
}

static void test_bulkhead_resized_live(void) {
    fixture f = setup(set_two_permits);
    call a = new_call(f.clock, f.cmd), b = new_call(f.clock, f.cmd);
    queue(&a, false);
    queue(&b, false);
    CHECK_EQ(snap(f).concurrent, 2);
    CHECK_STATUS(hystrix_command_configure_json(f.cmd, "{\"max_concurrent_requests\": 1}"), HYSTRIX_OK);
    call c = new_call(f.clock, f.cmd);
    queue(&c, false);
    CHECK_STATUS(c.done_status, HYSTRIX_REJECTED);
    CHECK_STATUS(complete(&a, &a.run_handle, HYSTRIX_OK, RUN_VALUE), HYSTRIX_OK);
    call d = new_call(f.clock, f.cmd);
    queue(&d, false);
    CHECK_STATUS(d.done_status, HYSTRIX_REJECTED); /* one permit held, one allowed */
    CHECK_STATUS(complete(&b, &b.run_handle, HYSTRIX_OK, RUN_VALUE), HYSTRIX_OK);
    call e = new_call(f.clock, f.cmd);
    e.run.how = NOW;
    queue(&e, false);
    CHECK_STATUS(e.done_status, HYSTRIX_OK);
    CHECK_EQ(snap(f).concurrent, 0);
    teardown(f);
}

static int never_fired;
static void must_not_fire(void *ud) {
    (void)ud;
    never_fired++;
}

static void test_pending_timers_dropped_with_clock(void) {
    hystrix_clock *clock = NULL;
    CHECK_STATUS(hystrix_clock_new_virtual(&clock), HYSTRIX_OK);
    uint64_t id = 0;
    CHECK_STATUS(hystrix_clock_schedule(clock, 1000000000, must_not_fire, NULL, &id), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_schedule(clock, 5, must_not_fire, NULL, NULL), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(clock), HYSTRIX_OK); /* valgrind: nothing leaks */
    CHECK_EQ(never_fired, 0);
}

/* ---------------------------------------------------------------------
 * hystrix_call_cancel (semantics §18).
 * ------------------------------------------------------------------- */

static bool timer_armed(fixture f) {
    bool has = true;
    uint64_t deadline = 0;
    CHECK_STATUS(hystrix_clock_next_deadline(f.clock, &has, &deadline), HYSTRIX_OK);
    return has;
}

static void test_cancel_during_run_that_stops(void) {
    fixture f = setup(NULL);
    call c = new_call(f.clock, f.cmd);
    c.ack_cancel = true; /* the run stops as soon as it is told */
    c.ack_expect = HYSTRIX_CANCELLED;
    queue(&c, true);
    CHECK(c.id != 0);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 10), HYSTRIX_OK);
    /* Settles now: cancel (which completes the run), then done; no fallback. */
    CHECK_STATUS(hystrix_call_cancel(c.id), HYSTRIX_OK);
    CHECK(strcmp(c.log, "RCDX") == 0);
    CHECK_STATUS(c.done_status, HYSTRIX_CANCELLED);
    CHECK(c.done_value == NULL);
    CHECK_EQ(c.fallbacks, 0);
    CHECK_EQ(c.concurrent_at_done, 0);
    CHECK(!timer_armed(f)); /* its timeout is dropped */
    hystrix_snapshot s = snap(f);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_CANCELLED], 1);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_SUCCESS], 0);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FALLBACK_SUCCESS], 0);
    CHECK_EQ(s.health_total, 0); /* not in health */
    CHECK_EQ(s.latency_total.count, 0);
    /* Twice: nothing more. */
    CHECK_STATUS(hystrix_call_cancel(c.id), HYSTRIX_INVALID_STATE);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 1000), HYSTRIX_OK);
    CHECK_EQ(c.cancels, 1);
    CHECK_EQ(c.dones, 1);
    s = snap(f);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_CANCELLED], 1);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_TIMEOUT], 0);
    teardown(f);
}

static void test_cancel_during_run_that_ignores_it(void) {
    fixture f = setup(set_one_permit);
    call c = new_call(f.clock, f.cmd);
    queue(&c, true);
    CHECK_STATUS(hystrix_call_cancel(c.id), HYSTRIX_OK);
    CHECK(strcmp(c.log, "RCD") == 0);
    CHECK_STATUS(c.done_status, HYSTRIX_CANCELLED);
    /* The run has not stopped: it keeps the only permit. */
    CHECK_EQ(c.concurrent_at_done, 1);
    CHECK_STATUS(hystrix_call_cancel(c.id), HYSTRIX_INVALID_STATE);
    call d = new_call(f.clock, f.cmd);
    d.fallback.how = NOW;
    queue(&d, true);
    CHECK_EQ(d.runs, 0);
    CHECK_STATUS(d.cause, HYSTRIX_REJECTED);
    CHECK(d.done_value == FALLBACK_VALUE);
    CHECK_STATUS(hystrix_call_cancel(d.id), HYSTRIX_INVALID_STATE); /* settled inside queue */
    /* The run finishes later: its value is discarded, the permit comes back. */
    CHECK_STATUS(hystrix_clock_advance(f.clock, 500), HYSTRIX_OK);
    CHECK_EQ(snap(f).concurrent, 1);
    CHECK_STATUS(complete(&c, &c.run_handle, HYSTRIX_OK, LATE_VALUE), HYSTRIX_CANCELLED);
    CHECK(strcmp(c.log, "RCDX") == 0);
    CHECK(c.done_value == NULL);
    hystrix_snapshot s = snap(f);
    CHECK_EQ(s.concurrent, 0);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_SUCCESS], 0);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_TIMEOUT], 0);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_CANCELLED], 1);
    CHECK_STATUS(hystrix_complete(c.run_handle, HYSTRIX_OK, NULL), HYSTRIX_INVALID_STATE);
    teardown(f);
}

static void test_cancel_after_settle_and_bad_handles(void) {
    fixture f = setup(NULL);
    call c = new_call(f.clock, f.cmd);
    c.run.how = NOW;
    queue(&c, true);
    CHECK(strcmp(c.log, "RDX") == 0);
    CHECK_STATUS(hystrix_call_cancel(c.id), HYSTRIX_INVALID_STATE);
    CHECK_STATUS(c.done_status, HYSTRIX_OK);
    CHECK_EQ(c.dones, 1);
    /* Settled by its timeout, run still going: no second cancel, no event. */
    call d = new_call(f.clock, f.cmd);
    queue(&d, false);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 100), HYSTRIX_OK);
    CHECK(strcmp(d.log, "RCD") == 0);
    CHECK_STATUS(hystrix_call_cancel(d.id), HYSTRIX_INVALID_STATE);
    CHECK(strcmp(d.log, "RCD") == 0);
    CHECK_STATUS(d.done_status, HYSTRIX_TIMEOUT);
    CHECK_STATUS(complete(&d, &d.run_handle, HYSTRIX_OK, LATE_VALUE), HYSTRIX_TIMEOUT);
    hystrix_snapshot s = snap(f);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_CANCELLED], 0);
    CHECK_EQ(s.concurrent, 0);
    /* Handles never given out; a completion handle is not a call handle. */
    CHECK_STATUS(hystrix_call_cancel(0), HYSTRIX_INVALID_ARGUMENT);
    CHECK_STATUS(hystrix_call_cancel(UINT64_MAX), HYSTRIX_INVALID_ARGUMENT);
    CHECK_STATUS(hystrix_call_cancel(c.run_handle), HYSTRIX_INVALID_ARGUMENT);
    char msg[256] = "";
    size_t len = 0;
    CHECK_STATUS(hystrix_last_error_message(msg, sizeof msg, &len), HYSTRIX_OK);
    CHECK_CONTAINS(msg, "hystrix_call_cancel");
    /* A live completion handle is no call handle, nor the other way round. */
    call e = new_call(f.clock, f.cmd);
    queue(&e, false);
    CHECK_STATUS(hystrix_call_cancel(e.run_handle), HYSTRIX_INVALID_ARGUMENT); /* a live one too */
    CHECK_STATUS(hystrix_complete(e.id, HYSTRIX_OK, RUN_VALUE), HYSTRIX_INVALID_STATE);
    CHECK_EQ(e.dones, 0);
    CHECK_STATUS(complete(&e, &e.run_handle, HYSTRIX_OK, RUN_VALUE), HYSTRIX_OK);
    CHECK_STATUS(e.done_status, HYSTRIX_OK);
    teardown(f);
}

static void test_cancel_from_inside_the_run(void) {
    fixture f = setup(NULL);
    call c = new_call(f.clock, f.cmd);
    c.cancel_in_run = true;
    c.ack_cancel = true;
    c.ack_expect = HYSTRIX_CANCELLED;
    queue(&c, true);
    /* Asked inside the run callback: carried out once it returned, all
     * before hystrix_command_queue returned. The second ask did nothing. */
    CHECK_STATUS(c.cancel_in_run_status[0], HYSTRIX_OK);
    CHECK_STATUS(c.cancel_in_run_status[1], HYSTRIX_INVALID_STATE);
    CHECK(strcmp(c.log, "RCDX") == 0);
    CHECK_STATUS(c.done_status, HYSTRIX_CANCELLED);
    CHECK_EQ(c.fallbacks, 0);
    /* A run that completes inside its callback settles first: the
     * cancellation it asked for then does nothing. */
    call d = new_call(f.clock, f.cmd);
    d.cancel_in_run = true;
    d.run.how = NOW;
    queue(&d, true);
    CHECK_STATUS(d.cancel_in_run_status[0], HYSTRIX_OK);
    CHECK(strcmp(d.log, "RDX") == 0);
    CHECK_STATUS(d.done_status, HYSTRIX_OK);
    CHECK(d.done_value == RUN_VALUE);
    hystrix_snapshot s = snap(f);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_CANCELLED], 1);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_SUCCESS], 1);
    CHECK_EQ(s.concurrent, 0);
    teardown(f);
}

static void test_cancel_during_fallback(void) {
    fixture f = setup(set_one_fallback);
    call c = new_call(f.clock, f.cmd);
    c.run = (behaviour){NOW, HYSTRIX_FAILURE, NULL, 0};
    queue(&c, true);
    CHECK(strcmp(c.log, "RF") == 0);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 40), HYSTRIX_OK);
    CHECK_STATUS(hystrix_call_cancel(c.id), HYSTRIX_OK);
    CHECK(strcmp(c.log, "RFD") == 0); /* the fallback is not told */
    CHECK_STATUS(c.done_status, HYSTRIX_CANCELLED);
    CHECK(c.done_value == NULL);
    hystrix_snapshot s = snap(f);
    CHECK_EQ(s.fallback_concurrent, 1); /* still running, still counted */
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FALLBACK_SUCCESS], 0);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_CANCELLED], 0); /* no attempt was cancelled */
    CHECK_STATUS(hystrix_call_cancel(c.id), HYSTRIX_INVALID_STATE);
    /* Its slot is still taken. */
    call d = new_call(f.clock, f.cmd);
    d.run = (behaviour){NOW, HYSTRIX_FAILURE, NULL, 0};
    queue(&d, true);
    CHECK_STATUS(d.done_status, HYSTRIX_FALLBACK_REJECTED);
    /* Its later end is recorded; its value is not used. */
    CHECK_STATUS(complete(&c, &c.fallback_handle, HYSTRIX_OK, FALLBACK_VALUE), HYSTRIX_CANCELLED);
    CHECK(strcmp(c.log, "RFDX") == 0);
    CHECK_EQ(c.dones, 1);
    CHECK(c.done_value == NULL);
    s = snap(f);
    CHECK_EQ(s.fallback_concurrent, 0);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FALLBACK_SUCCESS], 1);
    CHECK_EQ(s.rolling[HYSTRIX_EVENT_FALLBACK_REJECTION], 1);
    /* A failing fallback likewise. */
    call e = new_call(f.clock, f.cmd);
    e.run = (behaviour){NOW, HYSTRIX_FAILURE, NULL, 0};
    queue(&e, true);
    CHECK_STATUS(hystrix_call_cancel(e.id), HYSTRIX_OK);
    CHECK_STATUS(complete(&e, &e.fallback_handle, HYSTRIX_FAILURE, NULL), HYSTRIX_CANCELLED);
    CHECK(strcmp(e.log, "RFDX") == 0);
    CHECK_STATUS(e.done_status, HYSTRIX_CANCELLED);
    CHECK_EQ(snap(f).rolling[HYSTRIX_EVENT_FALLBACK_FAILURE], 1);
    teardown(f);
}

static void set_one_probe(hystrix_config *cfg) {
    cfg->request_volume_threshold = 1;
    cfg->sleep_window_ms = 1000;
    cfg->half_open_max_calls = 1;
}

static void test_cancelled_probe_frees_its_slot(void) {
    fixture f = setup(set_one_probe);
    trip_and_sleep(f);
    call probe = new_call(f.clock, f.cmd);
    probe.ack_cancel = true;
    probe.ack_expect = HYSTRIX_CANCELLED;
    queue(&probe, false);
    CHECK_EQ(probe.runs, 1);
    call refused = new_call(f.clock, f.cmd);
    queue(&refused, false);
    CHECK_STATUS(refused.done_status, HYSTRIX_SHORT_CIRCUITED); /* the one slot is taken */
    CHECK_STATUS(hystrix_call_cancel(probe.id), HYSTRIX_OK);
    CHECK_STATUS(probe.done_status, HYSTRIX_CANCELLED);
    /* No decision: still half open, and the freed slot admits the next probe. */
    CHECK_EQ(snap(f).state, HYSTRIX_STATE_HALF_OPEN);
    call next = new_call(f.clock, f.cmd);
    queue(&next, false);
    CHECK_EQ(next.runs, 1);
    CHECK_STATUS(complete(&next, &next.run_handle, HYSTRIX_OK, RUN_VALUE), HYSTRIX_OK);
    CHECK_EQ(snap(f).state, HYSTRIX_STATE_CLOSED);
    CHECK_STATUS(next.done_status, HYSTRIX_OK);
    teardown(f);
}

/* A listener that cancels the call whose FAILURE it hears. */
static hystrix_status listener_cancel_status = HYSTRIX_PANIC;
static void cancel_on_failure(void *ud, const char *command, hystrix_event event, uint64_t at_ms) {
    (void)command;
    (void)at_ms;
    call *c = ud;
    if (event == HYSTRIX_EVENT_FAILURE) listener_cancel_status = hystrix_call_cancel(c->id);
}

static void test_cancel_from_a_listener(void) {
    fixture f = setup(NULL);
    /* Asked in the middle of the reaction to the run's failure: the
     * fallback that reaction starts is started, and the cancellation
     * settles the call once that reaction is over (semantics §18.1). */
    call c = new_call(f.clock, f.cmd);
    c.run = (behaviour){NOW, HYSTRIX_FAILURE, NULL, 0};
    uint64_t listener = 0;
    CHECK_STATUS(hystrix_command_on_event(f.cmd, cancel_on_failure, &c, NULL, &listener), HYSTRIX_OK);
    queue(&c, true);
    CHECK_STATUS(listener_cancel_status, HYSTRIX_OK);
    CHECK(strcmp(c.log, "RFD") == 0);
    CHECK_STATUS(c.done_status, HYSTRIX_CANCELLED);
    CHECK_STATUS(complete(&c, &c.fallback_handle, HYSTRIX_OK, FALLBACK_VALUE), HYSTRIX_CANCELLED);
    CHECK(strcmp(c.log, "RFDX") == 0);
    CHECK_STATUS(hystrix_command_unsubscribe(f.cmd, listener), HYSTRIX_OK);
    /* A fallback that answers within that reaction settles the call first:
     * the cancellation then does nothing. */
    call d = new_call(f.clock, f.cmd);
    d.run = (behaviour){NOW, HYSTRIX_FAILURE, NULL, 0};
    d.fallback.how = NOW;
    listener_cancel_status = HYSTRIX_PANIC;
    CHECK_STATUS(hystrix_command_on_event(f.cmd, cancel_on_failure, &d, NULL, &listener), HYSTRIX_OK);
    queue(&d, true);
    CHECK_STATUS(listener_cancel_status, HYSTRIX_OK);
    CHECK(strcmp(d.log, "RFDX") == 0);
    CHECK_STATUS(d.done_status, HYSTRIX_OK);
    CHECK(d.done_value == FALLBACK_VALUE);
    CHECK_STATUS(hystrix_command_unsubscribe(f.cmd, listener), HYSTRIX_OK);
    teardown(f);
}

int main(void) {
    RUN(test_immediate_completion);
    RUN(test_later_completion);
    RUN(test_timeout_cancel_then_done);
    RUN(test_timed_out_run_keeps_permit);
    RUN(test_cancel_acknowledged_at_once);
    RUN(test_run_finishing_at_deadline_loses);
    RUN(test_timeout_then_async_fallback_then_late_run);
    RUN(test_async_fallback_own_completion);
    RUN(test_fallback_rejected);
    RUN(test_short_circuit_async);
    RUN(test_trip_short_circuit_half_open_recovery);
    RUN(test_schedule_and_cancel_ordering);
    RUN(test_advance_inside_timer_callback);
    RUN(test_user_timer_orders_with_timeouts);
    RUN(test_cancel_refuses_library_timers);
    RUN(test_done_and_free_exactly_once);
    RUN(test_no_finalizer_no_optional_callbacks);
    RUN(test_half_open_with_two_probes);
    RUN(test_bulkhead_resized_live);
    RUN(test_pending_timers_dropped_with_clock);
    RUN(test_cancel_during_run_that_stops);
    RUN(test_cancel_during_run_that_ignores_it);
    RUN(test_cancel_after_settle_and_bad_handles);
    RUN(test_cancel_from_inside_the_run);
    RUN(test_cancel_during_fallback);
    RUN(test_cancelled_probe_frees_its_slot);
    RUN(test_cancel_from_a_listener);
    CHECK_STATUS(hystrix_shutdown(), HYSTRIX_OK);
    return check_summary("test_async");
}
