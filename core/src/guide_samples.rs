//! The user guide's Rust samples (docs/guide), compiled and run as doc
//! tests: `cargo test -p hystrix-core --doc guide_samples`
//! (scripts/docs-samples.py checks that every guide page with Rust samples
//! is listed here).

/// docs/guide/src/getting-started/rust.md
#[doc = include_str!("../../docs/guide/src/getting-started/rust.md")]
pub struct GettingStarted;

/// docs/guide/src/testing.md
#[doc = include_str!("../../docs/guide/src/testing.md")]
pub struct Testing;

/// docs/guide/src/migrating.md
#[doc = include_str!("../../docs/guide/src/migrating.md")]
pub struct Migrating;
