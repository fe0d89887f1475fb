/* Observing the named commands: hystrix_registry_render_stream and
 * hystrix_registry_render_prometheus into caller-owned buffers (size
 * query, write only on success, NULL checks), on a tripped and a healthy
 * command; hystrix_render_stream and hystrix_render_prometheus over a list
 * of handles on a virtual clock; hystrix_dashboard_html hands out the
 * built-in page. */
#include "hystrix.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>

static int32_t ok_run(void *user_data, void **out_value) {
    (void)user_data;
    *out_value = NULL;
    return HYSTRIX_OK;
}

static int32_t failing_run(void *user_data, void **out_value) {
    (void)user_data;
    (void)out_value;
    return HYSTRIX_FAILURE;
}

/* Renders with a size query first; returns a malloc'd string or NULL. */
static char *render_stream(uint64_t wall) {
    size_t needed = 0;
    CHECK_STATUS(hystrix_registry_render_stream(wall, NULL, 0, &needed), HYSTRIX_OK);
    CHECK(needed >= 1);
    size_t len = needed + 4096; /* counts may grow between the two calls */
    char *buf = malloc(len);
    if (buf == NULL) return NULL;
    CHECK_STATUS(hystrix_registry_render_stream(wall, buf, len, &needed), HYSTRIX_OK);
    CHECK_EQ(strlen(buf) + 1, needed);
    return buf;
}

static char *render_prometheus(void) {
    size_t needed = 0;
    CHECK_STATUS(hystrix_registry_render_prometheus(NULL, 0, &needed), HYSTRIX_OK);
    size_t len = needed + 4096;
    char *buf = malloc(len);
    if (buf == NULL) return NULL;
    CHECK_STATUS(hystrix_registry_render_prometheus(buf, len, &needed), HYSTRIX_OK);
    CHECK_EQ(strlen(buf) + 1, needed);
    return buf;
}

static void test_an_empty_registry_renders_no_frame(void) {
    char buf[8] = "xxxxxxx";
    size_t needed = 0;
    CHECK_STATUS(hystrix_registry_render_stream(1, buf, sizeof buf, &needed), HYSTRIX_OK);
    CHECK_EQ(needed, 1);
    CHECK_EQ(buf[0], 0);
}

static void test_a_tripped_and_a_healthy_command(void) {
    hystrix_config cfg;
    CHECK_STATUS(hystrix_config_default(&cfg), HYSTRIX_OK);
    cfg.request_volume_threshold = 2;
    cfg.health_snapshot_interval_ms = 0;
    CHECK_STATUS(hystrix_configure_named("tripped", &cfg), HYSTRIX_OK);
    hystrix_command *bad = NULL, *good = NULL;
    CHECK_STATUS(hystrix_command_named("tripped", &bad), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_named("healthy \"q\"", &good), HYSTRIX_OK);
    void *value = NULL;
    for (int i = 0; i < 3; i++) hystrix_command_execute(bad, failing_run, NULL, NULL, &value);
    for (int i = 0; i < 4; i++) CHECK_STATUS(hystrix_command_execute(good, ok_run, NULL, NULL, &value), HYSTRIX_OK);

    char *stream = render_stream(1700000000123ULL);
    CHECK_CONTAINS(stream, "data: {\"type\":\"HystrixCommand\",\"name\":\"healthy \\\"q\\\"\"");
    CHECK_CONTAINS(stream, "\"name\":\"tripped\",\"group\":\"tripped\",\"currentTime\":1700000000123,"
                           "\"isCircuitBreakerOpen\":true,\"errorPercentage\":100,");
    CHECK_CONTAINS(stream, "\"reportingHosts\":1,\"threadPool\":\"tripped\",\"circuitState\":\"OPEN\","
                           "\"rollingCountCancelled\":0,\"rollingCountRateLimited\":0,\"rollingCountRetry\":0,"
                           "\"rollingCountHedge\":0,\"rollingCountRetryBudgetExhausted\":0}\n\n");
    CHECK_CONTAINS(stream, "\"isCircuitBreakerOpen\":false");
    free(stream);

    char *text = render_prometheus();
    CHECK_CONTAINS(text, "# TYPE hystrix_circuitbreaker_state gauge\n");
    CHECK_CONTAINS(text, "hystrix_circuitbreaker_state{name=\"tripped\",group=\"tripped\",state=\"open\"} 1\n");
    CHECK_CONTAINS(text, "hystrix_execution_total{name=\"healthy \\\"q\\\"\",group=\"healthy \\\"q\\\"\",event=\"success\"} 4\n");
    CHECK_CONTAINS(text, "hystrix_latency_seconds_count{name=\"healthy \\\"q\\\"\",group=\"healthy \\\"q\\\"\",kind=\"run\"} 4\n");
    free(text);

    CHECK_STATUS(hystrix_command_free(bad), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_free(good), HYSTRIX_OK);
}

/* A run that takes `*(uint64_t *)user_data[1]` ms on the virtual clock `user_data[0]`. */
static int32_t slow_run(void *user_data, void **out_value) {
    void **args = user_data;
    CHECK_STATUS(hystrix_clock_advance(args[0], *(uint64_t *)args[1]), HYSTRIX_OK);
    *out_value = NULL;
    return HYSTRIX_OK;
}

