/* The C conformance runner: replays SPEC §7 scenario files through the C
 * library's public async API (hystrix_command_queue + hystrix_complete, and
 * hystrix_call_cancel) on a virtual clock, mirroring
 * tests/conformance/rust/src/replay.rs.
 *
 *   conformance-c PATH...   (files or directories, *.json, recursively)
 *
 * Prints `ok   <path>: <name>` or `FAIL <path>: <name>: <first difference>`
 * per scenario and ends with `c: N passed, M failed`; exits 1 if any failed.
 *
 * Simulated latency: a run's or fallback's `after_ms` is a timer armed with
 * hystrix_clock_schedule on the command's virtual clock, so it fires in due
 * time, then arming order, together with the library's timeout timers. So
 * is a call's `cancel_after_ms` (semantics §18.2): its timer is armed just
 * before the call is queued, ahead of everything the call arms, and calls
 * hystrix_call_cancel. After each call (each repetition) the timers due at
 * the current time fire (§17 rule 7).
 *
 * Several attempts per call (retries, hedges, SPEC v2 §9–§18): each run the
 * library invokes gets a record of its own (its completion handle, its
 * simulated completion timer); the k-th run a call invokes behaves as entry
 * k of the scenario's `run` array (§17). A run told to stop (`cancel`, per
 * completion handle) that does not `ignores_cancel` completes at once, as
 * its stop; one that does completes at its own time. Either way its
 * completion must return the "still yours" status: HYSTRIX_CANCELLED if the
 * caller cancelled or another attempt had won, else HYSTRIX_TIMEOUT.
 *
 * Events: a call's events are read from the call itself in `done`
 * (hystrix_call_events), so events recorded by the library's own timers
 * inside hystrix_clock_advance (timeouts, backoffs, hedges, rate-limit
 * waits) need no attribution.
 */
#define _POSIX_C_SOURCE 200809L

#include "hystrix.h"
#include "json.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

_Static_assert(HYSTRIX_EVENT_TYPE_COUNT == 16, "the event table below lists 16 event types");

static const char *const EVENT_NAMES[HYSTRIX_EVENT_TYPE_COUNT] = {
    "SUCCESS",          "FAILURE",          "TIMEOUT",          "BAD_REQUEST",
    "SHORT_CIRCUITED",  "SEMAPHORE_REJECTED", "FALLBACK_SUCCESS", "FALLBACK_FAILURE",
    "FALLBACK_REJECTION", "FALLBACK_MISSING", "FALLBACK_DISABLED", "CANCELLED",
    "RATE_LIMITED",     "RETRY",            "HEDGE",            "RETRY_BUDGET_EXHAUSTED",
};

static const char *event_name(int e) {
    return e >= 0 && e < HYSTRIX_EVENT_TYPE_COUNT ? EVENT_NAMES[e] : "?";
}

static int event_parse(const char *name) {
    for (int i = 0; i < HYSTRIX_EVENT_TYPE_COUNT; i++) {
        if (strcmp(EVENT_NAMES[i], name) == 0) return i;
    }
    return -1;
}

static const char *state_name(hystrix_state s) {
    switch (s) {
    case HYSTRIX_STATE_CLOSED: return "closed";
    case HYSTRIX_STATE_OPEN: return "open";
    case HYSTRIX_STATE_HALF_OPEN: return "half_open";
    }
    return "?";
}

/* Distinct values handed to hystrix_complete: `done` tells run from fallback
 * by which one it gets back. */
static char RUN_VALUE[] = "run value";
static char FALLBACK_VALUE[] = "fallback value";

#define ERR_LEN 1024

/* This thread's last library error message (truncated to fit `buf`). */
static const char *last_error(char *buf, size_t len) {
    size_t written = 0;
    if (hystrix_last_error_message(buf, len, &written) != HYSTRIX_OK) snprintf(buf, len, "(no message)");
    return buf;
}

/* A library message without its "hystrix_function: " prefix. */
static const char *without_prefix(const char *msg) {
    const char *colon = strstr(msg, ": ");
    return strncmp(msg, "hystrix_", 8) == 0 && colon ? colon + 2 : msg;
}

/* ---- Scenario files (SPEC §7) ------------------------------------------ */

typedef struct {
    const char *outcome;
    const json_value *outcome_value;
    uint64_t after_ms;
    bool ignores_cancel;
} behaviour;

typedef struct {
    const char *result; /* NULL: not checked */
    const char *error;  /* NULL: not checked */
    bool has_events;
    size_t n_events;
    const char **events;
    bool has_attempts, has_settled_at, has_run_starts; /* semantics §17 */
    uint64_t attempts, settled_at;
    size_t n_run_starts;
    uint64_t *run_starts;
} expectation;

typedef enum { OP_CALL, OP_ADVANCE, OP_CHECK, OP_CONFIGURE } op_kind;

typedef struct {
    op_kind kind;
    /* call */
    behaviour *runs; /* entry k for the k-th run invoked, the last beyond the end (§17) */
    size_t n_runs;
    bool has_fallback;
    behaviour fallback;
    uint64_t repeat;
    bool has_expect;
    expectation expect;
    bool has_cancel_after;
    uint64_t cancel_after_ms;
    /* advance */
    uint64_t ms;
    /* check: the step object; configure: the patch (NULL: absent) */
    const json_value *value;
} step;

typedef struct {
    const char *text; /* the file's text: sources of the JSON values */
    json_value *root;
    const char *name;
    const json_value *config; /* NULL: absent (the defaults) */
    const char *expect_config_error;
    step *steps;
    size_t n_steps;
} scenario;

static void scenario_free(scenario *s) {
    for (size_t i = 0; i < s->n_steps; i++) {
        free(s->steps[i].expect.events);
        free(s->steps[i].expect.run_starts);
        free(s->steps[i].runs);
    }
    free(s->steps);
    json_free(s->root);
}

/* `v` as text for messages ("null" when absent). */
static void describe(const json_value *v, const char *text, char *out, size_t len) {
    if (!v) {
        snprintf(out, len, "null");
        return;
    }
    int n = (int)(v->src_end - v->src_start);
    snprintf(out, len, "%.*s", n, text + v->src_start);
}

