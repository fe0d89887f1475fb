//! `hystrix_clock`: where a command reads the time and how its timers fire —
//! a built-in timer thread, the program's own event loop, or a virtual
//! clock the program advances.

use crate::shells::{self, Handle, Pool, Shell};
use crate::shutdown::Alive;
use crate::status::{boundary, hystrix_status, write_out, Fail};
use crate::user_data::{hystrix_free_fn, UserData};
use hystrix_core::{Clock, MonotonicClock, TimerId, TimerQueue};
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// How a clock's timers (run timeouts, `hystrix_clock_schedule`) fire.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum hystrix_timer_mode {
    /// A thread owned by the clock fires them (started on first use,
    /// joined by `hystrix_clock_free`). Callbacks then run on that thread.
    HYSTRIX_TIMERS_THREAD = 0,
    /// The program fires them from its own loop: ask
    /// `hystrix_clock_next_deadline`, then call `hystrix_clock_fire_due`.
    HYSTRIX_TIMERS_CALLER = 1,
}

/// A function that reads the program's clock in milliseconds.
pub type hystrix_now_fn = Option<extern "C" fn(user_data: *mut c_void) -> u64>;

/// A timer callback for `hystrix_clock_schedule`.
pub type hystrix_timer_fn = Option<extern "C" fn(user_data: *mut c_void)>;

type TimerFn = Box<dyn FnOnce() + Send>;

/// A timer in a clock's queue: the library's own (a run's timeout) or one
/// the program armed with `hystrix_clock_schedule` (with the id it holds).
struct Timer {
    scheduled: Option<u64>,
    f: TimerFn,
}

enum Source {
    Monotonic(MonotonicClock),
    Function(extern "C" fn(*mut c_void) -> u64, UserData),
    Virtual(VirtualTime),
}

/// A virtual clock's time and whose turn it is to move it.
struct VirtualTime {
    now: AtomicU64,
    /// The thread advancing the clock (its `thread_token`), 0 if none.
    /// Advances from different threads take turns; one made from a timer
    /// callback on the advancing thread runs within that thread's turn.
    turn: Mutex<u64>,
    turn_free: Condvar,
}

/// Releases a turn to advance when dropped (unless it was a nested one).
struct Turn<'a> {
    time: &'a VirtualTime,
    outermost: bool,
}

impl VirtualTime {
    fn new() -> VirtualTime {
        VirtualTime { now: AtomicU64::new(0), turn: Mutex::new(0), turn_free: Condvar::new() }
    }

    /// Waits for the turn to advance, unless this thread already has it.
    fn take_turn(&self) -> Turn<'_> {
        let me = thread_token();
        let mut owner = self.turn.lock().unwrap_or_else(|p| p.into_inner());
        if *owner == me {
            return Turn { time: self, outermost: false };
        }
        while *owner != 0 {
            owner = self.turn_free.wait(owner).unwrap_or_else(|p| p.into_inner());
        }
        *owner = me;
        Turn { time: self, outermost: true }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if self.outermost {
            *self.time.turn.lock().unwrap_or_else(|p| p.into_inner()) = 0;
            self.time.turn_free.notify_one();
        }
    }
}

