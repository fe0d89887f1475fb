//! Any text through `Config::from_json`: see `hystrix_fuzz::config_json`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hystrix_fuzz::config_json::check(data));
