/* ABI evolution of hystrix_config (see "ABI evolution" in hystrix.h):
 * struct_size set by hystrix_config_default; readers take an older, smaller
 * struct up to its size with defaults for the rest; writers write no more
 * than the size they are given; a bad size is HYSTRIX_INVALID_ARGUMENT.
 * The older structs live in heap blocks of exactly their size, so a read or
 * write past them is a valgrind/AddressSanitizer error. */
#include "hystrix.h"
#include "check.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* The struct of a program built against an older hystrix.h whose
 * hystrix_config ended after circuit_breaker_enabled. */
typedef struct {
    size_t struct_size;
    hystrix_bool timeout_enabled;
    uint64_t timeout_ms;
    uint64_t max_concurrent_requests;
    hystrix_bool fallback_enabled;
    uint64_t fallback_max_concurrent_requests;
    hystrix_bool circuit_breaker_enabled;
} older_config;

static void test_default_sets_struct_size(void) {
    hystrix_config cfg;
    memset(&cfg, 0xa5, sizeof cfg);
    CHECK_STATUS(hystrix_config_default(&cfg), HYSTRIX_OK);
    CHECK_EQ(cfg.struct_size, sizeof(hystrix_config));
    CHECK_EQ(cfg.timeout_ms, 1000);
    memset(&cfg, 0xa5, sizeof cfg);
    CHECK_STATUS(hystrix_config_from_json("{\"timeout_ms\": 5}", &cfg), HYSTRIX_OK);
    CHECK_EQ(cfg.struct_size, sizeof(hystrix_config));
    CHECK_EQ(cfg.timeout_ms, 5);
    /* The functions themselves (the name in parentheses is not the macro):
     * hystrix 0.1's struct, 120 bytes, in every version. */
    memset(&cfg, 0xa5, sizeof cfg);
    CHECK_STATUS((hystrix_config_default)(&cfg), HYSTRIX_OK);
    CHECK_EQ(cfg.struct_size, 120);
    CHECK_EQ((unsigned char)cfg.retry_on_timeout, 0xa5); /* the v2 fields beyond 120 bytes are untouched */
    /* 120 bytes of SPEC §2 settings, then the v2 keys appended (SPEC §8). */
    CHECK_EQ(offsetof(hystrix_config, random_seed), 120);
    CHECK_EQ(sizeof(hystrix_config), 368);
    /* NULL through the macro is still NULL_ARGUMENT. */
    CHECK_STATUS(hystrix_config_default(NULL), HYSTRIX_NULL_ARGUMENT);
}

static void test_an_older_struct_is_read_up_to_its_size(void) {
    older_config *old = malloc(sizeof *old);
    CHECK_STATUS(hystrix_config_default_sized((hystrix_config *)old, sizeof *old), HYSTRIX_OK);
    CHECK_EQ(old->struct_size, sizeof *old);
    CHECK_EQ(old->timeout_ms, 1000);
    CHECK_EQ(old->circuit_breaker_enabled, 1);
    old->timeout_ms = 250;
    old->max_concurrent_requests = 3;
    CHECK_STATUS(hystrix_config_validate((const hystrix_config *)old), HYSTRIX_OK);
    hystrix_command *cmd = NULL;
    CHECK_STATUS(hystrix_command_new((const hystrix_config *)old, "abi.older", NULL, &cmd), HYSTRIX_OK);
    hystrix_config now;
    CHECK_STATUS(hystrix_command_config(cmd, &now), HYSTRIX_OK);
    CHECK_EQ(now.timeout_ms, 250);
    CHECK_EQ(now.max_concurrent_requests, 3);
    CHECK_EQ(now.request_volume_threshold, 20); /* not in the older struct: the default */
    CHECK_EQ(now.sleep_window_ms, 5000);

    /* hystrix_command_configure and hystrix_configure_named read it alike. */
    now.request_volume_threshold = 7;
    CHECK_STATUS(hystrix_command_configure(cmd, &now), HYSTRIX_OK);
    old->timeout_ms = 300;
    CHECK_STATUS(hystrix_command_configure(cmd, (const hystrix_config *)old), HYSTRIX_OK);
    CHECK_STATUS(hystrix_command_config(cmd, &now), HYSTRIX_OK);
    CHECK_EQ(now.timeout_ms, 300);
    CHECK_EQ(now.request_volume_threshold, 20); /* back to the default: the older struct has no such field */
    CHECK_STATUS(hystrix_configure_named("abi.older.named", (const hystrix_config *)old), HYSTRIX_OK);
    CHECK_STATUS(hystrix_remove_named("abi.older.named"), HYSTRIX_OK);

    /* Writers given the older size write only that much. */
    memset(old, 0, sizeof *old);
    CHECK_STATUS(hystrix_command_config_sized(cmd, (hystrix_config *)old, sizeof *old), HYSTRIX_OK);
    CHECK_EQ(old->struct_size, sizeof *old);
    CHECK_EQ(old->timeout_ms, 300);
    CHECK_STATUS(hystrix_config_from_json_sized("{\"timeout_ms\": 9, \"sleep_window_ms\": 10}", (hystrix_config *)old,
                                                sizeof *old),
                 HYSTRIX_OK);
    CHECK_EQ(old->timeout_ms, 9);
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
    free(old);
}

