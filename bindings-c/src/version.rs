//! `hystrix_version`: the version of the library actually loaded.

use std::ffi::c_char;

/// The library's version, e.g. `"0.1.0"`: the project's one version, the
/// same as `HYSTRIX_VERSION_STRING` in the header it was built with. A
/// program built against one header and run against another library can
/// compare the two. The string is static: never free it.
/// Async-signal-safe.
#[no_mangle]
pub extern "C" fn hystrix_version() -> *const c_char {
    VERSION.as_ptr()
}

const VERSION: &std::ffi::CStr =
    match std::ffi::CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => panic!("the crate version has no NUL byte"),
    };

#[cfg(test)]
mod tests {
    #[test]
    fn the_runtime_version_is_the_crate_version_and_the_header_macros() {
        // SAFETY: a static NUL-terminated string.
        let v = unsafe { std::ffi::CStr::from_ptr(super::hystrix_version()) }.to_str().unwrap();
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
        let header = include_str!("../include/hystrix.h");
        for (name, value) in [
            ("MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
            ("MINOR", env!("CARGO_PKG_VERSION_MINOR")),
            ("PATCH", env!("CARGO_PKG_VERSION_PATCH")),
        ] {
            let line = format!("#define HYSTRIX_VERSION_{name} {value}\n");
            assert!(header.contains(&line), "hystrix.h lacks `{}`", line.trim());
        }
        assert!(header.contains(&format!("#define HYSTRIX_VERSION_STRING \"{v}\"\n")));
    }
}
