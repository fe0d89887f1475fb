/* examples/c/flaky.c: a flaky operation wrapped in a hystrix command.
 * Prints every state transition and, at the end, the command's metrics.
 * Build: cc flaky.c $(pkg-config --cflags --libs hystrix) -o flaky */
#define _POSIX_C_SOURCE 199309L
#include <hystrix.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *state_name(hystrix_state s) {
    return s == HYSTRIX_STATE_CLOSED ? "closed" : s == HYSTRIX_STATE_OPEN ? "open" : "half_open";
}

static void on_transition(void *user_data, const char *command, hystrix_state from, hystrix_state to, uint64_t at_ms) {
    (void)user_data;
    printf("  [%s] t=%llu ms: circuit %s -> %s\n", command, (unsigned long long)at_ms, state_name(from), state_name(to));
}

/* The dependency: fails while *healthy is 0. */
static int32_t call_service(void *user_data, void **out_value) {
    const int *healthy = user_data;
    if (!*healthy) return HYSTRIX_FAILURE;
    *out_value = "fresh answer";
    return HYSTRIX_OK;
}

static int32_t cached_answer(void *user_data, hystrix_status cause, void **out_value) {
    (void)user_data;
    *out_value = cause == HYSTRIX_SHORT_CIRCUITED ? "cached answer (circuit open)" : "cached answer (call failed)";
    return HYSTRIX_OK;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int fail(const char *what, hystrix_status st) {
    char msg[256];
    size_t len = 0;
    hystrix_last_error_message(msg, sizeof msg, &len);
    fprintf(stderr, "%s: %s (%s)\n", what, hystrix_status_name(st), msg);
    return 1;
}

int main(void) {
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.request_volume_threshold = 4;
    cfg.sleep_window_ms = 200;
    cfg.health_snapshot_interval_ms = 0;
    hystrix_command *cmd = NULL;
    hystrix_status st = hystrix_command_new(&cfg, "inventory", NULL, &cmd);
    if (st != HYSTRIX_OK) return fail("hystrix_command_new", st);
    hystrix_command_on_state_change(cmd, on_transition, NULL, NULL, NULL);

    int healthy = 1;
    for (int i = 0; i < 12; i++) {
        if (i == 2) { healthy = 0; printf("-- the service goes down\n"); }
        if (i == 8) { healthy = 1; printf("-- the service recovers; waiting out the sleep window\n"); sleep_ms(250); }
        void *answer = NULL;
        st = hystrix_command_execute(cmd, call_service, cached_answer, &healthy, &answer);
        if (st != HYSTRIX_OK) return fail("hystrix_command_execute", st);
        printf("call %2d: %s\n", i + 1, (const char *)answer);
        sleep_ms(10);
    }
    hystrix_snapshot snap;
    hystrix_command_snapshot(cmd, &snap);
    printf("final: state=%s successes=%llu failures=%llu short-circuited=%llu fallbacks=%llu\n",
           state_name(snap.state), (unsigned long long)snap.cumulative[HYSTRIX_EVENT_SUCCESS],
           (unsigned long long)snap.cumulative[HYSTRIX_EVENT_FAILURE],
           (unsigned long long)snap.cumulative[HYSTRIX_EVENT_SHORT_CIRCUITED],
           (unsigned long long)snap.cumulative[HYSTRIX_EVENT_FALLBACK_SUCCESS]);
    char *json = NULL;
    if (hystrix_command_snapshot_json(cmd, &json) == HYSTRIX_OK) {
        printf("metrics: %s\n", json);
        hystrix_string_free(json);
    }
    hystrix_command_free(cmd);
    hystrix_shutdown(); /* stops the timer thread, frees the library's global state */
    return snap.state == HYSTRIX_STATE_CLOSED && snap.cumulative[HYSTRIX_EVENT_SHORT_CIRCUITED] > 0 ? 0 : 1;
}
