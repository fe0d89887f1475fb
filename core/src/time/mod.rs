//! Time as an input (semantics §1): the [`Clock`](clock::Clock) a host
//! supplies, the [`VirtualClock`](virtual_clock::VirtualClock) for tests,
//! and the [`TimerQueue`](timers::TimerQueue) hosts can drive calls with.
//! Nothing here reads a system clock except
//! [`MonotonicClock`](clock::MonotonicClock), which only hosts construct.

pub mod clock;
pub mod passed_in;
pub mod timers;
pub mod virtual_clock;
