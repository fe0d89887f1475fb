/* Listeners (events and state changes, with user_data and finalizers),
 * named commands, and the JSON snapshot. */
#define _POSIX_C_SOURCE 200809L
#include "hystrix.h"
#include "check.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

/* Bounds waits on helper threads so that a deadlock fails the test instead
 * of hanging it: generous, since under valgrind on a loaded machine a new
 * thread can take seconds to get going. Only a broken build waits it out. */
#define WAIT_BOUND_MS 30000

static char RUN_VALUE[] = "run";
static char FALLBACK_VALUE[] = "fallback";

/* One log shared by event and transition listeners, in arrival order. */
enum { MAX_ENTRIES = 64 };
typedef struct {
    char kind; /* 'E' event, 'T' transition */
    int a, b;  /* event; or from, to */
    uint64_t at;
    hystrix_state state_seen; /* transitions: the snapshot state inside the callback */
} entry;

typedef struct {
    const char *expect_name;
    const hystrix_command *cmd; /* if set, transitions take a snapshot from inside the callback */
    entry e[MAX_ENTRIES];
    int n;
    int wrong_name;
    int frees;
} listener_log;

static void push(listener_log *l, entry en) {
    if (l->n < MAX_ENTRIES) l->e[l->n++] = en;
}

static void on_event(void *ud, const char *command, hystrix_event event, uint64_t at_ms) {
    listener_log *l = ud;
    if (command == NULL || strcmp(command, l->expect_name) != 0) l->wrong_name++;
    push(l, (entry){'E', event, 0, at_ms, HYSTRIX_STATE_CLOSED});
}

static void on_transition(void *ud, const char *command, hystrix_state from, hystrix_state to, uint64_t at_ms) {
    listener_log *l = ud;
    if (command == NULL || strcmp(command, l->expect_name) != 0) l->wrong_name++;
    hystrix_state seen = (hystrix_state)-1;
    if (l->cmd) {
        /* Listeners run with no lock held: calling back in is allowed. */
        hystrix_snapshot s;
        CHECK_STATUS(hystrix_command_snapshot(l->cmd, &s), HYSTRIX_OK);
        seen = s.state;
    }
    push(l, (entry){'T', from, to, at_ms, seen});
}

static void on_free(void *ud) { ((listener_log *)ud)->frees++; }

static void log_init(listener_log *l, const char *name) {
    memset(l, 0, sizeof *l);
    l->expect_name = name;
}

static bool is_event(const listener_log *l, int i, hystrix_event ev, uint64_t at) {
    return i < l->n && l->e[i].kind == 'E' && l->e[i].a == (int)ev && l->e[i].at == at;
}

static bool is_transition(const listener_log *l, int i, hystrix_state from, hystrix_state to, uint64_t at) {
    return i < l->n && l->e[i].kind == 'T' && l->e[i].a == (int)from && l->e[i].b == (int)to && l->e[i].at == at;
}

/* Sync run/fallback driven by a small struct. */
typedef struct {
    int32_t run_result;
} behaviour;

static int32_t run_cb(void *ud, void **out) {
    behaviour *b = ud;
    if (b->run_result == HYSTRIX_OK) *out = RUN_VALUE;
    return b->run_result;
}

static int32_t fallback_cb(void *ud, hystrix_status cause, void **out) {
    (void)ud;
    (void)cause;
    *out = FALLBACK_VALUE;
    return HYSTRIX_OK;
}

static hystrix_status exec(const hystrix_command *cmd, int32_t result, bool with_fallback) {
    behaviour b = {result};
    void *value = NULL;
    return hystrix_command_execute(cmd, run_cb, with_fallback ? fallback_cb : NULL, &b, &value);
}

/* Async calls held open by the test. */
typedef struct {
    uint64_t handle;
    int dones;
    hystrix_status status;
} held;

static void held_run(void *ud, uint64_t completion) { ((held *)ud)->handle = completion; }
static void held_done(void *ud, hystrix_status status, void *value) {
    (void)value;
    held *h = ud;
    h->dones++;
    h->status = status;
}

typedef struct {
    hystrix_clock *clock;
    hystrix_command *cmd;
} fixture;

