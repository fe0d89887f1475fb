/* Observing the named commands: hystrix_registry_render_stream and
 * hystrix_registry_render_prometheus into caller-owned buffers (size
 * query, write only on success, NULL checks), on a tripped and a healthy
 * command; hystrix_dashboard_html hands out the built-in page. */
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
    CHECK_CONTAINS(stream, "\"reportingHosts\":1,\"threadPool\":\"tripped\",\"circuitState\":\"OPEN\"}\n\n");
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
    RUN(test_a_small_buffer_is_left_untouched);
    RUN(test_null_arguments);
    RUN(test_the_dashboard_page_is_a_static_string);
    hystrix_shutdown();
    return check_summary("test_observe");
}
