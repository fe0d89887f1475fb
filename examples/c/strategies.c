/* examples/c/strategies.c: retry and hedging on the real clock from C.
 *
 * Runs are asynchronous here, as in a real C service: each attempt is handed
 * to a worker thread that answers later with hystrix_complete. The library's
 * own timer thread (the default clock) fires timeouts, backoff delays and
 * hedge delays; nothing in this file sleeps on the library's behalf.
 *
 * 1. Retry: the upstream fails the first attempt of every call; with
 *    retry_max_attempts = 3 and a 10 ms base delay the call succeeds on the
 *    second attempt. The call's own events (hystrix_call_events) show it:
 *    FAILURE, RETRY, SUCCESS.
 * 2. Hedging: the first attempt is slow (300 ms), any later one fast (5 ms);
 *    with hedge_delay_ms = 20 a second attempt starts after 20 ms, wins, and
 *    the slow one is told to stop (its cancel callback) and answers at once.
 *    Without hedging the same call takes the full 300 ms.
 *
 * 3. A blip, retried on the caller's thread: 100 blocking calls
 *    (hystrix_command_execute) to an upstream whose calls 30-59 fail their
 *    first attempt. With retry (full jitter, a retry budget) every call
 *    rides it out; without, 30 fail. Each run asks hystrix_current_attempt
 *    which attempt it is.
 * 4. A slow tail: 60 async calls, every tenth one's first attempt takes
 *    60 ms instead of 2; p50 and p99 latency without and with hedging
 *    (hedge_delay_ms = 10).
 *
 * Build: cc -pthread strategies.c $(pkg-config --cflags --libs hystrix) -o strategies
 * Exit code 1 only on a malfunction (timings vary and are printed). */
#define _POSIX_C_SOURCE 200809L
#include <hystrix.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One call in flight: what its callbacks share with main. */
typedef struct {
    uint64_t id;             /* the call handle, for hystrix_call_events */
    long slow_first_ms;      /* attempt 1's latency (0: it fails at once) */
    atomic_int stop_slow;    /* set by the cancel callback */
    pthread_mutex_t lock;
    pthread_cond_t settled;
    int done;
    hystrix_status status;
    const char *value;
    hystrix_event events[16];
    size_t n_events;
} call;

/* A worker answering one attempt. */
typedef struct {
    call *c;
    uint64_t completion;
    uint32_t attempt;
} job;

static void *worker(void *arg) {
    job *j = arg;
    call *c = j->c;
    if (j->attempt == 1 && c->slow_first_ms == 0) {
        hystrix_complete(j->completion, HYSTRIX_FAILURE, NULL); /* the upstream's error */
    } else {
        /* Attempt 1 is slow when slow_first_ms > 0; it watches for the stop. */
        long ms = j->attempt == 1 ? c->slow_first_ms : 5;
        for (long waited = 0; waited < ms && !(j->attempt == 1 && atomic_load(&c->stop_slow)); waited++) {
            struct timespec ts = {0, 1000000L};
            nanosleep(&ts, NULL);
        }
        /* A stopped loser's completion is answered "cancelled": its value was not used. */
        hystrix_complete(j->completion, HYSTRIX_OK, j->attempt == 1 ? "slow answer" : "fast answer");
    }
    free(j);
    return NULL;
}

static void on_run(void *user_data, uint64_t completion) {
    job *j = malloc(sizeof *j);
    if (!j) abort();
    j->c = user_data;
    j->completion = completion;
    j->attempt = 0;
    hystrix_completion_attempt(completion, &j->attempt);
    pthread_t t;
    if (pthread_create(&t, NULL, worker, j) != 0) abort();
    pthread_detach(t);
}

static void on_cancel(void *user_data, uint64_t completion) {
    (void)completion;
    call *c = user_data;
    atomic_store(&c->stop_slow, 1);
}

static void on_done(void *user_data, hystrix_status status, void *value) {
    call *c = user_data;
    /* The call's events can be read until done returns. */
    hystrix_call_events(c->id, c->events, 16, &c->n_events);
    pthread_mutex_lock(&c->lock);
    c->status = status;
    c->value = value;
    c->done = 1;
    pthread_cond_signal(&c->settled);
    pthread_mutex_unlock(&c->lock);
}

