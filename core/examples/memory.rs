//! Memory and creation cost per command, measured with a counting global
//! allocator: bytes held per live command at default settings (idle, after
//! successes, after failures and fallbacks too), and the time to create one.
//! Run with `cargo run --release -p hystrix-core --example memory`; the
//! figures go in BENCHMARKS.md.

use hystrix_core::{Command, Config, FnClock, RunError};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
/// Allocations made so far (frees not subtracted).
static COUNT: AtomicIsize = AtomicIsize::new(0);
/// While set, each allocation's size is counted in `SIZES` (by size, up to 8 KiB).
static RECORD: AtomicBool = AtomicBool::new(false);
static SIZES: [AtomicIsize; 1025] = [const { AtomicIsize::new(0) }; 1025];

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        COUNT.fetch_add(1, Ordering::Relaxed);
        if RECORD.load(Ordering::Relaxed) {
            SIZES[layout.size().div_ceil(8).min(1024)].fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const N: usize = 10_000;

/// Bytes per command for `N` commands put through `exercise`, on a clock
/// that moves 1 ms per reading (so a fallback's total latency differs from
/// its run's, and both windows fill).
fn per_command(exercise: impl Fn(&Command)) -> f64 {
    let ticks = Arc::new(AtomicU64::new(0));
    let clock = Arc::new(FnClock(move || ticks.fetch_add(1, Ordering::Relaxed)));
    let before = LIVE.load(Ordering::Relaxed);
    let cmds: Vec<Command> = (0..N)
        .map(|i| {
            let c = Command::with_clock(&format!("cmd-{i}"), Config::default(), clock.clone()).unwrap();
            exercise(&c);
            c
        })
        .collect();
    let bytes = LIVE.load(Ordering::Relaxed) - before - (cmds.capacity() * std::mem::size_of::<Command>()) as isize;
    drop(cmds);
    bytes as f64 / N as f64
}

/// The allocations one idle command at default settings makes, by size
/// (bytes asked for), and how many there are: each costs a malloc header
/// and rounding too, which is what a host's RSS sees.
fn breakdown() -> (Vec<(usize, isize)>, isize) {
    let clock = Arc::new(FnClock(|| 0));
    let name = String::from("cmd-0");
    let count = COUNT.load(Ordering::Relaxed);
    RECORD.store(true, Ordering::Relaxed);
    let c = Command::with_clock(&name, Config::default(), clock).unwrap();
    RECORD.store(false, Ordering::Relaxed);
    let made = COUNT.load(Ordering::Relaxed) - count;
    drop(c);
    let sizes = SIZES
        .iter()
        .enumerate()
        .filter_map(|(i, n)| match n.swap(0, Ordering::Relaxed) {
            0 => None,
            n => Some((i * 8, n)),
        })
        .collect();
    (sizes, made)
}

fn main() {
    let (sizes, made) = breakdown();
    println!("allocations of one idle command: {made}");
    for (size, n) in sizes {
        println!("  {n} x <= {size} B");
    }
    let idle = per_command(|_| {});
    let success = per_command(|c| {
        c.execute(|| Ok::<_, RunError<()>>(())).unwrap();
    });
    let all_paths = per_command(|c| {
        c.execute(|| Ok::<_, RunError<()>>(())).unwrap();
        let _ = c.execute_or(|| Err::<(), _>(RunError::Failure(())), |_| Ok(()));
    });
    let clock = Arc::new(FnClock(|| 0));
    let start = Instant::now();
    let cmds: Vec<Command> =
        (0..N).map(|i| Command::with_clock(&format!("c{i}"), Config::default(), clock.clone()).unwrap()).collect();
    let create = start.elapsed().as_secs_f64() * 1e6 / N as f64;
    let start = Instant::now();
    drop(cmds);
    let free = start.elapsed().as_secs_f64() * 1e6 / N as f64;
    println!("memory per command (default settings, {N} commands, names included):");
    println!("  created, never called        {idle:8.0} B");
    println!("  after one success            {success:8.0} B");
    println!("  after a success and a fallback {all_paths:6.0} B");
    println!("creation {create:.2} us per command, freeing {free:.2} us");
}
