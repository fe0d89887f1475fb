/*
 * Issue 9's must-hold C ABI paths, compiled unchanged against the hystrix.h
 * and libhystrix.a of each compared commit (scripts/bench-protocol-before-after.sh):
 * only functions whose signatures are the same at a228d79 and today.
 *
 *   c_abi count KIND N   N calls on a clock that reads 0 (callgrind of 2N
 *                        minus N calls, / N: instructions per call)
 *   c_abi time KIND N    N calls on the default (real) clock after a
 *                        warm-up; prints ns per call
 *
 * KIND: exec (hystrix_command_execute, the run succeeds, no fallback: the
 * closed path) or open (force_open, a fallback answers).
 */
#define _POSIX_C_SOURCE 199309L
#include "hystrix.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int32_t run(void *user_data, void **out_value) {
    *out_value = (void *)((uintptr_t)user_data + 1);
    return HYSTRIX_OK;
}

static int32_t fallback(void *user_data, hystrix_status cause, void **out_value) {
    (void)user_data;
    (void)cause;
    *out_value = (void *)(uintptr_t)7;
    return HYSTRIX_OK;
}

static uint64_t zero(void *user_data) {
    (void)user_data;
    return 0;
}

static void check(hystrix_status st, const char *what) {
    if (st != HYSTRIX_OK) {
        fprintf(stderr, "%s: status %d\n", what, (int)st);
        exit(1);
    }
}

/* N calls; the number that returned the expected value. */
static uint64_t calls(const hystrix_command *cmd, int open, uint64_t n) {
    uint64_t ok = 0;
    /* Through a volatile so the compiler passes a real pointer each call. */
    void *volatile input = (void *)(uintptr_t)41;
    for (uint64_t i = 0; i < n; i++) {
        void *value = NULL;
        hystrix_status st = hystrix_command_execute(cmd, run, open ? fallback : NULL, input, &value);
        ok += st == HYSTRIX_OK && (uintptr_t)value == (open ? 7u : 42u);
    }
    return ok;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: c_abi (count|time) (exec|open) N\n");
        return 2;
    }
    int timed = strcmp(argv[1], "time") == 0;
    int open = strcmp(argv[2], "open") == 0;
    if (!open && strcmp(argv[2], "exec") != 0) {
        fprintf(stderr, "unknown kind %s\n", argv[2]);
        return 2;
    }
    uint64_t n = strtoull(argv[3], NULL, 10);

    hystrix_config config;
    check(hystrix_config_default(&config), "config");
    config.force_open = open ? 1 : 0;
    hystrix_clock *clock = NULL;
    if (!timed) {
        check(hystrix_clock_new_fn(zero, NULL, NULL, HYSTRIX_TIMERS_CALLER, &clock), "clock");
    }
    hystrix_command *cmd = NULL;
    check(hystrix_command_new(&config, "m", clock, &cmd), "command");

    if (timed) {
        if (calls(cmd, open, n / 10) != n / 10) return 1;
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        uint64_t ok = calls(cmd, open, n);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (ok != n) return 1;
        double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
        printf("%.2f\n", ns / (double)n);
    } else {
        if (calls(cmd, open, n) != n) return 1;
        printf("%s: %llu calls\n", argv[2], (unsigned long long)n);
    }
    check(hystrix_command_free(cmd), "free");
    if (clock) check(hystrix_clock_free(clock), "clock free");
    return 0;
}
