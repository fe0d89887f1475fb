//! Admission policies, one file each. The command composes them statically
//! (struct fields, no dynamic dispatch).

pub(crate) mod backoff;
pub(crate) mod budget;
pub(crate) mod permits;
pub(crate) mod random;
pub(crate) mod rate_limiter;
