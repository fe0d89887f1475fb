/* check.h: a tiny test harness for the C tests of hystrix.
 *
 *   CHECK(cond)             counts a pass or prints a failure (file:line, test)
 *   CHECK_EQ(a, b)          integers, printing both values on failure
 *   CHECK_STATUS(expr, st)  a hystrix_status, printing names and the last
 *                           error message on failure (needs hystrix.h first)
 *   CHECK_CONTAINS(s, sub)  s is non-NULL and contains sub
 *   RUN(test_fn)            runs one `static void test_fn(void)`
 *   return check_summary("suite");
 *                           prints `suite: N passed, M failed` as the last
 *                           line of stdout; exit code 0 only if M == 0 and N > 0
 *
 * The counters are atomic: checks may run in callbacks on library threads. */
#ifndef HYSTRIX_TESTS_CHECK_H
#define HYSTRIX_TESTS_CHECK_H

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static atomic_int check_passed_;
static atomic_int check_failed_;
static const char *check_test_ = "main";

static inline void check_record_(int ok, const char *file, int line, const char *what) {
    if (ok) {
        atomic_fetch_add(&check_passed_, 1);
    } else {
        atomic_fetch_add(&check_failed_, 1);
        fprintf(stderr, "%s:%d: [%s] CHECK failed: %s\n", file, line, check_test_, what);
    }
}

#define CHECK(cond) check_record_(!!(cond), __FILE__, __LINE__, #cond)

#define CHECK_EQ(a, b)                                                                          \
    do {                                                                                        \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                         \
        check_record_(check_a_ == check_b_, __FILE__, __LINE__, #a " == " #b);                  \
        if (check_a_ != check_b_) fprintf(stderr, "    got %lld, expected %lld\n", check_a_, check_b_); \
    } while (0)

#define CHECK_CONTAINS(s, sub)                                                                  \
    do {                                                                                        \
        const char *check_s_ = (s);                                                             \
        int check_ok_ = check_s_ != NULL && strstr(check_s_, (sub)) != NULL;                    \
        check_record_(check_ok_, __FILE__, __LINE__, #s " contains " #sub);                     \
        if (!check_ok_) fprintf(stderr, "    in: %s\n", check_s_ ? check_s_ : "(null)");        \
    } while (0)

#ifdef HYSTRIX_H
/* The calling thread's last error message (empty if there is none), in a
 * buffer of this thread's that the next call overwrites. */
static inline const char *last_error(void) {
    static _Thread_local char buf[1024];
    size_t len = 0;
    buf[0] = '\0';
    hystrix_last_error_message(buf, sizeof buf, &len);
    return buf;
}

#define CHECK_STATUS(expr, expected)                                                            \
    do {                                                                                        \
        int check_got_ = (int)(expr), check_want_ = (int)(expected);                            \
        check_record_(check_got_ == check_want_, __FILE__, __LINE__, #expr " == " #expected);   \
        if (check_got_ != check_want_) {                                                        \
            char check_msg_[512] = "";                                                          \
            size_t check_len_ = 0;                                                              \
            hystrix_last_error_message(check_msg_, sizeof check_msg_, &check_len_);             \
            fprintf(stderr, "    got %s (%d), expected %s (%d); last error: %s\n",              \
                    hystrix_status_name(check_got_), check_got_,                                \
                    hystrix_status_name(check_want_), check_want_, check_msg_);                 \
        }                                                                                       \
    } while (0)
#endif

#define RUN(test_fn)                                                                            \
    do {                                                                                        \
        int check_before_ = atomic_load(&check_failed_);                                        \
        check_test_ = #test_fn;                                                                 \
        test_fn();                                                                              \
        if (atomic_load(&check_failed_) != check_before_)                                       \
            fprintf(stderr, "FAILED: %s\n", #test_fn);                                          \
        check_test_ = "main";                                                                   \
    } while (0)

static inline int check_summary(const char *suite) {
    int passed = atomic_load(&check_passed_), failed = atomic_load(&check_failed_);
    fflush(stderr);
    printf("%s: %d passed, %d failed\n", suite, passed, failed);
    fflush(stdout);
    return failed == 0 && passed > 0 ? 0 : 1;
}

#endif /* HYSTRIX_TESTS_CHECK_H */