static bool read_uint(const json_value *v, const char *text, const char *what, uint64_t *out, char *err) {
    if (json_as_u64(v, out)) return true;
    char got[200];
    describe(v, text, got, sizeof got);
    snprintf(err, ERR_LEN, "%s must be a non-negative integer, got %s", what, got);
    return false;
}

static bool read_behaviour(const json_value *v, const char *text, const char *what, const char *const *allowed,
                           behaviour *b, char *err) {
    if (!v || v->type != JSON_OBJECT) {
        snprintf(err, ERR_LEN, "%s must be an object", what);
        return false;
    }
    b->outcome_value = json_get(v, "outcome");
    b->outcome = json_as_string(b->outcome_value);
    if (!b->outcome) {
        snprintf(err, ERR_LEN, "%s.outcome must be a string", what);
        return false;
    }
    bool known = false;
    for (size_t k = 0; allowed[k]; k++) known = known || strcmp(b->outcome, allowed[k]) == 0;
    if (!known) {
        snprintf(err, ERR_LEN, "%s: unknown outcome \"%s\"", what, b->outcome);
        return false;
    }
    const json_value *after = json_field(v, "after_ms");
    b->after_ms = 0;
    if (after) {
        char field[64];
        snprintf(field, sizeof field, "%s.after_ms", what);
        if (!read_uint(after, text, field, &b->after_ms, err)) return false;
    }
    const json_value *ic = json_field(v, "ignores_cancel");
    if (ic && ic->type != JSON_BOOL) {
        snprintf(err, ERR_LEN, "%s.ignores_cancel must be a boolean", what);
        return false;
    }
    b->ignores_cancel = ic && ic->boolean;
    return true;
}

static bool read_expect(const json_value *v, const char *text, expectation *e, char *err) {
    const char *names[2] = {"result", "error"};
    const char **outs[2] = {&e->result, &e->error};
    for (int k = 0; k < 2; k++) {
        const json_value *f = json_field(v, names[k]);
        if (f && f->type != JSON_STRING) {
            snprintf(err, ERR_LEN, "expect.%s must be a string", names[k]);
            return false;
        }
        *outs[k] = json_as_string(f);
    }
    const char *counts[2] = {"attempts", "settled_at"};
    bool *has[2] = {&e->has_attempts, &e->has_settled_at};
    uint64_t *vals[2] = {&e->attempts, &e->settled_at};
    for (int k = 0; k < 2; k++) {
        const json_value *f = json_field(v, counts[k]);
        if (!f) continue;
        char what[32];
        snprintf(what, sizeof what, "expect.%s", counts[k]);
        if (!read_uint(f, text, what, vals[k], err)) return false;
        *has[k] = true;
    }
    const json_value *starts = json_field(v, "run_starts");
    if (starts) {
        if (starts->type != JSON_ARRAY) {
            snprintf(err, ERR_LEN, "expect.run_starts must be an array");
            return false;
        }
        e->has_run_starts = true;
        e->n_run_starts = starts->count;
        e->run_starts = calloc(starts->count ? starts->count : 1, sizeof *e->run_starts);
        if (!e->run_starts) {
            snprintf(err, ERR_LEN, "out of memory");
            return false;
        }
        for (size_t i = 0; i < starts->count; i++) {
            char what[48];
            snprintf(what, sizeof what, "expect.run_starts[%zu]", i);
            if (!read_uint(starts->items[i], text, what, &e->run_starts[i], err)) return false;
        }
    }
    const json_value *events = json_field(v, "events");
    if (!events) return true;
    if (events->type != JSON_ARRAY) {
        snprintf(err, ERR_LEN, "expect.events must be an array");
        return false;
    }
    e->has_events = true;
    e->n_events = events->count;
    e->events = calloc(events->count ? events->count : 1, sizeof *e->events);
    if (!e->events) {
        snprintf(err, ERR_LEN, "out of memory");
        return false;
    }
    for (size_t i = 0; i < events->count; i++) {
        e->events[i] = json_as_string(events->items[i]);
        if (!e->events[i]) {
            snprintf(err, ERR_LEN, "expect.events must hold strings");
            return false;
        }
    }
    return true;
}

static bool read_step(const json_value *v, const char *text, size_t i, step *st, char *err) {
    const char *op = json_as_string(json_get(v, "op"));
    if (!op) {
        snprintf(err, ERR_LEN, "step %zu: missing op", i);
        return false;
    }
    if (strcmp(op, "call") == 0) {
        st->kind = OP_CALL;
        const json_value *run = json_get(v, "run");
        if (!run) {
            snprintf(err, ERR_LEN, "step %zu: call without run", i);
            return false;
        }
        static const char *const run_outcomes[] = {"success", "failure", "bad_request", NULL};
        static const char *const fallback_outcomes[] = {"success", "failure", NULL};
        bool many = run->type == JSON_ARRAY;
        if (many && run->count == 0) {
            snprintf(err, ERR_LEN, "step %zu: run must not be an empty array", i);
            return false;
        }
        st->n_runs = many ? run->count : 1;
        st->runs = calloc(st->n_runs, sizeof *st->runs);
        if (!st->runs) {
            snprintf(err, ERR_LEN, "out of memory");
            return false;
        }
        for (size_t k = 0; k < st->n_runs; k++) {
            char what[32];
            if (many) {
                snprintf(what, sizeof what, "run[%zu]", k);
            } else {
                snprintf(what, sizeof what, "run");
            }
            if (!read_behaviour(many ? run->items[k] : run, text, what, run_outcomes, &st->runs[k], err)) return false;
        }
        const json_value *fb = json_get(v, "fallback");
        if (fb && fb->type != JSON_NULL) {
            st->has_fallback = true;
            if (!read_behaviour(fb, text, "fallback", fallback_outcomes, &st->fallback, err)) return false;
        }
        const json_value *repeat = json_field(v, "repeat");
        st->repeat = 1;
        if (repeat && !read_uint(repeat, text, "repeat", &st->repeat, err)) return false;
        const json_value *cancel_after = json_field(v, "cancel_after_ms");
        if (cancel_after) {
            st->has_cancel_after = true;
            if (!read_uint(cancel_after, text, "cancel_after_ms", &st->cancel_after_ms, err)) return false;
        }
        const json_value *expect = json_field(v, "expect");
        if (expect) {
            st->has_expect = true;
            if (!read_expect(expect, text, &st->expect, err)) return false;
        }
    } else if (strcmp(op, "advance") == 0) {
        st->kind = OP_ADVANCE;
        if (!read_uint(json_get(v, "ms"), text, "advance.ms", &st->ms, err)) return false;
    } else if (strcmp(op, "check") == 0) {
        st->kind = OP_CHECK;
        st->value = v;
    } else if (strcmp(op, "configure") == 0) {
        st->kind = OP_CONFIGURE;
        st->value = json_get(v, "config");
        if (!st->value || st->value->type != JSON_OBJECT) {
            snprintf(err, ERR_LEN, "step %zu: configure needs a config object", i);
            return false;
        }
    } else {
        snprintf(err, ERR_LEN, "step %zu: unknown op \"%s\"", i, op);
        return false;
    }
    return true;
}