static void test_writers_stop_at_the_size_given(void) {
    unsigned char buf[sizeof(hystrix_config) + 16];
    memset(buf, 0xee, sizeof buf);
    CHECK_STATUS(hystrix_config_default_sized((hystrix_config *)(void *)buf, sizeof(older_config)), HYSTRIX_OK);
    int untouched = 1;
    for (size_t i = sizeof(older_config); i < sizeof buf; i++) untouched &= buf[i] == 0xee;
    CHECK(untouched);
}

#define CHECK_BAD_SIZE(expr)                                        \
    do {                                                            \
        CHECK_STATUS(expr, HYSTRIX_INVALID_ARGUMENT);               \
        CHECK_CONTAINS(last_error(), "struct_size is");             \
    } while (0)

static void test_a_bad_size_is_invalid_argument(void) {
    const size_t bad[] = {0, 1, 8, 17, sizeof(hystrix_config) - 1, sizeof(hystrix_config) + 8, SIZE_MAX};
    hystrix_command *cmd = NULL;
    CHECK_STATUS(hystrix_command_new(NULL, "abi.bad", NULL, &cmd), HYSTRIX_OK);
    hystrix_config before, after;
    memset(&before, 0, sizeof before); /* the padding: writers write the fields only */
    memset(&after, 0, sizeof after);
    CHECK_STATUS(hystrix_command_config(cmd, &before), HYSTRIX_OK);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hystrix_config cfg;
        hystrix_config_default(&cfg);
        cfg.timeout_ms = 42;
        cfg.struct_size = bad[i];
        CHECK_BAD_SIZE(hystrix_config_validate(&cfg));
        hystrix_command *made = NULL;
        CHECK_BAD_SIZE(hystrix_command_new(&cfg, "abi.bad.new", NULL, &made));
        CHECK(made == NULL);
        CHECK_BAD_SIZE(hystrix_command_configure(cmd, &cfg));
        CHECK_BAD_SIZE(hystrix_configure_named("abi.bad.named", &cfg));

        hystrix_config out;
        memset(&out, 0x5a, sizeof out);
        CHECK_BAD_SIZE(hystrix_config_default_sized(&out, bad[i]));
        CHECK_BAD_SIZE(hystrix_config_from_json_sized("{}", &out, bad[i]));
        CHECK_BAD_SIZE(hystrix_command_config_sized(cmd, &out, bad[i]));
        CHECK_EQ(out.struct_size, 0x5a5a5a5a5a5a5a5aULL); /* nothing written */
    }
    /* The messages say which way the size is wrong. */
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.struct_size = sizeof cfg + 8;
    CHECK_STATUS(hystrix_config_validate(&cfg), HYSTRIX_INVALID_ARGUMENT);
    CHECK_CONTAINS(last_error(), "newer hystrix.h");
    cfg.struct_size = 17;
    CHECK_STATUS(hystrix_config_validate(&cfg), HYSTRIX_INVALID_ARGUMENT);
    CHECK_CONTAINS(last_error(), "not the size of any hystrix_config");
    CHECK_STATUS(hystrix_command_config(cmd, &after), HYSTRIX_OK);
    CHECK(memcmp(&before, &after, sizeof before) == 0);
    CHECK_STATUS(hystrix_command_free(cmd), HYSTRIX_OK);
}

int main(void) {
    RUN(test_default_sets_struct_size);
    RUN(test_an_older_struct_is_read_up_to_its_size);
    RUN(test_writers_stop_at_the_size_given);
    RUN(test_a_bad_size_is_invalid_argument);
    CHECK_STATUS(hystrix_shutdown(), HYSTRIX_OK);
    return check_summary("test_abi");
}
