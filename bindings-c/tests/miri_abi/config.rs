//! `hystrix_config` across the boundary: C booleans read as checked bytes
//! (issue item 13), `struct_size` honoured both ways (an older, shorter
//! struct is neither read nor written past its end), JSON parsing.

use crate::support::*;
use hystrix::command::{hystrix_command_config, hystrix_command_free, hystrix_command_new};
use hystrix::config::*;
use std::mem::{offset_of, size_of};
use std::ptr;

/// hystrix 0.1's struct size: what the unsized writers write.
const SIZE_0_1: usize = 120;

#[test]
fn every_boolean_byte_other_than_0_or_1_is_refused_naming_the_field() {
    let fields = [
        ("timeout_enabled", offset_of!(hystrix_config, timeout_enabled)),
        ("fallback_enabled", offset_of!(hystrix_config, fallback_enabled)),
        ("circuit_breaker_enabled", offset_of!(hystrix_config, circuit_breaker_enabled)),
        ("force_open", offset_of!(hystrix_config, force_open)),
        ("force_closed", offset_of!(hystrix_config, force_closed)),
        ("retry_on_timeout", offset_of!(hystrix_config, retry_on_timeout)),
        ("retry_on_rejected", offset_of!(hystrix_config, retry_on_rejected)),
        ("hedge_on_failure", offset_of!(hystrix_config, hedge_on_failure)),
        ("adaptive_drop_on_failure", offset_of!(hystrix_config, adaptive_drop_on_failure)),
    ];
    for (name, offset) in fields {
        for byte in [2u8, 0x7f, 0xff] {
            let mut cfg = default_config();
            // As C would: any byte stored in the field's memory.
            // SAFETY: `offset` is a one-byte field of `cfg`.
            unsafe { ptr::from_mut(&mut cfg).cast::<u8>().add(offset).write(byte) };
            let status = hystrix_config_validate(&cfg);
            expect(status, HYSTRIX_INVALID_CONFIG, name);
            assert!(last_error().contains(&format!("got {byte}")), "{}", last_error());
            let mut cmd = ptr::null_mut();
            expect(hystrix_command_new(&cfg, ptr::null(), ptr::null(), &mut cmd), HYSTRIX_INVALID_CONFIG, name);
            assert!(cmd.is_null(), "nothing is made on error");
        }
        let mut cfg = default_config();
        // SAFETY: as above.
        unsafe { ptr::from_mut(&mut cfg).cast::<u8>().add(offset).write(1) };
        expect(hystrix_config_validate(&cfg), HYSTRIX_OK, "");
    }
}

#[test]
fn named_values_out_of_range_are_refused() {
    let mut cfg = default_config();
    cfg.retry_jitter = HYSTRIX_JITTER_DECORRELATED + 1;
    expect(hystrix_config_validate(&cfg), HYSTRIX_INVALID_CONFIG, "retry_jitter");
    let mut cfg = default_config();
    cfg.concurrency_limit_mode = u32::MAX;
    expect(hystrix_config_validate(&cfg), HYSTRIX_INVALID_CONFIG, "concurrency_limit_mode");
    let mut cfg = default_config();
    cfg.timeout_ms = 0;
    expect(hystrix_config_validate(&cfg), HYSTRIX_INVALID_CONFIG, "timeout_ms");
}

/// A buffer of `size` bytes aligned for a `hystrix_config`, with its tail
/// left uninitialised: Miri fails any read of it.
fn short_struct(size: usize) -> Vec<std::mem::MaybeUninit<u64>> {
    assert_eq!(size % 8, 0);
    let mut v = Vec::with_capacity(size / 8);
    v.resize_with(size / 8, std::mem::MaybeUninit::uninit);
    v
}

