/* Misuse of the C ABI: every mistake returns a status (with a message),
 * never crashes, writes no output and takes no ownership. */
#include "hystrix.h"
#include "check.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

static char RUN_VALUE[] = "run";

/* Callbacks that must never run in these tests unless said. */
static int32_t run_ok(void *ud, void **out) {
    (void)ud;
    *out = RUN_VALUE;
    return HYSTRIX_OK;
}
static int32_t fallback_ok(void *ud, hystrix_status cause, void **out) {
    (void)ud;
    (void)cause;
    *out = RUN_VALUE;
    return HYSTRIX_OK;
}
static uint64_t now_zero(void *ud) {
    (void)ud;
    return 0;
}
static void timer_noop(void *ud) { (void)ud; }
static void on_event_noop(void *ud, const char *command, hystrix_event event, uint64_t at_ms) {
    (void)ud, (void)command, (void)event, (void)at_ms;
}
static void on_transition_noop(void *ud, const char *command, hystrix_state from, hystrix_state to, uint64_t at_ms) {
    (void)ud, (void)command, (void)from, (void)to, (void)at_ms;
}
static void count_free(void *ud) { (*(int *)ud)++; }

/* An async call that records what happened. */
typedef struct {
    uint64_t handle, fallback_handle;
    int runs, cancels, fallbacks, dones, frees;
    hystrix_status status, cause;
    void *value;
} acall;

static void a_run(void *ud, uint64_t completion) {
    acall *c = ud;
    c->runs++;
    c->handle = completion;
}
static void a_cancel(void *ud, uint64_t completion) {
    acall *c = ud;
    c->cancels++;
    CHECK_EQ(completion, c->handle);
}
static void a_fallback(void *ud, hystrix_status cause, uint64_t completion) {
    acall *c = ud;
    c->fallbacks++;
    c->cause = cause;
    c->fallback_handle = completion;
}
static void a_done(void *ud, hystrix_status status, void *value) {
    acall *c = ud;
    c->dones++;
    c->status = status;
    c->value = value;
}
static void a_free(void *ud) { ((acall *)ud)->frees++; }

typedef struct {
    hystrix_clock *clock;
    hystrix_command *cmd;
} fixture;