static const char *event_name(hystrix_event e) {
    switch (e) {
    case HYSTRIX_EVENT_SUCCESS: return "SUCCESS";
    case HYSTRIX_EVENT_FAILURE: return "FAILURE";
    case HYSTRIX_EVENT_RETRY: return "RETRY";
    case HYSTRIX_EVENT_HEDGE: return "HEDGE";
    case HYSTRIX_EVENT_CANCELLED: return "CANCELLED";
    case HYSTRIX_EVENT_TIMEOUT: return "TIMEOUT";
    case HYSTRIX_EVENT_FALLBACK_MISSING: return "FALLBACK_MISSING";
    default: return "other";
    }
}

/* Queues one call through cmd and waits for it; returns its latency in ms. */
static double one_call(hystrix_command *cmd, call *c, long slow_first_ms) {
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->settled, NULL);
    c->slow_first_ms = slow_first_ms;
    double start = now_ms();
    if (hystrix_command_queue(cmd, on_run, on_cancel, NULL, on_done, c, NULL, &c->id) != HYSTRIX_OK) {
        fprintf(stderr, "strategies: hystrix_command_queue failed\n");
        exit(1);
    }
    pthread_mutex_lock(&c->lock);
    while (!c->done) pthread_cond_wait(&c->settled, &c->lock);
    pthread_mutex_unlock(&c->lock);
    return now_ms() - start;
}

static void print_events(const call *c) {
    for (size_t i = 0; i < c->n_events && i < 16; i++) printf("%s%s", i ? ", " : "", event_name(c->events[i]));
    printf("\n");
}

static hystrix_command *make(const char *name, void (*tune)(hystrix_config *)) {
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.circuit_breaker_enabled = 0; /* the strategies alone */
    cfg.timeout_ms = 1000;
    tune(&cfg);
    hystrix_command *cmd = NULL;
    if (hystrix_command_new(&cfg, name, NULL, &cmd) != HYSTRIX_OK) {
        fprintf(stderr, "strategies: could not make %s\n", name);
        exit(1);
    }
    return cmd;
}

/* Section 3: the upstream of a blocking call (hystrix_command_execute). */
static int blip_call; /* which of the 100 calls this is */
static int blip_run(void *user_data, void **out) {
    (void)user_data;
    uint32_t attempt = 0;
    hystrix_current_attempt(&attempt);
    if (blip_call >= 30 && blip_call < 60 && attempt == 1) return HYSTRIX_FAILURE; /* the blip */
    *out = "ok";
    return HYSTRIX_OK;
}