static void test_a_list_of_commands_on_a_virtual_clock(void) {
    hystrix_clock *clock = NULL;
    CHECK_STATUS(hystrix_clock_new_virtual(&clock), HYSTRIX_OK);
    hystrix_command *b = NULL, *a = NULL, *anonymous = NULL;
    CHECK_STATUS(hystrix_command_new(NULL, "list-b", clock, &b), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_new(NULL, "list-a", clock, &a), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_new(NULL, NULL, clock, &anonymous), HYSTRIX_OK);
    uint64_t ms = 30;
    void *args[2] = {clock, &ms};
    void *value = NULL;
    CHECK_STATUS(hystrix_command_execute(a, slow_run, NULL, args, &value), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_execute(anonymous, ok_run, NULL, NULL, &value), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_advance(clock, 1000), HYSTRIX_OK);

    const hystrix_command *list[3] = {b, anonymous, a};
    char buf[16384];
    size_t needed = 0;
    CHECK_STATUS(hystrix_render_stream(list, 3, 42, buf, sizeof buf, &needed), HYSTRIX_OK);
    CHECK_EQ(strlen(buf) + 1, needed);
    /* Sorted by name, the anonymous command left out. */
    const char *first = strstr(buf, "\"name\":\"list-a\""), *second = strstr(buf, "\"name\":\"list-b\"");
    CHECK(first != NULL && second != NULL && first < second);
    CHECK_CONTAINS(buf, "\"currentTime\":42,");
    /* The virtual clock's 30 ms, not a wall-clock reading. */
    CHECK_CONTAINS(buf, "\"latencyExecute_mean\":30,");

    CHECK_STATUS(hystrix_render_prometheus(list, 3, buf, sizeof buf, &needed), HYSTRIX_OK);
    CHECK_CONTAINS(buf, "hystrix_latency_seconds_sum{name=\"list-a\",group=\"list-a\",kind=\"run\"} 0.03\n");
    CHECK_CONTAINS(buf, "hystrix_circuitbreaker_state_seconds_total{name=\"list-a\",group=\"list-a\",state=\"closed\"} 0\n");
    CHECK(strstr(buf, "name=\"\"") == NULL);

    /* An empty list renders nothing; a NULL handle or list is named. */
    CHECK_STATUS(hystrix_render_stream(NULL, 0, 1, buf, sizeof buf, &needed), HYSTRIX_OK);
    CHECK_EQ(needed, 1);
    CHECK_STATUS(hystrix_render_prometheus(NULL, 2, buf, sizeof buf, &needed), HYSTRIX_NULL_ARGUMENT);
    const hystrix_command *holes[2] = {a, NULL};
    CHECK_STATUS(hystrix_render_prometheus(holes, 2, buf, sizeof buf, &needed), HYSTRIX_NULL_ARGUMENT);
    char why[128];
    size_t written = 0;
    CHECK_STATUS(hystrix_last_error_message(why, sizeof why, &written), HYSTRIX_OK);
    CHECK_CONTAINS(why, "commands[1]: cmd is NULL");
    CHECK_STATUS(hystrix_render_stream(list, 3, 0, buf, sizeof buf, NULL), HYSTRIX_NULL_ARGUMENT);

    CHECK_STATUS(hystrix_command_free(a), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_free(b), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_free(anonymous), HYSTRIX_OK);
    CHECK_STATUS(hystrix_clock_free(clock), HYSTRIX_OK);
}

static void test_a_small_buffer_is_left_untouched(void) {
    char buf[16];
    memset(buf, 'z', sizeof buf);
    size_t needed = 0;
    CHECK_STATUS(hystrix_registry_render_prometheus(buf, sizeof buf, &needed), HYSTRIX_INVALID_ARGUMENT);
    CHECK(needed > sizeof buf);
    for (size_t i = 0; i < sizeof buf; i++) CHECK_EQ(buf[i], 'z');
    needed = 0;
    CHECK_STATUS(hystrix_registry_render_stream(0, buf, sizeof buf, &needed), HYSTRIX_INVALID_ARGUMENT);
    CHECK(needed > sizeof buf);
    CHECK_EQ(buf[0], 'z');
}

static void test_null_arguments(void) {
    char buf[4];
    CHECK_STATUS(hystrix_registry_render_stream(0, buf, sizeof buf, NULL), HYSTRIX_NULL_ARGUMENT);
    CHECK_STATUS(hystrix_registry_render_prometheus(buf, sizeof buf, NULL), HYSTRIX_NULL_ARGUMENT);
    size_t needed = 0;
    CHECK_STATUS(hystrix_registry_render_prometheus(NULL, 10, &needed), HYSTRIX_NULL_ARGUMENT);
    CHECK_STATUS(hystrix_registry_render_stream(0, NULL, 10, &needed), HYSTRIX_NULL_ARGUMENT);
}

static void test_the_dashboard_page_is_a_static_string(void) {
    const char *page = NULL;
    size_t len = 0;
    CHECK_STATUS(hystrix_dashboard_html(&page, &len), HYSTRIX_OK);
    CHECK(page != NULL);
    CHECK_EQ(strlen(page), len);
    CHECK(strncmp(page, "<!doctype html>", 15) == 0);
    CHECK(strstr(page, "EventSource") != NULL);
    const char *again = NULL;
    CHECK_STATUS(hystrix_dashboard_html(&again, &len), HYSTRIX_OK);
    CHECK(again == page);
    CHECK_STATUS(hystrix_dashboard_html(NULL, &len), HYSTRIX_NULL_ARGUMENT);
    CHECK_STATUS(hystrix_dashboard_html(&page, NULL), HYSTRIX_NULL_ARGUMENT);
}

int main(void) {
    RUN(test_an_empty_registry_renders_no_frame);
    RUN(test_a_tripped_and_a_healthy_command);
    RUN(test_a_list_of_commands_on_a_virtual_clock);
    RUN(test_a_small_buffer_is_left_untouched);
    RUN(test_null_arguments);
    RUN(test_the_dashboard_page_is_a_static_string);
    hystrix_shutdown();
    return check_summary("test_observe");
}
