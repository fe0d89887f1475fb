/* hystrix_shutdown: once the program has freed its handles and completed
 * its calls, the library stops the default clock's timer thread and frees
 * its global state (the named registry, the completion table), so that a
 * correct program is valgrind-clean with every leak kind counted: run.sh
 * runs this file with --show-leak-kinds=all --errors-for-leak-kinds=all.
 * While something is still alive it is refused and changes nothing; after
 * it, the library starts again lazily on next use. */
#define _POSIX_C_SOURCE 200809L
#include "hystrix.h"
#include "check.h"

#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

/* Bounds waits for the timer thread: generous, since valgrind on a loaded
 * machine can keep a thread off the CPU for seconds. */
#define WAIT_BOUND_MS 30000

static char RUN_VALUE[] = "run";

/* Threads of this process named like the library's timer thread. */
static int timer_threads(void) {
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    if (d == NULL) return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[320], name[32] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL) continue;
        if (fgets(name, sizeof name, f) != NULL && strncmp(name, "hystrix-timers", 14) == 0) n++;
        fclose(f);
    }
    closedir(d);
    return n;
}

static int32_t run_ok(void *ud, void **out) {
    (void)ud;
    *out = RUN_VALUE;
    return HYSTRIX_OK;
}

/* An async call on the default clock whose run waits for its timeout: the
 * default clock's timer thread fires it. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int dones, frees;
    hystrix_status status;
} timed_call;

static void tc_run(void *ud, uint64_t completion) {
    (void)ud;
    (void)completion; /* completed from cancel, once timed out */
}

static void tc_cancel(void *ud, uint64_t completion) {
    (void)ud;
    CHECK_STATUS(hystrix_complete(completion, HYSTRIX_OK, NULL), HYSTRIX_TIMEOUT);
}

static void tc_done(void *ud, hystrix_status status, void *value) {
    (void)value;
    timed_call *c = ud;
    pthread_mutex_lock(&c->mu);
    c->dones++;
    c->status = status;
    pthread_mutex_unlock(&c->mu);
}

static void tc_free(void *ud) {
    timed_call *c = ud;
    pthread_mutex_lock(&c->mu);
    c->frees++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* Queues a 20 ms call on `cmd` and waits (bounded) until it is over. */
static void time_out_on_default_clock(hystrix_command *cmd) {
    timed_call c;
    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.mu, NULL);
    pthread_cond_init(&c.cv, NULL);
    c.status = HYSTRIX_PANIC;
    CHECK_STATUS(hystrix_command_queue(cmd, tc_run, tc_cancel, NULL, tc_done, &c, tc_free, NULL), HYSTRIX_OK);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_BOUND_MS / 1000;
    pthread_mutex_lock(&c.mu);
    while (c.frees == 0)
        if (pthread_cond_timedwait(&c.cv, &c.mu, &until) != 0) break;
    pthread_mutex_unlock(&c.mu);
    CHECK_EQ(c.frees, 1);
    CHECK_EQ(c.dones, 1);
    CHECK_STATUS(c.status, HYSTRIX_TIMEOUT);
    pthread_mutex_destroy(&c.mu);
    pthread_cond_destroy(&c.cv);
}

static hystrix_command *default_clock_command(uint64_t timeout_ms) {
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.timeout_ms = timeout_ms;
    hystrix_command *cmd = NULL;
    CHECK_STATUS(hystrix_command_new(&cfg, "shutdown.anonymous", NULL, &cmd), HYSTRIX_OK);
    return cmd;
}

