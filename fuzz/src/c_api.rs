//! The `c_api` target: random sequences of C-API calls, misuse included,
//! on a small table of handles — up to 3 virtual clocks (deterministic: no
//! timer thread ever starts) and 4 commands — called as the Rust functions
//! behind the `extern "C"` symbols of `bindings-c`.
//!
//! **Input format** (every operation reads a fixed number of bytes, past the
//! end of the input every byte reads 0; `s` picks a slot modulo the table's
//! size, `i` an entry of a list modulo its length): operations, by their
//! first byte modulo 16:
//!
//! | op | bytes after it | what it does |
//! |---|---|---|
//! | 0 | `s` | `hystrix_clock_new_virtual` into clock slot `s` (if empty) |
//! | 1 | `s` | `hystrix_clock_free` of slot `s`: live, already freed (refused), or NULL |
//! | 2 | `s`, `k`, 16 | `hystrix_command_new` into command slot `s` on clock `k` with a config (`config`, maybe invalid), subscribing a listener counting every event |
//! | 3 | `s` | `hystrix_command_free`: live, already freed (refused), or NULL |
//! | 4 | `s`, `p`, `d` | `hystrix_command_execute`: the run returns ok / failure / bad request / an unknown status (`p % 4`), after advancing the clock `d % 64` ms if `p & 4`; a fallback (ok, or failure if `p & 16`) if `p & 8` |
//! | 5 | `s`, `p` | `hystrix_command_queue`: the run completes at once (ok / failure / bad request, `p % 4` < 3) or is left pending; a fallback if `p & 4`, completing at once (ok / failure, `p & 8`) unless `p & 16` |
//! | 6 | `i`, `c` | `hystrix_complete` of pending completion `i` with ok / failure / bad request / unknown (`c % 4`) |
//! | 7 | `i` | `hystrix_call_cancel` of call `i` (every call made so far, settled ones included) |
//! | 8 | `s`, `d` | `hystrix_clock_advance` by `d % 64` ms (`d ≥ 250`: 10 s), firing timeouts |
//! | 9 | `s`, 16 | `hystrix_command_configure` (config maybe invalid; refused ones change nothing) |
//! | 10 | `s` | snapshot, checked |
//! | 11 | `s`, `i` | subscribe a listener, or (odd `i`) unsubscribe one (already unsubscribed ones included) |
//! | 12 | `w` | a NULL argument to one of several functions (`w % 10`) |
//! | 13 | `i` | completes an already completed (or never given) handle |
//! | 14 | `s`, `w` | a freed handle (command or clock) passed to a function (`w % 6`) |
//! | 15 | — | `hystrix_shutdown` (refused while anything is alive) |
//!
//! At the end every pending completion is completed (ok), until none is
//! left; then every live command's snapshot is checked, everything freed
//! and `hystrix_shutdown` must return OK.
//!
//! Invariants checked (a failed one panics, which the fuzzer reports):
//! every status is a named `hystrix_status` and never `HYSTRIX_PANIC`;
//! `hystrix_completion_attempt` says 1 for a pending run, refuses a
//! fallback's handle and a completed one; `hystrix_command_event_counts`
//! agrees with the snapshot; an
//! error status comes with a message; outputs are untouched on error; NULL
//! arguments give `HYSTRIX_NULL_ARGUMENT`, freed handles
//! `HYSTRIX_INVALID_ARGUMENT`, a second completion `HYSTRIX_INVALID_STATE`,
//! a cancel after settlement `HYSTRIX_INVALID_STATE`, a second unsubscribe
//! `HYSTRIX_INVALID_STATE`; a config is accepted exactly when it is valid;
//! `hystrix_complete` of a run returns OK unless the run was told to stop
//! (then `TIMEOUT` or `CANCELLED`); every queued call's `done` runs exactly
//! once, its `free_user_data` exactly once after it, and a successful cancel
//! runs `done` with `CANCELLED` before it returns; per command, the
//! counting listener's counts equal the snapshot's cumulative counts; the
//! `SUCCESS`, `FAILURE`, `BAD_REQUEST`, `TIMEOUT` and `CANCELLED` counts
//! equal what the runs did (a sync run returning at or after its deadline
//! is a `TIMEOUT`; a queued run completed with OK from `hystrix_complete` is
//! what it was completed with; a run told to stop is a `CANCELLED` if
//! `hystrix_call_cancel` told it, else a `TIMEOUT`); the attempt
//! outcomes never exceed the calls started (and equal them at the end: one
//! attempt per call, the configs are SPEC v1's), the fallback outcomes
//! equal the fallbacks invoked (at the end), and `concurrent` and
//! `fallback_concurrent` are 0 at the end.

use crate::Bytes;
use hystrix::clock::{
    hystrix_clock, hystrix_clock_advance, hystrix_clock_free, hystrix_clock_new_virtual, hystrix_clock_now,
};
use hystrix::command::{
    hystrix_command, hystrix_command_config_sized, hystrix_command_configure, hystrix_command_event_counts,
    hystrix_command_free, hystrix_command_new, hystrix_command_on_event, hystrix_command_snapshot,
    hystrix_command_unsubscribe, hystrix_event, hystrix_snapshot,
};
use hystrix::config::{hystrix_config, hystrix_config_default_sized, hystrix_config_validate};
use hystrix::execute_async::{
    hystrix_call_cancel, hystrix_command_queue, hystrix_complete, hystrix_completion_attempt,
};
use hystrix::execute_sync::hystrix_command_execute;
use hystrix::shutdown::hystrix_shutdown;
use hystrix::status::hystrix_status::{self, *};
use hystrix::status::{hystrix_last_error_message, hystrix_status_name};
use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr};
use std::ptr;

