/* The version API: hystrix_version() (the library loaded) equals the
 * header's HYSTRIX_VERSION_* macros (the header compiled against). */
#include "hystrix.h"
#include "check.h"
#include <stdio.h>

#define STR_(x) #x
#define STR(x) STR_(x)

static void test_runtime_version_equals_the_header_macros(void) {
    const char *v = hystrix_version();
    CHECK(v != NULL);
    if (v == NULL) return;
    CHECK(strcmp(v, HYSTRIX_VERSION_STRING) == 0);
    CHECK(strcmp(v, STR(HYSTRIX_VERSION_MAJOR) "." STR(HYSTRIX_VERSION_MINOR) "." STR(HYSTRIX_VERSION_PATCH)) == 0);
    unsigned major = 0, minor = 0, patch = 0;
    char rest = 0;
    CHECK_EQ(sscanf(v, "%u.%u.%u%c", &major, &minor, &patch, &rest), 3);
    CHECK_EQ(major, HYSTRIX_VERSION_MAJOR);
    CHECK_EQ(minor, HYSTRIX_VERSION_MINOR);
    CHECK_EQ(patch, HYSTRIX_VERSION_PATCH);
    CHECK(hystrix_version() == v); /* static: the same string every time */
}

int main(void) {
    RUN(test_runtime_version_equals_the_header_macros);
    hystrix_shutdown();
    return check_summary("test_version");
}
