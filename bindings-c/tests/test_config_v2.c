/* SPEC v2 configuration keys (§8, §8.1) through the C ABI: the fields
 * appended to hystrix_config, their defaults, the named values
 * (HYSTRIX_JITTER_*, HYSTRIX_LIMIT_*), validation naming the field, the
 * v2 vocabulary (HYSTRIX_RATE_LIMITED, the v2 events), and a drift check
 * of hystrix_config against the core's hystrix_config_schema. */
#include "hystrix.h"
#include "check.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Every field of hystrix_config in SPEC order, with its size and default:
 * `type` 'b' (hystrix_bool), 'i' (uint64_t) or 'n' (a named value, uint32_t). */
typedef struct {
    const char *name;
    size_t offset;
    size_t size;
    char type;
    uint64_t def;
} field;

#define B(f, d) {#f, offsetof(hystrix_config, f), sizeof(((hystrix_config *)0)->f), 'b', d}
#define I(f, d) {#f, offsetof(hystrix_config, f), sizeof(((hystrix_config *)0)->f), 'i', d}
#define N(f, d) {#f, offsetof(hystrix_config, f), sizeof(((hystrix_config *)0)->f), 'n', d}
static const field FIELDS[] = {
    B(timeout_enabled, 1), I(timeout_ms, 1000), I(max_concurrent_requests, 10), B(fallback_enabled, 1),
    I(fallback_max_concurrent_requests, 10), B(circuit_breaker_enabled, 1), I(request_volume_threshold, 20),
    I(error_threshold_percentage, 50), I(sleep_window_ms, 5000), I(half_open_max_calls, 1), B(force_open, 0),
    B(force_closed, 0), I(rolling_window_ms, 10000), I(rolling_window_buckets, 10),
    I(health_snapshot_interval_ms, 500),
    /* v2 */
    I(random_seed, 0), I(retry_max_attempts, 1), B(retry_on_timeout, 1), B(retry_on_rejected, 0),
    I(retry_base_delay_ms, 100), I(retry_multiplier_permille, 2000), I(retry_max_delay_ms, 5000),
    N(retry_jitter, HYSTRIX_JITTER_FULL), I(deadline_ms, 0), I(retry_budget_percent, 0),
    I(retry_budget_min_per_sec, 10), I(retry_budget_window_ms, 10000), I(retry_budget_window_buckets, 10),
    I(rate_limit_for_period, 0), I(rate_limit_period_ms, 1000), I(rate_limit_burst, 0), I(rate_limit_timeout_ms, 0),
    I(hedge_max_attempts, 1), I(hedge_delay_ms, 500), B(hedge_on_failure, 1),
    N(concurrency_limit_mode, HYSTRIX_LIMIT_FIXED), I(adaptive_initial_limit, 20), I(adaptive_min_limit, 20),
    I(adaptive_max_limit, 200), I(adaptive_window_ms, 1000), I(adaptive_window_min_samples, 10),
    B(adaptive_drop_on_failure, 0), I(aimd_backoff_permille, 900), I(aimd_timeout_ms, 5000),
    I(gradient2_smoothing_permille, 200), I(gradient2_queue_size, 4), I(gradient2_long_window, 600),
    I(gradient2_rtt_tolerance_permille, 1500),
};
#define NFIELDS (sizeof FIELDS / sizeof FIELDS[0])

static uint64_t read_field(const hystrix_config *c, const field *f) {
    const unsigned char *p = (const unsigned char *)c + f->offset;
    uint64_t v64 = 0;
    uint32_t v32 = 0;
    switch (f->size) {
    case 1: return *p;
    case 4: memcpy(&v32, p, 4); return v32;
    default: memcpy(&v64, p, 8); return v64;
    }
}

/* The text after `"key":` in the JSON object starting at `obj`, or NULL. */
static const char *member(const char *obj, const char *end, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *m = strstr(obj, pat);
    return m && m < end ? m + strlen(pat) : NULL;
}