static fixture setup(const char *name, uint64_t volume) {
    fixture f = {NULL, NULL};
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.timeout_ms = 100;
    cfg.health_snapshot_interval_ms = 0;
    cfg.request_volume_threshold = volume;
    cfg.sleep_window_ms = 1000;
    CHECK_STATUS(hystrix_clock_new_virtual(&f.clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_new(&cfg, name, f.clock, &f.cmd), HYSTRIX_OK);
    return f;
}

static void teardown(fixture f) {
    CHECK_STATUS(hystrix_command_free(f.cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(f.clock), HYSTRIX_OK);
}

static void test_events_in_order_with_name(void) {
    fixture f = setup("listened", 1000);
    listener_log l;
    log_init(&l, "listened");
    uint64_t id = 0;
    CHECK_STATUS(hystrix_command_on_event(f.cmd, on_event, &l, on_free, &id), HYSTRIX_OK);

    CHECK_STATUS(exec(f.cmd, HYSTRIX_OK, true), HYSTRIX_OK); /* t = 0 */
    CHECK_STATUS(hystrix_clock_advance(f.clock, 10), HYSTRIX_OK);
    CHECK_STATUS(exec(f.cmd, HYSTRIX_FAILURE, true), HYSTRIX_OK); /* t = 10 */
    CHECK_STATUS(hystrix_clock_advance(f.clock, 5), HYSTRIX_OK);
    CHECK_STATUS(exec(f.cmd, HYSTRIX_BAD_REQUEST, true), HYSTRIX_BAD_REQUEST); /* t = 15 */
    CHECK_STATUS(exec(f.cmd, HYSTRIX_FAILURE, false), HYSTRIX_FAILURE);        /* t = 15 */
    held h = {0, 0, HYSTRIX_PANIC};
    CHECK_STATUS(hystrix_command_queue(f.cmd, held_run, NULL, NULL, held_done, &h, NULL, NULL), HYSTRIX_OK);
    CHECK_EQ(l.n, 6); /* nothing for the call in flight yet */
    CHECK_STATUS(hystrix_clock_advance(f.clock, 100), HYSTRIX_OK); /* its timeout at 115 */
    CHECK_STATUS(h.status, HYSTRIX_TIMEOUT);
    CHECK_STATUS(hystrix_complete(h.handle, HYSTRIX_OK, NULL), HYSTRIX_TIMEOUT); /* records nothing */

    CHECK_EQ(l.n, 8);
    CHECK(is_event(&l, 0, HYSTRIX_EVENT_SUCCESS, 0));
    CHECK(is_event(&l, 1, HYSTRIX_EVENT_FAILURE, 10));
    CHECK(is_event(&l, 2, HYSTRIX_EVENT_FALLBACK_SUCCESS, 10));
    CHECK(is_event(&l, 3, HYSTRIX_EVENT_BAD_REQUEST, 15));
    CHECK(is_event(&l, 4, HYSTRIX_EVENT_FAILURE, 15));
    CHECK(is_event(&l, 5, HYSTRIX_EVENT_FALLBACK_MISSING, 15));
    CHECK(is_event(&l, 6, HYSTRIX_EVENT_TIMEOUT, 115));
    CHECK(is_event(&l, 7, HYSTRIX_EVENT_FALLBACK_MISSING, 115));
    CHECK_EQ(l.wrong_name, 0);
    CHECK_EQ(l.frees, 0);

    /* Unsubscribing stops notices and finalizes user_data exactly once. */
    CHECK_STATUS(hystrix_command_unsubscribe(f.cmd, id), HYSTRIX_OK);
    CHECK_EQ(l.frees, 1);
    CHECK_STATUS(exec(f.cmd, HYSTRIX_OK, true), HYSTRIX_OK);
    CHECK_EQ(l.n, 8);
    CHECK_STATUS(hystrix_command_unsubscribe(f.cmd, id), HYSTRIX_INVALID_STATE);
    teardown(f);
    CHECK_EQ(l.frees, 1);
}

static void test_anonymous_command_name_is_empty(void) {
    hystrix_clock *clock = NULL;
    hystrix_command *cmd = NULL;
    CHECK_STATUS(hystrix_clock_new_virtual(&clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_new(NULL, NULL, clock, &cmd), HYSTRIX_OK);
    listener_log l;
    log_init(&l, "");
    CHECK_STATUS(hystrix_command_on_event(cmd, on_event, &l, NULL, NULL), HYSTRIX_OK); /* NULL finalizer, NULL id */
    CHECK_STATUS(exec(cmd, HYSTRIX_OK, false), HYSTRIX_OK);
    CHECK_EQ(l.n, 1);
    CHECK_EQ(l.wrong_name, 0);
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(clock), HYSTRIX_OK);
    CHECK_EQ(l.frees, 0);
}

static void test_two_listeners_and_partial_unsubscribe(void) {
    fixture f = setup("two", 1000);
    listener_log a, b;
    log_init(&a, "two");
    log_init(&b, "two");
    uint64_t ia = 0, ib = 0;
    CHECK_STATUS(hystrix_command_on_event(f.cmd, on_event, &a, on_free, &ia), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_on_event(f.cmd, on_event, &b, on_free, &ib), HYSTRIX_OK);
    CHECK(ia != ib);
    CHECK_STATUS(exec(f.cmd, HYSTRIX_OK, false), HYSTRIX_OK);
    CHECK_EQ(a.n, 1);
    CHECK_EQ(b.n, 1);
    CHECK_STATUS(hystrix_command_unsubscribe(f.cmd, ia), HYSTRIX_OK);
    CHECK_EQ(a.frees, 1);
    CHECK_EQ(b.frees, 0);
    CHECK_STATUS(exec(f.cmd, HYSTRIX_FAILURE, true), HYSTRIX_OK);
    CHECK_EQ(a.n, 1);
    CHECK_EQ(b.n, 3);
    teardown(f);
    /* Freeing the command finalizes the remaining listener, once. */
    CHECK_EQ(a.frees, 1);
    CHECK_EQ(b.frees, 1);
}

static void test_transitions_with_times(void) {
    fixture f = setup("breaker", 2);
    listener_log l; /* events and transitions in one log */
    log_init(&l, "breaker");
    l.cmd = f.cmd;
    uint64_t ev = 0, tr = 0;
    CHECK_STATUS(hystrix_command_on_event(f.cmd, on_event, &l, on_free, &ev), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_on_state_change(f.cmd, on_transition, &l, on_free, &tr), HYSTRIX_OK);
    CHECK(ev != tr);

    CHECK_STATUS(hystrix_clock_advance(f.clock, 100), HYSTRIX_OK);
    CHECK_STATUS(exec(f.cmd, HYSTRIX_FAILURE, false), HYSTRIX_FAILURE);
    CHECK_STATUS(exec(f.cmd, HYSTRIX_FAILURE, false), HYSTRIX_FAILURE); /* trips at 100 */
    CHECK_STATUS(exec(f.cmd, HYSTRIX_OK, false), HYSTRIX_SHORT_CIRCUITED);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 1000), HYSTRIX_OK);
    held probe = {0, 0, HYSTRIX_PANIC};
    CHECK_STATUS(hystrix_command_queue(f.cmd, held_run, NULL, NULL, held_done, &probe, NULL, NULL), HYSTRIX_OK); /* 1100 */
    CHECK_STATUS(hystrix_clock_advance(f.clock, 50), HYSTRIX_OK);
    CHECK_STATUS(hystrix_complete(probe.handle, HYSTRIX_OK, RUN_VALUE), HYSTRIX_OK); /* closes at 1150 */
    CHECK_STATUS(probe.status, HYSTRIX_OK);

    int i = 0;
    CHECK(is_event(&l, i++, HYSTRIX_EVENT_FAILURE, 100));
    CHECK(is_event(&l, i++, HYSTRIX_EVENT_FALLBACK_MISSING, 100));
    CHECK(is_event(&l, i++, HYSTRIX_EVENT_FAILURE, 100));
    CHECK(is_transition(&l, i++, HYSTRIX_STATE_CLOSED, HYSTRIX_STATE_OPEN, 100));
    CHECK(is_event(&l, i++, HYSTRIX_EVENT_FALLBACK_MISSING, 100));
    CHECK(is_event(&l, i++, HYSTRIX_EVENT_SHORT_CIRCUITED, 100));
    CHECK(is_event(&l, i++, HYSTRIX_EVENT_FALLBACK_MISSING, 100));
    CHECK(is_transition(&l, i++, HYSTRIX_STATE_OPEN, HYSTRIX_STATE_HALF_OPEN, 1100));
    CHECK(is_event(&l, i++, HYSTRIX_EVENT_SUCCESS, 1150));
    CHECK(is_transition(&l, i++, HYSTRIX_STATE_HALF_OPEN, HYSTRIX_STATE_CLOSED, 1150));
    CHECK_EQ(l.n, i);
    CHECK_EQ(l.wrong_name, 0);
    /* A snapshot taken inside each transition callback already shows the new state. */
    for (int k = 0; k < l.n; k++)
        if (l.e[k].kind == 'T') CHECK_EQ(l.e[k].state_seen, l.e[k].b);

    /* A failing probe reopens: half_open -> open with a fresh time. */
    CHECK_STATUS(hystrix_clock_advance(f.clock, 50), HYSTRIX_OK); /* 1200 */
    CHECK_STATUS(exec(f.cmd, HYSTRIX_FAILURE, false), HYSTRIX_FAILURE);
    CHECK_STATUS(exec(f.cmd, HYSTRIX_FAILURE, false), HYSTRIX_FAILURE); /* trips at 1200 */
    CHECK_STATUS(hystrix_clock_advance(f.clock, 1000), HYSTRIX_OK);      /* 2200 */
    CHECK_STATUS(exec(f.cmd, HYSTRIX_FAILURE, false), HYSTRIX_FAILURE);  /* the probe fails */
    entry trans[MAX_ENTRIES];
    int transitions = 0;
    for (int k = 0; k < l.n; k++)
        if (l.e[k].kind == 'T') trans[transitions++] = l.e[k];
    CHECK_EQ(transitions, 6);
    if (transitions == 6) {
        CHECK(trans[3].a == HYSTRIX_STATE_CLOSED && trans[3].b == HYSTRIX_STATE_OPEN && trans[3].at == 1200);
        CHECK(trans[4].a == HYSTRIX_STATE_OPEN && trans[4].b == HYSTRIX_STATE_HALF_OPEN && trans[4].at == 2200);
        CHECK(trans[5].a == HYSTRIX_STATE_HALF_OPEN && trans[5].b == HYSTRIX_STATE_OPEN && trans[5].at == 2200);
    }

    /* Unsubscribe the transition listener: no more transitions, one finalizer call. */
    CHECK_STATUS(hystrix_command_unsubscribe(f.cmd, tr), HYSTRIX_OK);
    CHECK_EQ(l.frees, 1);
    int before = l.n;
    CHECK_STATUS(hystrix_clock_advance(f.clock, 1000), HYSTRIX_OK);
    CHECK_STATUS(exec(f.cmd, HYSTRIX_OK, false), HYSTRIX_OK); /* probe closes the circuit */
    hystrix_snapshot s;
    CHECK_STATUS(hystrix_command_snapshot(f.cmd, &s), HYSTRIX_OK);
    CHECK_EQ(s.state, HYSTRIX_STATE_CLOSED);
    CHECK_EQ(l.n, before + 1); /* only the SUCCESS event */
    CHECK(is_event(&l, before, HYSTRIX_EVENT_SUCCESS, 3200));
    teardown(f);
    CHECK_EQ(l.frees, 2); /* the event listener went with the command */
}

