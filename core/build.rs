//! Tells the doc tests whether the repository's README is next to the crate.
//! In the workspace it is (`../README.md`, whose Rust examples run as doc
//! tests); in the crate as published on crates.io it is not, and those doc
//! tests are left out there (the crate's own README.md is tested in both).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(hystrix_repo_readme)");
    println!("cargo::rerun-if-changed=build.rs");
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    if std::path::Path::new(&dir).join("../README.md").is_file() {
        println!("cargo::rustc-cfg=hystrix_repo_readme");
    }
}
