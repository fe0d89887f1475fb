//! A command's window memory stays bounded however often it is reshaped
//! (issue #11 item 6), counts stay exact while writers race the
//! reshapes, and a window that cannot be allocated is a configuration
//! error that leaves the command as it was.
//!
//! A counting global allocator measures the bytes live; it can also be
//! told to refuse large allocations. The tests share it, so they run one
//! at a time (`SERIAL`).

use hystrix_core::{Command, Config, EventType, FnClock, RunError};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};

/// The system allocator, counting the bytes live and refusing any single
/// allocation of `REFUSE_FROM` bytes or more (0: refuse none).
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static REFUSE_FROM: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` with the same arguments;
// a refused allocation returns null, as an allocator out of memory does.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let limit = REFUSE_FROM.load(Ordering::Relaxed);
        if limit != 0 && layout.size() >= limit {
            return std::ptr::null_mut();
        }
        let p = System.alloc(layout);
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

static SERIAL: Mutex<()> = Mutex::new(());

fn live() -> isize {
    LIVE.load(Ordering::SeqCst)
}

fn at_zero(config: Config) -> Command {
    Command::with_clock("memory", config, Arc::new(FnClock(|| 0))).unwrap()
}

fn window(bucket_ms: u64, buckets: u64) -> Config {
    Config {
        rolling_window_ms: bucket_ms * buckets,
        rolling_window_buckets: buckets,
        // The racing writers move the shared clock: no call may time out.
        timeout_enabled: false,
        ..Config::default()
    }
}

/// Bytes one command's window of `buckets` buckets takes (measured).
fn window_bytes(buckets: u64) -> isize {
    let before = live();
    let cmd = at_zero(window(1, buckets));
    let bytes = live() - before;
    drop(cmd);
    bytes
}

fn ok() -> Result<u64, RunError<()>> {
    Ok(1)
}

/// 20 reshapes of a 100 000-bucket window to 20 bucket lengths: the
/// command holds at most about two windows' worth (it held one window
/// per shape, 20).
#[test]
fn twenty_reshapes_of_a_large_window_hold_about_two_windows() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let one = window_bytes(100_000);
    assert!(one > 1_000_000, "a 100 000-bucket window takes megabytes ({one} bytes)");
    let before = live();
    let cmd = at_zero(window(1, 100_000));
    for bucket_ms in 2..=21 {
        cmd.set_config(window(bucket_ms, 100_000)).unwrap();
        cmd.execute(ok).unwrap();
    }
    let held = live() - before;
    eprintln!("one window {one} bytes; after 20 reshapes {held} bytes");
    assert!(held <= 2 * one, "20 reshapes hold {held} bytes, {:.1} windows", held as f64 / one as f64);
    assert_eq!(cmd.snapshot().cumulative.get(EventType::Success), 20);
    drop(cmd);
}

/// 20 reshapes to 20 bucket counts, growing to 100 000 then shrinking:
/// below two of the largest window, whatever the order.
#[test]
fn reshapes_to_many_bucket_counts_hold_less_than_two_of_the_largest() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let largest = window_bytes(100_000);
    let before = live();
    let cmd = at_zero(window(1, 1));
    let counts: Vec<u64> = (1..=10).map(|k| 10_000 * k).chain((1..=10).map(|k| 9_999 * k - 7)).collect();
    for (i, buckets) in counts.iter().enumerate() {
        cmd.set_config(window(3, *buckets)).unwrap();
        cmd.execute(ok).unwrap();
        assert_eq!(cmd.snapshot().cumulative.get(EventType::Success), i as u64 + 1);
    }
    let held = live() - before;
    eprintln!("largest window {largest} bytes; after 20 reshapes {held} bytes");
    assert!(held < 2 * largest, "held {held} bytes, {:.2} of the largest window", held as f64 / largest as f64);
}

/// Writers record while another thread reshapes the window back and
/// forth (grow, shrink, new bucket length): every call lands in the
/// cumulative counts exactly once.
#[test]
fn counts_stay_exact_while_writers_race_reshapes() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    const WRITERS: usize = 2;
    const RESHAPES: usize = 24;
    let clock = Arc::new(AtomicU64::new(0));
    let read = clock.clone();
    let cmd =
        Command::with_clock("race", window(1, 4), Arc::new(FnClock(move || read.load(Ordering::Relaxed)))).unwrap();
    let start = Arc::new(Barrier::new(WRITERS + 1));
    let stop = Arc::new(AtomicBool::new(false));
    // Calls finished so far, by every writer.
    let made = Arc::new(AtomicU64::new(0));
    // The writers call until the reshapes are all done (not a fixed number
    // of calls: on a loaded machine they could finish before the reshapes
    // began), and say how many calls they made.
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (cmd, clock, start, stop, made) =
                (cmd.clone(), clock.clone(), start.clone(), stop.clone(), made.clone());
            std::thread::spawn(move || {
                start.wait();
                let mut calls = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    if (calls + w as u64) % 7 == 0 {
                        clock.fetch_add(1, Ordering::Relaxed);
                    }
                    cmd.execute(ok).unwrap();
                    made.fetch_add(1, Ordering::SeqCst);
                    calls += 1;
                }
                calls
            })
        })
        .collect();
    start.wait();
    let shapes = [(1, 4), (2, 3), (1, 64), (5, 1), (1, 1000), (3, 17), (1, 2), (7, 300)];
    for reshape in 0..RESHAPES {
        let (bucket_ms, buckets) = shapes[reshape % shapes.len()];
        cmd.set_config(window(bucket_ms, buckets)).unwrap();
        // Never counted twice: the counts never run ahead of the calls
        // finished so far by more than the calls in progress (one a
        // writer); exactly equal at the end.
        let seen = cmd.snapshot().cumulative.get(EventType::Success);
        let finished = made.load(Ordering::SeqCst);
        assert!(seen <= finished + WRITERS as u64, "counted {seen} with {finished} calls finished");
    }
    stop.store(true, Ordering::Relaxed);
    let calls: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    let all = cmd.snapshot().cumulative;
    assert!(calls > 0);
    assert_eq!(all.get(EventType::Success), calls, "after {RESHAPES} reshapes");
    assert_eq!(all.total(), calls);
}

/// A window the allocator refuses is a configuration error naming
/// `rolling_window_buckets`; the command keeps its config and window and
/// goes on counting, and takes the shape once memory is there.
#[test]
fn a_window_out_of_memory_is_a_config_error_and_the_command_stays_usable() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let cfg = window(1, 10);
    let cmd = at_zero(cfg);
    cmd.execute(ok).unwrap();
    REFUSE_FROM.store(1 << 20, Ordering::SeqCst);
    let refused = cmd.set_config(window(1, 100_000));
    let patched =
        cmd.configure_json(&serde_json::json!({"rolling_window_buckets": 50_000, "rolling_window_ms": 50_000}));
    let created = Command::with_clock("big", window(2, 100_000), Arc::new(FnClock(|| 0)));
    REFUSE_FROM.store(0, Ordering::SeqCst);
    let err = refused.unwrap_err();
    assert_eq!(err.key(), "rolling_window_buckets");
    assert!(err.reason().contains("out of memory for 100000 buckets"), "{err}");
    let err = patched.unwrap_err();
    assert_eq!(err.key(), "rolling_window_buckets");
    assert!(err.reason().contains("out of memory for 50000 buckets"), "{err}");
    let err = created.unwrap_err();
    assert_eq!(err.key(), "rolling_window_buckets");
    assert_eq!(cmd.config(), cfg, "the config in force is unchanged");
    cmd.execute(ok).unwrap();
    let snap = cmd.snapshot();
    assert_eq!((snap.rolling.get(EventType::Success), snap.cumulative.get(EventType::Success)), (2, 2));
    cmd.set_config(window(1, 100_000)).unwrap();
    cmd.execute(ok).unwrap();
    assert_eq!(cmd.snapshot().cumulative.get(EventType::Success), 3);
}

/// An idle command at default settings holds at most 2,880 B of the
/// allocator's bytes (issue #10 item 7: ≤ 4 KiB per command in every
/// binding, and a host adds its own objects and malloc's headers on top):
/// the latency windows' recycle tallies, the cumulative base and the
/// strategy state (retry budget, adaptive limiter, generator) are
/// allocated only when first needed.
#[test]
fn an_idle_command_at_defaults_holds_at_most_2880_bytes() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    const N: usize = 1000;
    let clock = Arc::new(FnClock(|| 0));
    let mut cmds = Vec::with_capacity(N);
    let before = live();
    for _ in 0..N {
        cmds.push(Command::with_clock("memory", Config::default(), clock.clone()).unwrap());
    }
    let per_command = (live() - before) as usize / N;
    assert!(per_command <= 2880, "{per_command} B per idle command");
    // Each still works in full: a reshape (which fills the cumulative base)
    // and calls (which fill the latency windows) keep every count.
    let c = &cmds[0];
    c.execute(ok).unwrap();
    c.set_config(window(500, 4)).unwrap();
    c.execute(ok).unwrap();
    let snap = c.snapshot();
    assert_eq!(snap.cumulative.get(EventType::Success), 2, "{snap:?}");
    assert_eq!(snap.latency_run_histogram.count, 2, "{snap:?}");
}