/// A number for the calling thread, unique in the process and never 0.
/// (Not `std::thread::current()`: on a thread the program made, that
/// allocates a handle that is never freed.)
fn thread_token() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static TOKEN: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }
    TOKEN.with(|t| {
        if t.get() == 0 {
            t.set(NEXT.fetch_add(1, Ordering::Relaxed));
        }
        t.get()
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Driver {
    Thread,
    Caller,
    Virtual,
}

struct Timers {
    queue: TimerQueue<Timer>,
    /// Timers the program armed and may cancel: its id → the queue's id.
    /// The program's ids are a space of their own, so it can never cancel
    /// one of the library's timers.
    scheduled: HashMap<u64, TimerId>,
    next_scheduled: u64,
    shutdown: bool,
}

impl Timers {
    /// Removes and returns the first timer due at or before `now`.
    fn pop_due(&mut self, now: u64) -> Option<(u64, TimerFn)> {
        let (at, timer) = self.queue.pop_due(now)?;
        if let Some(id) = timer.scheduled {
            self.scheduled.remove(&id);
        }
        Some((at, timer.f))
    }
}

/// What the clock and its timer thread share.
struct Shared {
    source: Source,
    timers: Mutex<Timers>,
    wake: Condvar,
}

impl Shared {
    fn now(&self) -> u64 {
        match &self.source {
            Source::Monotonic(c) => c.now_ms(),
            Source::Function(f, user) => f(user.ptr()),
            Source::Virtual(time) => time.now.load(Ordering::SeqCst),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Timers> {
        self.timers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Fires, one at a time and with no lock held, every timer due at `now`.
    fn fire_due(&self, now: impl Fn() -> u64) {
        loop {
            let now = now(); // read before locking: it may be the program's function
            let due = self.lock().pop_due(now);
            match due {
                Some((_, f)) => f(),
                None => break,
            }
        }
    }
}

/// A clock shared by the commands made with it.
pub(crate) struct ClockInner {
    shared: Arc<Shared>,
    driver: Driver,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Clock for ClockInner {
    fn now_ms(&self) -> u64 {
        self.shared.now()
    }
}

impl ClockInner {
    fn new(source: Source, driver: Driver) -> Arc<ClockInner> {
        Arc::new(ClockInner {
            shared: Arc::new(Shared {
                source,
                timers: Mutex::new(Timers {
                    queue: TimerQueue::new(),
                    scheduled: HashMap::new(),
                    next_scheduled: 1,
                    shutdown: false,
                }),
                wake: Condvar::new(),
            }),
            driver,
            thread: Mutex::new(None),
        })
    }

    /// The clock of commands made without one: monotonic, with a timer
    /// thread. Made on first use, and again after `hystrix_shutdown`.
    pub(crate) fn default_clock() -> Arc<ClockInner> {
        let mut default = DEFAULT_CLOCK.lock().unwrap_or_else(|p| p.into_inner());
        default.get_or_insert_with(|| ClockInner::new(Source::Monotonic(MonotonicClock::new()), Driver::Thread)).clone()
    }

    /// Arms `f` to run once the clock reads `due` (one of the library's own
    /// timers: the program cannot cancel it).
    pub(crate) fn arm(&self, due: u64, f: TimerFn) -> TimerId {
        let id = self.shared.lock().queue.arm(due, Timer { scheduled: None, f });
        self.wake_thread();
        id
    }

    /// Disarms one of the library's own timers; whether it was still armed.
    pub(crate) fn cancel(&self, id: TimerId) -> bool {
        let removed = self.shared.lock().queue.cancel(id);
        removed.is_some()
    }

    /// Arms a timer for the program; returns the id it may cancel it by.
    fn schedule(&self, due: u64, f: TimerFn) -> u64 {
        let id = {
            let mut timers = self.shared.lock();
            let id = timers.next_scheduled;
            timers.next_scheduled += 1;
            let queued = timers.queue.arm(due, Timer { scheduled: Some(id), f });
            timers.scheduled.insert(id, queued);
            id
        };
        self.wake_thread();
        id
    }

    /// Disarms a timer the program armed; whether it was still armed.
    fn cancel_scheduled(&self, id: u64) -> bool {
        let mut timers = self.shared.lock();
        match timers.scheduled.remove(&id) {
            Some(queued) => timers.queue.cancel(queued).is_some(),
            None => false,
        }
    }

    fn wake_thread(&self) {
        if self.driver == Driver::Thread {
            self.ensure_thread();
            self.shared.wake.notify_all();
        }
    }

    fn ensure_thread(&self) {
        let mut thread = self.thread.lock().unwrap_or_else(|p| p.into_inner());
        if thread.is_some() {
            return;
        }
        let shared = self.shared.clone();
        let spawned = std::thread::Builder::new().name("hystrix-timers".into()).spawn(move || timer_loop(&shared));
        // If no thread can be started, timers still fire from any
        // hystrix_clock_fire_due call; nothing is lost.
        *thread = spawned.ok();
    }
}

thread_local! {
    /// On a clock's timer thread: that clock's `Shared` (its address).
    static TIMER_THREAD_OF: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn timer_loop(shared: &Arc<Shared>) {
    TIMER_THREAD_OF.with(|t| t.set(Arc::as_ptr(shared) as usize));
    let mut timers = shared.lock();
    loop {
        if timers.shutdown {
            return;
        }
        // The clock may be the program's function: never call it locked.
        drop(timers);
        let now = shared.now();
        timers = shared.lock();
        if timers.shutdown {
            return;
        }
        if let Some((_, f)) = timers.pop_due(now) {
            drop(timers);
            // A panicking timer callback must not kill the thread.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            timers = shared.lock();
            continue;
        }
        timers = match timers.queue.next_deadline() {
            Some(d) => {
                let wait = Duration::from_millis(d.saturating_sub(now).max(1));
                shared.wake.wait_timeout(timers, wait).unwrap_or_else(|p| p.into_inner()).0
            }
            None => shared.wake.wait(timers).unwrap_or_else(|p| p.into_inner()),
        };
    }
}

impl Drop for ClockInner {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.wake.notify_all();
        let handle = self.thread.get_mut().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            // The last reference may be dropped by a callback on the timer
            // thread itself: that thread then ends on its own. (Not
            // std::thread::current(): on a thread the program made, that
            // allocates a handle that is never freed.)
            let on_own_thread = TIMER_THREAD_OF.with(|t| t.get()) == Arc::as_ptr(&self.shared) as usize;
            if !on_own_thread {
                let _ = h.join();
            }
        }
    }
}

static DEFAULT_CLOCK: Mutex<Option<Arc<ClockInner>>> = Mutex::new(None);

/// Takes the default clock out, for `hystrix_shutdown` to drop (which joins
/// its timer thread if nothing else uses it).
pub(crate) fn take_default_clock() -> Option<Arc<ClockInner>> {
    DEFAULT_CLOCK.lock().unwrap_or_else(|p| p.into_inner()).take()
}

const CLOCK_MAGIC: u64 = 0x6879_7374_636c_6b31;

/// A clock: where commands read the time and how their timers fire.
/// Made by a `hystrix_clock_new_*` function, freed by `hystrix_clock_free`.
/// Commands keep what they need of it: freeing the clock while commands
/// made with it are alive is allowed (their timers keep working).
/// Once freed, its memory is kept for a later clock handle.
pub struct hystrix_clock {
    shell: Shell<ClockBody>,
}

/// What a live clock handle holds.
pub(crate) struct ClockBody {
    pub(crate) inner: Arc<ClockInner>,
    _alive: Alive,
}

impl Handle for hystrix_clock {
    type Body = ClockBody;
    const MAGIC: u64 = CLOCK_MAGIC;
    fn empty() -> Self {
        hystrix_clock { shell: Shell::empty() }
    }
    fn shell(&self) -> &Shell<ClockBody> {
        &self.shell
    }
}

/// Every clock handle's memory, live or kept for reuse.
static CLOCKS: Pool<hystrix_clock> = Pool::new();

/// Gives the memory of freed clock handles back (`hystrix_shutdown`).
pub(crate) fn release_freed_handles() {
    CLOCKS.release();
}

/// Checks a clock pointer: non-NULL and not freed (a freed handle's memory
/// is still the library's: its cleared magic number refuses it).
pub(crate) fn clock_ref<'a>(clock: *const hystrix_clock) -> Result<&'a ClockBody, Fail> {
    if clock.is_null() {
        return Err(Fail::null("clock"));
    }
    // SAFETY: non-NULL; the caller promises a pointer from hystrix_clock_new_*
    // (live, or freed since the last hystrix_shutdown), not being freed now.
    unsafe { shells::body(clock) }.ok_or_else(|| Fail::invalid("clock is not a live hystrix_clock"))
}

fn mode_driver(mode: i32) -> Result<Driver, Fail> {
    match mode {
        0 => Ok(Driver::Thread),
        1 => Ok(Driver::Caller),
        other => {
            Err(Fail::invalid(format!("timer mode {other} is neither HYSTRIX_TIMERS_THREAD nor HYSTRIX_TIMERS_CALLER")))
        }
    }
}

fn publish(out: *mut *mut hystrix_clock, inner: Arc<ClockInner>) {
    let handle = CLOCKS.make(ClockBody { inner, _alive: Alive::new() });
    crate::live::insert(handle);
    write_out(out, handle);
}

/// Makes a clock on the real monotonic clock. `mode` is a
/// `hystrix_timer_mode`. Returns `HYSTRIX_INVALID_ARGUMENT` for an unknown
/// mode, `HYSTRIX_NULL_ARGUMENT` if `out` is NULL.
#[no_mangle]
pub extern "C" fn hystrix_clock_new_monotonic(mode: i32, out: *mut *mut hystrix_clock) -> hystrix_status {
    boundary("hystrix_clock_new_monotonic", || {
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        publish(out, ClockInner::new(Source::Monotonic(MonotonicClock::new()), mode_driver(mode)?));
        Ok(())
    })
}

/// Makes a clock that reads `now_ms(user_data)` (milliseconds, never
/// decreasing), e.g. the program's event-loop clock. `free_user_data`, if
/// not NULL, is called with `user_data` once the clock is gone. `now_ms` may
/// be called from any thread that uses the clock. `mode` is a
/// `hystrix_timer_mode` (the thread mode assumes `now_ms` advances in real
/// milliseconds).
#[no_mangle]
pub extern "C" fn hystrix_clock_new_fn(
    now_ms: hystrix_now_fn,
    user_data: *mut c_void,
    free_user_data: hystrix_free_fn,
    mode: i32,
    out: *mut *mut hystrix_clock,
) -> hystrix_status {
    boundary("hystrix_clock_new_fn", || {
        let Some(now_ms) = now_ms else { return Err(Fail::null("now_ms")) };
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        let driver = mode_driver(mode)?;
        publish(out, ClockInner::new(Source::Function(now_ms, UserData::new(user_data, free_user_data)), driver));
        Ok(())
    })
}

/// Makes a virtual clock reading 0: time moves only by
/// `hystrix_clock_advance`, which fires due timers in order (due time,
/// then arming order) on the calling thread. For deterministic tests.
#[no_mangle]
pub extern "C" fn hystrix_clock_new_virtual(out: *mut *mut hystrix_clock) -> hystrix_status {
    boundary("hystrix_clock_new_virtual", || {
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        publish(out, ClockInner::new(Source::Virtual(VirtualTime::new()), Driver::Virtual));
        Ok(())
    })
}

/// Moves a virtual clock forward by `ms`, firing every timer that falls
/// due, one at a time, with the clock reading that timer's due time; every
/// callback it triggers runs before the next timer fires. Returns
/// `HYSTRIX_INVALID_ARGUMENT` for a clock that is not virtual.
///
/// The clock never goes back (SPEC §1). Advances from different threads
/// take turns: one waits until the other has ended and moves on from where
/// it ended, so none is lost (n advances of 10 move the clock by 10·n). An
/// advance from inside a timer callback, on the thread whose advance fired
/// it, moves on at once from the callback's instant; when it returns, the
/// outer advance stops at its own target, or where the inner one ended if
/// that is later. So a timer callback must not wait for an advance on
/// another thread (that one waits for the callback's to end).
#[no_mangle]
pub extern "C" fn hystrix_clock_advance(clock: *const hystrix_clock, ms: u64) -> hystrix_status {
    boundary("hystrix_clock_advance", || {
        // A reference of its own: a timer callback may free the handle.
        let inner = clock_ref(clock)?.inner.clone();
        let Source::Virtual(time) = &inner.shared.source else {
            return Err(Fail::invalid("hystrix_clock_advance needs a virtual clock"));
        };
        let _turn = time.take_turn();
        let target = time.now.load(Ordering::SeqCst).saturating_add(ms);
        loop {
            let due = inner.shared.lock().pop_due(target);
            let Some((at, f)) = due else { break };
            time.now.fetch_max(at, Ordering::SeqCst);
            f();
        }
        time.now.fetch_max(target, Ordering::SeqCst);
        Ok(())
    })
}

/// Writes the clock's current time in milliseconds to `out`.
#[no_mangle]
pub extern "C" fn hystrix_clock_now(clock: *const hystrix_clock, out: *mut u64) -> hystrix_status {
    boundary("hystrix_clock_now", || {
        let c = clock_ref(clock)?;
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        write_out(out, c.inner.now_ms());
        Ok(())
    })
}

/// Writes whether a timer is armed to `has_deadline` and, if so, the
/// earliest due time to `deadline` (else 0). For event loops driving a
/// `HYSTRIX_TIMERS_CALLER` clock: sleep until then, then call
/// `hystrix_clock_fire_due`.
#[no_mangle]
pub extern "C" fn hystrix_clock_next_deadline(
    clock: *const hystrix_clock,
    has_deadline: *mut bool,
    deadline: *mut u64,
) -> hystrix_status {
    boundary("hystrix_clock_next_deadline", || {
        let c = clock_ref(clock)?;
        if has_deadline.is_null() {
            return Err(Fail::null("has_deadline"));
        }
        if deadline.is_null() {
            return Err(Fail::null("deadline"));
        }
        let next = c.inner.shared.lock().queue.next_deadline();
        write_out(has_deadline, next.is_some());
        write_out(deadline, next.unwrap_or(0));
        Ok(())
    })
}

/// Fires, on the calling thread, every timer due at the clock's current
/// time. For `HYSTRIX_TIMERS_CALLER` clocks (harmless on others; on a
/// virtual clock it takes its turn like `hystrix_clock_advance` by 0).
#[no_mangle]
pub extern "C" fn hystrix_clock_fire_due(clock: *const hystrix_clock) -> hystrix_status {
    boundary("hystrix_clock_fire_due", || {
        // A reference of its own: a timer callback may free the handle.
        let shared = clock_ref(clock)?.inner.shared.clone();
        let _turn = match &shared.source {
            Source::Virtual(time) => Some(time.take_turn()),
            _ => None,
        };
        shared.fire_due(|| shared.now());
        Ok(())
    })
}

/// Arms a timer on the clock: `callback(user_data)` runs once the clock
/// reads `due_ms`, ordered with the library's own timers (due time, then
/// arming order). Writes its id to `out_id` (may be NULL). Useful for
/// simulating latency on a virtual clock.
#[no_mangle]
pub extern "C" fn hystrix_clock_schedule(
    clock: *const hystrix_clock,
    due_ms: u64,
    callback: hystrix_timer_fn,
    user_data: *mut c_void,
    out_id: *mut u64,
) -> hystrix_status {
    boundary("hystrix_clock_schedule", || {
        let c = clock_ref(clock)?;
        let Some(callback) = callback else { return Err(Fail::null("callback")) };
        let user = UserData::new(user_data, None);
        let id = c.inner.schedule(due_ms, Box::new(move || callback(user.ptr())));
        if !out_id.is_null() {
            write_out(out_id, id);
        }
        Ok(())
    })
}

/// Disarms a timer armed by `hystrix_clock_schedule` on this clock.
/// Returns `HYSTRIX_INVALID_STATE` if it already fired or was cancelled, or
/// if `id` is not one that `hystrix_clock_schedule` gave for this clock (the
/// library's own timers, such as run timeouts, cannot be cancelled).
#[no_mangle]
pub extern "C" fn hystrix_clock_cancel(clock: *const hystrix_clock, id: u64) -> hystrix_status {
    boundary("hystrix_clock_cancel", || {
        let c = clock_ref(clock)?;
        if c.inner.cancel_scheduled(id) {
            Ok(())
        } else {
            Err(Fail::state(format!(
                "timer {id} is not armed (fired, cancelled, or not scheduled on this clock by hystrix_clock_schedule)"
            )))
        }
    })
}

/// Frees a clock handle. Commands made with it keep working (they hold
/// their own reference); its timer thread ends once no command uses it.
/// NULL is ignored; freeing twice (or a pointer that is not a clock
/// handle) is refused with `HYSTRIX_INVALID_ARGUMENT`, without reading the
/// memory it points at, as long as no new handle has taken its address.
#[no_mangle]
pub extern "C" fn hystrix_clock_free(clock: *mut hystrix_clock) -> hystrix_status {
    boundary("hystrix_clock_free", || {
        if clock.is_null() {
            return Ok(());
        }
        // Looked up before it is read: a freed handle's memory is not.
        if !crate::live::remove(clock) {
            return Err(Fail::invalid("clock is not a live hystrix_clock"));
        }
        clock_ref(clock)?;
        // SAFETY: a live handle of the pool, now out of the live set; its
        // magic is cleared, its memory kept for reuse. The body is dropped
        // after the pool's lock is released.
        let body = unsafe { CLOCKS.retire(clock) };
        drop(body);
        Ok(())
    })
}

/// Reads a clock argument that may be NULL (the default clock).
pub(crate) fn clock_or_default(clock: *const hystrix_clock) -> Result<Arc<ClockInner>, Fail> {
    if clock.is_null() {
        Ok(ClockInner::default_clock())
    } else {
        Ok(clock_ref(clock)?.inner.clone())
    }
}