/* Listeners of a command whose handle is freed while a call is in flight. */
static void test_listeners_outlive_handle_while_call_in_flight(void) {
    fixture f = setup("inflight", 1000);
    listener_log l;
    log_init(&l, "inflight");
    CHECK_STATUS(hystrix_command_on_event(f.cmd, on_event, &l, on_free, NULL), HYSTRIX_OK);
    held h = {0, 0, HYSTRIX_PANIC};
    CHECK_STATUS(hystrix_command_queue(f.cmd, held_run, NULL, NULL, held_done, &h, NULL, NULL), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_free(f.cmd), HYSTRIX_OK);
    CHECK_EQ(l.frees, 0); /* the call keeps the command, and so its listeners */
    CHECK_STATUS(hystrix_clock_advance(f.clock, 10), HYSTRIX_OK);
    CHECK_STATUS(hystrix_complete(h.handle, HYSTRIX_OK, RUN_VALUE), HYSTRIX_OK);
    CHECK_EQ(h.dones, 1);
    CHECK_EQ(l.n, 1);
    CHECK(is_event(&l, 0, HYSTRIX_EVENT_SUCCESS, 10));
    CHECK_EQ(l.frees, 1); /* the command is gone now */
    CHECK_STATUS(hystrix_clock_free(f.clock), HYSTRIX_OK);
    CHECK_EQ(l.frees, 1);
}