/* Parses a scenario file's text (which must outlive the scenario). */
static bool scenario_parse(const char *text, size_t len, scenario *s, char *err) {
    memset(s, 0, sizeof *s);
    s->text = text;
    char jerr[300];
    s->root = json_parse(text, len, jerr, sizeof jerr);
    if (!s->root) {
        snprintf(err, ERR_LEN, "not JSON: %s", jerr);
        return false;
    }
    s->name = json_as_string(json_get(s->root, "name"));
    if (!s->name) s->name = "(unnamed)";
    if (s->root->type != JSON_OBJECT) {
        snprintf(err, ERR_LEN, "a scenario must be a JSON object");
        return false;
    }
    const json_value *steps = json_field(s->root, "steps");
    if (steps) {
        if (steps->type != JSON_ARRAY) {
            snprintf(err, ERR_LEN, "steps must be an array");
            return false;
        }
        s->steps = calloc(steps->count ? steps->count : 1, sizeof *s->steps);
        if (!s->steps) {
            snprintf(err, ERR_LEN, "out of memory");
            return false;
        }
        for (size_t i = 0; i < steps->count; i++) {
            s->n_steps = i + 1; /* so that scenario_free sees what was allocated */
            if (!read_step(steps->items[i], text, i, &s->steps[i], err)) return false;
        }
    }
    s->config = json_field(s->root, "config");
    if (s->config && s->config->type != JSON_OBJECT) {
        snprintf(err, ERR_LEN, "config must be a JSON object");
        return false;
    }
    const json_value *key = json_field(s->root, "expect_config_error");
    if (key && key->type != JSON_STRING) {
        snprintf(err, ERR_LEN, "expect_config_error must be a string");
        return false;
    }
    s->expect_config_error = json_as_string(key);
    return true;
}

/* ---- Replay ------------------------------------------------------------- */

static uint64_t saturating_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

/* Events and run starts kept per call (more are counted, not kept). */
#define MAX_EVENTS 64

typedef struct replay replay;
typedef struct call call;

/* One run the call invoked (an attempt admitted), with its own completion
 * handle and simulated completion timer. */
typedef struct {
    call *c;
    const behaviour *b; /* the k-th run invoked behaves as entry k, or the last (§17) */
    uint64_t handle;
    uint32_t attempt; /* hystrix_completion_attempt */
    uint64_t started_at;
    bool open;
    hystrix_status aborted; /* HYSTRIX_OK, or why the run was told to stop */
    uint64_t timer;
    bool timer_armed;
} run_rec;

struct call {
    replay *r;
    const step *st;
    char label[64];
    uint64_t id; /* its call handle (hystrix_call_cancel, hystrix_call_events) */
    uint64_t cancel_timer;
    bool cancel_timer_armed;
    bool cancelling; /* inside our hystrix_call_cancel for it */
    bool won;        /* a run's success or bad request was accepted: later aborts are cancellations */
    run_rec **runs;  /* in invocation order */
    size_t n_runs, cap_runs;
    uint64_t fallback_handle;
    bool fallback_open;
    uint64_t fallback_timer;
    bool fallback_timer_armed;
    int done_count;
    uint64_t settled_at;
    int events[MAX_EVENTS];
    size_t n_events; /* may exceed MAX_EVENTS: only the first are kept */
};

struct replay {
    const scenario *s;
    hystrix_clock *clock;
    hystrix_command *cmd;
    call **calls;
    size_t n_calls, cap_calls;
    bool teardown;
    size_t released; /* calls whose user data the library has let go of */
    bool failed;
    char failure[ERR_LEN];
};

static void set_failure(replay *r, const char *fmt, ...) {
    if (r->failed || r->teardown) return;
    r->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->failure, sizeof r->failure, fmt, ap);
    va_end(ap);
}

static void format_events(const int *events, size_t n, char *out, size_t len) {
    size_t used = 0;
    used += (size_t)snprintf(out, len, "[");
    for (size_t i = 0; i < n && used < len; i++) {
        const char *name = i < MAX_EVENTS ? event_name(events[i]) : "...";
        used += (size_t)snprintf(out + used, len - used, "%s\"%s\"", i ? ", " : "", name);
    }
    if (used < len) snprintf(out + used, len - used, "]");
}

static void format_names(const char *const *names, size_t n, char *out, size_t len) {
    size_t used = 0;
    used += (size_t)snprintf(out, len, "[");
    for (size_t i = 0; i < n && used < len; i++) {
        used += (size_t)snprintf(out + used, len - used, "%s\"%s\"", i ? ", " : "", names[i]);
    }
    if (used < len) snprintf(out + used, len - used, "]");
}

static void format_times(const uint64_t *times, size_t n, char *out, size_t len) {
    size_t used = 0;
    used += (size_t)snprintf(out, len, "[");
    for (size_t i = 0; i < n && used < len; i++) {
        used += (size_t)snprintf(out + used, len - used, "%s%" PRIu64, i ? ", " : "", times[i]);
    }
    if (used < len) snprintf(out + used, len - used, "]");
}

/* The listener only checks the vocabulary: a call's events are read from
 * the call itself (hystrix_call_events), wherever they were recorded —
 * in a completion, or in a timer inside hystrix_clock_advance (a timeout,
 * a backoff, a hedge, a rate-limit wait). */