/* Runs 100 blocking calls through cmd; returns how many succeeded. */
static int blip(hystrix_command *cmd) {
    int ok = 0;
    for (blip_call = 0; blip_call < 100; blip_call++) {
        void *value = NULL;
        ok += hystrix_command_execute(cmd, blip_run, NULL, NULL, &value) == HYSTRIX_OK;
    }
    return ok;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Section 4: 60 calls, every tenth one's first attempt slow; p50 and p99. */
static void tail(hystrix_command *cmd, double *p50, double *p99) {
    double took[60];
    call c;
    for (int i = 0; i < 60; i++) {
        memset(&c, 0, sizeof c);
        took[i] = one_call(cmd, &c, i % 10 == 9 ? 60 : 2);
    }
    qsort(took, 60, sizeof took[0], by_value);
    *p50 = took[29];
    *p99 = took[59]; /* of 60 samples, the 99th percentile is the largest */
}

static void plain(hystrix_config *cfg) { (void)cfg; }
static void with_budgeted_retry(hystrix_config *cfg) {
    cfg->retry_max_attempts = 3;
    cfg->retry_base_delay_ms = 2;
    cfg->retry_max_delay_ms = 20;
    cfg->retry_jitter = HYSTRIX_JITTER_FULL;
    cfg->retry_budget_percent = 20; /* a retry per five successes... */
    cfg->retry_budget_min_per_sec = 50; /* ...plus 50 a second */
}
static void with_quick_hedge(hystrix_config *cfg) {
    cfg->hedge_max_attempts = 2;
    cfg->hedge_delay_ms = 10;
}
static void with_retry(hystrix_config *cfg) {
    cfg->retry_max_attempts = 3;
    cfg->retry_base_delay_ms = 10;
    cfg->retry_jitter = HYSTRIX_JITTER_NONE;
}
static void with_hedge(hystrix_config *cfg) {
    cfg->hedge_max_attempts = 2;
    cfg->hedge_delay_ms = 20;
}

int main(void) {
    int problems = 0;
    call c;

    printf("1. retry: the upstream fails every call's first attempt\n");
    hystrix_command *once = make("no-retry", plain);
    one_call(once, &c, 0);
    printf("   without retry: %s; events: ", hystrix_status_name(c.status));
    print_events(&c);
    problems += c.status != HYSTRIX_FAILURE;
    hystrix_command *retrying = make("retry", with_retry);
    double took = one_call(retrying, &c, 0);
    printf("   with retry:    %s (\"%s\") after %.0f ms; events: ", hystrix_status_name(c.status),
           c.value ? c.value : "", took);
    print_events(&c);
    problems += c.status != HYSTRIX_OK || took < 10; /* the backoff delay is real */

    printf("2. hedging: the first attempt takes 300 ms, a second one 5 ms\n");
    hystrix_command *single = make("no-hedge", plain);
    took = one_call(single, &c, 300);
    printf("   without hedging: %s (\"%s\") after %.0f ms\n", hystrix_status_name(c.status), c.value ? c.value : "",
           took);
    problems += c.status != HYSTRIX_OK || took < 300;
    hystrix_command *hedged = make("hedge", with_hedge);
    took = one_call(hedged, &c, 300);
    printf("   with hedging:    %s (\"%s\") after %.0f ms; events: ", hystrix_status_name(c.status),
           c.value ? c.value : "", took);
    print_events(&c);
    problems += c.status != HYSTRIX_OK || took >= 300 || !atomic_load(&c.stop_slow);

    printf("3. a blip: calls 30-59 fail their first attempt (blocking hystrix_command_execute)\n");
    hystrix_command *blip_once = make("blip-no-retry", plain);
    int ok_once = blip(blip_once);
    hystrix_command *blip_retry = make("blip-retry", with_budgeted_retry);
    int ok_retry = blip(blip_retry);
    hystrix_snapshot snap;
    hystrix_command_snapshot(blip_retry, &snap);
    printf("   without retry: %d/100 succeeded\n", ok_once);
    printf("   with retry (full jitter, budget): %d/100 succeeded, %llu retries, %llu refused by the budget\n", ok_retry,
           (unsigned long long)snap.rolling[HYSTRIX_EVENT_RETRY],
           (unsigned long long)snap.rolling[HYSTRIX_EVENT_RETRY_BUDGET_EXHAUSTED]);
    problems += ok_once != 70 || ok_retry != 100;

    printf("4. a slow tail: every tenth call's first attempt takes 60 ms, others 2 ms\n");
    double p50, p99;
    hystrix_command *tail_once = make("tail-no-hedge", plain);
    tail(tail_once, &p50, &p99);
    printf("   without hedging: p50 %.0f ms, p99 %.0f ms\n", p50, p99);
    problems += p99 < 60;
    hystrix_command *tail_hedged = make("tail-hedge", with_quick_hedge);
    double hp50, hp99;
    tail(tail_hedged, &hp50, &hp99);
    printf("   with hedging:    p50 %.0f ms, p99 %.0f ms\n", hp50, hp99);
    problems += hp99 >= p99;

    /* Let the stopped loser's worker answer, then check every permit came back. */
    struct timespec settle = {0, 50000000L};
    nanosleep(&settle, NULL);
    hystrix_command *all[] = {once, retrying, single, hedged, blip_once, blip_retry, tail_once, tail_hedged};
    for (int i = 0; i < 8; i++) {
        hystrix_command_snapshot(all[i], &snap);
        if (snap.concurrent != 0) {
            printf("   a permit was never given back (%llu held)\n", (unsigned long long)snap.concurrent);
            problems++;
        }
        hystrix_command_free(all[i]);
    }
    hystrix_shutdown();
    if (problems) printf("strategies: %d malfunction(s)\n", problems);
    return problems ? 1 : 0;
}