#[test]
fn a_0_1_struct_is_written_and_read_within_its_120_bytes() {
    let mut buf = short_struct(SIZE_0_1);
    let cfg = buf.as_mut_ptr().cast::<hystrix_config>();
    // The 0.1 writer writes exactly 120 bytes: no more fit in `buf`.
    expect(hystrix_config_default(cfg), HYSTRIX_OK, "");
    // SAFETY: the library wrote the 0.1 fields.
    let (size, timeout) = unsafe { ((*cfg).struct_size, (*cfg).timeout_ms) };
    assert_eq!(size, SIZE_0_1);
    assert_eq!(timeout, 1000);
    // SAFETY: within the 120 bytes.
    unsafe { (*cfg).timeout_ms = 7 };
    // Read back: the v2 fields beyond byte 120 must not be read.
    let mut cmd = ptr::null_mut();
    expect(hystrix_command_new(cfg, ptr::null(), ptr::null(), &mut cmd), HYSTRIX_OK, "");
    let mut again = short_struct(SIZE_0_1);
    let out = again.as_mut_ptr().cast::<hystrix_config>();
    expect(hystrix_command_config(cmd, out), HYSTRIX_OK, "");
    // SAFETY: written by the library.
    assert_eq!(unsafe { (*out).timeout_ms }, 7);
    let mut full = default_config();
    expect(hystrix::command::hystrix_command_config_sized(cmd, &mut full, size_of::<hystrix_config>()), HYSTRIX_OK, "");
    assert_eq!(full.timeout_ms, 7);
    assert_eq!(full.retry_max_attempts, 1, "the v2 fields took their defaults");
    assert_eq!(hystrix_command_free(cmd), HYSTRIX_OK);
}

#[test]
fn a_struct_cut_after_any_field_is_read_up_to_that_field() {
    let cut = offset_of!(hystrix_config, fallback_enabled);
    let mut buf = short_struct(cut);
    let cfg = buf.as_mut_ptr().cast::<hystrix_config>();
    // SAFETY: struct_size and timeout_enabled/timeout_ms lie within `cut` bytes.
    unsafe {
        ptr::addr_of_mut!((*cfg).struct_size).write(cut);
        ptr::addr_of_mut!((*cfg).timeout_enabled).write(1);
        ptr::addr_of_mut!((*cfg).timeout_ms).write(55);
        ptr::addr_of_mut!((*cfg).max_concurrent_requests).write(3);
    }
    expect(hystrix_config_validate(cfg), HYSTRIX_OK, "");
}

#[test]
fn bad_struct_sizes_are_invalid_arguments_and_nothing_is_written() {
    for size in [0usize, 1, 8, SIZE_0_1 + 1, size_of::<hystrix_config>() + 8, usize::MAX] {
        let mut cfg = default_config();
        cfg.struct_size = size;
        expect(hystrix_config_validate(&cfg), HYSTRIX_INVALID_ARGUMENT, "struct_size");
        let mut out = default_config();
        out.timeout_ms = 4242;
        expect(hystrix_config_default_sized(&mut out, size), HYSTRIX_INVALID_ARGUMENT, "struct_size");
        assert_eq!(out.timeout_ms, 4242, "untouched");
    }
}

#[test]
fn json_parses_into_the_struct_and_errors_name_the_key() {
    let mut cfg = default_config();
    let json = c(r#"{"timeout_ms": 250, "force_open": true, "retry_jitter": "equal"}"#);
    expect(hystrix_config_from_json_sized(json.as_ptr(), &mut cfg, size_of::<hystrix_config>()), HYSTRIX_OK, "");
    assert_eq!((cfg.timeout_ms, cfg.force_open, cfg.retry_jitter), (250, 1, HYSTRIX_JITTER_EQUAL));
    let before = cfg.timeout_ms;
    let bad = c(r#"{"timeout_ms": "soon"}"#);
    expect(
        hystrix_config_from_json_sized(bad.as_ptr(), &mut cfg, size_of::<hystrix_config>()),
        HYSTRIX_INVALID_CONFIG,
        "timeout_ms",
    );
    assert_eq!(cfg.timeout_ms, before, "written only on success");
    let not_utf8 = [0xffu8, 0xfe, 0];
    expect(
        hystrix_config_from_json_sized(not_utf8.as_ptr().cast(), &mut cfg, size_of::<hystrix_config>()),
        HYSTRIX_INVALID_ARGUMENT,
        "UTF-8",
    );
}

#[test]
fn the_schema_is_a_json_string_the_caller_frees() {
    let mut out = ptr::null_mut();
    expect(hystrix_config_schema(&mut out), HYSTRIX_OK, "");
    let schema = text(out);
    assert!(schema.starts_with('[') && schema.contains("\"timeout_ms\""), "{schema}");
    expect(hystrix::command::hystrix_string_free(out), HYSTRIX_OK, "");
    expect(hystrix_config_schema(ptr::null_mut()), HYSTRIX_NULL_ARGUMENT, "out is NULL");
}
