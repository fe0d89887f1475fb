//! Replays the checked-in corpus through every check, and a few thousand
//! inputs from a fixed pseudo-random sequence, without libFuzzer: an
//! ordinary `cargo test --manifest-path fuzz/Cargo.toml` (stable is enough).

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let result = std::panic::catch_unwind(|| check(&data));
        assert!(result.is_ok(), "{} fails", path.display());
        n += 1;
    }
    assert!(n > 0, "no seeds in {}", dir.display());
}

/// xorshift64*: a fixed sequence, so a failure here reproduces.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

#[test]
fn config_json_corpus() {
    replay("config_json", hystrix_fuzz::config_json::check);
}

#[test]
fn call_protocol_corpus() {
    replay("call_protocol", hystrix_fuzz::protocol::check);
}

#[test]
fn call_protocol_noise() {
    for seed in 0..3000 {
        let data = noise(seed, 64 + (seed as usize % 7) * 100);
        let result = std::panic::catch_unwind(|| hystrix_fuzz::protocol::check(&data));
        assert!(result.is_ok(), "seed {seed} fails: HYSTRIX_FUZZ_TRACE=1 shows the run");
    }
}

/// The C library's state is global (`hystrix_shutdown` ends each input):
/// one c_api test at a time.
static C_API: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn c_api_corpus() {
    let _one = C_API.lock().unwrap_or_else(|e| e.into_inner());
    replay("c_api", hystrix_fuzz::c_api::check);
}

#[test]
fn c_api_noise() {
    let _one = C_API.lock().unwrap_or_else(|e| e.into_inner());
    for seed in 0..1000 {
        let data = noise(seed, 32 + (seed as usize % 5) * 60);
        let result = std::panic::catch_unwind(|| hystrix_fuzz::c_api::check(&data));
        assert!(result.is_ok(), "seed {seed} fails: HYSTRIX_FUZZ_TRACE=1 shows the run");
    }
}
