//! Generates the C header from the crate's `extern "C"` items into
//! `$OUT_DIR/hystrix.h`; a test compares it with the committed
//! `include/hystrix.h` so the header can never drift. The header's
//! `HYSTRIX_VERSION_*` macros come from the crate version, which is the
//! workspace's one version (`[workspace.package] version`).
//!
//! For the shared library (`cdylib` only): the SONAME `libhystrix.so.MAJOR`
//! and the linker version script `hystrix.map`, which exports `hystrix_*`
//! and nothing else.

fn main() {
    let env = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("cargo sets {k}"));
    let crate_dir = env("CARGO_MANIFEST_DIR");
    let out = std::path::PathBuf::from(env("OUT_DIR")).join("hystrix.h");
    let (major, minor, patch) =
        (env("CARGO_PKG_VERSION_MAJOR"), env("CARGO_PKG_VERSION_MINOR"), env("CARGO_PKG_VERSION_PATCH"));
    let version = env("CARGO_PKG_VERSION");

    let mut config = cbindgen::Config::from_file(format!("{crate_dir}/cbindgen.toml")).expect("cbindgen.toml parses");
    config.after_includes = Some(format!(
        "\n/**\n * The version of this header: the project's one version (semantic versioning).\n \
         * hystrix_version() returns the version of the library actually loaded; a\n \
         * program may compare the two (the same MAJOR is binary compatible, see\n \
         * \"ABI evolution\" at hystrix_config).\n */\n\
         #define HYSTRIX_VERSION_MAJOR {major}\n\
         #define HYSTRIX_VERSION_MINOR {minor}\n\
         #define HYSTRIX_VERSION_PATCH {patch}\n\
         #define HYSTRIX_VERSION_STRING \"{version}\"\n"
    ));
    match cbindgen::Builder::new().with_crate(&crate_dir).with_config(config).generate() {
        Ok(bindings) => {
            bindings.write_to_file(&out);
        }
        Err(e) => panic!("cbindgen failed: {e}"),
    }

    if env("CARGO_CFG_TARGET_OS") == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libhystrix.so.{major}");
        println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={crate_dir}/hystrix.map");
    }
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=hystrix.map");
}