static void on_event(void *user_data, const char *command, hystrix_event event, uint64_t at_ms) {
    (void)command;
    (void)at_ms;
    replay *r = user_data;
    if ((int)event < 0 || (int)event >= HYSTRIX_EVENT_TYPE_COUNT) {
        set_failure(r, "listener got an unknown event type %d", (int)event);
    }
}

static bool is_outcome(const behaviour *b, const char *outcome) { return strcmp(b->outcome, outcome) == 0; }

/* Completes the run's handle with its outcome. */
static void complete_run(run_rec *run) {
    call *c = run->c;
    replay *r = c->r;
    const behaviour *b = run->b;
    int32_t status = HYSTRIX_FAILURE;
    void *value = NULL;
    if (is_outcome(b, "success")) {
        status = HYSTRIX_OK;
        value = RUN_VALUE;
    } else if (is_outcome(b, "bad_request")) {
        status = HYSTRIX_BAD_REQUEST;
    }
    run->open = false;
    /* An aborted run's completion only releases its permit (still yours). */
    hystrix_status want = run->aborted;
    /* A success or bad request in time wins: the runs it stops (inside
     * hystrix_complete, or once the callback we are in returns) are
     * cancelled. */
    bool was_won = c->won;
    if (want == HYSTRIX_OK && status != HYSTRIX_FAILURE) c->won = true;
    hystrix_status rc = hystrix_complete(run->handle, status, value);
    if (rc != HYSTRIX_OK) c->won = was_won;
    if (rc != want) {
        char msg[512];
        set_failure(r, "%s: hystrix_complete(run %" PRIu32 ") returned %s, expected %s (%s)", c->label, run->attempt,
                    hystrix_status_name(rc), hystrix_status_name(want), last_error(msg, sizeof msg));
    }
}

static void complete_fallback(call *c) {
    replay *r = c->r;
    bool ok = is_outcome(&c->st->fallback, "success");
    c->fallback_open = false;
    /* Only a cancellation settles a call before its fallback ends (§18.1). */
    hystrix_status want = c->done_count > 0 ? HYSTRIX_CANCELLED : HYSTRIX_OK;
    hystrix_status rc = hystrix_complete(c->fallback_handle, ok ? HYSTRIX_OK : HYSTRIX_FAILURE, ok ? FALLBACK_VALUE : NULL);
    if (rc != want) {
        char msg[512];
        set_failure(r, "%s: hystrix_complete(fallback) returned %s, expected %s (%s)", c->label,
                    hystrix_status_name(rc), hystrix_status_name(want), last_error(msg, sizeof msg));
    }
}

static uint64_t clock_now(replay *r) {
    uint64_t now = 0;
    if (hystrix_clock_now(r->clock, &now) != HYSTRIX_OK) set_failure(r, "hystrix_clock_now failed");
    return now;
}

static void run_timer_fired(void *user_data) {
    run_rec *run = user_data;
    run->timer_armed = false;
    if (run->open) complete_run(run);
}

/* The caller cancels (semantics §18.2); a settled call is left as it is. */
static void cancel_timer_fired(void *user_data) {
    call *c = user_data;
    replay *r = c->r;
    c->cancel_timer_armed = false;
    hystrix_status want = c->done_count > 0 ? HYSTRIX_INVALID_STATE : HYSTRIX_OK;
    c->cancelling = true;
    hystrix_status rc = hystrix_call_cancel(c->id);
    c->cancelling = false;
    if (rc != want) {
        char msg[512];
        set_failure(r, "%s: hystrix_call_cancel returned %s, expected %s (%s)", c->label, hystrix_status_name(rc),
                    hystrix_status_name(want), last_error(msg, sizeof msg));
    }
}

static void fallback_timer_fired(void *user_data) {
    call *c = user_data;
    c->fallback_timer_armed = false;
    if (c->fallback_open) complete_fallback(c);
}

static run_rec *find_run(call *c, uint64_t handle) {
    for (size_t i = 0; i < c->n_runs; i++) {
        if (c->runs[i]->handle == handle) return c->runs[i];
    }
    return NULL;
}

static void on_run(void *user_data, uint64_t completion) {
    call *c = user_data;
    replay *r = c->r;
    if (c->n_runs == c->cap_runs) {
        size_t cap = c->cap_runs ? c->cap_runs * 2 : 4;
        run_rec **runs = realloc(c->runs, cap * sizeof *runs);
        if (!runs) {
            set_failure(r, "out of memory");
            return;
        }
        c->runs = runs;
        c->cap_runs = cap;
    }
    run_rec *run = calloc(1, sizeof *run);
    if (!run) {
        set_failure(r, "out of memory");
        return;
    }
    size_t k = c->n_runs;
    c->runs[c->n_runs++] = run;
    run->c = c;
    /* The k-th run invoked behaves as entry k, or the last (§17). */
    run->b = &c->st->runs[k < c->st->n_runs ? k : c->st->n_runs - 1];
    run->handle = completion;
    run->started_at = clock_now(r);
    run->open = true;
    run->aborted = HYSTRIX_OK;
    /* Attempt numbers go up with each run (refused attempts take one too). */
    uint32_t attempt = 0;
    hystrix_status rc = hystrix_completion_attempt(completion, &attempt);
    uint32_t prev = k ? c->runs[k - 1]->attempt : 0;
    if (rc != HYSTRIX_OK || attempt <= prev) {
        set_failure(r, "%s: hystrix_completion_attempt for run %zu returned %s, attempt %" PRIu32 " (previous %" PRIu32
                       ")", c->label, k + 1, hystrix_status_name(rc), attempt, prev);
    }
    run->attempt = attempt;
    if (run->b->after_ms == 0) {
        complete_run(run);
        return;
    }
    rc = hystrix_clock_schedule(r->clock, saturating_add(run->started_at, run->b->after_ms), run_timer_fired, run,
                                &run->timer);
    if (rc != HYSTRIX_OK) {
        set_failure(r, "%s: hystrix_clock_schedule returned %s", c->label, hystrix_status_name(rc));
        return;
    }
    run->timer_armed = true;
}