static void test_the_struct_follows_the_core_schema(void) {
    char *schema = NULL;
    CHECK_STATUS(hystrix_config_schema(&schema), HYSTRIX_OK);
    CHECK(schema != NULL && schema[0] == '[');
    hystrix_config cfg;
    CHECK_STATUS(hystrix_config_default(&cfg), HYSTRIX_OK);
    const char *at = schema;
    size_t n = 0;
    for (const char *obj; (obj = strchr(at, '{')) != NULL; at = strchr(obj, '}') + 1, n++) {
        const char *end = strchr(obj, '}');
        const char *name = member(obj, end, "name");
        CHECK(name != NULL);
        if (name == NULL || n >= NFIELDS) break;
        const field *f = &FIELDS[n];
        char want[80];
        snprintf(want, sizeof want, "\"%s\"", f->name);
        if (strncmp(name, want, strlen(want)) != 0) {
            fprintf(stderr, "    schema key %zu is %.40s, hystrix_config has %s\n", n, name, f->name);
            CHECK(0);
            break;
        }
        const char *type = member(obj, end, "type");
        const char *def = member(obj, end, "default");
        CHECK(type && def);
        if (!type || !def) break;
        switch (f->type) {
        case 'b':
            CHECK(strncmp(type, "\"bool\"", 6) == 0);
            CHECK(strncmp(def, f->def ? "true" : "false", f->def ? 4 : 5) == 0);
            break;
        case 'i':
            CHECK(strncmp(type, "\"int\"", 5) == 0);
            CHECK_EQ(strtoull(def, NULL, 10), f->def);
            break;
        default: {
            /* The default is the value whose index is the field's default. */
            CHECK(strncmp(type, "\"name\"", 6) == 0);
            const char *values = member(obj, end, "values");
            CHECK(values != NULL && *values == '[');
            if (!values) break;
            const char *v = values + 1;
            for (uint64_t i = 0; i < f->def && v; i++) v = strchr(v, ',') ? strchr(v, ',') + 1 : NULL;
            CHECK(v != NULL);
            if (v) {
                size_t len = strcspn(def, ",}");
                CHECK(strncmp(v, def, len) == 0);
            }
        }
        }
        CHECK_EQ(read_field(&cfg, f), f->def);
    }
    CHECK_EQ(n, NFIELDS);
    hystrix_string_free(schema);
    CHECK_STATUS(hystrix_config_schema(NULL), HYSTRIX_NULL_ARGUMENT);
}

static void test_v2_fields_round_trip_through_json_and_a_command(void) {
    hystrix_config cfg;
    CHECK_STATUS(hystrix_config_from_json("{\"retry_jitter\": \"decorrelated\", \"concurrency_limit_mode\": \"aimd\", "
                                          "\"retry_max_attempts\": 3, \"retry_on_rejected\": true, \"deadline_ms\": 250}",
                                          &cfg),
                 HYSTRIX_OK);
    CHECK_EQ(cfg.retry_jitter, HYSTRIX_JITTER_DECORRELATED);
    CHECK_EQ(cfg.concurrency_limit_mode, HYSTRIX_LIMIT_AIMD);
    CHECK_EQ(cfg.retry_max_attempts, 3);
    CHECK_EQ(cfg.retry_on_rejected, true);
    CHECK_EQ(cfg.deadline_ms, 250);
    cfg.gradient2_queue_size = 7;
    cfg.retry_jitter = HYSTRIX_JITTER_EQUAL;
    hystrix_command *cmd = NULL;
    CHECK_STATUS(hystrix_command_new(&cfg, "v2.roundtrip", NULL, &cmd), HYSTRIX_OK);
    hystrix_config now;
    CHECK_STATUS(hystrix_command_config(cmd, &now), HYSTRIX_OK);
    CHECK_EQ(now.retry_jitter, HYSTRIX_JITTER_EQUAL);
    CHECK_EQ(now.concurrency_limit_mode, HYSTRIX_LIMIT_AIMD);
    CHECK_EQ(now.gradient2_queue_size, 7);
    CHECK_EQ(now.deadline_ms, 250);
    now.concurrency_limit_mode = HYSTRIX_LIMIT_GRADIENT2;
    CHECK_STATUS(hystrix_command_configure(cmd, &now), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_config(cmd, &now), HYSTRIX_OK);
    CHECK_EQ(now.concurrency_limit_mode, HYSTRIX_LIMIT_GRADIENT2);
    /* The keys are accepted and have no effect yet: a call still succeeds. */
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
}

#define CHECK_REFUSED(cfg, field)                                                    \
    do {                                                                             \
        CHECK_STATUS(hystrix_config_validate(&(cfg)), HYSTRIX_INVALID_CONFIG);        \
        CHECK_CONTAINS(last_error(), "invalid config: " field " ");                  \
    } while (0)