/* A state-change listener that frees the very command whose synchronous
 * execution tripped it: the execution still in flight keeps the command
 * alive (valgrind: no read of freed memory), answers with its fallback, and
 * its remaining events still reach the command's listeners. */
typedef struct {
    hystrix_command *cmd;
    int frees_done;
} freeing_listener;

static void free_on_open(void *ud, const char *command, hystrix_state from, hystrix_state to, uint64_t at_ms) {
    (void)command;
    (void)from;
    (void)at_ms;
    freeing_listener *fl = ud;
    if (to == HYSTRIX_STATE_OPEN && fl->cmd != NULL) {
        CHECK_STATUS(hystrix_command_free(fl->cmd), HYSTRIX_OK);
        fl->cmd = NULL;
        fl->frees_done++;
    }
}

static void test_listener_frees_command_during_sync_execute(void) {
    fixture f = setup("freed", 1); /* one failure trips the circuit */
    listener_log l;
    log_init(&l, "freed");
    CHECK_STATUS(hystrix_command_on_event(f.cmd, on_event, &l, on_free, NULL), HYSTRIX_OK);
    freeing_listener fl = {f.cmd, 0};
    CHECK_STATUS(hystrix_command_on_state_change(f.cmd, free_on_open, &fl, NULL, NULL), HYSTRIX_OK);
    behaviour b = {HYSTRIX_FAILURE};
    void *value = NULL;
    CHECK_STATUS(hystrix_command_execute(f.cmd, run_cb, fallback_cb, &b, &value), HYSTRIX_OK);
    CHECK(value == FALLBACK_VALUE);
    CHECK_EQ(fl.frees_done, 1);
    /* FAILURE, then the fallback's FALLBACK_SUCCESS, recorded after the free. */
    CHECK_EQ(l.n, 2);
    CHECK(is_event(&l, 0, HYSTRIX_EVENT_FAILURE, 0));
    CHECK(is_event(&l, 1, HYSTRIX_EVENT_FALLBACK_SUCCESS, 0));
    CHECK_EQ(l.frees, 1); /* the command went once the execution ended */
    CHECK_STATUS(hystrix_clock_free(f.clock), HYSTRIX_OK);
}

