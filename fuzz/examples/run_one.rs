//! Runs one input through a check outside libFuzzer, e.g. with
//! `HYSTRIX_FUZZ_TRACE=1` to see every operation:
//! `cargo run --example run_one -- call_protocol fuzz/artifacts/call_protocol/crash-…`.
fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(target), Some(path)) = (args.next(), args.next()) else {
        eprintln!("usage: run_one config_json|call_protocol|c_api FILE");
        std::process::exit(2);
    };
    let data = std::fs::read(&path).expect("readable input");
    match target.as_str() {
        "config_json" => hystrix_fuzz::config_json::check(&data),
        "call_protocol" => hystrix_fuzz::protocol::check(&data),
        "c_api" => hystrix_fuzz::c_api::check(&data),
        other => panic!("no target {other}"),
    }
    println!("{path}: ok");
}