static void test_shutdown_stops_timer_thread_and_forgets_names(void) {
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.timeout_ms = 123;
    CHECK_STATUS(hystrix_configure_named("shutdown.named", &cfg), HYSTRIX_OK);
    hystrix_command *named = NULL;
    CHECK_STATUS(hystrix_command_named("shutdown.named", &named), HYSTRIX_OK);
    void *value = NULL;
    CHECK_STATUS(hystrix_command_execute(named, run_ok, NULL, NULL, &value), HYSTRIX_OK);
    hystrix_command *cmd = default_clock_command(20);
    time_out_on_default_clock(cmd);
    CHECK_EQ(timer_threads(), 1);

    /* Handles still alive: refused, saying why; nothing changes. */
    CHECK_STATUS(hystrix_shutdown(), HYSTRIX_INVALID_STATE);
    CHECK_CONTAINS(last_error(), "2 handles or calls are still alive");
    CHECK_EQ(timer_threads(), 1);
    CHECK_STATUS(hystrix_command_execute(named, run_ok, NULL, NULL, &value), HYSTRIX_OK);
    hystrix_command *again = NULL;
    CHECK_STATUS(hystrix_command_named("shutdown.named", &again), HYSTRIX_OK);
    hystrix_config seen;
    CHECK_STATUS(hystrix_command_config(again, &seen), HYSTRIX_OK);
    CHECK_EQ(seen.timeout_ms, 123); /* the name and its settings are still there */
    CHECK_STATUS(hystrix_command_free(again), HYSTRIX_OK);

    CHECK_STATUS(hystrix_command_free(named), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_shutdown(), HYSTRIX_OK);
    CHECK_EQ(timer_threads(), 0); /* stopped and joined before it returned */
    CHECK_STATUS(hystrix_shutdown(), HYSTRIX_OK); /* nothing left: a no-op */
}

static void test_library_starts_again_after_shutdown(void) {
    /* Names and their settings were forgotten. */
    hystrix_command *named = NULL;
    CHECK_STATUS(hystrix_command_named("shutdown.named", &named), HYSTRIX_OK);
    hystrix_config seen;
    CHECK_STATUS(hystrix_command_config(named, &seen), HYSTRIX_OK);
    CHECK_EQ(seen.timeout_ms, 1000);
    /* The default clock comes back, with a new timer thread on first use. */
    hystrix_command *cmd = default_clock_command(20);
    CHECK_EQ(timer_threads(), 0);
    time_out_on_default_clock(cmd);
    CHECK_EQ(timer_threads(), 1);
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_free(named), HYSTRIX_OK);
    CHECK_STATUS(hystrix_shutdown(), HYSTRIX_OK);
    CHECK_EQ(timer_threads(), 0);
}

/* A call whose handle is not completed yet counts as alive, even once the
 * command and clock handles are freed. */
typedef struct {
    uint64_t handle;
    int dones;
} held;

static void held_run(void *ud, uint64_t completion) { ((held *)ud)->handle = completion; }
static void held_done(void *ud, hystrix_status status, void *value) {
    (void)status;
    (void)value;
    ((held *)ud)->dones++;
}

static void test_shutdown_refused_while_a_call_is_pending(void) {
    hystrix_clock *clock = NULL;
    hystrix_command *cmd = NULL;
    CHECK_STATUS(hystrix_clock_new_virtual(&clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_new(NULL, "shutdown.pending", clock, &cmd), HYSTRIX_OK);
    held h = {0, 0};
    CHECK_STATUS(hystrix_command_queue(cmd, held_run, NULL, NULL, held_done, &h, NULL, NULL), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(clock), HYSTRIX_OK);
    CHECK_STATUS(hystrix_shutdown(), HYSTRIX_INVALID_STATE);
    CHECK_CONTAINS(last_error(), "1 handles or calls are still alive");
    CHECK_STATUS(hystrix_complete(h.handle, HYSTRIX_OK, RUN_VALUE), HYSTRIX_OK);
    CHECK_EQ(h.dones, 1);
    CHECK_STATUS(hystrix_shutdown(), HYSTRIX_OK);
}

int main(void) {
    RUN(test_shutdown_stops_timer_thread_and_forgets_names);
    RUN(test_library_starts_again_after_shutdown);
    RUN(test_shutdown_refused_while_a_call_is_pending);
    /* The last call of a correct program: valgrind then finds nothing. */
    CHECK_STATUS(hystrix_shutdown(), HYSTRIX_OK);
    return check_summary("test_shutdown");
}