static void test_named_commands(void) {
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.timeout_ms = 250;
    cfg.max_concurrent_requests = 3;
    CHECK_STATUS(hystrix_configure_named("lst.named", &cfg), HYSTRIX_OK);
    hystrix_command *h1 = NULL, *h2 = NULL;
    CHECK_STATUS(hystrix_command_named("lst.named", &h1), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_named("lst.named", &h2), HYSTRIX_OK);
    CHECK(h1 != NULL && h2 != NULL && h1 != h2); /* two handles ... */
    hystrix_config got;
    CHECK_STATUS(hystrix_command_config(h2, &got), HYSTRIX_OK);
    CHECK_EQ(got.timeout_ms, 250);
    CHECK_EQ(got.max_concurrent_requests, 3);

    listener_log l;
    log_init(&l, "lst.named");
    CHECK_STATUS(hystrix_command_on_event(h1, on_event, &l, on_free, NULL), HYSTRIX_OK);
    CHECK_STATUS(exec(h1, HYSTRIX_OK, false), HYSTRIX_OK);
    CHECK_STATUS(exec(h1, HYSTRIX_OK, false), HYSTRIX_OK);
    CHECK_STATUS(exec(h2, HYSTRIX_FAILURE, true), HYSTRIX_OK);
    /* ... to one command: shared counts, shared listeners. */
    hystrix_snapshot s1, s2;
    CHECK_STATUS(hystrix_command_snapshot(h1, &s1), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_snapshot(h2, &s2), HYSTRIX_OK);
    CHECK_EQ(s1.cumulative[HYSTRIX_EVENT_SUCCESS], 2);
    CHECK_EQ(s2.cumulative[HYSTRIX_EVENT_SUCCESS], 2);
    CHECK_EQ(s1.cumulative[HYSTRIX_EVENT_FAILURE], 1);
    CHECK_EQ(s2.cumulative[HYSTRIX_EVENT_FAILURE], 1);
    CHECK_EQ(s2.cumulative[HYSTRIX_EVENT_FALLBACK_SUCCESS], 1);
    CHECK_EQ(l.n, 4);
    CHECK_EQ(l.wrong_name, 0);

    /* Configuration is shared and applied live, through the name or a handle. */
    cfg.timeout_ms = 300;
    CHECK_STATUS(hystrix_configure_named("lst.named", &cfg), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_config(h1, &got), HYSTRIX_OK);
    CHECK_EQ(got.timeout_ms, 300);
    cfg.timeout_ms = 400;
    CHECK_STATUS(hystrix_command_configure(h1, &cfg), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_config(h2, &got), HYSTRIX_OK);
    CHECK_EQ(got.timeout_ms, 400);

    /* Handles are freed on their own. */
    CHECK_STATUS(hystrix_command_free(h1), HYSTRIX_OK);
    CHECK_STATUS(exec(h2, HYSTRIX_OK, false), HYSTRIX_OK);
    CHECK_EQ(l.n, 5);
    CHECK_EQ(l.frees, 0);

    /* Removing the name: h2 keeps the old command; the name makes a new one. */
    CHECK_STATUS(hystrix_remove_named("lst.named"), HYSTRIX_OK);
    CHECK_STATUS(hystrix_remove_named("lst.named"), HYSTRIX_INVALID_ARGUMENT);
    CHECK_STATUS(exec(h2, HYSTRIX_OK, false), HYSTRIX_OK);
    CHECK_EQ(l.n, 6);
    hystrix_command *h3 = NULL;
    CHECK_STATUS(hystrix_command_named("lst.named", &h3), HYSTRIX_OK);
    hystrix_snapshot s3;
    CHECK_STATUS(hystrix_command_snapshot(h3, &s3), HYSTRIX_OK);
    CHECK_EQ(s3.cumulative[HYSTRIX_EVENT_SUCCESS], 0);
    CHECK_STATUS(hystrix_command_config(h3, &got), HYSTRIX_OK);
    CHECK_EQ(got.timeout_ms, 1000); /* its settings were forgotten too */
    CHECK_STATUS(exec(h3, HYSTRIX_OK, false), HYSTRIX_OK);
    CHECK_EQ(l.n, 6); /* not the old command's listener */
    CHECK_STATUS(hystrix_command_snapshot(h2, &s2), HYSTRIX_OK);
    CHECK_EQ(s2.cumulative[HYSTRIX_EVENT_SUCCESS], 4);

    /* The old command (and its listener) goes with its last handle. */
    CHECK_STATUS(hystrix_command_free(h2), HYSTRIX_OK);
    CHECK_EQ(l.frees, 1);
    CHECK_STATUS(hystrix_command_free(h3), HYSTRIX_OK);
    CHECK_STATUS(hystrix_remove_named("lst.named"), HYSTRIX_OK);

    /* A name only configured, never made, can be removed. */
    CHECK_STATUS(hystrix_configure_named("lst.configured.only", &cfg), HYSTRIX_OK);
    CHECK_STATUS(hystrix_remove_named("lst.configured.only"), HYSTRIX_OK);
    CHECK_STATUS(hystrix_remove_named("lst.configured.only"), HYSTRIX_INVALID_ARGUMENT);
}