/// Freed handles are passed back only while fewer than this many of their
/// kind were freed after them (the library reuses the memory after 64).
const SAFE_REUSE: u64 = 60;
const CLOCKS: u64 = 3;
const COMMANDS: u64 = 4;
/// Attempt outcomes: one per call of one attempt (semantics §16).
const OUTCOMES: [usize; 7] = [0, 1, 2, 3, 4, 5, 11];
/// Fallback outcomes of a fallback that was invoked.
const FALLBACK_RAN: [usize; 2] = [6, 7];

fn trace() -> bool {
    std::env::var_os("HYSTRIX_FUZZ_TRACE").is_some()
}

/// A slot of the handle table.
enum Slot<T> {
    Empty,
    Live(*mut T, usize),
    /// Freed: the pointer and the count of frees of its kind once it was.
    Freed(*mut T, u64),
}

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Slot<T> {}

/// What callbacks record; they reach it through a thread-local so that the
/// library can call them re-entrantly (never borrowed across a library call).
#[derive(Default)]
struct Shared {
    calls: Vec<CallRec>,
    pending: Vec<Pending>,
    cmds: Vec<CmdCounts>,
    listeners: Vec<ListenerRec>,
    completed: Vec<u64>,
}

struct CallRec {
    cmd: usize,
    id: u64,
    policy: u8,
    done: u32,
    done_status: i32,
    freed: u32,
    cancelled: bool,
}

#[derive(Clone, Copy)]
struct Pending {
    completion: u64,
    call: usize,
    fallback: bool,
    told: bool,
}

