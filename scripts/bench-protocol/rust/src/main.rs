//! Issue 9's must-hold paths of the Rust core, built unchanged against the
//! core before the call protocol (`a228d79`) and against today's: only API
//! that both have is used (`Sleeper` + `Clock` make a `Timer` today through
//! the core's blanket impl; at `a228d79` the async driver takes a `Sleeper`).
//!
//! `bench-protocol count KIND N` makes `N` calls of one kind (callgrind of
//! `2N` minus `N` calls, ÷ `N`, gives instructions per call); `bench-protocol
//! time KIND N` times `N` calls after a warm-up and prints ns per call.
//!
//! Kinds: `sync` (`execute`, success: the closed path), `open`
//! (`force_open`, `execute_or` with a fallback), `tripped` (a circuit opened
//! by failures, `execute_or` with a fallback), `async` (`execute_async`,
//! success, under a no-op waker), `async_open` (`force_open`,
//! `execute_async_or`). `count` runs on a clock that reads 0 (`tripped`: a
//! clock that moves only while the circuit is being tripped), so builds
//! compare code only; `time` runs on the real clock (`Command::new`).

use hystrix_core::{Clock, Command, Config, FnClock, RunError, Sleeper};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// The `tripped` kind's clock while counting: moved by the setup only.
static NOW: AtomicU64 = AtomicU64::new(0);

/// The command's clock with timers that never fire (no run here times out).
struct NeverFires(Arc<dyn Clock>);

impl Clock for NeverFires {
    fn now_ms(&self) -> u64 {
        self.0.now_ms()
    }
}

impl Sleeper for NeverFires {
    type Sleep = std::future::Pending<()>;
    fn sleep_until(&self, _deadline_ms: u64) -> Self::Sleep {
        std::future::pending()
    }
}

/// Polls `fut` until it is ready: nothing here ever waits.
fn block_on<F: Future>(fut: F, cx: &mut Context<'_>) -> F::Output {
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            break v;
        }
    }
}

/// The command of `kind`, on a clock reading 0 (`zero`) or the real one.
fn command(kind: &str, zero: bool) -> Command {
    let config = match kind {
        "open" | "async_open" => Config { force_open: true, ..Config::default() },
        // Open for the whole run once tripped.
        "tripped" => Config { sleep_window_ms: 86_400_000, ..Config::default() },
        _ => Config::default(),
    };
    let cmd = match (zero, kind) {
        (false, _) => Command::new(config).unwrap(),
        (true, "tripped") => {
            Command::with_clock("m", config, Arc::new(FnClock(|| NOW.load(Ordering::Relaxed)))).unwrap()
        }
        (true, _) => Command::with_clock("m", config, Arc::new(FnClock(|| 0))).unwrap(),
    };
    if kind == "tripped" {
        trip(&cmd, zero);
    }
    cmd
}

/// Fails calls until one is refused without running (the circuit opened).
fn trip(cmd: &Command, zero: bool) {
    for _ in 0..1_000_000 {
        let mut ran = false;
        let _ = cmd.execute(|| {
            ran = true;
            Err::<u64, _>(RunError::Failure(()))
        });
        if !ran {
            return;
        }
        if zero {
            NOW.fetch_add(1, Ordering::Relaxed);
        } else {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    panic!("the circuit never opened");
}

/// Makes `n` calls of `kind`; returns how many gave the expected value.
fn calls(cmd: &Command, kind: &str, n: u64, cx: &mut Context<'_>) -> u64 {
    let mut ok = 0u64;
    match kind {
        "sync" => {
            for _ in 0..n {
                ok += u64::from(matches!(cmd.execute(|| Ok::<_, RunError<()>>(black_box(41u64) + 1)), Ok(42)));
            }
        }
        "open" | "tripped" => {
            for _ in 0..n {
                let r = cmd.execute_or(|| Ok::<_, RunError<()>>(black_box(41u64) + 1), |_| Ok(black_box(7u64)));
                ok += u64::from(matches!(r, Ok(7)));
            }
        }
        "async" => {
            let never = NeverFires(cmd.clock().clone());
            for _ in 0..n {
                let fut = cmd.execute_async(&never, async { Ok::<_, RunError<()>>(black_box(41u64) + 1) });
                ok += u64::from(matches!(block_on(fut, cx), Ok(42)));
            }
        }
        "async_open" => {
            let never = NeverFires(cmd.clock().clone());
            for _ in 0..n {
                let fut =
                    cmd.execute_async_or(&never, async { Ok::<_, RunError<()>>(black_box(41u64) + 1) }, |_| async {
                        Ok(black_box(7u64))
                    });
                ok += u64::from(matches!(block_on(fut, cx), Ok(7)));
            }
        }
        other => panic!("unknown kind {other}: sync, open, tripped, async, async_open"),
    }
    ok
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "bench-protocol (count|time) KIND N";
    let mode = args.first().expect(usage).as_str();
    let kind = args.get(1).expect(usage).as_str();
    let n: u64 = args.get(2).and_then(|s| s.parse().ok()).expect(usage);
    let mut cx = Context::from_waker(Waker::noop());
    match mode {
        "count" => {
            let cmd = command(kind, true);
            assert_eq!(calls(&cmd, kind, n, &mut cx), n);
            println!("{kind}: {n} calls");
        }
        "time" => {
            let cmd = command(kind, false);
            assert_eq!(calls(&cmd, kind, n / 10, &mut cx), n / 10);
            let start = Instant::now();
            let ok = calls(&cmd, kind, n, &mut cx);
            let ns = start.elapsed().as_nanos() as f64 / n as f64;
            assert_eq!(ok, n);
            println!("{ns:.2}");
        }
        _ => panic!("{usage}"),
    }
}