static fixture setup(void) {
    fixture f = {NULL, NULL};
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.timeout_ms = 100;
    CHECK_STATUS(hystrix_clock_new_virtual(&f.clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_new(&cfg, "misuse", f.clock, &f.cmd), HYSTRIX_OK);
    return f;
}

static void teardown(fixture f) {
    CHECK_STATUS(hystrix_command_free(f.cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(f.clock), HYSTRIX_OK);
}

#define CHECK_NULL_ARG(expr, what)                       \
    do {                                                 \
        CHECK_STATUS(expr, HYSTRIX_NULL_ARGUMENT);       \
        CHECK_CONTAINS(last_error(), what " is NULL");   \
    } while (0)

static void test_null_clock_arguments(void) {
    fixture f = setup();
    hystrix_clock *clock = (hystrix_clock *)RUN_VALUE; /* must stay untouched */
    int freed = 0;
    CHECK_NULL_ARG(hystrix_clock_new_monotonic(HYSTRIX_TIMERS_THREAD, NULL), "out");
    CHECK_NULL_ARG(hystrix_clock_new_fn(NULL, &freed, count_free, HYSTRIX_TIMERS_CALLER, &clock), "now_ms");
    CHECK_NULL_ARG(hystrix_clock_new_fn(now_zero, &freed, count_free, HYSTRIX_TIMERS_CALLER, NULL), "out");
    CHECK(clock == (hystrix_clock *)RUN_VALUE);
    CHECK_EQ(freed, 0); /* nothing was made, nothing finalized */
    CHECK_NULL_ARG(hystrix_clock_new_virtual(NULL), "out");
    CHECK_NULL_ARG(hystrix_clock_advance(NULL, 1), "clock");
    uint64_t now = 77;
    CHECK_NULL_ARG(hystrix_clock_now(NULL, &now), "clock");
    CHECK_NULL_ARG(hystrix_clock_now(f.clock, NULL), "out");
    CHECK_EQ(now, 77);
    bool has = true;
    uint64_t deadline = 77;
    CHECK_NULL_ARG(hystrix_clock_next_deadline(NULL, &has, &deadline), "clock");
    CHECK_NULL_ARG(hystrix_clock_next_deadline(f.clock, NULL, &deadline), "has_deadline");
    CHECK_NULL_ARG(hystrix_clock_next_deadline(f.clock, &has, NULL), "deadline");
    CHECK(has);
    CHECK_EQ(deadline, 77);
    CHECK_NULL_ARG(hystrix_clock_fire_due(NULL), "clock");
    uint64_t id = 77;
    CHECK_NULL_ARG(hystrix_clock_schedule(NULL, 5, timer_noop, NULL, &id), "clock");
    CHECK_NULL_ARG(hystrix_clock_schedule(f.clock, 5, NULL, NULL, &id), "callback");
    CHECK_EQ(id, 77);
    CHECK_NULL_ARG(hystrix_clock_cancel(NULL, 0), "clock");
    /* NULL is ignored by the free functions. */
    CHECK_STATUS(hystrix_clock_free(NULL), HYSTRIX_OK);
    teardown(f);
}

static void test_null_command_arguments(void) {
    fixture f = setup();
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    hystrix_command *cmd = (hystrix_command *)RUN_VALUE;
    CHECK_NULL_ARG(hystrix_command_new(&cfg, "x", f.clock, NULL), "out");
    CHECK_NULL_ARG(hystrix_configure_named(NULL, &cfg), "name");
    CHECK_NULL_ARG(hystrix_configure_named("misuse.null", NULL), "config");
    CHECK_NULL_ARG(hystrix_command_named(NULL, &cmd), "name");
    CHECK_NULL_ARG(hystrix_command_named("misuse.null", NULL), "out");
    CHECK(cmd == (hystrix_command *)RUN_VALUE);
    /* Nothing was registered by the refused calls. */
    CHECK_STATUS(hystrix_remove_named("misuse.null"), HYSTRIX_INVALID_ARGUMENT);
    CHECK_NULL_ARG(hystrix_remove_named(NULL), "name");
    CHECK_NULL_ARG(hystrix_command_configure(NULL, &cfg), "cmd");
    CHECK_NULL_ARG(hystrix_command_configure(f.cmd, NULL), "config");
    CHECK_NULL_ARG(hystrix_command_configure_json(NULL, "{}"), "cmd");
    CHECK_NULL_ARG(hystrix_command_configure_json(f.cmd, NULL), "json");
    CHECK_NULL_ARG(hystrix_command_config(NULL, &cfg), "cmd");
    CHECK_NULL_ARG(hystrix_command_config(f.cmd, NULL), "out");
    hystrix_snapshot s;
    CHECK_NULL_ARG(hystrix_command_snapshot(NULL, &s), "cmd");
    CHECK_NULL_ARG(hystrix_command_snapshot(f.cmd, NULL), "out");
    char *json = RUN_VALUE;
    CHECK_NULL_ARG(hystrix_command_snapshot_json(NULL, &json), "cmd");
    CHECK_NULL_ARG(hystrix_command_snapshot_json(f.cmd, NULL), "out");
    CHECK(json == RUN_VALUE);
    CHECK_STATUS(hystrix_string_free(NULL), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_free(NULL), HYSTRIX_OK);

    int freed = 0;
    uint64_t id = 77;
    /* A refused subscription takes no ownership of user_data (as with
     * hystrix_command_queue and hystrix_clock_new_fn): the caller may still
     * free it, so the library must not finalize it. */
    CHECK_NULL_ARG(hystrix_command_on_event(NULL, on_event_noop, &freed, count_free, &id), "cmd");
    CHECK_EQ(freed, 0);
    freed = 0;
    CHECK_NULL_ARG(hystrix_command_on_event(f.cmd, NULL, &freed, count_free, &id), "callback");
    CHECK_EQ(freed, 0);
    freed = 0;
    CHECK_NULL_ARG(hystrix_command_on_state_change(NULL, on_transition_noop, &freed, count_free, &id), "cmd");
    CHECK_EQ(freed, 0);
    freed = 0;
    CHECK_NULL_ARG(hystrix_command_on_state_change(f.cmd, NULL, &freed, count_free, &id), "callback");
    CHECK_EQ(freed, 0);
    freed = 0;
    CHECK_EQ(id, 77);
    CHECK_NULL_ARG(hystrix_command_unsubscribe(NULL, 1), "cmd");

    CHECK_NULL_ARG(hystrix_config_default(NULL), "out");
    CHECK_NULL_ARG(hystrix_config_from_json(NULL, &cfg), "json");
    CHECK_NULL_ARG(hystrix_config_from_json("{}", NULL), "out");
    CHECK_NULL_ARG(hystrix_config_validate(NULL), "config");
    teardown(f);
}

static void test_null_execution_arguments(void) {
    fixture f = setup();
    acall c;
    memset(&c, 0, sizeof c);
    int freed = 0;
    CHECK_NULL_ARG(hystrix_command_queue(NULL, a_run, a_cancel, a_fallback, a_done, &freed, count_free, NULL), "cmd");
    CHECK_NULL_ARG(hystrix_command_queue(f.cmd, NULL, a_cancel, a_fallback, a_done, &freed, count_free, NULL), "run");
    CHECK_NULL_ARG(hystrix_command_queue(f.cmd, a_run, a_cancel, a_fallback, NULL, &freed, count_free, NULL), "done");
    CHECK_EQ(freed, 0);
    hystrix_snapshot s;
    CHECK_STATUS(hystrix_command_snapshot(f.cmd, &s), HYSTRIX_OK);
    CHECK_EQ(s.concurrent, 0); /* a refused queue admitted nothing */
    uint64_t total = 0;
    for (int e = 0; e < HYSTRIX_EVENT_COUNT; e++) total += s.cumulative[e];
    CHECK_EQ(total, 0);

    void *value = RUN_VALUE;
    CHECK_NULL_ARG(hystrix_command_execute(NULL, run_ok, fallback_ok, NULL, &value), "cmd");
    CHECK_NULL_ARG(hystrix_command_execute(f.cmd, NULL, fallback_ok, NULL, &value), "run");
    CHECK_NULL_ARG(hystrix_command_execute(f.cmd, run_ok, fallback_ok, NULL, NULL), "out_value");

    char buf[8];
    size_t written = 0;
    CHECK_NULL_ARG(hystrix_last_error_message(NULL, 8, &written), "buf");
    CHECK_NULL_ARG(hystrix_last_error_message(buf, sizeof buf, NULL), "written");
    teardown(f);
}

static void test_completion_misuse(void) {
    fixture f = setup();
    CHECK_STATUS(hystrix_complete(0, HYSTRIX_OK, NULL), HYSTRIX_INVALID_STATE);
    CHECK_CONTAINS(last_error(), "unknown");
    CHECK_STATUS(hystrix_complete(UINT64_MAX, HYSTRIX_OK, NULL), HYSTRIX_INVALID_STATE);
    CHECK_STATUS(hystrix_complete(987654321, HYSTRIX_FAILURE, NULL), HYSTRIX_INVALID_STATE);

    acall c;
    memset(&c, 0, sizeof c);
    CHECK_STATUS(hystrix_command_queue(f.cmd, a_run, a_cancel, a_fallback, a_done, &c, a_free, NULL), HYSTRIX_OK);
    CHECK_STATUS(hystrix_complete(c.handle, HYSTRIX_OK, RUN_VALUE), HYSTRIX_OK);
    CHECK_STATUS(hystrix_complete(c.handle, HYSTRIX_OK, RUN_VALUE), HYSTRIX_INVALID_STATE);
    CHECK_CONTAINS(last_error(), "already completed");
    CHECK_STATUS(hystrix_complete(c.handle, HYSTRIX_FAILURE, NULL), HYSTRIX_INVALID_STATE);
    CHECK_EQ(c.dones, 1);
    CHECK_EQ(c.frees, 1);
    CHECK_STATUS(c.status, HYSTRIX_OK);
    CHECK(c.value == RUN_VALUE);

    /* A status outside the enum is a failure. */
    acall d;
    memset(&d, 0, sizeof d);
    CHECK_STATUS(hystrix_command_queue(f.cmd, a_run, a_cancel, a_fallback, a_done, &d, a_free, NULL), HYSTRIX_OK);
    CHECK_STATUS(hystrix_complete(d.handle, 9999, RUN_VALUE), HYSTRIX_OK);
    CHECK_EQ(d.fallbacks, 1);
    CHECK_STATUS(d.cause, HYSTRIX_FAILURE);
    CHECK_STATUS(hystrix_complete(d.fallback_handle, -5, RUN_VALUE), HYSTRIX_OK);
    CHECK_STATUS(hystrix_complete(d.fallback_handle, HYSTRIX_OK, RUN_VALUE), HYSTRIX_INVALID_STATE);
    CHECK_STATUS(d.status, HYSTRIX_FALLBACK_FAILURE);
    CHECK(d.value == NULL);
    CHECK_EQ(d.dones, 1);
    CHECK_EQ(d.frees, 1);
    teardown(f);
}

static void test_complete_after_command_freed(void) {
    fixture f = setup();
    acall c, d;
    memset(&c, 0, sizeof c);
    memset(&d, 0, sizeof d);
    CHECK_STATUS(hystrix_command_queue(f.cmd, a_run, a_cancel, a_fallback, a_done, &c, a_free, NULL), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_queue(f.cmd, a_run, a_cancel, NULL, a_done, &d, a_free, NULL), HYSTRIX_OK);
    /* Freeing the handle with executions in flight is fine. */
    CHECK_STATUS(hystrix_command_free(f.cmd), HYSTRIX_OK);
    CHECK_EQ(c.dones + d.dones, 0);
    CHECK_EQ(c.frees + d.frees, 0);
    /* The first completes normally; its fallback still runs. */
    CHECK_STATUS(hystrix_complete(c.handle, HYSTRIX_FAILURE, NULL), HYSTRIX_OK);
    CHECK_EQ(c.fallbacks, 1);
    CHECK_STATUS(hystrix_complete(c.fallback_handle, HYSTRIX_OK, RUN_VALUE), HYSTRIX_OK);
    CHECK_EQ(c.dones, 1);
    CHECK_STATUS(c.status, HYSTRIX_OK);
    CHECK(c.value == RUN_VALUE);
    CHECK_EQ(c.frees, 1);
    /* The second's timeout still fires on the clock. */
    CHECK_STATUS(hystrix_clock_advance(f.clock, 100), HYSTRIX_OK);
    CHECK_EQ(d.cancels, 1);
    CHECK_EQ(d.dones, 1);
    CHECK_STATUS(d.status, HYSTRIX_TIMEOUT);
    CHECK_STATUS(hystrix_complete(d.handle, HYSTRIX_OK, NULL), HYSTRIX_TIMEOUT);
    CHECK_EQ(d.frees, 1);
    CHECK_STATUS(hystrix_clock_free(f.clock), HYSTRIX_OK);
}

static void test_complete_after_command_and_clock_freed(void) {
    fixture f = setup();
    acall c;
    memset(&c, 0, sizeof c);
    CHECK_STATUS(hystrix_command_queue(f.cmd, a_run, a_cancel, NULL, a_done, &c, a_free, NULL), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_free(f.cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(f.clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_complete(c.handle, HYSTRIX_OK, RUN_VALUE), HYSTRIX_OK);
    CHECK_EQ(c.dones, 1);
    CHECK(c.value == RUN_VALUE);
    CHECK_EQ(c.frees, 1);
}

/* Double free reads freed memory: opt-in only (never under valgrind). */
static void test_double_free_opt_in(void) {
    if (!getenv("HYSTRIX_TESTS_DOUBLE_FREE")) return;
    fixture f = setup();
    CHECK_STATUS(hystrix_command_free(f.cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_free(f.cmd), HYSTRIX_INVALID_ARGUMENT);
    CHECK_STATUS(hystrix_clock_free(f.clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(f.clock), HYSTRIX_INVALID_ARGUMENT);
}

static void test_wrong_clock_kind_and_mode(void) {
    hystrix_clock *thread_clock = NULL, *caller_clock = NULL, *fn_clock = NULL;
    CHECK_STATUS(hystrix_clock_new_monotonic(HYSTRIX_TIMERS_THREAD, &thread_clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_new_monotonic(HYSTRIX_TIMERS_CALLER, &caller_clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_new_fn(now_zero, NULL, NULL, HYSTRIX_TIMERS_CALLER, &fn_clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_advance(thread_clock, 10), HYSTRIX_INVALID_ARGUMENT);
    CHECK_CONTAINS(last_error(), "virtual");
    CHECK_STATUS(hystrix_clock_advance(caller_clock, 10), HYSTRIX_INVALID_ARGUMENT);
    CHECK_STATUS(hystrix_clock_advance(fn_clock, 10), HYSTRIX_INVALID_ARGUMENT);
    uint64_t now = 1;
    CHECK_STATUS(hystrix_clock_now(fn_clock, &now), HYSTRIX_OK);
    CHECK_EQ(now, 0);
    /* fire_due is harmless on every kind. */
    CHECK_STATUS(hystrix_clock_fire_due(thread_clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_fire_due(fn_clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_cancel(fn_clock, 12345), HYSTRIX_INVALID_STATE);

    hystrix_clock *clock = (hystrix_clock *)RUN_VALUE;
    int freed = 0;
    int32_t modes[] = {2, -1, 100, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        CHECK_STATUS(hystrix_clock_new_monotonic(modes[i], &clock), HYSTRIX_INVALID_ARGUMENT);
        CHECK_CONTAINS(last_error(), "timer mode");
        CHECK_STATUS(hystrix_clock_new_fn(now_zero, &freed, count_free, modes[i], &clock), HYSTRIX_INVALID_ARGUMENT);
    }
    CHECK(clock == (hystrix_clock *)RUN_VALUE);
    CHECK_EQ(freed, 0);
    CHECK_STATUS(hystrix_clock_free(thread_clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(caller_clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(fn_clock), HYSTRIX_OK);
}

typedef struct {
    const char *key;
    void (*breaks)(hystrix_config *);
} config_rule;

static void b_timeout(hystrix_config *c) { c->timeout_ms = 0; }
static void b_sleep(hystrix_config *c) { c->sleep_window_ms = 0; }
static void b_window(hystrix_config *c) { c->rolling_window_ms = 0; }
static void b_permits(hystrix_config *c) { c->max_concurrent_requests = 0; }
static void b_fallbacks(hystrix_config *c) { c->fallback_max_concurrent_requests = 0; }
static void b_probes(hystrix_config *c) { c->half_open_max_calls = 0; }
static void b_buckets(hystrix_config *c) { c->rolling_window_buckets = 0; }
static void b_percentage(hystrix_config *c) { c->error_threshold_percentage = 101; }
static void b_divisible(hystrix_config *c) { c->rolling_window_buckets = 3; }

static const config_rule RULES[] = {
    {"timeout_ms", b_timeout},
    {"sleep_window_ms", b_sleep},
    {"rolling_window_ms", b_window},
    {"max_concurrent_requests", b_permits},
    {"fallback_max_concurrent_requests", b_fallbacks},
    {"half_open_max_calls", b_probes},
    {"rolling_window_buckets", b_buckets},
    {"error_threshold_percentage", b_percentage},
    {"rolling_window_ms", b_divisible},
};

/* `cfg` is refused naming `key` everywhere a config goes in, and nothing is made. */
static void check_config_refused(fixture f, const hystrix_config *cfg, const char *key, const char *name) {
    CHECK_STATUS(hystrix_config_validate(cfg), HYSTRIX_INVALID_CONFIG);
    CHECK_CONTAINS(last_error(), key);
    hystrix_command *cmd = (hystrix_command *)RUN_VALUE;
    CHECK_STATUS(hystrix_command_new(cfg, "bad", f.clock, &cmd), HYSTRIX_INVALID_CONFIG);
    CHECK_CONTAINS(last_error(), key);
    CHECK(cmd == (hystrix_command *)RUN_VALUE);
    CHECK_STATUS(hystrix_command_configure(f.cmd, cfg), HYSTRIX_INVALID_CONFIG);
    CHECK_CONTAINS(last_error(), key);
    CHECK_STATUS(hystrix_configure_named(name, cfg), HYSTRIX_INVALID_CONFIG);
    CHECK_CONTAINS(last_error(), key);
}

/* After refusals: the command's config is still `before`, `name` unregistered. */
static void check_config_unchanged(fixture f, const hystrix_config *before, const char *name) {
    hystrix_config after;
    CHECK_STATUS(hystrix_command_config(f.cmd, &after), HYSTRIX_OK);
    CHECK_EQ(after.timeout_enabled, before->timeout_enabled);
    CHECK_EQ(after.fallback_enabled, before->fallback_enabled);
    CHECK_EQ(after.circuit_breaker_enabled, before->circuit_breaker_enabled);
    CHECK_EQ(after.force_open, before->force_open);
    CHECK_EQ(after.force_closed, before->force_closed);
    CHECK_EQ(after.timeout_ms, before->timeout_ms);
    CHECK_EQ(after.rolling_window_buckets, before->rolling_window_buckets);
    CHECK_EQ(after.max_concurrent_requests, before->max_concurrent_requests);
    CHECK_STATUS(hystrix_remove_named(name), HYSTRIX_INVALID_ARGUMENT);
}

static void test_invalid_configs_name_the_key(void) {
    fixture f = setup();
    hystrix_config before;
    CHECK_STATUS(hystrix_command_config(f.cmd, &before), HYSTRIX_OK);
    for (size_t i = 0; i < sizeof RULES / sizeof RULES[0]; i++) {
        hystrix_config cfg;
        hystrix_config_default(&cfg);
        RULES[i].breaks(&cfg);
        check_config_refused(f, &cfg, RULES[i].key, "misuse.badconfig");
    }
    /* Nothing changed, nothing registered. */
    check_config_unchanged(f, &before, "misuse.badconfig");

    /* Zero minimums are valid. */
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.request_volume_threshold = 0;
    cfg.error_threshold_percentage = 0;
    cfg.health_snapshot_interval_ms = 0;
    cfg.rolling_window_ms = 9;
    cfg.rolling_window_buckets = 3;
    CHECK_STATUS(hystrix_config_validate(&cfg), HYSTRIX_OK);

    /* Huge values: refused naming the key, or accepted; never a panic. */
    hystrix_config_default(&cfg);
    cfg.timeout_ms = UINT64_MAX;
    cfg.sleep_window_ms = UINT64_MAX;
    hystrix_status st = hystrix_config_validate(&cfg);
    CHECK(st == HYSTRIX_OK || st == HYSTRIX_INVALID_CONFIG);
    if (st == HYSTRIX_INVALID_CONFIG) CHECK_CONTAINS(last_error(), "_ms");
    teardown(f);
}

/* A boolean field holding a byte other than 0 or 1 (garbage, an
 * uninitialised struct) is refused naming the field, everywhere a config
 * goes in; nothing changes. */
typedef struct {
    const char *key;
    size_t offset;
} bool_field;

static const bool_field BOOL_FIELDS[] = {
    {"timeout_enabled", offsetof(hystrix_config, timeout_enabled)},
    {"fallback_enabled", offsetof(hystrix_config, fallback_enabled)},
    {"circuit_breaker_enabled", offsetof(hystrix_config, circuit_breaker_enabled)},
    {"force_open", offsetof(hystrix_config, force_open)},
    {"force_closed", offsetof(hystrix_config, force_closed)},
};

static void test_garbage_bool_bytes_are_invalid_config(void) {
    fixture f = setup();
    hystrix_config before;
    CHECK_STATUS(hystrix_command_config(f.cmd, &before), HYSTRIX_OK);
    const unsigned char garbage[] = {2, 0x5a, 0x80, 0xff};
    for (size_t i = 0; i < sizeof BOOL_FIELDS / sizeof BOOL_FIELDS[0]; i++) {
        for (size_t g = 0; g < sizeof garbage; g++) {
            hystrix_config cfg;
            hystrix_config_default(&cfg);
            memset((unsigned char *)&cfg + BOOL_FIELDS[i].offset, garbage[g], 1);
            check_config_refused(f, &cfg, BOOL_FIELDS[i].key, "misuse.badbool");
            CHECK_CONTAINS(last_error(), "0 (false) or 1 (true)");
        }
    }
    /* A struct of nothing but garbage bytes: its struct_size is refused first;
     * with a right struct_size, its settings. */
    hystrix_config junk;
    memset(&junk, 0xa5, sizeof junk);
    CHECK_STATUS(hystrix_config_validate(&junk), HYSTRIX_INVALID_ARGUMENT);
    CHECK_CONTAINS(last_error(), "config->struct_size is");
    CHECK_STATUS(hystrix_command_configure(f.cmd, &junk), HYSTRIX_INVALID_ARGUMENT);
    junk.struct_size = sizeof junk;
    CHECK_STATUS(hystrix_config_validate(&junk), HYSTRIX_INVALID_CONFIG);
    CHECK_STATUS(hystrix_command_configure(f.cmd, &junk), HYSTRIX_INVALID_CONFIG);
    check_config_unchanged(f, &before, "misuse.badbool");

    /* C's true and false are the valid bytes, and come back as 0 and 1. */
    hystrix_config cfg, after;
    hystrix_config_default(&cfg);
    cfg.force_open = true;
    cfg.fallback_enabled = false;
    CHECK_STATUS(hystrix_command_configure(f.cmd, &cfg), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_config(f.cmd, &after), HYSTRIX_OK);
    CHECK_EQ(after.force_open, 1);
    CHECK_EQ(after.fallback_enabled, 0);
    CHECK_EQ(after.timeout_enabled, 1);
    teardown(f);
}

static void fill(hystrix_config *c) { memset(c, 0x5a, sizeof *c); }
static bool untouched(const hystrix_config *c) {
    hystrix_config ref;
    fill(&ref);
    return memcmp(c, &ref, sizeof ref) == 0;
}

static void test_config_from_json(void) {
    hystrix_config cfg, def;
    hystrix_config_default(&def);
    struct {
        const char *json;
        hystrix_status status;
        const char *mentions;
    } cases[] = {
        {"{\"timeoutMs\": 5}", HYSTRIX_INVALID_CONFIG, "timeoutMs"},
        {"{\"no_such_key\": true}", HYSTRIX_INVALID_CONFIG, "no_such_key"},
        {"{\"timeout_ms\": \"100\"}", HYSTRIX_INVALID_CONFIG, "timeout_ms"},
        {"{\"timeout_ms\": 1.5}", HYSTRIX_INVALID_CONFIG, "timeout_ms"},
        {"{\"request_volume_threshold\": -1}", HYSTRIX_INVALID_CONFIG, "request_volume_threshold"},
        {"{\"force_open\": 1}", HYSTRIX_INVALID_CONFIG, "force_open"},
        {"{\"timeout_enabled\": null}", HYSTRIX_INVALID_CONFIG, "timeout_enabled"},
        {"{\"timeout_ms\": 0}", HYSTRIX_INVALID_CONFIG, "timeout_ms"},
        {"{\"rolling_window_buckets\": 7}", HYSTRIX_INVALID_CONFIG, "rolling_window_ms"},
        {"{", HYSTRIX_INVALID_CONFIG, "JSON"},
        {"", HYSTRIX_INVALID_CONFIG, "JSON"},
        {"{\"timeout_ms\": 5,}", HYSTRIX_INVALID_CONFIG, "JSON"},
        {"[1]", HYSTRIX_INVALID_CONFIG, "object"},
        {"42", HYSTRIX_INVALID_CONFIG, "object"},
        {"{\"timeout_ms\": 5} trailing", HYSTRIX_INVALID_CONFIG, "JSON"},
        {"\xff\xfe{}", HYSTRIX_INVALID_ARGUMENT, "UTF-8"},
        {"{\"timeout_ms\": \"\xc3\x28\"}", HYSTRIX_INVALID_ARGUMENT, "UTF-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fill(&cfg);
        CHECK_STATUS(hystrix_config_from_json(cases[i].json, &cfg), cases[i].status);
        CHECK_CONTAINS(last_error(), cases[i].mentions);
        CHECK(untouched(&cfg));
    }
    CHECK_STATUS(hystrix_config_from_json("{}", &cfg), HYSTRIX_OK);
    CHECK_EQ(cfg.timeout_ms, def.timeout_ms);
    CHECK_EQ(cfg.request_volume_threshold, 20);
    CHECK_EQ(cfg.sleep_window_ms, 5000);
    CHECK_EQ(cfg.health_snapshot_interval_ms, 500);
    CHECK(cfg.timeout_enabled && cfg.fallback_enabled && cfg.circuit_breaker_enabled);
    CHECK(!cfg.force_open && !cfg.force_closed);
    CHECK_STATUS(hystrix_config_from_json(" {\"timeout_ms\": 250.0, \"force_open\": true, \"rolling_window_ms\": 9,"
                                          " \"rolling_window_buckets\": 3} ",
                                          &cfg),
                 HYSTRIX_OK);
    CHECK_EQ(cfg.timeout_ms, 250);
    CHECK(cfg.force_open);
    CHECK_EQ(cfg.rolling_window_ms, 9);
    CHECK_EQ(cfg.rolling_window_buckets, 3);
    CHECK_EQ(cfg.max_concurrent_requests, def.max_concurrent_requests);
}

static void test_configure_json_misuse(void) {
    fixture f = setup();
    CHECK_STATUS(hystrix_command_configure_json(f.cmd, "{\"bogus\": 1}"), HYSTRIX_INVALID_CONFIG);
    CHECK_CONTAINS(last_error(), "bogus");
    CHECK_STATUS(hystrix_command_configure_json(f.cmd, "not json"), HYSTRIX_INVALID_CONFIG);
    CHECK_STATUS(hystrix_command_configure_json(f.cmd, "\x80"), HYSTRIX_INVALID_ARGUMENT);
    CHECK_CONTAINS(last_error(), "UTF-8");
    /* Validated as a whole: a good key next to a bad one changes nothing. */
    CHECK_STATUS(hystrix_command_configure_json(f.cmd, "{\"timeout_ms\": 5, \"max_concurrent_requests\": 0}"),
                 HYSTRIX_INVALID_CONFIG);
    CHECK_CONTAINS(last_error(), "max_concurrent_requests");
    hystrix_config cfg;
    CHECK_STATUS(hystrix_command_config(f.cmd, &cfg), HYSTRIX_OK);
    CHECK_EQ(cfg.timeout_ms, 100);
    CHECK_EQ(cfg.max_concurrent_requests, 10);
    /* Only the keys given change. */
    CHECK_STATUS(hystrix_command_configure_json(f.cmd, "{\"max_concurrent_requests\": 3}"), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_config(f.cmd, &cfg), HYSTRIX_OK);
    CHECK_EQ(cfg.timeout_ms, 100);
    CHECK_EQ(cfg.max_concurrent_requests, 3);
    teardown(f);
}

static void test_invalid_utf8_names(void) {
    fixture f = setup();
    hystrix_command *cmd = (hystrix_command *)RUN_VALUE;
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    CHECK_STATUS(hystrix_command_new(&cfg, "bad\xff", f.clock, &cmd), HYSTRIX_INVALID_ARGUMENT);
    CHECK_CONTAINS(last_error(), "UTF-8");
    CHECK_STATUS(hystrix_command_named("bad\xff", &cmd), HYSTRIX_INVALID_ARGUMENT);
    CHECK_STATUS(hystrix_configure_named("bad\xff", &cfg), HYSTRIX_INVALID_ARGUMENT);
    CHECK_STATUS(hystrix_remove_named("bad\xff"), HYSTRIX_INVALID_ARGUMENT);
    CHECK(cmd == (hystrix_command *)RUN_VALUE);
    /* NULL config, name and clock are allowed: defaults, anonymous, default clock. */
    hystrix_command *anon = NULL;
    CHECK_STATUS(hystrix_command_new(NULL, NULL, NULL, &anon), HYSTRIX_OK);
    CHECK(anon != NULL);
    CHECK_STATUS(hystrix_command_config(anon, &cfg), HYSTRIX_OK);
    CHECK_EQ(cfg.timeout_ms, 1000);
    CHECK_STATUS(hystrix_command_free(anon), HYSTRIX_OK);
    teardown(f);
}

static void test_last_error_message_truncation(void) {
    CHECK_STATUS(hystrix_command_snapshot(NULL, NULL), HYSTRIX_NULL_ARGUMENT);
    char full[256];
    size_t len = 0;
    CHECK_STATUS(hystrix_last_error_message(full, sizeof full, &len), HYSTRIX_OK);
    CHECK_EQ(len, strlen(full));
    CHECK(len > 10);
    CHECK_CONTAINS(full, "hystrix_command_snapshot");

    char small[8];
    memset(small, 'x', sizeof small);
    size_t written = 0;
    CHECK_STATUS(hystrix_last_error_message(small, sizeof small, &written), HYSTRIX_OK);
    CHECK_EQ(written, len);          /* the full length */
    CHECK_EQ(small[7], 0);           /* NUL-terminated */
    CHECK(strncmp(small, full, 7) == 0);

    char one[1] = {'x'};
    CHECK_STATUS(hystrix_last_error_message(one, 1, &written), HYSTRIX_OK);
    CHECK_EQ(one[0], 0);
    CHECK_EQ(written, len);

    written = 0;
    CHECK_STATUS(hystrix_last_error_message(NULL, 0, &written), HYSTRIX_OK); /* just the length */
    CHECK_EQ(written, len);

    char exact[256];
    CHECK_STATUS(hystrix_last_error_message(exact, len + 1, &written), HYSTRIX_OK);
    CHECK(strcmp(exact, full) == 0);
    CHECK_STATUS(hystrix_last_error_message(exact, len, &written), HYSTRIX_OK);
    CHECK_EQ(strlen(exact), len - 1);
}

static void *fresh_thread_message(void *arg) {
    char buf[64];
    memset(buf, 'x', sizeof buf);
    size_t written = 99;
    *(hystrix_status *)arg = hystrix_last_error_message(buf, sizeof buf, &written);
    CHECK_EQ(written, 0);
    CHECK_EQ(buf[0], 0);
    return NULL;
}

static void test_last_error_is_per_thread(void) {
    CHECK_STATUS(hystrix_command_snapshot(NULL, NULL), HYSTRIX_NULL_ARGUMENT); /* this thread has an error */
    hystrix_status st = HYSTRIX_PANIC;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, fresh_thread_message, &st) == 0);
    pthread_join(t, NULL);
    CHECK_STATUS(st, HYSTRIX_OK);
    CHECK_CONTAINS(last_error(), "hystrix_command_snapshot");
}

static void test_status_names(void) {
    struct {
        int32_t status;
        const char *name;
    } names[] = {
        {HYSTRIX_OK, "ok"},
        {HYSTRIX_FAILURE, "failure"},
        {HYSTRIX_TIMEOUT, "timeout"},
        {HYSTRIX_SHORT_CIRCUITED, "short_circuited"},
        {HYSTRIX_REJECTED, "rejected"},
        {HYSTRIX_BAD_REQUEST, "bad_request"},
        {HYSTRIX_FALLBACK_REJECTED, "fallback_rejected"},
        {HYSTRIX_FALLBACK_FAILURE, "fallback_failure"},
        {HYSTRIX_INVALID_CONFIG, "invalid_config"},
        {HYSTRIX_CANCELLED, "cancelled"},
        {HYSTRIX_RATE_LIMITED, "rate_limited"},
        {HYSTRIX_SETTINGS_CONFLICT, "settings_conflict"},
        {HYSTRIX_NULL_ARGUMENT, "null_argument"},
        {HYSTRIX_INVALID_ARGUMENT, "invalid_argument"},
        {HYSTRIX_INVALID_STATE, "invalid_state"},
        {HYSTRIX_PANIC, "panic"},
        {12, "unknown"},
        {99, "unknown"},
        {104, "unknown"},
        {-1, "unknown"},
        {INT32_MAX, "unknown"},
        {INT32_MIN, "unknown"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *got = hystrix_status_name(names[i].status);
        CHECK(got != NULL);
        if (got) CHECK(strcmp(got, names[i].name) == 0);
    }
    /* Static: the same pointer every time. */
    CHECK(hystrix_status_name(HYSTRIX_TIMEOUT) == hystrix_status_name(HYSTRIX_TIMEOUT));
}

static void test_unsubscribe_and_remove_misuse(void) {
    fixture f = setup();
    int freed = 0;
    uint64_t id = 0, tid = 0;
    CHECK_STATUS(hystrix_command_on_event(f.cmd, on_event_noop, &freed, count_free, &id), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_on_state_change(f.cmd, on_transition_noop, &freed, count_free, &tid), HYSTRIX_OK);
    CHECK(id != tid);
    CHECK_STATUS(hystrix_command_unsubscribe(f.cmd, id), HYSTRIX_OK);
    CHECK_EQ(freed, 1);
    CHECK_STATUS(hystrix_command_unsubscribe(f.cmd, id), HYSTRIX_INVALID_STATE);
    CHECK_CONTAINS(last_error(), "not subscribed");
    CHECK_EQ(freed, 1);
    CHECK_STATUS(hystrix_command_unsubscribe(f.cmd, 0), HYSTRIX_INVALID_STATE);
    CHECK_STATUS(hystrix_command_unsubscribe(f.cmd, 424242), HYSTRIX_INVALID_STATE);
    /* Another command's listener id is not this command's. */
    hystrix_command *other = NULL;
    CHECK_STATUS(hystrix_command_new(NULL, "other", f.clock, &other), HYSTRIX_OK);
    uint64_t oid = 0;
    CHECK_STATUS(hystrix_command_on_event(other, on_event_noop, &freed, count_free, &oid), HYSTRIX_OK);
    if (oid != tid) CHECK_STATUS(hystrix_command_unsubscribe(f.cmd, oid), HYSTRIX_INVALID_STATE);
    CHECK_EQ(freed, 1);
    CHECK_STATUS(hystrix_command_free(other), HYSTRIX_OK);
    CHECK_EQ(freed, 2);

    CHECK_STATUS(hystrix_remove_named("misuse.never.registered"), HYSTRIX_INVALID_ARGUMENT);
    CHECK_CONTAINS(last_error(), "misuse.never.registered");
    teardown(f);
    CHECK_EQ(freed, 3); /* the state listener went with its command */
}

/* Freeing the handles from inside `done` (a common cleanup pattern). */
typedef struct {
    hystrix_command *cmd;
    hystrix_clock *clock;
    uint64_t handle;
    int dones, frees;
    hystrix_status status;
} self_cleaning;

static void sc_run_now(void *ud, uint64_t completion) {
    (void)ud;
    CHECK_STATUS(hystrix_complete(completion, HYSTRIX_OK, RUN_VALUE), HYSTRIX_OK);
}
static void sc_run_hold(void *ud, uint64_t completion) { ((self_cleaning *)ud)->handle = completion; }
static void sc_done(void *ud, hystrix_status status, void *value) {
    (void)value;
    self_cleaning *s = ud;
    s->dones++;
    s->status = status;
    CHECK_STATUS(hystrix_command_free(s->cmd), HYSTRIX_OK);
    s->cmd = NULL;
    if (s->clock) {
        CHECK_STATUS(hystrix_clock_free(s->clock), HYSTRIX_OK);
        s->clock = NULL;
    }
}
static void sc_free(void *ud) { ((self_cleaning *)ud)->frees++; }

static void test_free_handles_inside_done(void) {
    /* done runs inside hystrix_command_queue and frees the command and clock. */
    self_cleaning a = {0};
    CHECK_STATUS(hystrix_clock_new_virtual(&a.clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_new(NULL, "cleanup", a.clock, &a.cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_queue(a.cmd, sc_run_now, NULL, NULL, sc_done, &a, sc_free, NULL), HYSTRIX_OK);
    CHECK_EQ(a.dones, 1);
    CHECK_EQ(a.frees, 1);
    CHECK(a.cmd == NULL && a.clock == NULL);

    /* done runs inside hystrix_complete from another thread's point of view. */
    self_cleaning b = {0};
    CHECK_STATUS(hystrix_clock_new_virtual(&b.clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_new(NULL, "cleanup", b.clock, &b.cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_queue(b.cmd, sc_run_hold, NULL, NULL, sc_done, &b, sc_free, NULL), HYSTRIX_OK);
    CHECK_STATUS(hystrix_complete(b.handle, HYSTRIX_FAILURE, NULL), HYSTRIX_OK);
    CHECK_EQ(b.dones, 1);
    CHECK_STATUS(b.status, HYSTRIX_FAILURE);
    CHECK_EQ(b.frees, 1);

    /* done runs from a timeout during hystrix_clock_advance: free only the
     * command there (the clock is in use by the advance). */
    self_cleaning c = {0};
    hystrix_clock *clock = NULL;
    CHECK_STATUS(hystrix_clock_new_virtual(&clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_new(NULL, "cleanup", clock, &c.cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_queue(c.cmd, sc_run_hold, NULL, NULL, sc_done, &c, sc_free, NULL), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_advance(clock, 1000), HYSTRIX_OK);
    CHECK_EQ(c.dones, 1);
    CHECK_STATUS(c.status, HYSTRIX_TIMEOUT);
    CHECK_EQ(c.frees, 0);
    CHECK_STATUS(hystrix_complete(c.handle, HYSTRIX_OK, NULL), HYSTRIX_TIMEOUT);
    CHECK_EQ(c.frees, 1);
    CHECK_STATUS(hystrix_clock_free(clock), HYSTRIX_OK);
}

int main(void) {
    RUN(test_null_clock_arguments);
    RUN(test_null_command_arguments);
    RUN(test_null_execution_arguments);
    RUN(test_completion_misuse);
    RUN(test_complete_after_command_freed);
    RUN(test_complete_after_command_and_clock_freed);
    RUN(test_free_handles_inside_done);
    RUN(test_double_free_opt_in);
    RUN(test_wrong_clock_kind_and_mode);
    RUN(test_invalid_configs_name_the_key);
    RUN(test_garbage_bool_bytes_are_invalid_config);
    RUN(test_config_from_json);
    RUN(test_configure_json_misuse);
    RUN(test_invalid_utf8_names);
    RUN(test_last_error_message_truncation);
    RUN(test_last_error_is_per_thread);
    RUN(test_status_names);
    RUN(test_unsubscribe_and_remove_misuse);
    CHECK_STATUS(hystrix_shutdown(), HYSTRIX_OK);
    return check_summary("test_misuse");
}