thread_local! {
    /// Why a run was told to stop: set while `hystrix_call_cancel` runs.
    static CANCELLING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[derive(Default)]
struct CmdCounts {
    started: u64,
    /// The attempt outcomes the harness knows were recorded, by event:
    /// `SUCCESS`, `FAILURE`, `TIMEOUT`, `BAD_REQUEST` and `CANCELLED`.
    outcome: [u64; 12],
    fallbacks: u64,
    heard: [u64; 16],
}

struct ListenerRec {
    cmd: usize,
    id: u64,
    subscribed: bool,
    freed: u32,
}

thread_local! {
    static SHARED: RefCell<Shared> = RefCell::new(Shared::default());
    static SYNC: RefCell<Option<SyncRun>> = const { RefCell::new(None) };
}

fn with<R>(f: impl FnOnce(&mut Shared) -> R) -> R {
    SHARED.with(|s| f(&mut s.borrow_mut()))
}

/// The sync run in progress: what it does.
#[derive(Clone, Copy)]
struct SyncRun {
    policy: u8,
    advance: u64,
    clock: *const hystrix_clock,
    ran: bool,
    fallback_ran: bool,
}

const RUN_VALUE: usize = 0x1000;
const FALLBACK_VALUE: usize = 0x2000;

/// Checks a status is defined and not a panic; returns it.
#[track_caller]
fn st(s: hystrix_status) -> hystrix_status {
    let code = s as i32;
    let name = hystrix_status_name(code);
    // SAFETY: a static NUL-terminated string.
    let name = unsafe { CStr::from_ptr(name) }.to_str().unwrap();
    assert_ne!(name, "unknown", "undefined status {code}");
    assert_ne!(s, HYSTRIX_PANIC, "a panic escaped: {}", last_error());
    if matches!(s, HYSTRIX_NULL_ARGUMENT | HYSTRIX_INVALID_ARGUMENT | HYSTRIX_INVALID_STATE | HYSTRIX_INVALID_CONFIG) {
        assert!(!last_error().is_empty(), "{name} without a message");
    }
    if trace() {
        eprintln!("  -> {name}");
    }
    s
}

fn last_error() -> String {
    let mut buf = [0u8; 512];
    let mut written = 0usize;
    hystrix_last_error_message(buf.as_mut_ptr().cast::<c_char>(), buf.len(), &mut written);
    let n = written.min(buf.len() - 1);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[track_caller]
fn expect(s: hystrix_status, want: hystrix_status) {
    let s = st(s);
    assert_eq!(s, want, "last error: {}", last_error());
}

/// A config from 16 bytes: v1 keys with small numbers (one per key, in
/// SPEC order, the window's bucket count before its bucket length), then a
/// byte that breaks one key (and so gets it refused) when it is 3 modulo 4;
/// all-zero bytes decode to a valid config. Returns it and whether it is valid.
fn config(b: &mut Bytes<'_>) -> (hystrix_config, bool) {
    let mut cfg = std::mem::MaybeUninit::<hystrix_config>::uninit();
    expect(hystrix_config_default_sized(cfg.as_mut_ptr(), std::mem::size_of::<hystrix_config>()), HYSTRIX_OK);
    // SAFETY: written in full on OK.
    let mut c = unsafe { cfg.assume_init() };
    c.timeout_enabled = u8::from(!b.one_in(5));
    c.timeout_ms = b.range(1, 40);
    c.max_concurrent_requests = b.range(1, 4);
    c.fallback_enabled = u8::from(!b.one_in(6));
    c.fallback_max_concurrent_requests = b.range(1, 3);
    c.circuit_breaker_enabled = u8::from(!b.one_in(8));
    c.request_volume_threshold = b.below(5);
    c.error_threshold_percentage = [0, 1, 50, 100][b.below(4) as usize];
    c.sleep_window_ms = b.range(1, 60);
    c.half_open_max_calls = b.range(1, 3);
    c.force_open = u8::from(b.one_in(12));
    c.force_closed = u8::from(b.one_in(12));
    let buckets = b.range(1, 5);
    c.rolling_window_ms = buckets * b.range(1, 30);
    c.rolling_window_buckets = buckets;
    c.health_snapshot_interval_ms = [0, 0, 5, 20][b.below(4) as usize];
    let broken = b.u8();
    let valid = broken % 4 != 3;
    if !valid {
        match (broken / 4) % 7 {
            0 => c.timeout_ms = 0,
            1 => c.max_concurrent_requests = 0,
            2 => c.rolling_window_buckets = c.rolling_window_ms + 1,
            3 => c.fallback_enabled = 2,
            4 => c.error_threshold_percentage = 101,
            5 => c.half_open_max_calls = 0,
            _ => c.struct_size = 3,
        }
    }
    let v = st(hystrix_config_validate(&c));
    assert_eq!(v == HYSTRIX_OK, valid, "validate: {}", last_error());
    (c, valid)
}

extern "C" fn on_event(user_data: *mut c_void, _: *const c_char, event: hystrix_event, _: u64) {
    let l = user_data as usize - 1;
    with(|s| {
        let cmd = s.listeners[l].cmd;
        s.cmds[cmd].heard[event as usize] += 1;
    });
}

extern "C" fn on_event_extra(_: *mut c_void, _: *const c_char, _: hystrix_event, _: u64) {}

extern "C" fn listener_free(user_data: *mut c_void) {
    with(|s| s.listeners[user_data as usize - 1].freed += 1);
}

extern "C" fn sync_run(_: *mut c_void, out: *mut *mut c_void) -> i32 {
    let run = SYNC.with(|r| {
        let mut r = r.borrow_mut();
        let run = r.as_mut().expect("a sync run in progress");
        assert!(!run.ran, "the run ran twice");
        run.ran = true;
        *run
    });
    if run.advance > 0 {
        st(hystrix_clock_advance(run.clock, run.advance));
    }
    match run.policy % 4 {
        0 => {
            // SAFETY: the library's out pointer.
            unsafe { *out = RUN_VALUE as *mut c_void };
            0
        }
        1 => 1,
        2 => 5,
        _ => 4242,
    }
}

extern "C" fn sync_fallback(_: *mut c_void, cause: hystrix_status, out: *mut *mut c_void) -> i32 {
    assert!(matches!(cause, HYSTRIX_FAILURE | HYSTRIX_TIMEOUT | HYSTRIX_SHORT_CIRCUITED | HYSTRIX_REJECTED));
    let run = SYNC.with(|r| {
        let mut r = r.borrow_mut();
        let run = r.as_mut().expect("a sync run in progress");
        assert!(!run.fallback_ran, "the fallback ran twice");
        run.fallback_ran = true;
        *run
    });
    if run.policy & 16 != 0 {
        return 1;
    }
    // SAFETY: the library's out pointer.
    unsafe { *out = FALLBACK_VALUE as *mut c_void };
    0
}

/// Completes `completion` and checks the answer against what the call was told.
fn complete(completion: u64, status: i32) {
    let found = with(|s| s.pending.iter().position(|p| p.completion == completion).map(|i| s.pending.remove(i)));
    let p = found.expect("a pending completion");
    with(|s| s.completed.push(completion));
    let value = if p.fallback { FALLBACK_VALUE } else { RUN_VALUE } as *mut c_void;
    if trace() {
        eprintln!("complete {completion} (fallback {}, told {}) with {status}", p.fallback, p.told);
    }
    // Which attempt: the first (one attempt per call) for a run, refused
    // for a fallback, output untouched then.
    let mut attempt = 99u32;
    let want = if p.fallback { HYSTRIX_INVALID_ARGUMENT } else { HYSTRIX_OK };
    expect(hystrix_completion_attempt(completion, &mut attempt), want);
    assert_eq!(attempt, if p.fallback { 99 } else { 1 }, "hystrix_completion_attempt");
    let got = st(hystrix_complete(completion, status, value));
    let (cmd, cancelled) = with(|s| (s.calls[p.call].cmd, s.calls[p.call].cancelled));
    if p.fallback {
        let want = if cancelled { HYSTRIX_CANCELLED } else { HYSTRIX_OK };
        assert_eq!(got, want, "completing a fallback: {}", last_error());
    } else if p.told {
        assert!(matches!(got, HYSTRIX_TIMEOUT | HYSTRIX_CANCELLED), "completing a stopped run: {got:?}");
    } else {
        assert_eq!(got, HYSTRIX_OK, "completing a running run: {}", last_error());
        let event = match status {
            0 => 0,
            5 => 3,
            _ => 1,
        };
        with(|s| s.cmds[cmd].outcome[event] += 1);
    }
    // A second completion is refused, and so is asking its attempt.
    expect(hystrix_complete(completion, 0, value), HYSTRIX_INVALID_STATE);
    expect(hystrix_completion_attempt(completion, &mut attempt), HYSTRIX_INVALID_STATE);
}

extern "C" fn async_run(user_data: *mut c_void, completion: u64) {
    let call = user_data as usize - 1;
    let policy = with(|s| {
        s.pending.push(Pending { completion, call, fallback: false, told: false });
        s.calls[call].policy
    });
    if policy % 4 < 3 {
        complete(completion, [0, 1, 5][(policy % 4) as usize]);
    }
}

extern "C" fn async_cancel(_: *mut c_void, completion: u64) {
    with(|s| {
        let p = s.pending.iter_mut().find(|p| p.completion == completion).expect("told to stop a pending run");
        assert!(!p.fallback && !p.told, "a run told to stop twice, or a fallback told");
        p.told = true;
        let cmd = s.calls[p.call].cmd;
        // Told by hystrix_call_cancel, or else by its timeout firing.
        let event = if CANCELLING.with(|c| c.get()) { 11 } else { 2 };
        s.cmds[cmd].outcome[event] += 1;
    });
}

extern "C" fn async_fallback(user_data: *mut c_void, cause: hystrix_status, completion: u64) {
    assert!(matches!(cause, HYSTRIX_FAILURE | HYSTRIX_TIMEOUT | HYSTRIX_SHORT_CIRCUITED | HYSTRIX_REJECTED));
    let call = user_data as usize - 1;
    let policy = with(|s| {
        s.pending.push(Pending { completion, call, fallback: true, told: false });
        let cmd = s.calls[call].cmd;
        s.cmds[cmd].fallbacks += 1;
        s.calls[call].policy
    });
    if policy & 16 == 0 {
        complete(completion, if policy & 8 != 0 { 1 } else { 0 });
    }
}

extern "C" fn async_done(user_data: *mut c_void, status: hystrix_status, value: *mut c_void) {
    st(status);
    let call = user_data as usize - 1;
    with(|s| {
        let c = &mut s.calls[call];
        c.done += 1;
        c.done_status = status as i32;
        assert_eq!(c.done, 1, "done ran twice");
        assert_eq!(c.freed, 0, "done after free_user_data");
        assert_eq!(status == HYSTRIX_OK, !value.is_null(), "value and status disagree");
    });
}

extern "C" fn async_free(user_data: *mut c_void) {
    with(|s| {
        let c = &mut s.calls[user_data as usize - 1];
        c.freed += 1;
        assert_eq!(c.freed, 1, "free_user_data ran twice");
        assert_eq!(c.done, 1, "free_user_data before done");
    });
}

/// The handle table and what the harness did.
struct Harness {
    clocks: [Slot<hystrix_clock>; CLOCKS as usize],
    cmds: [Slot<hystrix_command>; COMMANDS as usize],
    /// The clock of each command (by serial).
    cmd_clock: Vec<*const hystrix_clock>,
    clock_frees: u64,
    cmd_frees: u64,
    clock_serials: usize,
}

fn freed_usable(at: u64, now: u64) -> bool {
    now - at < SAFE_REUSE
}

/// Frees the handle in `slot` with `free`: a live one (OK, counted in
/// `frees`), a freed one again (refused), or NULL when there is neither.
fn free_slot<T>(slot: &mut Slot<T>, frees: &mut u64, free: extern "C" fn(*mut T) -> hystrix_status) {
    match *slot {
        Slot::Live(p, _) => {
            expect(free(p), HYSTRIX_OK);
            *frees += 1;
            *slot = Slot::Freed(p, *frees);
        }
        Slot::Freed(p, at) if freed_usable(at, *frees) => expect(free(p), HYSTRIX_INVALID_ARGUMENT),
        _ => expect(free(ptr::null_mut()), HYSTRIX_OK),
    }
}

impl Harness {
    fn live_cmd(&self, s: u64) -> Option<(*mut hystrix_command, usize)> {
        match self.cmds[s as usize] {
            Slot::Live(p, serial) => Some((p, serial)),
            _ => None,
        }
    }

    fn new_clock(&mut self, s: u64) {
        if !matches!(self.clocks[s as usize], Slot::Live(..)) {
            let mut out = ptr::null_mut();
            expect(hystrix_clock_new_virtual(&mut out), HYSTRIX_OK);
            assert!(!out.is_null());
            self.clock_serials += 1;
            self.clocks[s as usize] = Slot::Live(out, self.clock_serials);
        }
    }

    fn free_clock(&mut self, s: u64) {
        free_slot(&mut self.clocks[s as usize], &mut self.clock_frees, hystrix_clock_free);
    }

    fn new_command(&mut self, s: u64, k: u64, b: &mut Bytes<'_>) {
        let (cfg, valid) = config(b);
        if matches!(self.cmds[s as usize], Slot::Live(..)) {
            return;
        }
        let (clock, clock_ok) = match self.clocks[k as usize] {
            Slot::Live(p, _) => (p, true),
            Slot::Freed(p, at) if freed_usable(at, self.clock_frees) => (p, false),
            // A NULL clock is the default one, with a timer thread: never.
            _ => return,
        };
        let sentinel = 0x5A5A as *mut hystrix_command;
        let mut out = sentinel;
        let name = c"fuzzed";
        let got = st(hystrix_command_new(&cfg, name.as_ptr(), clock, &mut out));
        if !clock_ok && valid {
            assert_eq!(got, HYSTRIX_INVALID_ARGUMENT, "a freed clock");
        } else if valid {
            assert_eq!(got, HYSTRIX_OK, "{}", last_error());
        } else {
            assert!(matches!(got, HYSTRIX_INVALID_CONFIG | HYSTRIX_INVALID_ARGUMENT), "{got:?}");
        }
        if got != HYSTRIX_OK {
            assert_eq!(out, sentinel, "out written on error");
            return;
        }
        let serial = with(|sh| {
            sh.cmds.push(CmdCounts::default());
            sh.cmds.len() - 1
        });
        self.cmd_clock.push(clock);
        self.cmds[s as usize] = Slot::Live(out, serial);
        self.subscribe(out, serial, true);
    }

    fn subscribe(&mut self, cmd: *mut hystrix_command, serial: usize, counting: bool) {
        let l = with(|sh| {
            sh.listeners.push(ListenerRec { cmd: serial, id: 0, subscribed: false, freed: 0 });
            sh.listeners.len()
        });
        let f = if counting { on_event } else { on_event_extra };
        let mut id = 0;
        expect(hystrix_command_on_event(cmd, Some(f), l as *mut c_void, Some(listener_free), &mut id), HYSTRIX_OK);
        with(|sh| {
            sh.listeners[l - 1].id = id;
            sh.listeners[l - 1].subscribed = counting;
        });
    }

    fn free_command(&mut self, s: u64) {
        self.check_snapshot(s, false);
        free_slot(&mut self.cmds[s as usize], &mut self.cmd_frees, hystrix_command_free);
    }

    fn execute(&mut self, s: u64, policy: u8, d: u8) {
        let Some((cmd, serial)) = self.live_cmd(s) else { return };
        let clock = self.cmd_clock[serial];
        let clock_live = self.clocks.iter().any(|c| matches!(c, Slot::Live(p, _) if std::ptr::eq(*p, clock)));
        let advance = if policy & 4 != 0 && clock_live { u64::from(d % 64) } else { 0 };
        // The run times out if it ends at or after its deadline: the clock
        // moves only by the run's own advance.
        let mut cfg = std::mem::MaybeUninit::<hystrix_config>::uninit();
        let size = std::mem::size_of::<hystrix_config>();
        expect(hystrix_command_config_sized(cmd, cfg.as_mut_ptr(), size), HYSTRIX_OK);
        // SAFETY: written in full on OK.
        let cfg = unsafe { cfg.assume_init() };
        let times_out = cfg.timeout_enabled == 1 && advance >= cfg.timeout_ms;
        SYNC.with(|r| *r.borrow_mut() = Some(SyncRun { policy, advance, clock, ran: false, fallback_ran: false }));
        let fallback = if policy & 8 != 0 { Some(sync_fallback as _) } else { None };
        let sentinel = 0x77 as *mut c_void;
        let mut out = sentinel;
        let got = st(hystrix_command_execute(cmd, Some(sync_run), fallback, ptr::null_mut(), &mut out));
        let run = SYNC.with(|r| r.borrow_mut().take()).unwrap();
        with(|sh| {
            let counts = &mut sh.cmds[serial];
            counts.started += 1;
            if run.ran {
                let event = match (times_out, run.policy % 4) {
                    (true, _) => 2,
                    (false, 0) => 0,
                    (false, 2) => 3,
                    _ => 1,
                };
                counts.outcome[event] += 1;
            }
        });
        if run.fallback_ran {
            with(|sh| sh.cmds[serial].fallbacks += 1);
        }
        if got == HYSTRIX_OK {
            assert!(out == RUN_VALUE as *mut c_void || out == FALLBACK_VALUE as *mut c_void, "value {out:?}");
            if out == RUN_VALUE as *mut c_void {
                assert!(run.ran && run.policy.is_multiple_of(4) && !times_out);
            } else {
                assert!(run.fallback_ran && run.policy & 16 == 0);
            }
        } else {
            assert_eq!(out, sentinel, "out written on error");
            assert!(
                matches!(
                    got,
                    HYSTRIX_FAILURE
                        | HYSTRIX_TIMEOUT
                        | HYSTRIX_SHORT_CIRCUITED
                        | HYSTRIX_REJECTED
                        | HYSTRIX_BAD_REQUEST
                        | HYSTRIX_FALLBACK_REJECTED
                        | HYSTRIX_FALLBACK_FAILURE
                ),
                "{got:?}"
            );
            if got == HYSTRIX_BAD_REQUEST {
                assert!(run.ran && run.policy % 4 == 2 && !run.fallback_ran);
            }
        }
    }

    fn queue(&mut self, s: u64, policy: u8) {
        let Some((cmd, serial)) = self.live_cmd(s) else { return };
        let call = with(|sh| {
            sh.calls.push(CallRec { cmd: serial, id: 0, policy, done: 0, done_status: -1, freed: 0, cancelled: false });
            sh.calls.len()
        });
        let fallback = if policy & 4 != 0 { Some(async_fallback as _) } else { None };
        let mut id = 0u64;
        let got = st(hystrix_command_queue(
            cmd,
            Some(async_run),
            Some(async_cancel),
            fallback,
            Some(async_done),
            call as *mut c_void,
            Some(async_free),
            &mut id,
        ));
        assert_eq!(got, HYSTRIX_OK, "{}", last_error());
        assert_ne!(id, 0);
        with(|sh| {
            sh.calls[call - 1].id = id;
            sh.cmds[serial].started += 1;
        });
    }

    fn cancel(&mut self, i: u8) {
        let Some((call, id, done_before)) = with(|sh| {
            let n = sh.calls.len();
            (n > 0).then(|| {
                let c = usize::from(i) % n;
                (c, sh.calls[c].id, sh.calls[c].done)
            })
        }) else {
            expect(hystrix_call_cancel(0), HYSTRIX_INVALID_ARGUMENT);
            return;
        };
        if id == 0 {
            return;
        }
        CANCELLING.with(|c| c.set(true));
        let got = st(hystrix_call_cancel(id));
        CANCELLING.with(|c| c.set(false));
        let (done, status) = with(|sh| (sh.calls[call].done, sh.calls[call].done_status));
        if done_before == 1 {
            assert_eq!(got, HYSTRIX_INVALID_STATE, "cancel after settlement");
        } else {
            assert_eq!(got, HYSTRIX_OK, "cancel of an unsettled call: {}", last_error());
            assert_eq!((done, status), (1, HYSTRIX_CANCELLED as i32), "done with CANCELLED before cancel returns");
            with(|sh| sh.calls[call].cancelled = true);
            // A second cancel is refused.
            expect(hystrix_call_cancel(id), HYSTRIX_INVALID_STATE);
        }
    }

    fn advance(&mut self, s: u64, d: u8) {
        if let Slot::Live(p, _) = self.clocks[s as usize] {
            let ms = if d >= 250 { 10_000 } else { u64::from(d % 64) };
            let mut before = 0;
            expect(hystrix_clock_now(p, &mut before), HYSTRIX_OK);
            expect(hystrix_clock_advance(p, ms), HYSTRIX_OK);
            let mut after = 0;
            expect(hystrix_clock_now(p, &mut after), HYSTRIX_OK);
            assert!(after >= before + ms, "the clock moved {before} -> {after}, not by {ms}");
        }
    }

    fn configure(&mut self, s: u64, b: &mut Bytes<'_>) {
        let (cfg, valid) = config(b);
        let Some((cmd, _)) = self.live_cmd(s) else { return };
        let got = st(hystrix_command_configure(cmd, &cfg));
        assert_eq!(got == HYSTRIX_OK, valid, "configure: {}", last_error());
    }

    /// Checks the snapshot of command slot `s` against the counts.
    fn check_snapshot(&self, s: u64, end: bool) {
        let Some((cmd, serial)) = self.live_cmd(s) else { return };
        // SAFETY: all-zero is a valid snapshot (state 0 is CLOSED).
        let mut snap: hystrix_snapshot = unsafe { std::mem::zeroed() };
        expect(hystrix_command_snapshot(cmd, &mut snap), HYSTRIX_OK);
        // Every event type's counts, the v2 ones included (none: the
        // configs are v1), agree with the snapshot's.
        let mut cumulative = [u64::MAX; 16];
        expect(hystrix_command_event_counts(cmd, ptr::null_mut(), cumulative.as_mut_ptr(), 16), HYSTRIX_OK);
        assert_eq!(cumulative[..12], snap.cumulative[..], "hystrix_command_event_counts and the snapshot");
        assert_eq!(cumulative[12..], [0; 4], "v2 events from a v1 config");
        with(|sh| {
            let counts = &sh.cmds[serial];
            for e in 0..12 {
                assert_eq!(snap.cumulative[e], counts.heard[e], "event {e}: the listener and the snapshot disagree");
            }
            for e in [0, 1, 2, 3, 11] {
                assert_eq!(snap.cumulative[e], counts.outcome[e], "event {e}: not what the runs did");
            }
            let outcomes: u64 = OUTCOMES.iter().map(|&e| snap.cumulative[e]).sum();
            assert!(outcomes <= counts.started, "{outcomes} outcomes for {} calls", counts.started);
            let fallbacks: u64 = FALLBACK_RAN.iter().map(|&e| snap.cumulative[e]).sum();
            assert!(fallbacks <= counts.fallbacks, "{fallbacks} fallback outcomes for {} fallbacks", counts.fallbacks);
            if end {
                assert_eq!(outcomes, counts.started, "one attempt outcome per call");
                assert_eq!(fallbacks, counts.fallbacks, "one outcome per fallback");
                assert_eq!((snap.concurrent, snap.fallback_concurrent), (0, 0), "permits held at the end");
            }
        });
    }

    fn listener(&mut self, s: u64, i: u8) {
        if i.is_multiple_of(2) {
            if let Some((cmd, serial)) = self.live_cmd(s) {
                self.subscribe(cmd, serial, false);
            }
            return;
        }
        // Unsubscribe an extra listener of a live command (twice refused).
        let pick = with(|sh| {
            let extras: Vec<usize> = (0..sh.listeners.len())
                .filter(|&l| !sh.listeners[l].subscribed)
                .filter(|&l| self.cmds.iter().any(|c| matches!(c, Slot::Live(_, ser) if *ser == sh.listeners[l].cmd)))
                .collect();
            (!extras.is_empty()).then(|| extras[usize::from(i / 2) % extras.len()])
        });
        let Some(l) = pick else { return };
        let (serial, id, freed) = with(|sh| (sh.listeners[l].cmd, sh.listeners[l].id, sh.listeners[l].freed));
        let cmd = self.cmds.iter().find_map(|c| match c {
            Slot::Live(p, ser) if *ser == serial => Some(*p),
            _ => None,
        });
        let got = st(hystrix_command_unsubscribe(cmd.unwrap(), id));
        let freed_now = with(|sh| sh.listeners[l].freed);
        if freed == 0 {
            assert_eq!(got, HYSTRIX_OK, "{}", last_error());
            assert_eq!(freed_now, 1, "free_user_data once unsubscribed");
        } else {
            assert_eq!(got, HYSTRIX_INVALID_STATE);
            assert_eq!(freed_now, 1);
        }
    }

    fn nulls(&mut self, w: u8) {
        let cmd = self.cmds.iter().find_map(|c| match c {
            Slot::Live(p, _) => Some(*p),
            _ => None,
        });
        let mut out_u64 = 7u64;
        match w % 10 {
            0 => expect(hystrix_clock_new_virtual(ptr::null_mut()), HYSTRIX_NULL_ARGUMENT),
            1 => expect(
                hystrix_command_new(ptr::null(), ptr::null(), ptr::null(), ptr::null_mut()),
                HYSTRIX_NULL_ARGUMENT,
            ),
            2 => expect(hystrix_clock_advance(ptr::null(), 5), HYSTRIX_NULL_ARGUMENT),
            3 => expect(hystrix_command_snapshot(ptr::null(), ptr::null_mut()), HYSTRIX_NULL_ARGUMENT),
            4 => expect(hystrix_config_validate(ptr::null()), HYSTRIX_NULL_ARGUMENT),
            5 if cmd.is_some() => {
                let got = hystrix_command_execute(cmd.unwrap(), None, None, ptr::null_mut(), ptr::null_mut());
                expect(got, HYSTRIX_NULL_ARGUMENT)
            }
            6 if cmd.is_some() => {
                let got = hystrix_command_queue(
                    cmd.unwrap(),
                    Some(async_run),
                    None,
                    None,
                    None,
                    ptr::null_mut(),
                    None,
                    &mut out_u64,
                );
                expect(got, HYSTRIX_NULL_ARGUMENT);
                assert_eq!(out_u64, 7, "out_call written on error");
            }
            7 if cmd.is_some() => {
                expect(hystrix_command_snapshot(cmd.unwrap(), ptr::null_mut()), HYSTRIX_NULL_ARGUMENT)
            }
            8 => expect(hystrix_command_free(ptr::null_mut()), HYSTRIX_OK),
            9 => expect(hystrix_clock_now(ptr::null(), &mut out_u64), HYSTRIX_NULL_ARGUMENT),
            _ => expect(
                hystrix_command_execute(ptr::null(), Some(sync_run), None, ptr::null_mut(), ptr::null_mut()),
                HYSTRIX_NULL_ARGUMENT,
            ),
        }
    }

    fn freed_handle(&mut self, s: u64, w: u8) {
        let mut out_u64 = 7u64;
        if w.is_multiple_of(2) {
            let Slot::Freed(p, at) = self.cmds[s as usize] else { return };
            if !freed_usable(at, self.cmd_frees) {
                return;
            }
            // SAFETY: all-zero is a valid snapshot.
            let mut snap: hystrix_snapshot = unsafe { std::mem::zeroed() };
            let got = match (w / 2) % 3 {
                0 => hystrix_command_snapshot(p, &mut snap),
                1 => hystrix_command_queue(
                    p,
                    Some(async_run),
                    None,
                    None,
                    Some(async_done),
                    ptr::null_mut(),
                    None,
                    &mut out_u64,
                ),
                _ => hystrix_command_execute(p, Some(sync_run), None, ptr::null_mut(), &mut ptr::null_mut()),
            };
            expect(got, HYSTRIX_INVALID_ARGUMENT);
            assert_eq!(snap.time_ms, 0, "snapshot written on error");
        } else {
            let Slot::Freed(p, at) = self.clocks[s as usize % CLOCKS as usize] else { return };
            if !freed_usable(at, self.clock_frees) {
                return;
            }
            let got = match (w / 2) % 3 {
                0 => hystrix_clock_advance(p, 1),
                1 => hystrix_clock_now(p, &mut out_u64),
                _ => {
                    let mut out = 0x99 as *mut hystrix_command;
                    let got = hystrix_command_new(ptr::null(), ptr::null(), p, &mut out);
                    assert_eq!(out, 0x99 as *mut _);
                    got
                }
            };
            expect(got, HYSTRIX_INVALID_ARGUMENT);
        }
        assert_eq!(out_u64, 7, "output written on error");
    }

    fn alive(&self) -> bool {
        self.clocks.iter().any(|c| matches!(c, Slot::Live(..)))
            || self.cmds.iter().any(|c| matches!(c, Slot::Live(..)))
            || with(|sh| sh.calls.iter().any(|c| c.id != 0 && c.freed == 0) || !sh.pending.is_empty())
    }

    fn shutdown(&mut self) {
        let alive = self.alive();
        let got = st(hystrix_shutdown());
        if alive {
            assert_eq!(got, HYSTRIX_INVALID_STATE, "shutdown with handles alive");
        } else {
            assert_eq!(got, HYSTRIX_OK, "{}", last_error());
            // The freed handles' memory is gone: never pass them again.
            self.clocks = [Slot::Empty; CLOCKS as usize];
            self.cmds = [Slot::Empty; COMMANDS as usize];
        }
    }

    /// Completes everything, checks, frees everything, shuts down.
    fn finish(&mut self) {
        while let Some(p) = with(|sh| sh.pending.first().copied()) {
            complete(p.completion, 0);
        }
        for s in 0..COMMANDS {
            self.check_snapshot(s, true);
        }
        with(|sh| {
            for (i, c) in sh.calls.iter().enumerate() {
                if c.id != 0 {
                    assert_eq!((c.done, c.freed), (1, 1), "call {i}: done and free_user_data once each");
                }
            }
        });
        for s in 0..COMMANDS {
            if matches!(self.cmds[s as usize], Slot::Live(..)) {
                self.free_command(s);
            }
        }
        for s in 0..CLOCKS {
            if matches!(self.clocks[s as usize], Slot::Live(..)) {
                self.free_clock(s);
            }
        }
        expect(hystrix_shutdown(), HYSTRIX_OK);
        with(|sh| {
            for (i, l) in sh.listeners.iter().enumerate() {
                assert_eq!(l.freed, 1, "listener {i}: free_user_data once");
            }
        });
    }
}

/// Runs one input: operations as in the module docs, then the final checks.
pub fn check(data: &[u8]) {
    SHARED.with(|s| *s.borrow_mut() = Shared::default());
    let mut h = Harness {
        clocks: [Slot::Empty; CLOCKS as usize],
        cmds: [Slot::Empty; COMMANDS as usize],
        cmd_clock: Vec::new(),
        clock_frees: 0,
        cmd_frees: 0,
        clock_serials: 0,
    };
    let mut b = Bytes::new(data);
    let mut ops = 0;
    while !b.is_empty() && ops < 400 {
        ops += 1;
        let op = b.u8() % 16;
        if trace() {
            eprintln!("op {op}");
        }
        match op {
            0 => {
                let s = b.below(CLOCKS);
                h.new_clock(s)
            }
            1 => {
                let s = b.below(CLOCKS);
                h.free_clock(s)
            }
            2 => {
                let (s, k) = (b.below(COMMANDS), b.below(CLOCKS));
                h.new_command(s, k, &mut b)
            }
            3 => {
                let s = b.below(COMMANDS);
                h.free_command(s)
            }
            4 => {
                let (s, p, d) = (b.below(COMMANDS), b.u8(), b.u8());
                h.execute(s, p, d)
            }
            5 => {
                let (s, p) = (b.below(COMMANDS), b.u8());
                h.queue(s, p)
            }
            6 => {
                let (i, c) = (b.u8(), b.u8());
                let pick = with(|sh| (!sh.pending.is_empty()).then(|| sh.pending[usize::from(i) % sh.pending.len()]));
                if let Some(p) = pick {
                    complete(p.completion, [0, 1, 5, 77][usize::from(c % 4)]);
                }
            }
            7 => {
                let i = b.u8();
                h.cancel(i)
            }
            8 => {
                let (s, d) = (b.below(CLOCKS), b.u8());
                h.advance(s, d)
            }
            9 => {
                let s = b.below(COMMANDS);
                h.configure(s, &mut b)
            }
            10 => {
                let s = b.below(COMMANDS);
                h.check_snapshot(s, false)
            }
            11 => {
                let (s, i) = (b.below(COMMANDS), b.u8());
                h.listener(s, i)
            }
            12 => {
                let w = b.u8();
                h.nulls(w)
            }
            13 => {
                let i = b.u8();
                // A handle already completed, or one never given out.
                let done = with(|sh| sh.completed.get(usize::from(i) % sh.completed.len().max(1)).copied());
                let handle = done.unwrap_or((1 << 62) + u64::from(i));
                expect(hystrix_complete(handle, 0, ptr::null_mut()), HYSTRIX_INVALID_STATE);
            }
            14 => {
                let (s, w) = (b.below(COMMANDS), b.u8());
                h.freed_handle(s, w)
            }
            _ => h.shutdown(),
        }
    }
    h.finish();
}
