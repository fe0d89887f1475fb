//! Rolling health metrics (semantics §6): the bucket ring and its counting
//! window, the latency histograms, and the snapshot a command reports.

pub mod latency;
pub(crate) mod ring;
pub mod snapshot;
pub(crate) mod window;