static void test_snapshot_json(void) {
    fixture f = setup("json \"quoted\"", 1000);
    CHECK_STATUS(exec(f.cmd, HYSTRIX_OK, false), HYSTRIX_OK);
    CHECK_STATUS(exec(f.cmd, HYSTRIX_FAILURE, true), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 42), HYSTRIX_OK);
    char *json = NULL;
    CHECK_STATUS(hystrix_command_snapshot_json(f.cmd, &json), HYSTRIX_OK);
    CHECK(json != NULL);
    CHECK(json && json[0] == '{' && json[strlen(json) - 1] == '}');
    CHECK_CONTAINS(json, "\"name\":\"json \\\"quoted\\\"\"");
    CHECK_CONTAINS(json, "\"time_ms\":42");
    CHECK_CONTAINS(json, "\"state\":\"closed\"");
    CHECK_CONTAINS(json, "\"SUCCESS\":1");
    CHECK_CONTAINS(json, "\"FAILURE\":1");
    CHECK_CONTAINS(json, "\"FALLBACK_SUCCESS\":1");
    CHECK_CONTAINS(json, "\"health\":{\"total\":2,\"errors\":1,\"error_percentage\":50}");
    CHECK_CONTAINS(json, "\"concurrent\":0");
    CHECK_STATUS(hystrix_string_free(json), HYSTRIX_OK);

    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.force_open = true;
    CHECK_STATUS(hystrix_command_configure(f.cmd, &cfg), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_snapshot_json(f.cmd, &json), HYSTRIX_OK);
    CHECK_CONTAINS(json, "\"state\":\"open\"");
    CHECK_STATUS(hystrix_string_free(json), HYSTRIX_OK);
    teardown(f);
}

/* A listener may unsubscribe itself; its finalizer waits for the call to end. */
typedef struct {
    const hystrix_command *cmd;
    uint64_t id;
    int calls, frees, freed_during_call, unsubscribe_status;
    bool in_call;
} self_remover;