static void on_cancel(void *user_data, uint64_t completion) {
    call *c = user_data;
    replay *r = c->r;
    run_rec *run = find_run(c, completion);
    if (!run || !run->open) {
        set_failure(r, "%s: cancel for a run that is not going (handle %" PRIu64 ")", c->label, completion);
        return;
    }
    if (run->aborted != HYSTRIX_OK) set_failure(r, "%s: run %" PRIu32 " cancelled twice", c->label, run->attempt);
    /* Told to stop by the caller or by a winning attempt: cancelled;
     * otherwise its timeout fired. */
    run->aborted = c->cancelling || c->won ? HYSTRIX_CANCELLED : HYSTRIX_TIMEOUT;
    if (run->b->ignores_cancel) return; /* it finishes when its timer fires */
    /* The run stops when told to: its simulated completion never comes. */
    if (run->timer_armed) {
        hystrix_status rc = hystrix_clock_cancel(r->clock, run->timer);
        if (rc != HYSTRIX_OK) set_failure(r, "%s: hystrix_clock_cancel returned %s", c->label, hystrix_status_name(rc));
        run->timer_armed = false;
    }
    complete_run(run);
}

static void on_fallback(void *user_data, hystrix_status cause, uint64_t completion) {
    (void)cause;
    call *c = user_data;
    replay *r = c->r;
    if (!c->st->has_fallback) {
        set_failure(r, "%s: fallback started for a call without one", c->label);
        return;
    }
    if (c->fallback_handle != 0) set_failure(r, "%s: fallback started twice", c->label);
    uint32_t attempt = 0;
    if (hystrix_completion_attempt(completion, &attempt) != HYSTRIX_INVALID_ARGUMENT || attempt != 0) {
        set_failure(r, "%s: hystrix_completion_attempt accepted a fallback's handle", c->label);
    }
    c->fallback_handle = completion;
    c->fallback_open = true;
    if (c->st->fallback.after_ms == 0 || r->teardown) {
        complete_fallback(c);
        return;
    }
    hystrix_status rc = hystrix_clock_schedule(r->clock, saturating_add(clock_now(r), c->st->fallback.after_ms),
                                               fallback_timer_fired, c, &c->fallback_timer);
    if (rc != HYSTRIX_OK) {
        set_failure(r, "%s: hystrix_clock_schedule returned %s", c->label, hystrix_status_name(rc));
        return;
    }
    c->fallback_timer_armed = true;
}

/* The call's own events, as they were when it settled. */
static void read_events(call *c) {
    hystrix_event events[MAX_EVENTS];
    size_t count = 0;
    hystrix_status rc = hystrix_call_events(c->id, events, MAX_EVENTS, &count);
    if (rc != HYSTRIX_OK) {
        char msg[512];
        set_failure(c->r, "%s: hystrix_call_events returned %s (%s)", c->label, hystrix_status_name(rc),
                    last_error(msg, sizeof msg));
        return;
    }
    c->n_events = count;
    for (size_t i = 0; i < count && i < MAX_EVENTS; i++) c->events[i] = (int)events[i];
}

static void on_done(void *user_data, hystrix_status status, void *value) {
    call *c = user_data;
    replay *r = c->r;
    if (r->teardown) return;
    if (++c->done_count > 1) {
        set_failure(r, "%s: done called %d times", c->label, c->done_count);
        return;
    }
    c->settled_at = clock_now(r);
    read_events(c);
    const char *result = "error";
    const char *error = NULL;
    if (status == HYSTRIX_OK) {
        if (value == RUN_VALUE) {
            result = "run";
        } else if (value == FALLBACK_VALUE) {
            result = "fallback";
        } else {
            set_failure(r, "%s: done with HYSTRIX_OK and a value that is neither the run's nor the fallback's",
                        c->label);
            return;
        }
    } else {
        error = hystrix_status_name(status);
        if (value != NULL) set_failure(r, "%s: done with error %s and a non-NULL value", c->label, error);
    }
    if (!c->st->has_expect) return;
    const expectation *want = &c->st->expect;
    if (want->result && strcmp(want->result, result) != 0) {
        set_failure(r, "%s: result \"%s\", expected \"%s\"", c->label, result, want->result);
    } else if (want->error && (!error || strcmp(want->error, error) != 0)) {
        char got[64] = "none";
        if (error) snprintf(got, sizeof got, "\"%s\"", error);
        set_failure(r, "%s: error %s, expected \"%s\"", c->label, got, want->error);
    } else if (want->has_events) {
        bool same = c->n_events == want->n_events;
        for (size_t i = 0; same && i < c->n_events; i++) {
            same = i < MAX_EVENTS && strcmp(event_name(c->events[i]), want->events[i]) == 0;
        }
        if (!same) {
            char got[1024], exp[1024];
            format_events(c->events, c->n_events, got, sizeof got);
            format_names(want->events, want->n_events, exp, sizeof exp);
            set_failure(r, "%s: events %s, expected %s", c->label, got, exp);
            return;
        }
    }
    /* Attempt outcomes among the call's events (§17). */
    static const int ATTEMPT_EVENTS[] = {HYSTRIX_EVENT_SUCCESS,         HYSTRIX_EVENT_FAILURE,
                                         HYSTRIX_EVENT_TIMEOUT,         HYSTRIX_EVENT_BAD_REQUEST,
                                         HYSTRIX_EVENT_SHORT_CIRCUITED, HYSTRIX_EVENT_SEMAPHORE_REJECTED,
                                         HYSTRIX_EVENT_CANCELLED};
    uint64_t attempts = 0;
    for (size_t i = 0; i < c->n_events && i < MAX_EVENTS; i++) {
        for (size_t k = 0; k < sizeof ATTEMPT_EVENTS / sizeof *ATTEMPT_EVENTS; k++) {
            if (c->events[i] == ATTEMPT_EVENTS[k]) attempts++;
        }
    }
    if (want->has_attempts && attempts != want->attempts) {
        set_failure(r, "%s: attempts %" PRIu64 ", expected %" PRIu64, c->label, attempts, want->attempts);
    } else if (want->has_settled_at && c->settled_at != want->settled_at) {
        set_failure(r, "%s: settled at %" PRIu64 ", expected %" PRIu64, c->label, c->settled_at, want->settled_at);
    } else if (want->has_run_starts) {
        bool same = c->n_runs == want->n_run_starts;
        for (size_t i = 0; same && i < c->n_runs; i++) same = c->runs[i]->started_at == want->run_starts[i];
        if (!same) {
            uint64_t got_times[MAX_EVENTS];
            size_t n = c->n_runs < MAX_EVENTS ? c->n_runs : MAX_EVENTS;
            for (size_t i = 0; i < n; i++) got_times[i] = c->runs[i]->started_at;
            char got[1024], exp[1024];
            format_times(got_times, n, got, sizeof got);
            format_times(want->run_starts, want->n_run_starts, exp, sizeof exp);
            set_failure(r, "%s: runs started at %s, expected %s", c->label, got, exp);
        }
    }
}

