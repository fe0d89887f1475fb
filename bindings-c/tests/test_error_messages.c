/* Every error hystrix makes names its command and the setting behind it
 * (semantics §3, "Error messages"): the sync call's status message, the
 * message inside an async call's done callback, and one command per name
 * (semantics §2): hystrix_command_named_with refuses other settings with
 * HYSTRIX_SETTINGS_CONFLICT naming the command, the key and both values. */
#include "hystrix.h"
#include "check.h"

#include <stddef.h>
#include <stdint.h>

static char VALUE[] = "value";

static uint64_t now_ms = 1000;
static uint64_t read_now(void *ud) { return *(uint64_t *)ud; }

static int32_t run_ok(void *ud, void **out) {
    (void)ud;
    *out = VALUE;
    return HYSTRIX_OK;
}
static int32_t run_slow(void *ud, void **out) {
    (void)ud;
    now_ms += 300;
    *out = VALUE;
    return HYSTRIX_OK;
}
static int32_t run_fails(void *ud, void **out) {
    (void)ud;
    (void)out;
    return HYSTRIX_FAILURE;
}

static hystrix_config quick(void) {
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.health_snapshot_interval_ms = 0;
    return cfg;
}

static void test_sync_messages(void) {
    hystrix_clock *clock = NULL;
    CHECK_STATUS(hystrix_clock_new_fn(read_now, &now_ms, NULL, HYSTRIX_TIMERS_CALLER, &clock), HYSTRIX_OK);
    hystrix_config cfg = quick();
    cfg.timeout_ms = 250;
    cfg.request_volume_threshold = 1;
    cfg.sleep_window_ms = 5000;
    hystrix_command *cmd = NULL;
    CHECK_STATUS(hystrix_command_new(&cfg, "payments", clock, &cmd), HYSTRIX_OK);
    void *value = NULL;
    CHECK_STATUS(hystrix_command_execute(cmd, run_slow, NULL, NULL, &value), HYSTRIX_TIMEOUT);
    CHECK_CONTAINS(last_error(), "command 'payments' timed out after 250 ms (timeout_ms)");
    CHECK_STATUS(hystrix_command_execute(cmd, run_ok, NULL, NULL, &value), HYSTRIX_SHORT_CIRCUITED);
    CHECK_CONTAINS(last_error(), "command 'payments': circuit open (sleep_window_ms 5000)");
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(clock), HYSTRIX_OK);
}

typedef struct {
    hystrix_status status;
    char message[512];
    int dones;
} outcome;

static void a_run(void *ud, uint64_t completion) {
    (void)ud;
    hystrix_complete(completion, HYSTRIX_FAILURE, NULL);
}
static void a_done(void *ud, hystrix_status status, void *value) {
    (void)value;
    outcome *o = ud;
    o->status = status;
    o->dones++;
    size_t len = 0;
    hystrix_last_error_message(o->message, sizeof o->message, &len);
}

static void test_async_done_sees_the_message(void) {
    hystrix_config cfg = quick();
    cfg.force_open = 1;
    hystrix_command *cmd = NULL;
    CHECK_STATUS(hystrix_command_new(&cfg, "inventory", NULL, &cmd), HYSTRIX_OK);
    outcome o = {0};
    CHECK_STATUS(hystrix_command_queue(cmd, a_run, NULL, NULL, a_done, &o, NULL, NULL), HYSTRIX_OK);
    CHECK_EQ(o.dones, 1);
    CHECK_STATUS(o.status, HYSTRIX_SHORT_CIRCUITED);
    CHECK_CONTAINS(o.message, "command 'inventory': circuit open (force_open)");
    /* A failure without fallback names the command too. */
    cfg.force_open = 0;
    CHECK_STATUS(hystrix_command_configure(cmd, &cfg), HYSTRIX_OK);
    outcome f = {0};
    CHECK_STATUS(hystrix_command_queue(cmd, a_run, NULL, NULL, a_done, &f, NULL, NULL), HYSTRIX_OK);
    CHECK_STATUS(f.status, HYSTRIX_FAILURE);
    CHECK_CONTAINS(f.message, "command 'inventory': the run failed");
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
}

static void test_named_with_refuses_other_settings(void) {
    hystrix_config a = quick();
    a.timeout_ms = 100;
    hystrix_command *first = NULL, *same = NULL, *other = NULL, *plain = NULL;
    CHECK_STATUS(hystrix_command_named_with("s", &a, &first), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_named_with("s", &a, &same), HYSTRIX_OK);
    /* The same command: one circuit, one set of metrics. */
    void *value = NULL;
    CHECK_STATUS(hystrix_command_execute(first, run_fails, NULL, NULL, &value), HYSTRIX_FAILURE);
    CHECK_CONTAINS(last_error(), "command 's': the run failed");
    hystrix_snapshot s;
    CHECK_STATUS(hystrix_command_snapshot(same, &s), HYSTRIX_OK);
    CHECK_EQ(s.cumulative[HYSTRIX_EVENT_FAILURE], 1);

    hystrix_config b = quick();
    b.timeout_ms = 5000;
    other = (hystrix_command *)VALUE;
    CHECK_STATUS(hystrix_command_named_with("s", &b, &other), HYSTRIX_SETTINGS_CONFLICT);
    CHECK(other == (hystrix_command *)VALUE);
    CHECK_CONTAINS(last_error(), "command 's' already exists with timeout_ms=100; got timeout_ms=5000");
    CHECK_EQ(strcmp(hystrix_status_name(HYSTRIX_SETTINGS_CONFLICT), "settings_conflict"), 0);
    hystrix_config now;
    hystrix_command_config(first, &now);
    CHECK_EQ(now.timeout_ms, 100);

    /* Settings change through configure; then the new ones match. */
    CHECK_STATUS(hystrix_configure_named("s", &b), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_named_with("s", &b, &other), HYSTRIX_OK);
    /* A handle by name alone gives no settings: it always shares. */
    CHECK_STATUS(hystrix_command_named("s", &plain), HYSTRIX_OK);
    hystrix_command_config(plain, &now);
    CHECK_EQ(now.timeout_ms, 5000);
    /* Invalid settings are invalid_config, naming the key. */
    b.timeout_ms = 0;
    CHECK_STATUS(hystrix_command_named_with("s", &b, &other), HYSTRIX_INVALID_CONFIG);
    CHECK_CONTAINS(last_error(), "command 's': invalid config: timeout_ms");
    hystrix_command *bad = NULL;
    CHECK_STATUS(hystrix_command_new(&b, "payments", NULL, &bad), HYSTRIX_INVALID_CONFIG);
    CHECK_CONTAINS(last_error(), "command 'payments': invalid config: timeout_ms");
    CHECK_STATUS(hystrix_command_configure(first, &b), HYSTRIX_INVALID_CONFIG);
    CHECK_CONTAINS(last_error(), "command 's': invalid config: timeout_ms");
    hystrix_command *handles[] = {first, same, other, plain};
    for (size_t i = 0; i < 4; i++) CHECK_STATUS(hystrix_command_free(handles[i]), HYSTRIX_OK);
    CHECK_STATUS(hystrix_remove_named("s"), HYSTRIX_OK);
}

int main(void) {
    RUN(test_sync_messages);
    RUN(test_async_done_sees_the_message);
    RUN(test_named_with_refuses_other_settings);
    CHECK_STATUS(hystrix_shutdown(), HYSTRIX_OK);
    return check_summary("test_error_messages");
}
