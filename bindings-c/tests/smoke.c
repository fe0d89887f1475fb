/* A first end-to-end check of the C ABI: sync and async execution on a
 * virtual clock, a timeout with cancel, and misuse returning statuses. */
#include "hystrix.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); failures++; } } while (0)

static int32_t ok_run(void *ud, void **out) { (void)ud; *out = (void *)"value"; return HYSTRIX_OK; }
static int32_t failing_run(void *ud, void **out) { (void)ud; (void)out; return HYSTRIX_FAILURE; }
static int32_t fallback(void *ud, hystrix_status cause, void **out) { *(hystrix_status *)ud = cause; *out = (void *)"fallback"; return HYSTRIX_OK; }

typedef struct { uint64_t run_handle; int cancelled; int done; hystrix_status status; void *value; } async_state;
static void start_run(void *ud, uint64_t completion) { ((async_state *)ud)->run_handle = completion; }
static void on_cancel(void *ud, uint64_t completion) { async_state *s = ud; s->cancelled++; CHECK(completion == s->run_handle); }
static void on_done(void *ud, hystrix_status status, void *value) { async_state *s = ud; s->done++; s->status = status; s->value = value; }

int main(void) {
    hystrix_config cfg;
    CHECK(hystrix_config_default(&cfg) == HYSTRIX_OK);
    CHECK(cfg.timeout_ms == 1000 && cfg.request_volume_threshold == 20);
    cfg.timeout_ms = 100;
    hystrix_clock *clock = NULL;
    CHECK(hystrix_clock_new_virtual(&clock) == HYSTRIX_OK);
    hystrix_command *cmd = NULL;
    CHECK(hystrix_command_new(&cfg, "smoke", clock, &cmd) == HYSTRIX_OK);

    void *value = NULL;
    CHECK(hystrix_command_execute(cmd, ok_run, NULL, NULL, &value) == HYSTRIX_OK);
    CHECK(value && strcmp(value, "value") == 0);
    hystrix_status cause = HYSTRIX_OK;
    CHECK(hystrix_command_execute(cmd, failing_run, fallback, &cause, &value) == HYSTRIX_OK);
    CHECK(strcmp(value, "fallback") == 0 && cause == HYSTRIX_FAILURE);
    value = NULL;
    CHECK(hystrix_command_execute(cmd, failing_run, NULL, NULL, &value) == HYSTRIX_FAILURE);
    CHECK(value == NULL);

    /* Async: the run never completes by itself; the timeout fires at 100. */
    async_state s = {0};
    CHECK(hystrix_command_queue(cmd, start_run, on_cancel, NULL, on_done, &s, NULL, NULL) == HYSTRIX_OK);
    CHECK(s.run_handle != 0 && s.done == 0);
    hystrix_snapshot snap;
    CHECK(hystrix_command_snapshot(cmd, &snap) == HYSTRIX_OK && snap.concurrent == 1);
    CHECK(hystrix_clock_advance(clock, 99) == HYSTRIX_OK && s.done == 0);
    CHECK(hystrix_clock_advance(clock, 1) == HYSTRIX_OK);
    CHECK(s.done == 1 && s.cancelled == 1 && s.status == HYSTRIX_TIMEOUT && s.value == NULL);
    CHECK(hystrix_command_snapshot(cmd, &snap) == HYSTRIX_OK && snap.concurrent == 1);
    CHECK(snap.rolling[HYSTRIX_EVENT_TIMEOUT] == 1);
    /* The run acknowledges cancellation late: permit released, value discarded. */
    CHECK(hystrix_complete(s.run_handle, HYSTRIX_OK, NULL) == HYSTRIX_TIMEOUT);
    CHECK(hystrix_command_snapshot(cmd, &snap) == HYSTRIX_OK && snap.concurrent == 0);
    /* Misuse: completing twice, NULLs, bad config. */
    CHECK(hystrix_complete(s.run_handle, HYSTRIX_OK, NULL) == HYSTRIX_INVALID_STATE);
    char msg[256]; size_t len = 0;
    CHECK(hystrix_last_error_message(msg, sizeof msg, &len) == HYSTRIX_OK && len > 0 && strstr(msg, "already completed"));
    CHECK(hystrix_command_execute(NULL, ok_run, NULL, NULL, &value) == HYSTRIX_NULL_ARGUMENT);
    cfg.rolling_window_buckets = 3;
    hystrix_command *bad = NULL;
    CHECK(hystrix_command_new(&cfg, NULL, clock, &bad) == HYSTRIX_INVALID_CONFIG && bad == NULL);
    CHECK(hystrix_last_error_message(msg, sizeof msg, &len) == HYSTRIX_OK && strstr(msg, "rolling_window_ms"));
    char *json = NULL;
    CHECK(hystrix_command_snapshot_json(cmd, &json) == HYSTRIX_OK && strstr(json, "\"TIMEOUT\":1"));
    CHECK(hystrix_string_free(json) == HYSTRIX_OK);

    CHECK(hystrix_command_free(cmd) == HYSTRIX_OK);
    CHECK(hystrix_clock_free(clock) == HYSTRIX_OK);
    CHECK(hystrix_shutdown() == HYSTRIX_OK);
    printf("smoke: %d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
