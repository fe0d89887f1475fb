/* The C leg of scripts/soak.sh: CALLS calls through one command at default
 * settings (a quarter failing into a fallback, a sixteenth failing with
 * none), then CYCLES create/call/free cycles, printing the resident set
 * (VmRSS) after a warm-up tenth, halfway and at the end of each phase as
 * `soak <phase> <point> <rss_kb>`; the script judges the growth.
 *
 *   soak CALLS CYCLES */
#define _POSIX_C_SOURCE 200809L
#include "hystrix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char VALUE[] = "v";

/* The resident set in KiB, from /proc/self/status (0 where there is none). */
static unsigned long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long kb = 0;
    if (f == NULL) return 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = strtoul(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

static int32_t ok_run(void *user_data, void **out) {
    (void)user_data;
    *out = VALUE;
    return HYSTRIX_OK;
}

static int32_t failing_run(void *user_data, void **out) {
    (void)user_data, (void)out;
    return HYSTRIX_FAILURE;
}

static int32_t fallback(void *user_data, hystrix_status cause, void **out) {
    (void)user_data, (void)cause;
    *out = VALUE;
    return HYSTRIX_OK;
}

/* One call: success, failure into a fallback, or failure with none. */
static void call(const hystrix_command *cmd, unsigned long i) {
    void *out = NULL;
    unsigned long k = i % 16;
    hystrix_status st = k == 0   ? hystrix_command_execute(cmd, failing_run, NULL, NULL, &out)
                        : k <= 4 ? hystrix_command_execute(cmd, failing_run, fallback, NULL, &out)
                                 : hystrix_command_execute(cmd, ok_run, NULL, NULL, &out);
    if (st != HYSTRIX_OK && st != HYSTRIX_FAILURE && st != HYSTRIX_SHORT_CIRCUITED) {
        fprintf(stderr, "soak: unexpected status %s\n", hystrix_status_name(st));
        exit(1);
    }
}

static double seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reports the resident set at step i of n where due (see the file docs). */
static void report(const char *phase, unsigned long i, unsigned long n) {
    unsigned long warm = n / 10;
    if (i == warm) printf("soak %s start %lu\n", phase, rss_kb());
    else if (i == warm + (n - warm) / 2) printf("soak %s middle %lu\n", phase, rss_kb());
}

int main(int argc, char **argv) {
    char *end1 = NULL, *end2 = NULL;
    unsigned long calls = argc == 3 ? strtoul(argv[1], &end1, 10) : 0;
    unsigned long cycles = argc == 3 ? strtoul(argv[2], &end2, 10) : 0;
    if (argc != 3 || *end1 != '\0' || *end2 != '\0') {
        fprintf(stderr, "usage: soak CALLS CYCLES (two whole numbers)\n");
        return 2;
    }
    hystrix_command *cmd = NULL;
    if (hystrix_command_new(NULL, "soak", NULL, &cmd) != HYSTRIX_OK) return 1;
    double t = seconds();
    for (unsigned long i = 0; i < calls; i++) {
        report("calls", i, calls);
        call(cmd, i);
    }
    printf("soak calls end %lu\nsoak calls took %.1f s for %lu\n", rss_kb(), seconds() - t, calls);
    hystrix_command_free(cmd);
    t = seconds();
    for (unsigned long i = 0; i < cycles; i++) {
        report("cycles", i, cycles);
        if (hystrix_command_new(NULL, "cycle", NULL, &cmd) != HYSTRIX_OK) return 1;
        call(cmd, i);
        hystrix_command_free(cmd);
    }
    printf("soak cycles end %lu\nsoak cycles took %.1f s for %lu\n", rss_kb(), seconds() - t, cycles);
    return hystrix_shutdown() == HYSTRIX_OK ? 0 : 1;
}
