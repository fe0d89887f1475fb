//! Writes the configuration schema (`Config::schema_json`) at build time,
//! for scripts/build-npm.sh to ship as the JS module schema.mjs that the
//! glue's `configSchema()` reads: neither the schema nor a JSON serialiser
//! is in the wasm, and a bundle that never calls `configSchema()` drops
//! it. Also the lists `errorCodes` and `eventNames` return: constants, not
//! code that joins and formats them at run time.

fn main() {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("schema.json"), hystrix_core::Config::schema_json()).expect("OUT_DIR is writable");
    let codes: Vec<String> =
        hystrix_core::ErrorKind::ALL.iter().map(|k| format!("{}={}", k.as_str(), k.code())).collect();
    std::fs::write(out.join("error_codes.txt"), codes.join(",")).expect("OUT_DIR is writable");
    let events: Vec<&str> = hystrix_core::EventType::ALL.iter().map(|e| e.as_str()).collect();
    std::fs::write(out.join("event_names.txt"), events.join(",")).expect("OUT_DIR is writable");
    // The shadow stack pointer, exported for the glue: a JS stack overflow
    // that lands inside a wasm frame unwinds it without the epilogue that
    // gives its shadow-stack frame back, and the glue puts it back.
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=--export=__stack_pointer");
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../core/src");
}
