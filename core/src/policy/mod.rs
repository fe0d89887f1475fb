//! Admission policies, one file each. The command composes them statically
//! (struct fields, no dynamic dispatch).

pub(crate) mod permits;
