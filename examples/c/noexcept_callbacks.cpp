// examples/c/noexcept_callbacks.cpp: calling hystrix from C++.
//
// hystrix is written in Rust: an exception thrown by a callback cannot pass
// through it (the process aborts with "Rust cannot catch foreign
// exceptions"). So every callback handed to the library is a `noexcept`
// function that catches everything and turns it into a status. This file
// shows such trampolines around C++ code that throws.
//
// Build: c++ -std=c++17 noexcept_callbacks.cpp $(pkg-config --cflags --libs hystrix)
#include <hystrix.h>

#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>

namespace {

// What one call needs: the C++ work, its answer, and what went wrong.
struct Call {
    std::function<std::string()> work;
    std::string answer;
    std::string error;  // the exception's message, if the work threw
};

// The run callback: C linkage, never throws. Anything the C++ code throws
// becomes HYSTRIX_FAILURE (so the command counts it and may fall back).
extern "C" int32_t run_trampoline(void *user_data, void **out_value) noexcept {
    auto *call = static_cast<Call *>(user_data);
    try {
        call->answer = call->work();
        *out_value = &call->answer;
        return HYSTRIX_OK;
    } catch (const std::exception &e) {
        call->error = e.what();
    } catch (...) {
        call->error = "unknown exception";
    }
    return HYSTRIX_FAILURE;
}

// The fallback callback: the same rule; a throwing fallback is a fallback failure.
extern "C" int32_t fallback_trampoline(void *user_data, hystrix_status cause, void **out_value) noexcept {
    auto *call = static_cast<Call *>(user_data);
    try {
        call->answer = std::string("cached (") + hystrix_status_name(cause) + ")";
        *out_value = &call->answer;
        return HYSTRIX_OK;
    } catch (...) {  // std::string may throw std::bad_alloc
        return HYSTRIX_FAILURE;
    }
}

// A listener: it returns nothing, so it swallows what it cannot handle.
extern "C" void on_transition(void *user_data, const char *command, hystrix_state from, hystrix_state to,
                              uint64_t at_ms) noexcept {
    auto *transitions = static_cast<int *>(user_data);
    try {
        ++*transitions;
        std::printf("  [%s] t=%llu: %d -> %d\n", command, static_cast<unsigned long long>(at_ms), from, to);
    } catch (...) {
    }
}

// Runs `work` through the command; the answer, or an empty string.
std::string execute(const hystrix_command *cmd, std::function<std::string()> work, std::string *error) {
    Call call{std::move(work), {}, {}};
    void *value = nullptr;
    hystrix_status st = hystrix_command_execute(cmd, run_trampoline, fallback_trampoline, &call, &value);
    *error = call.error;
    return st == HYSTRIX_OK ? *static_cast<std::string *>(value) : std::string();
}

}  // namespace

int main() {
    hystrix_clock *clock = nullptr;
    hystrix_command *cmd = nullptr;
    hystrix_config cfg;
    hystrix_config_default(&cfg);
    cfg.request_volume_threshold = 3;
    cfg.health_snapshot_interval_ms = 0;
    if (hystrix_clock_new_virtual(&clock) != HYSTRIX_OK ||
        hystrix_command_new(&cfg, "cpp-service", clock, &cmd) != HYSTRIX_OK) {
        return 1;
    }
    int transitions = 0;
    hystrix_command_on_state_change(cmd, on_transition, &transitions, nullptr, nullptr);

    int failures = 0;
    for (int i = 0; i < 4; i++) {
        std::string error;
        std::string answer = execute(
            cmd,
            [i]() -> std::string {
                if (i >= 1) throw std::runtime_error("service unavailable");
                return "fresh";
            },
            &error);
        if (!error.empty()) ++failures;
        std::printf("call %d: %s%s%s\n", i + 1, answer.c_str(), error.empty() ? "" : " after: ", error.c_str());
    }
    hystrix_snapshot snap;
    hystrix_command_snapshot(cmd, &snap);
    hystrix_command_free(cmd);
    hystrix_clock_free(clock);
    hystrix_shutdown();
    // Calls 2 and 3 threw and fell back, and the circuit opened after call 3
    // (3 calls, 2 failed: at least 50%), so call 4 was short-circuited to the
    // fallback without running.
    bool ok = failures == 2 && transitions == 1 && snap.state == HYSTRIX_STATE_OPEN &&
              snap.cumulative[HYSTRIX_EVENT_FAILURE] == 2 && snap.cumulative[HYSTRIX_EVENT_SHORT_CIRCUITED] == 1;
    std::printf("%s\n", ok ? "ok" : "unexpected result");
    return ok ? 0 : 1;
}
