//! Random calls through the `Call` protocol: see `hystrix_fuzz::protocol`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hystrix_fuzz::protocol::check(data));
