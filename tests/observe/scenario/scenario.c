/* The C side of the cross-language observe check: the scenario of
 * README.md through the C ABI on a virtual clock, then the exposition,
 * "#--stream--" and one tick (hystrix_render_prometheus and
 * hystrix_render_stream over the two handles). */
#include "hystrix.h"
#include <stdio.h>
#include <stdlib.h>

static hystrix_clock *clock_;

struct step {
    uint64_t ms;
    int ok;
};

static int32_t run(void *user_data, void **out_value) {
    const struct step *s = user_data;
    *out_value = NULL;
    if (hystrix_clock_advance(clock_, s->ms) != HYSTRIX_OK) abort();
    return s->ok ? HYSTRIX_OK : HYSTRIX_FAILURE;
}

static int32_t fallback(void *user_data, hystrix_status cause, void **out_value) {
    (void)user_data;
    (void)cause;
    *out_value = NULL;
    return HYSTRIX_OK;
}

static void must(hystrix_status st, const char *what) {
    if (st != HYSTRIX_OK) {
        char why[256];
        size_t n = 0;
        hystrix_last_error_message(why, sizeof why, &n);
        fprintf(stderr, "scenario.c: %s: %s (%s)\n", what, hystrix_status_name(st), why);
        exit(1);
    }
}

/* Renders with a size query, then prints. */
static void print_rendered(const hystrix_command *const *list, size_t n, int stream) {
    size_t needed = 0;
    must(stream ? hystrix_render_stream(list, n, 1700000000000ULL, NULL, 0, &needed)
                : hystrix_render_prometheus(list, n, NULL, 0, &needed),
         "size query");
    char *buf = malloc(needed);
    if (buf == NULL) abort();
    must(stream ? hystrix_render_stream(list, n, 1700000000000ULL, buf, needed, &needed)
                : hystrix_render_prometheus(list, n, buf, needed, &needed),
         "render");
    fputs(buf, stdout);
    free(buf);
}

int main(void) {
    must(hystrix_clock_new_virtual(&clock_), "clock");
    hystrix_config beta_cfg;
    must(hystrix_config_default(&beta_cfg), "config");
    beta_cfg.request_volume_threshold = 2;
    beta_cfg.health_snapshot_interval_ms = 0;
    hystrix_command *alpha = NULL, *beta = NULL;
    must(hystrix_command_new(NULL, "alpha", clock_, &alpha), "alpha");
    must(hystrix_command_new(&beta_cfg, "beta", clock_, &beta), "beta");
    void *value = NULL;
    struct step s5 = {5, 1}, s40 = {40, 1}, fail2 = {2, 0}, fail1 = {1, 0}, ok1 = {1, 1};
    hystrix_command_execute(alpha, run, NULL, &s5, &value);
    hystrix_command_execute(alpha, run, NULL, &s40, &value);
    hystrix_command_execute(alpha, run, fallback, &fail2, &value);
    must(hystrix_clock_advance(clock_, 100), "advance");
    hystrix_command_execute(beta, run, NULL, &fail1, &value);
    hystrix_command_execute(beta, run, NULL, &fail1, &value);
    hystrix_command_execute(beta, run, fallback, &ok1, &value);
    must(hystrix_clock_advance(clock_, 1000), "advance");
    const hystrix_command *list[2] = {alpha, beta};
    print_rendered(list, 2, 0);
    fputs("#--stream--\n", stdout);
    print_rendered(list, 2, 1);
    hystrix_command_free(alpha);
    hystrix_command_free(beta);
    hystrix_clock_free(clock_);
    hystrix_shutdown();
    return 0;
}