static void remove_self(void *ud, const char *command, hystrix_event event, uint64_t at_ms) {
    (void)command, (void)event, (void)at_ms;
    self_remover *r = ud;
    r->in_call = true;
    r->calls++;
    r->unsubscribe_status = hystrix_command_unsubscribe(r->cmd, r->id);
    if (r->frees) r->freed_during_call = 1;
    r->in_call = false;
}

static void self_remover_free(void *ud) {
    self_remover *r = ud;
    if (r->in_call) r->freed_during_call = 1;
    r->frees++;
}

static void test_listener_unsubscribes_itself(void) {
    fixture f = setup("self", 1000);
    self_remover r = {.cmd = f.cmd, .unsubscribe_status = -1};
    CHECK_STATUS(hystrix_command_on_event(f.cmd, remove_self, &r, self_remover_free, &r.id), HYSTRIX_OK);
    CHECK_STATUS(exec(f.cmd, HYSTRIX_FAILURE, true), HYSTRIX_OK); /* FAILURE, then FALLBACK_SUCCESS */
    CHECK_EQ(r.calls, 1);
    CHECK_STATUS(r.unsubscribe_status, HYSTRIX_OK);
    CHECK_EQ(r.frees, 1);
    CHECK_EQ(r.freed_during_call, 0);
    CHECK_STATUS(exec(f.cmd, HYSTRIX_OK, false), HYSTRIX_OK);
    CHECK_EQ(r.calls, 1);
    teardown(f);
    CHECK_EQ(r.frees, 1);
}

/* Unsubscribing while the listener runs on another thread: the finalizer
 * runs only once that call has returned. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool entered, release, in_call;
    int calls, frees, freed_during_call;
    const hystrix_command *cmd;
} blocking_listener;

static void blocking_event(void *ud, const char *command, hystrix_event event, uint64_t at_ms) {
    (void)command, (void)event, (void)at_ms;
    blocking_listener *b = ud;
    pthread_mutex_lock(&b->mu);
    b->calls++;
    b->in_call = true;
    b->entered = true;
    pthread_cond_broadcast(&b->cv);
    while (!b->release) pthread_cond_wait(&b->cv, &b->mu);
    b->in_call = false;
    pthread_mutex_unlock(&b->mu);
}

static void blocking_free(void *ud) {
    blocking_listener *b = ud;
    pthread_mutex_lock(&b->mu);
    if (b->in_call) b->freed_during_call = 1;
    b->frees++;
    pthread_mutex_unlock(&b->mu);
}

static void *execute_once(void *arg) {
    blocking_listener *b = arg;
    CHECK_STATUS(exec(b->cmd, HYSTRIX_OK, false), HYSTRIX_OK);
    return NULL;
}

static struct timespec deadline_in(long ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    return ts;
}

static void test_unsubscribe_while_listener_runs_elsewhere(void) {
    fixture f = setup("elsewhere", 1000);
    blocking_listener b;
    memset(&b, 0, sizeof b);
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.cv, NULL);
    b.cmd = f.cmd;
    uint64_t id = 0;
    CHECK_STATUS(hystrix_command_on_event(f.cmd, blocking_event, &b, blocking_free, &id), HYSTRIX_OK);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, execute_once, &b) == 0);
    struct timespec until = deadline_in(WAIT_BOUND_MS);
    pthread_mutex_lock(&b.mu);
    while (!b.entered)
        if (pthread_cond_timedwait(&b.cv, &b.mu, &until) != 0) break;
    bool entered = b.entered;
    pthread_mutex_unlock(&b.mu);
    CHECK(entered);
    CHECK_STATUS(hystrix_command_unsubscribe(f.cmd, id), HYSTRIX_OK);
    pthread_mutex_lock(&b.mu);
    CHECK_EQ(b.frees, 0); /* its call is still running */
    b.release = true;
    pthread_cond_broadcast(&b.cv);
    pthread_mutex_unlock(&b.mu);
    pthread_join(t, NULL);
    CHECK_EQ(b.calls, 1);
    CHECK_EQ(b.frees, 1);
    CHECK_EQ(b.freed_during_call, 0);
    teardown(f);
    CHECK_EQ(b.frees, 1);
    pthread_mutex_destroy(&b.mu);
    pthread_cond_destroy(&b.cv);
}

/* "It runs ... with no lock held (it may call back into the library)": a
 * listener that acknowledges a timed-out run from its TIMEOUT event, or from
 * a later event of the same call. Run on a helper thread with a bound, so a
 * deadlock fails the test instead of hanging the suite. */