static void on_release(void *user_data) {
    call *c = user_data;
    c->r->released++;
}

static bool start_call(replay *r, const step *st, size_t i, uint64_t k, char *err) {
    if (r->n_calls == r->cap_calls) {
        size_t cap = r->cap_calls ? r->cap_calls * 2 : 16;
        call **calls = realloc(r->calls, cap * sizeof *calls);
        if (!calls) {
            snprintf(err, ERR_LEN, "out of memory");
            return false;
        }
        r->calls = calls;
        r->cap_calls = cap;
    }
    call *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, ERR_LEN, "out of memory");
        return false;
    }
    c->r = r;
    c->st = st;
    snprintf(c->label, sizeof c->label, "step %zu call %" PRIu64, i, k + 1);
    r->calls[r->n_calls++] = c;
    /* §18.2: the cancel timer is armed before anything the call arms. */
    if (st->has_cancel_after) {
        hystrix_status rc = hystrix_clock_schedule(r->clock, saturating_add(clock_now(r), st->cancel_after_ms),
                                                   cancel_timer_fired, c, &c->cancel_timer);
        if (rc != HYSTRIX_OK) {
            snprintf(err, ERR_LEN, "%s: hystrix_clock_schedule returned %s", c->label, hystrix_status_name(rc));
            return false;
        }
        c->cancel_timer_armed = true;
    }
    hystrix_status rc = hystrix_command_queue(r->cmd, on_run, on_cancel, st->has_fallback ? on_fallback : NULL, on_done,
                                              c, on_release, &c->id);
    if (rc != HYSTRIX_OK) {
        char msg[512];
        snprintf(err, ERR_LEN, "%s: hystrix_command_queue returned %s (%s)", c->label, hystrix_status_name(rc),
                 last_error(msg, sizeof msg));
        return false;
    }
    return true;
}

/* A `budget` value: a whole number of magnitude at most 2^53 - 1 (§17). */
static bool json_as_i64(const json_value *v, int64_t *out) {
    if (!v || v->type != JSON_NUMBER) return false;
    double x = v->number, max = 9007199254740991.0;
    if (x != x || x < -max || x > max || x != (double)(int64_t)x) return false;
    *out = (int64_t)x;
    return true;
}

static bool check(replay *r, size_t i, const json_value *want, char *err) {
    const char *text = r->s->text;
    hystrix_snapshot snap;
    hystrix_status rc = hystrix_command_snapshot(r->cmd, &snap);
    if (rc != HYSTRIX_OK) {
        char msg[512];
        snprintf(err, ERR_LEN, "step %zu: hystrix_command_snapshot returned %s (%s)", i, hystrix_status_name(rc),
                 last_error(msg, sizeof msg));
        return false;
    }
    uint64_t now = clock_now(r);
    char exp[200];
#define CHECK_FAIL(what, gotfmt, got, expv)                                                                   \
    do {                                                                                                      \
        describe((expv), text, exp, sizeof exp);                                                              \
        snprintf(err, ERR_LEN, "step %zu check at t=%" PRIu64 ": %s is " gotfmt ", expected %s", i, now, (what), \
                 (got), exp);                                                                                 \
        return false;                                                                                         \
    } while (0)
    const json_value *state = json_field(want, "state");
    if (state) {
        const char *s = json_as_string(state);
        if (!s || strcmp(s, state_name(snap.state)) != 0) CHECK_FAIL("state", "%s", state_name(snap.state), state);
    }
    const json_value *health = json_field(want, "health");
    const json_value *rolling = json_field(want, "rolling");
    if ((health && health->type != JSON_OBJECT) || (rolling && rolling->type != JSON_OBJECT)) {
        snprintf(err, ERR_LEN, "step %zu: check.%s must be an object", i,
                 health && health->type != JSON_OBJECT ? "health" : "rolling");
        return false;
    }
    if (health) {
        for (size_t k = 0; k < health->count; k++) {
            const json_member *m = &health->members[k];
            if (m->value->type == JSON_NULL) continue;
            uint64_t got;
            if (strcmp(m->key, "total") == 0) {
                got = snap.health_total;
            } else if (strcmp(m->key, "errors") == 0) {
                got = snap.health_errors;
            } else if (strcmp(m->key, "error_percentage") == 0) {
                got = snap.health_error_percentage;
            } else {
                snprintf(err, ERR_LEN, "step %zu: unknown health field \"%s\"", i, m->key);
                return false;
            }
            uint64_t e;
            if (!json_as_u64(m->value, &e) || e != got) {
                char what[80];
                snprintf(what, sizeof what, "health.%s", m->key);
                CHECK_FAIL(what, "%" PRIu64, got, m->value);
            }
        }
    }
    /* Every event type's rolling count, SPEC v2's included (hystrix_snapshot's
     * array stops at HYSTRIX_EVENT_COUNT). */
    uint64_t all_rolling[HYSTRIX_EVENT_TYPE_COUNT] = {0};
    if (rolling && hystrix_command_event_counts(r->cmd, all_rolling, NULL, HYSTRIX_EVENT_TYPE_COUNT) != HYSTRIX_OK) {
        snprintf(err, ERR_LEN, "step %zu: hystrix_command_event_counts failed", i);
        return false;
    }
    if (rolling) {
        for (size_t k = 0; k < rolling->count; k++) {
            const json_member *m = &rolling->members[k];
            if (m->value->type == JSON_NULL) continue;
            int event = event_parse(m->key);
            if (event < 0) {
                snprintf(err, ERR_LEN, "step %zu: unknown event type \"%s\"", i, m->key);
                return false;
            }
            uint64_t got = all_rolling[event], e;
            if (!json_as_u64(m->value, &e) || e != got) {
                char what[80];
                snprintf(what, sizeof what, "rolling.%s", m->key);
                CHECK_FAIL(what, "%" PRIu64, got, m->value);
            }
        }
    }
    const char *names[2] = {"concurrent", "fallback_concurrent"};
    uint64_t gots[2] = {snap.concurrent, snap.fallback_concurrent};
    for (int k = 0; k < 2; k++) {
        const json_value *v = json_field(want, names[k]);
        uint64_t e;
        if (v && (!json_as_u64(v, &e) || e != gots[k])) CHECK_FAIL(names[k], "%" PRIu64, gots[k], v);
    }
    /* SPEC v2: the limit in force and the retry budget (not in hystrix_snapshot). */
    const json_value *limit = json_field(want, "limit");
    const json_value *budget = json_field(want, "budget");
    if (limit || budget) {
        uint64_t got_limit = 0;
        int64_t got_budget = 0;
        if ((rc = hystrix_command_limit_budget(r->cmd, &got_limit, &got_budget)) != HYSTRIX_OK) {
            snprintf(err, ERR_LEN, "step %zu: hystrix_command_limit_budget returned %s", i, hystrix_status_name(rc));
            return false;
        }
        uint64_t e;
        int64_t eb;
        if (limit && (!json_as_u64(limit, &e) || e != got_limit)) CHECK_FAIL("limit", "%" PRIu64, got_limit, limit);
        if (budget && (!json_as_i64(budget, &eb) || eb != got_budget)) {
            CHECK_FAIL("budget", "%" PRId64, got_budget, budget);
        }
    }
#undef CHECK_FAIL
    return true;
}