static void test_v2_validation_names_the_field(void) {
    hystrix_config c;
    hystrix_config_default(&c);
    c.retry_jitter = 4;
    CHECK_REFUSED(c, "retry_jitter");
    hystrix_config_default(&c);
    c.concurrency_limit_mode = 3;
    CHECK_REFUSED(c, "concurrency_limit_mode");
    hystrix_config_default(&c);
    c.hedge_on_failure = 2;
    CHECK_REFUSED(c, "hedge_on_failure");
    hystrix_config_default(&c);
    c.aimd_backoff_permille = 1000;
    CHECK_REFUSED(c, "aimd_backoff_permille");
    hystrix_config_default(&c);
    c.retry_budget_window_buckets = 3;
    CHECK_REFUSED(c, "retry_budget_window_ms");
    hystrix_config_default(&c);
    c.retry_max_attempts = 2;
    c.hedge_max_attempts = 2;
    CHECK_REFUSED(c, "hedge_max_attempts");
    hystrix_config_default(&c);
    c.adaptive_max_limit = 10;
    CHECK_REFUSED(c, "adaptive_max_limit");
    hystrix_config_default(&c);
    c.adaptive_initial_limit = 201;
    CHECK_REFUSED(c, "adaptive_initial_limit");
    CHECK_STATUS(hystrix_config_from_json("{\"retry_jitter\": \"FULL\"}", &c), HYSTRIX_INVALID_CONFIG);
    CHECK_CONTAINS(last_error(), "retry_jitter must be one of");
    /* Nothing changes on a refused configure. */
    hystrix_command *cmd = NULL;
    CHECK_STATUS(hystrix_command_new(NULL, "v2.refused", NULL, &cmd), HYSTRIX_OK);
    hystrix_config_default(&c);
    c.retry_max_attempts = 4;
    c.adaptive_min_limit = 0;
    CHECK_STATUS(hystrix_command_configure(cmd, &c), HYSTRIX_INVALID_CONFIG);
    CHECK_CONTAINS(last_error(), "adaptive_min_limit");
    CHECK_STATUS(hystrix_command_config(cmd, &c), HYSTRIX_OK);
    CHECK_EQ(c.retry_max_attempts, 1);
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
}

static void test_v2_vocabulary(void) {
    CHECK_EQ(HYSTRIX_RATE_LIMITED, 10);
    CHECK(strcmp(hystrix_status_name(HYSTRIX_RATE_LIMITED), "rate_limited") == 0);
    CHECK_EQ(HYSTRIX_EVENT_COUNT, 12);
    CHECK_EQ(HYSTRIX_EVENT_TYPE_COUNT, 16);
    CHECK_EQ(HYSTRIX_EVENT_RATE_LIMITED, 12);
    CHECK_EQ(HYSTRIX_EVENT_RETRY, 13);
    CHECK_EQ(HYSTRIX_EVENT_HEDGE, 14);
    CHECK_EQ(HYSTRIX_EVENT_RETRY_BUDGET_EXHAUSTED, 15);
    hystrix_command *cmd = NULL;
    CHECK_STATUS(hystrix_command_new(NULL, "v2.counts", NULL, &cmd), HYSTRIX_OK);
    uint64_t rolling[HYSTRIX_EVENT_TYPE_COUNT + 2], cumulative[HYSTRIX_EVENT_TYPE_COUNT + 2];
    memset(rolling, 0xff, sizeof rolling);
    memset(cumulative, 0xff, sizeof cumulative);
    CHECK_STATUS(hystrix_command_event_counts(cmd, rolling, cumulative, HYSTRIX_EVENT_TYPE_COUNT + 1), HYSTRIX_OK);
    for (int e = 0; e <= HYSTRIX_EVENT_TYPE_COUNT; e++) {
        CHECK_EQ(rolling[e], 0);
        CHECK_EQ(cumulative[e], 0);
    }
    CHECK_EQ(rolling[HYSTRIX_EVENT_TYPE_COUNT + 1], UINT64_MAX); /* no more than len */
    CHECK_STATUS(hystrix_command_event_counts(cmd, NULL, NULL, 4), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_event_counts(NULL, rolling, NULL, 4), HYSTRIX_NULL_ARGUMENT);
    char *json = NULL;
    CHECK_STATUS(hystrix_command_snapshot_json(cmd, &json), HYSTRIX_OK);
    CHECK_CONTAINS(json, "\"RETRY_BUDGET_EXHAUSTED\":0");
    CHECK_CONTAINS(json, "\"RATE_LIMITED\":0");
    hystrix_string_free(json);
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
}

int main(void) {
    RUN(test_the_struct_follows_the_core_schema);
    RUN(test_v2_fields_round_trip_through_json_and_a_command);
    RUN(test_v2_validation_names_the_field);
    RUN(test_v2_vocabulary);
    CHECK_STATUS(hystrix_shutdown(), HYSTRIX_OK);
    return check_summary("test_config_v2");
}
