//! Random C-API call sequences, misuse included: see `hystrix_fuzz::c_api`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hystrix_fuzz::c_api::check(data));