/* Moves the clock by `ms`, firing every timer due up to then. */
static bool advance(replay *r, size_t i, uint64_t ms, char *err) {
    hystrix_status rc = hystrix_clock_advance(r->clock, ms);
    if (rc != HYSTRIX_OK) {
        char msg[512];
        snprintf(err, ERR_LEN, "step %zu: hystrix_clock_advance returned %s (%s)", i, hystrix_status_name(rc),
                 last_error(msg, sizeof msg));
        return false;
    }
    return true;
}

static bool do_step(replay *r, size_t i, const step *st, char *err) {
    switch (st->kind) {
    case OP_CALL: {
        for (uint64_t k = 0; k < st->repeat; k++) {
            if (!start_call(r, st, i, k, err)) return false;
            /* §17 rule 7: the timers due now fire before the next call. */
            if (!advance(r, i, 0, err)) return false;
        }
        return true;
    }
    case OP_ADVANCE: return advance(r, i, st->ms, err);
    case OP_CHECK: return check(r, i, st->value, err);
    case OP_CONFIGURE: {
        char *patch = st->value ? json_source(st->value, r->s->text) : strdup("null");
        if (!patch) {
            snprintf(err, ERR_LEN, "out of memory");
            return false;
        }
        hystrix_status rc = hystrix_command_configure_json(r->cmd, patch);
        free(patch);
        if (rc != HYSTRIX_OK) {
            char msg[512];
            snprintf(err, ERR_LEN, "step %zu: configure refused: %s", i, without_prefix(last_error(msg, sizeof msg)));
            return false;
        }
        return true;
    }
    }
    snprintf(err, ERR_LEN, "step %zu: unknown op", i);
    return false;
}

/* Cancels every call not settled yet and completes everything still
 * outstanding so the library lets go of every call, then frees the
 * command, the clock and the calls. */
static void teardown(replay *r, uint64_t listener) {
    r->teardown = true;
    for (size_t i = 0; i < r->n_calls; i++) {
        call *c = r->calls[i];
        if (c->cancel_timer_armed) {
            hystrix_clock_cancel(r->clock, c->cancel_timer);
            c->cancel_timer_armed = false;
        }
        /* A call still waiting (a backoff, a hedge, the rate limiter) or
         * running: cancelled, so that it settles. */
        if (c->done_count == 0) {
            c->cancelling = true;
            hystrix_call_cancel(c->id);
            c->cancelling = false;
        }
        for (size_t k = 0; k < c->n_runs; k++) {
            run_rec *run = c->runs[k];
            if (run->timer_armed) {
                hystrix_clock_cancel(r->clock, run->timer);
                run->timer_armed = false;
            }
            if (run->open) complete_run(run);
        }
        if (c->fallback_timer_armed) {
            hystrix_clock_cancel(r->clock, c->fallback_timer);
            c->fallback_timer_armed = false;
        }
        if (c->fallback_open) complete_fallback(c);
    }
    if (r->cmd) {
        hystrix_command_unsubscribe(r->cmd, listener);
        hystrix_command_free(r->cmd);
    }
    if (r->clock) hystrix_clock_free(r->clock);
    if (r->released != r->n_calls) {
        fprintf(stderr, "warning: %s: the library still holds %zu of %zu calls after teardown\n", r->s->name,
                r->n_calls - r->released, r->n_calls);
    }
    for (size_t i = 0; i < r->n_calls; i++) {
        for (size_t k = 0; k < r->calls[i]->n_runs; k++) free(r->calls[i]->runs[k]);
        free(r->calls[i]->runs);
        free(r->calls[i]);
    }
    free(r->calls);
}

