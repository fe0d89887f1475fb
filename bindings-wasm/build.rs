//! Writes the configuration schema (`Config::schema_json`) at build time,
//! for `configSchema` to return as a constant: the wasm then carries no
//! JSON serialiser for it (about 15 KB gzipped).

fn main() {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("schema.json"), hystrix_core::Config::schema_json()).expect("OUT_DIR is writable");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../core/src");
}
