//! A call racing a live change of the rate limit (which restarts the
//! limiter, semantics §8.2) must not leave the restarted limiter with a
//! `tat` counted in the old quota's units. Found by a review of the
//! lock-free limiter: a call that read the old quota wrote its decision
//! over the restart, and with the rate lowered from 1000/s to 1/s at
//! ~2.8 h on the command's clock every call was refused for ~115 days.

use hystrix_core::{Clock, Command, Config, Error, RunError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A clock that always reads the same time.
struct Fixed(u64);

impl Clock for Fixed {
    fn now_ms(&self) -> u64 {
        self.0
    }
}

fn limited(per_second: u64) -> Config {
    Config {
        rate_limit_for_period: per_second,
        rate_limit_period_ms: 1000,
        rate_limit_burst: 1,
        rate_limit_timeout_ms: 0,
        ..Config::default()
    }
}

#[test]
fn a_call_racing_a_lowered_rate_never_outlives_the_restart() {
    let now = 10_000_000;
    let rounds = if cfg!(miri) { 2 } else { 1000 };
    for round in 0..rounds {
        let cmd = Command::with_clock("race", limited(1000), Arc::new(Fixed(now))).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let hammer = {
            let (cmd, stop) = (cmd.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _ = cmd.execute(|| Ok::<_, RunError<()>>(()));
                }
            })
        };
        std::thread::yield_now();
        cmd.set_config(limited(1)).unwrap();
        stop.store(true, Ordering::Relaxed);
        hammer.join().unwrap();
        // At 1 per second with a burst of 1, a call an hour later is
        // admitted whatever happened at `now`.
        let r = cmd.execute_on(&Fixed(now + 3_600_000), || Ok::<_, RunError<()>>(()));
        assert!(!matches!(r, Err(Error::RateLimited(_))), "round {round}: refused an hour later");
        assert!(r.is_ok(), "round {round}: {r:?}");
    }
}