/* Replays a parsed scenario; false with the first difference in `err`. */
static bool replay_scenario(const scenario *s, char *err) {
    char msg[512];
    char *config_text = s->config ? json_source(s->config, s->text) : strdup("{}");
    if (!config_text) {
        snprintf(err, ERR_LEN, "out of memory");
        return false;
    }
    hystrix_config cfg;
    hystrix_status rc = hystrix_config_from_json(config_text, &cfg);
    free(config_text);
    if (s->expect_config_error) {
        const char *key = s->expect_config_error;
        if (rc == HYSTRIX_OK) {
            snprintf(err, ERR_LEN, "config was accepted, expected invalid_config naming \"%s\"", key);
            return false;
        }
        last_error(msg, sizeof msg);
        if (rc != HYSTRIX_INVALID_CONFIG) {
            snprintf(err, ERR_LEN, "config refused with %s, expected invalid_config naming \"%s\" (%s)",
                     hystrix_status_name(rc), key, msg);
            return false;
        }
        const char *marker = "invalid config: ";
        const char *named = strstr(msg, marker);
        if (!named) {
            snprintf(err, ERR_LEN, "config error names no key, expected \"%s\" (%s)", key, msg);
            return false;
        }
        named += strlen(marker);
        size_t n = strlen(key);
        if (strncmp(named, key, n) == 0 && (named[n] == ' ' || named[n] == '\0')) return true;
        int got_len = (int)strcspn(named, " ");
        snprintf(err, ERR_LEN, "config error names \"%.*s\", expected \"%s\" (%s)", got_len, named, key,
                 without_prefix(msg));
        return false;
    }
    if (rc != HYSTRIX_OK) {
        snprintf(err, ERR_LEN, "config refused: %s", without_prefix(last_error(msg, sizeof msg)));
        return false;
    }

    replay r;
    memset(&r, 0, sizeof r);
    r.s = s;
    uint64_t listener = 0;
    bool ok = true;
    if ((rc = hystrix_clock_new_virtual(&r.clock)) != HYSTRIX_OK) {
        snprintf(err, ERR_LEN, "hystrix_clock_new_virtual returned %s (%s)", hystrix_status_name(rc),
                 last_error(msg, sizeof msg));
        ok = false;
    } else if ((rc = hystrix_command_new(&cfg, s->name, r.clock, &r.cmd)) != HYSTRIX_OK) {
        snprintf(err, ERR_LEN, "hystrix_command_new returned %s (%s)", hystrix_status_name(rc),
                 last_error(msg, sizeof msg));
        r.cmd = NULL;
        ok = false;
    } else if ((rc = hystrix_command_on_event(r.cmd, on_event, &r, NULL, &listener)) != HYSTRIX_OK) {
        snprintf(err, ERR_LEN, "hystrix_command_on_event returned %s (%s)", hystrix_status_name(rc),
                 last_error(msg, sizeof msg));
        ok = false;
    }
    for (size_t i = 0; ok && i < s->n_steps; i++) {
        if (!do_step(&r, i, &s->steps[i], err)) {
            ok = false;
            break;
        }
        if (r.failed) {
            snprintf(err, ERR_LEN, "%s", r.failure);
            ok = false;
        }
    }
    for (size_t i = 0; ok && i < r.n_calls; i++) {
        const call *c = r.calls[i];
        if (c->st->has_expect && c->done_count == 0) {
            snprintf(err, ERR_LEN, "%s never settled", c->label);
            ok = false;
        }
    }
    teardown(&r, listener);
    return ok;
}

/* ---- Files -------------------------------------------------------------- */

typedef struct {
    char **items;
    size_t n, cap;
} path_list;

static bool push_path(path_list *l, char *p) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **items = realloc(l->items, cap * sizeof *items);
        if (!items) return false;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = p;
    return true;
}

static int compare_strings(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether the file name has the extension "json" (as Rust's
 * Path::extension: a name starting with its only dot has none). */
static bool has_json_extension(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot && dot != base && strcmp(dot + 1, "json") == 0;
}

static char *join(const char *dir, const char *name) {
    size_t d = strlen(dir), n = strlen(name);
    bool slash = d > 0 && dir[d - 1] == '/';
    char *p = malloc(d + n + 2);
    if (!p) return NULL;
    memcpy(p, dir, d);
    if (!slash) p[d++] = '/';
    memcpy(p + d, name, n + 1);
    return p;
}

/* Adds `path`'s scenario files to `out`, in sorted order; false (with a
 * message printed) if a directory cannot be read. */
static bool collect(const char *path, path_list *out) {
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        DIR *dir = opendir(path);
        if (!dir) {
            fprintf(stderr, "cannot read %s: %s\n", path, strerror(errno));
            return false;
        }
        path_list names = {0};
        bool ok = true;
        struct dirent *e;
        errno = 0;
        while (ok && (e = readdir(dir)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char *name = strdup(e->d_name);
            if (!name || !push_path(&names, name)) {
                free(name);
                fprintf(stderr, "out of memory\n");
                ok = false;
            }
        }
        if (ok && errno != 0) {
            fprintf(stderr, "cannot read %s: %s\n", path, strerror(errno));
            ok = false;
        }
        closedir(dir);
        if (names.n) qsort(names.items, names.n, sizeof *names.items, compare_strings);
        for (size_t i = 0; i < names.n; i++) {
            if (ok) {
                char *child = join(path, names.items[i]);
                if (!child) {
                    fprintf(stderr, "out of memory\n");
                    ok = false;
                } else {
                    ok = collect(child, out);
                    free(child);
                }
            }
            free(names.items[i]);
        }
        free(names.items);
        return ok;
    }
    if (has_json_extension(path)) {
        char *copy = strdup(path);
        if (!copy || !push_path(out, copy)) {
            free(copy);
            fprintf(stderr, "out of memory\n");
            return false;
        }
    }
    return true;
}

static char *read_file(const char *path, size_t *len, char *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, ERR_LEN, "%s", strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (!buf) {
        snprintf(err, ERR_LEN, "out of memory");
    } else if (ferror(f)) {
        snprintf(err, ERR_LEN, "read error: %s", strerror(errno));
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH...\n", argv[0]);
        return 2;
    }
    path_list files = {0};
    for (int a = 1; a < argc; a++) {
        if (!collect(argv[a], &files)) {
            for (size_t i = 0; i < files.n; i++) free(files.items[i]);
            free(files.items);
            return 2;
        }
    }
    unsigned passed = 0, failed = 0;
    static char err[ERR_LEN];
    for (size_t i = 0; i < files.n; i++) {
        const char *path = files.items[i];
        size_t len = 0;
        char *text = read_file(path, &len, err);
        if (!text) {
            failed++;
            printf("FAIL %s: %s\n", path, err);
        } else {
            scenario s;
            if (!scenario_parse(text, len, &s, err)) {
                failed++;
                printf("FAIL %s: %s\n", path, err);
            } else if (!replay_scenario(&s, err)) {
                failed++;
                printf("FAIL %s: %s: %s\n", path, s.name, err);
            } else {
                passed++;
                printf("ok   %s: %s\n", path, s.name);
            }
            scenario_free(&s);
            free(text);
        }
        free(files.items[i]);
    }
    free(files.items);
    printf("c: %u passed, %u failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