typedef struct {
    hystrix_event trigger;
    uint64_t handle;
    hystrix_status ack;
    int dones;
    hystrix_status status;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool finished;
} ack_scenario;

static void ack_run(void *ud, uint64_t completion) { ((ack_scenario *)ud)->handle = completion; }
static void ack_fallback(void *ud, hystrix_status cause, uint64_t completion) {
    (void)ud;
    CHECK_STATUS(cause, HYSTRIX_TIMEOUT);
    CHECK_STATUS(hystrix_complete(completion, HYSTRIX_OK, FALLBACK_VALUE), HYSTRIX_OK);
}
static void ack_done(void *ud, hystrix_status status, void *value) {
    (void)value;
    ack_scenario *a = ud;
    a->dones++;
    a->status = status;
}
static void ack_listener(void *ud, const char *command, hystrix_event event, uint64_t at_ms) {
    (void)command, (void)at_ms;
    ack_scenario *a = ud;
    if (event == a->trigger) a->ack = hystrix_complete(a->handle, HYSTRIX_OK, RUN_VALUE);
}

static void *ack_thread(void *arg) {
    ack_scenario *a = arg;
    fixture f = setup("ack", 1000);
    CHECK_STATUS(hystrix_command_on_event(f.cmd, ack_listener, a, NULL, NULL), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_queue(f.cmd, ack_run, NULL, a->trigger == HYSTRIX_EVENT_TIMEOUT ? NULL : ack_fallback,
                                       ack_done, a, NULL, NULL),
                 HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_advance(f.clock, 100), HYSTRIX_OK);
    hystrix_snapshot s;
    CHECK_STATUS(hystrix_command_snapshot(f.cmd, &s), HYSTRIX_OK);
    CHECK_EQ(s.concurrent, 0);
    teardown(f);
    pthread_mutex_lock(&a->mu);
    a->finished = true;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

static bool run_ack_scenario(ack_scenario *a) {
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    a->ack = HYSTRIX_PANIC;
    a->status = HYSTRIX_PANIC;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, ack_thread, a) == 0);
    struct timespec until = deadline_in(WAIT_BOUND_MS);
    pthread_mutex_lock(&a->mu);
    while (!a->finished)
        if (pthread_cond_timedwait(&a->cv, &a->mu, &until) != 0) break;
    bool finished = a->finished;
    pthread_mutex_unlock(&a->mu);
    if (finished) {
        pthread_join(t, NULL);
        pthread_mutex_destroy(&a->mu);
        pthread_cond_destroy(&a->cv);
    } else {
        pthread_detach(t); /* deadlocked inside the library: leave it */
    }
    return finished;
}

static void test_listener_may_complete_the_timed_out_run(void) {
    static ack_scenario on_timeout = {.trigger = HYSTRIX_EVENT_TIMEOUT};
    bool finished = run_ack_scenario(&on_timeout);
    CHECK(finished); /* false: deadlock in hystrix_complete called from the listener */
    if (finished) {
        CHECK_STATUS(on_timeout.ack, HYSTRIX_TIMEOUT);
        CHECK_EQ(on_timeout.dones, 1);
        CHECK_STATUS(on_timeout.status, HYSTRIX_TIMEOUT);
    }
    static ack_scenario on_fallback = {.trigger = HYSTRIX_EVENT_FALLBACK_SUCCESS};
    finished = run_ack_scenario(&on_fallback);
    CHECK(finished);
    if (finished) {
        CHECK_STATUS(on_fallback.ack, HYSTRIX_TIMEOUT);
        CHECK_EQ(on_fallback.dones, 1);
        CHECK_STATUS(on_fallback.status, HYSTRIX_OK);
    }
}

int main(void) {
    RUN(test_events_in_order_with_name);
    RUN(test_anonymous_command_name_is_empty);
    RUN(test_two_listeners_and_partial_unsubscribe);
    RUN(test_transitions_with_times);
    RUN(test_listeners_outlive_handle_while_call_in_flight);
    RUN(test_listener_frees_command_during_sync_execute);
    RUN(test_named_commands);
    RUN(test_snapshot_json);
    RUN(test_listener_unsubscribes_itself);
    RUN(test_unsubscribe_while_listener_runs_elsewhere);
    RUN(test_listener_may_complete_the_timed_out_run);
    CHECK_STATUS(hystrix_shutdown(), HYSTRIX_OK);
    return check_summary("test_listeners");
}
