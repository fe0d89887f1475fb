"""examples/python-ctypes/flaky.py: the C header used from Python via ctypes.

Loads libhystrix.so (HYSTRIX_LIB, else target/release/libhystrix.so), wraps a
flaky function in a command on a virtual clock, and prints what happens:
failures trip the circuit, calls short-circuit to the fallback, and after
the sleep window a probe closes it again.
"""
import ctypes as C
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
lib = C.CDLL(os.environ.get("HYSTRIX_LIB", os.path.join(ROOT, "target", "release", "libhystrix.so")))

HYSTRIX_OK, HYSTRIX_FAILURE = 0, 1
EVENTS = ["SUCCESS", "FAILURE", "TIMEOUT", "BAD_REQUEST", "SHORT_CIRCUITED", "SEMAPHORE_REJECTED",
          "FALLBACK_SUCCESS", "FALLBACK_FAILURE", "FALLBACK_REJECTION", "FALLBACK_MISSING", "FALLBACK_DISABLED",
          "CANCELLED", "RATE_LIMITED", "RETRY", "HEDGE", "RETRY_BUDGET_EXHAUSTED"]


class Config(C.Structure):
    """hystrix_config, field for field (C layout), as of the hystrix.h this mirrors.

    Its first field is struct_size: hystrix_config_default_sized(cfg, sizeof(cfg))
    fills it, and a newer library reads only that many bytes (defaults for
    fields added since), the rule "ABI evolution" in hystrix.h states.
    """
    _fields_ = [
        ("struct_size", C.c_size_t),
        ("timeout_enabled", C.c_bool), ("timeout_ms", C.c_uint64), ("max_concurrent_requests", C.c_uint64),
        ("fallback_enabled", C.c_bool), ("fallback_max_concurrent_requests", C.c_uint64),
        ("circuit_breaker_enabled", C.c_bool), ("request_volume_threshold", C.c_uint64),
        ("error_threshold_percentage", C.c_uint64), ("sleep_window_ms", C.c_uint64),
        ("half_open_max_calls", C.c_uint64), ("force_open", C.c_bool), ("force_closed", C.c_bool),
        ("rolling_window_ms", C.c_uint64), ("rolling_window_buckets", C.c_uint64),
        ("health_snapshot_interval_ms", C.c_uint64),
    ]


RUN = C.CFUNCTYPE(C.c_int32, C.c_void_p, C.POINTER(C.c_void_p))
FALLBACK = C.CFUNCTYPE(C.c_int32, C.c_void_p, C.c_int, C.POINTER(C.c_void_p))
lib.hystrix_command_execute.argtypes = [C.c_void_p, RUN, FALLBACK, C.c_void_p, C.POINTER(C.c_void_p)]
lib.hystrix_status_name.restype = C.c_char_p


def check(status, what):
    if status != HYSTRIX_OK:
        buf, written = C.create_string_buffer(256), C.c_size_t()
        lib.hystrix_last_error_message(buf, len(buf), C.byref(written))
        raise RuntimeError(f"{what}: {lib.hystrix_status_name(status).decode()}: {buf.value.decode()}")


def main():
    cfg = Config()
    # The header's hystrix_config_default(&cfg) is a macro passing sizeof(hystrix_config);
    # from ctypes, pass the size of this mirror.
    check(lib.hystrix_config_default_sized(C.byref(cfg), C.c_size_t(C.sizeof(cfg))), "hystrix_config_default_sized")
    assert cfg.struct_size == C.sizeof(cfg) and cfg.timeout_ms == 1000, "the Config mirror does not match hystrix.h"
    cfg.request_volume_threshold, cfg.sleep_window_ms, cfg.health_snapshot_interval_ms = 2, 1000, 0
    clock, cmd = C.c_void_p(), C.c_void_p()
    check(lib.hystrix_clock_new_virtual(C.byref(clock)), "hystrix_clock_new_virtual")
    check(lib.hystrix_command_new(C.byref(cfg), b"ctypes-demo", clock, C.byref(cmd)), "hystrix_command_new")

    healthy = {"up": False}
    answers = {1: C.c_char_p(b"fresh"), 2: C.c_char_p(b"cached")}

    @RUN
    def run(_user_data, out_value):
        if not healthy["up"]:
            return HYSTRIX_FAILURE
        out_value[0] = C.cast(answers[1], C.c_void_p)
        return HYSTRIX_OK

    @FALLBACK
    def fallback(_user_data, cause, out_value):
        out_value[0] = C.cast(answers[2], C.c_void_p)
        return HYSTRIX_OK

    def call(label):
        value = C.c_void_p()
        check(lib.hystrix_command_execute(cmd, run, fallback, None, C.byref(value)), "hystrix_command_execute")
        answer = C.cast(value, C.c_char_p).value.decode()
        print(f"{label:<32} -> {answer}")
        return answer

    seen = [call("service down: call 1"), call("service down: call 2 (trips)"), call("circuit open")]
    healthy["up"] = True
    check(lib.hystrix_clock_advance(clock, C.c_uint64(1000)), "hystrix_clock_advance")
    seen += [call("after the sleep window (probe)"), call("closed again")]
    assert seen == ["cached", "cached", "cached", "fresh", "fresh"], seen

    snap = C.c_char_p()
    check(lib.hystrix_command_snapshot_json(cmd, C.byref(snap)), "hystrix_command_snapshot_json")
    print("snapshot:", snap.value.decode()[:120], "...")
    lib.hystrix_string_free(snap)
    check(lib.hystrix_command_free(cmd), "hystrix_command_free")
    check(lib.hystrix_clock_free(clock), "hystrix_clock_free")


if __name__ == "__main__":
    sys.exit(main())
