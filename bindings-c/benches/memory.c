/* Memory and creation cost per live C command at default settings:
 * N anonymous commands on the default clock kept alive, RSS per command
 * (from /proc/self/statm, so the native allocator's headers and rounding
 * count), idle and after one successful hystrix_command_execute; the time
 * to create one and to free one; then 10^6 create/free cycles, printing
 * RSS along the way (it must stay flat).
 * Build and run: see BENCHMARKS.md, "Session 13: memory and creation per
 * command, every binding". Linux only (statm). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hystrix.h"

#define N 10000
#define CYCLES 1000000

/* Resident set size of this process, in bytes. */
static long rss_bytes(void) {
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2) {
        fprintf(stderr, "cannot read /proc/self/statm\n");
        exit(1);
    }
    fclose(f);
    return resident * 4096;
}

/* Seconds on the monotonic clock. */
static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The trivial run: succeeds with NULL. */
static int32_t ok(void *user_data, void **out_value) {
    (void)user_data;
    *out_value = NULL;
    return HYSTRIX_OK;
}

static void check(hystrix_status s, const char *what) {
    if (s != HYSTRIX_OK) {
        fprintf(stderr, "%s failed: status %d\n", what, (int)s);
        exit(1);
    }
}

/* RSS bytes per live command for N commands, each executed `calls` times. */
static double per_command(hystrix_command **cmds, int calls, double *create_us) {
    long before = rss_bytes();
    double start = now_s();
    for (int i = 0; i < N; i++) {
        check(hystrix_command_new(NULL, NULL, NULL, &cmds[i]), "hystrix_command_new");
    }
    *create_us = (now_s() - start) * 1e6 / N;
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < calls; k++) {
            void *v;
            check(hystrix_command_execute(cmds[i], ok, NULL, NULL, &v), "hystrix_command_execute");
        }
    }
    return (double)(rss_bytes() - before) / N;
}

static double free_all(hystrix_command **cmds) {
    double start = now_s();
    for (int i = 0; i < N; i++) check(hystrix_command_free(cmds[i]), "hystrix_command_free");
    return (now_s() - start) * 1e6 / N;
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "idle";
    static hystrix_command *cmds[N];
    /* The shared default clock and registry exist before measuring. */
    hystrix_command *warm;
    check(hystrix_command_new(NULL, NULL, NULL, &warm), "hystrix_command_new");
    check(hystrix_command_free(warm), "hystrix_command_free");
    /* One case per process (argv[1]: idle, success or cycles), so memory
     * freed by an earlier case cannot hide growth. */
    double create_us, bytes;
    if (which[0] == 'i' || which[0] == 's') {
        int calls = which[0] == 's';
        bytes = per_command(cmds, calls, &create_us);
        double free_us = free_all(cmds);
        printf("%-18s %6.0f B RSS per command; create %.2f us, free %.2f us\n",
               calls ? "after one success:" : "idle:", bytes, create_us, free_us);
        return 0;
    }
    long rss0 = rss_bytes();
    double start = now_s();
    for (long i = 1; i <= CYCLES; i++) {
        hystrix_command *c;
        check(hystrix_command_new(NULL, NULL, NULL, &c), "hystrix_command_new");
        check(hystrix_command_free(c), "hystrix_command_free");
        if (i % (CYCLES / 4) == 0) printf("  after %7ld create/free cycles: RSS %+ld KiB\n", i, (rss_bytes() - rss0) / 1024);
    }
    printf("%.2f us per create + free\n", (now_s() - start) * 1e6 / CYCLES);
    return 0;
}
