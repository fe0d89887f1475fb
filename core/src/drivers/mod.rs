//! The Rust drivers: ready-made loops that carry out a call's actions on
//! this thread ([`blocking`]) or as a future ([`future`]), and what both
//! share ([`common`]). Other languages drive the same call machine from
//! their own bindings.

pub(crate) mod blocking;
pub(crate) mod common;
pub(crate) mod future;
mod future_box;
