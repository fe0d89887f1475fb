//! `hystrix_command`: making, naming, configuring, observing and freeing
//! commands, and their listeners.

use crate::clock::{clock_or_default, hystrix_clock, ClockInner};
use crate::config::{
    config_fail, config_fail_for, hystrix_config, read_config, read_str, write_config, CONFIG_SIZE_0_1,
};
use crate::shells::{self, Handle, Pool, Shell};
use crate::shutdown::Alive;
use crate::status::{boundary, hystrix_status, write_out, Fail};
use crate::user_data::{hystrix_free_fn, UserData};
use hystrix_core::{CircuitState, Command, EventType, ListenerId, Notice, Registry, Snapshot, Topic};
use std::ffi::{c_char, c_void, CString};
use std::sync::{Arc, Mutex};

/// The length of the count arrays in `hystrix_snapshot`: the event types
/// `HYSTRIX_EVENT_SUCCESS` to `HYSTRIX_EVENT_CANCELLED` (0 to 11). Fixed by
/// the ABI: the SPEC v2 events (12 and up) are read with
/// `hystrix_command_event_counts`.
pub const HYSTRIX_EVENT_COUNT: usize = 12;

/// Number of event types, SPEC v2's included: the `hystrix_event` values are
/// `0..HYSTRIX_EVENT_TYPE_COUNT`, the length `hystrix_command_event_counts`
/// fills.
pub const HYSTRIX_EVENT_TYPE_COUNT: usize = 16;

// The header needs a literal; the core's vocabulary is the source.
const _: () = assert!(HYSTRIX_EVENT_TYPE_COUNT == EventType::COUNT, "hystrix_event must list every core EventType");

/// Event types, in the index order of `hystrix_snapshot.rolling`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum hystrix_event {
    /// The run returned a value.
    HYSTRIX_EVENT_SUCCESS = 0,
    /// The run failed.
    HYSTRIX_EVENT_FAILURE = 1,
    /// The run timed out.
    HYSTRIX_EVENT_TIMEOUT = 2,
    /// The run refused a bad request.
    HYSTRIX_EVENT_BAD_REQUEST = 3,
    /// The circuit refused the call.
    HYSTRIX_EVENT_SHORT_CIRCUITED = 4,
    /// The bulkhead refused the call.
    HYSTRIX_EVENT_SEMAPHORE_REJECTED = 5,
    /// The fallback returned a value.
    HYSTRIX_EVENT_FALLBACK_SUCCESS = 6,
    /// The fallback failed.
    HYSTRIX_EVENT_FALLBACK_FAILURE = 7,
    /// Too many fallbacks were in flight.
    HYSTRIX_EVENT_FALLBACK_REJECTION = 8,
    /// A fallback was wanted but none was given.
    HYSTRIX_EVENT_FALLBACK_MISSING = 9,
    /// A fallback was wanted but fallbacks are disabled.
    HYSTRIX_EVENT_FALLBACK_DISABLED = 10,
    /// The caller cancelled the call while its run was in flight.
    HYSTRIX_EVENT_CANCELLED = 11,
    /// The rate limiter refused the call (SPEC v2). Not in
    /// `hystrix_snapshot`'s arrays: see `hystrix_command_event_counts`.
    HYSTRIX_EVENT_RATE_LIMITED = 12,
    /// A retry was scheduled (SPEC v2).
    HYSTRIX_EVENT_RETRY = 13,
    /// A hedge started (SPEC v2).
    HYSTRIX_EVENT_HEDGE = 14,
    /// The retry budget refused a retry or a hedge (SPEC v2).
    HYSTRIX_EVENT_RETRY_BUDGET_EXHAUSTED = 15,
}

impl From<EventType> for hystrix_event {
    /// Exhaustive on purpose: a new core event type does not compile here
    /// until the C vocabulary has it too.
    fn from(e: EventType) -> Self {
        use hystrix_event::*;
        match e {
            EventType::Success => HYSTRIX_EVENT_SUCCESS,
            EventType::Failure => HYSTRIX_EVENT_FAILURE,
            EventType::Timeout => HYSTRIX_EVENT_TIMEOUT,
            EventType::BadRequest => HYSTRIX_EVENT_BAD_REQUEST,
            EventType::ShortCircuited => HYSTRIX_EVENT_SHORT_CIRCUITED,
            EventType::SemaphoreRejected => HYSTRIX_EVENT_SEMAPHORE_REJECTED,
            EventType::FallbackSuccess => HYSTRIX_EVENT_FALLBACK_SUCCESS,
            EventType::FallbackFailure => HYSTRIX_EVENT_FALLBACK_FAILURE,
            EventType::FallbackRejection => HYSTRIX_EVENT_FALLBACK_REJECTION,
            EventType::FallbackMissing => HYSTRIX_EVENT_FALLBACK_MISSING,
            EventType::FallbackDisabled => HYSTRIX_EVENT_FALLBACK_DISABLED,
            EventType::Cancelled => HYSTRIX_EVENT_CANCELLED,
            EventType::RateLimited => HYSTRIX_EVENT_RATE_LIMITED,
            EventType::Retry => HYSTRIX_EVENT_RETRY,
            EventType::Hedge => HYSTRIX_EVENT_HEDGE,
            EventType::RetryBudgetExhausted => HYSTRIX_EVENT_RETRY_BUDGET_EXHAUSTED,
        }
    }
}

/// Circuit states.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum hystrix_state {
    /// Calls are admitted; health is watched.
    HYSTRIX_STATE_CLOSED = 0,
    /// Calls are short-circuited until the sleep window has passed.
    HYSTRIX_STATE_OPEN = 1,
    /// Probes are admitted to decide whether to close again.
    HYSTRIX_STATE_HALF_OPEN = 2,
}

impl From<CircuitState> for hystrix_state {
    fn from(s: CircuitState) -> Self {
        match s {
            CircuitState::Closed => hystrix_state::HYSTRIX_STATE_CLOSED,
            CircuitState::Open => hystrix_state::HYSTRIX_STATE_OPEN,
            CircuitState::HalfOpen => hystrix_state::HYSTRIX_STATE_HALF_OPEN,
        }
    }
}

/// Latency percentiles in milliseconds over the 60 s percentile window.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct hystrix_percentiles {
    /// Samples in the window.
    pub count: u64,
    /// Mean.
    pub mean: f64,
    /// Minimum.
    pub p0: u64,
    /// 25th percentile.
    pub p25: u64,
    /// Median.
    pub p50: u64,
    /// 75th percentile.
    pub p75: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 95th percentile.
    pub p95: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.5th percentile.
    pub p99_5: u64,
    /// Maximum.
    pub p100: u64,
}

/// A command observed at one instant (SPEC §6 plus metrics).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct hystrix_snapshot {
    /// When it was taken, on the command's clock.
    pub time_ms: u64,
    /// The reported state.
    pub state: hystrix_state,
    /// Health total used for decisions.
    pub health_total: u64,
    /// Health errors used for decisions.
    pub health_errors: u64,
    /// Error percentage used for decisions.
    pub health_error_percentage: u64,
    /// Count per event type (index: `hystrix_event`) in the rolling window.
    pub rolling: [u64; HYSTRIX_EVENT_COUNT],
    /// Count per event type since the command was made.
    pub cumulative: [u64; HYSTRIX_EVENT_COUNT],
    /// Run permits held now.
    pub concurrent: u32,
    /// Fallbacks in flight now.
    pub fallback_concurrent: u32,
    /// Highest run concurrency in the rolling window.
    pub rolling_max_concurrent: u32,
    /// Run latency.
    pub latency_run: hystrix_percentiles,
    /// Total latency (admission to result).
    pub latency_total: hystrix_percentiles,
}

/// The counts of events `0..HYSTRIX_EVENT_COUNT`.
fn first_events(all: &[u64; EventType::COUNT]) -> [u64; HYSTRIX_EVENT_COUNT] {
    std::array::from_fn(|i| all[i])
}

fn percentiles(p: &hystrix_core::latency::Percentiles) -> hystrix_percentiles {
    hystrix_percentiles {
        count: p.count,
        mean: p.mean,
        p0: p.p0,
        p25: p.p25,
        p50: p.p50,
        p75: p.p75,
        p90: p.p90,
        p95: p.p95,
        p99: p.p99,
        p99_5: p.p99_5,
        p100: p.p100,
    }
}

impl From<&Snapshot> for hystrix_snapshot {
    fn from(s: &Snapshot) -> Self {
        hystrix_snapshot {
            time_ms: s.time_ms,
            state: s.state.into(),
            health_total: s.health.total,
            health_errors: s.health.errors,
            health_error_percentage: s.health.error_percentage,
            rolling: first_events(&s.rolling.0),
            cumulative: first_events(&s.cumulative.0),
            concurrent: s.concurrent,
            fallback_concurrent: s.fallback_concurrent,
            rolling_max_concurrent: s.rolling_max_concurrent,
            latency_run: percentiles(&s.latency_run),
            latency_total: percentiles(&s.latency_total),
        }
    }
}

const COMMAND_MAGIC: u64 = 0x6879_7374_636d_6431;

/// A handle to a command. Made by `hystrix_command_new` or
/// `hystrix_command_named`, freed by `hystrix_command_free`. Executions in
/// flight keep the command alive: freeing the handle never cancels them,
/// and their callbacks still run. Once freed, its memory is kept for a
/// later command handle.
pub struct hystrix_command {
    shell: Shell<CommandBody>,
}

/// What a live command handle holds.
pub(crate) struct CommandBody {
    pub(crate) cmd: Command,
    pub(crate) clock: Arc<ClockInner>,
    _alive: Alive,
}

impl Handle for hystrix_command {
    type Body = CommandBody;
    const MAGIC: u64 = COMMAND_MAGIC;
    fn empty() -> Self {
        hystrix_command { shell: Shell::empty() }
    }
    fn shell(&self) -> &Shell<CommandBody> {
        &self.shell
    }
}

/// Every command handle's memory, live or kept for reuse.
static COMMANDS: Pool<hystrix_command> = Pool::new();

/// Gives the memory of freed command handles back (`hystrix_shutdown`).
pub(crate) fn release_freed_handles() {
    COMMANDS.release();
}

/// Checks a command pointer: non-NULL and not freed (a freed handle's
/// memory is still the library's: its cleared magic number refuses it).
pub(crate) fn command_ref<'a>(cmd: *const hystrix_command) -> Result<&'a CommandBody, Fail> {
    if cmd.is_null() {
        return Err(Fail::null("cmd"));
    }
    // SAFETY: non-NULL; the caller promises a pointer from hystrix_command_*
    // (live, or freed since the last hystrix_shutdown), not being freed now.
    unsafe { shells::body(cmd) }.ok_or_else(|| Fail::invalid("cmd is not a live hystrix_command"))
}

/// The command behind a handle, as a reference of its own. Functions that
/// may run the program's callbacks (a run, a listener) use it: a callback
/// may free the handle, and the command must outlive the call.
pub(crate) fn command_owned(cmd: *const hystrix_command) -> Result<Command, Fail> {
    Ok(command_ref(cmd)?.cmd.clone())
}

fn publish(out: *mut *mut hystrix_command, cmd: Command, clock: Arc<ClockInner>) {
    let handle = COMMANDS.make(CommandBody { cmd, clock, _alive: Alive::new() });
    crate::live::insert(handle);
    write_out(out, handle);
}

/// The registry behind `hystrix_command_named`, on the default clock; made
/// on first use, and again after `hystrix_shutdown`.
static REGISTRY: Mutex<Option<Arc<Registry>>> = Mutex::new(None);

pub(crate) fn registry() -> Arc<Registry> {
    let mut registry = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
    registry.get_or_insert_with(|| Arc::new(Registry::new(ClockInner::default_clock()))).clone()
}

/// Takes the registry out, for `hystrix_shutdown` to drop.
pub(crate) fn take_registry() -> Option<Arc<Registry>> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner()).take()
}

/// Makes an anonymous command. `config` NULL means the defaults; `clock`
/// NULL means the shared default clock (monotonic, timer thread); `name`
/// may be NULL (it only labels listener notices and JSON snapshots) and is
/// copied.
/// Returns `HYSTRIX_INVALID_CONFIG` naming the offending key; nothing is
/// made on error.
#[no_mangle]
pub extern "C" fn hystrix_command_new(
    config: *const hystrix_config,
    name: *const c_char,
    clock: *const hystrix_clock,
    out: *mut *mut hystrix_command,
) -> hystrix_status {
    boundary("hystrix_command_new", || {
        let name = if name.is_null() { "" } else { read_str(name, "name")? };
        let config = if config.is_null() {
            hystrix_core::Config::default()
        } else {
            read_config(config).map_err(|f| f.for_command(name))?
        };
        let clock = clock_or_default(clock)?;
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        let cmd = Command::with_clock(name, config, clock.clone()).map_err(config_fail_for(name))?;
        publish(out, cmd, clock);
        Ok(())
    })
}

/// Sets the configuration of the named command (applied live if it exists,
/// used when it is first made). Named commands use the default clock.
/// `name` and `config` are copied.
#[no_mangle]
pub extern "C" fn hystrix_configure_named(name: *const c_char, config: *const hystrix_config) -> hystrix_status {
    boundary("hystrix_configure_named", || {
        let name = read_str(name, "name")?;
        let config = read_config(config).map_err(|f| f.for_command(name))?;
        registry().configure(name, config).map_err(config_fail_for(name))
    })
}

/// A new handle to the command called `name`, made on first use with its
/// configured (or default) settings. Every handle is freed on its own.
#[no_mangle]
pub extern "C" fn hystrix_command_named(name: *const c_char, out: *mut *mut hystrix_command) -> hystrix_status {
    boundary("hystrix_command_named", || {
        let name = read_str(name, "name")?;
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        publish(out, registry().get_or_create(name), ClockInner::default_clock());
        Ok(())
    })
}

/// A new handle to the command called `name`, made with `config` on first
/// use. One name has one set of settings: if the command exists (or the
/// name was configured) with a different value for any setting of
/// `config`, this returns `HYSTRIX_SETTINGS_CONFLICT`, the message naming
/// the command, the first differing key and both values, and nothing
/// changes (change settings with `hystrix_configure_named`). The same
/// settings give a handle to the existing command. `HYSTRIX_INVALID_CONFIG`
/// names the offending key of an invalid `config`.
#[no_mangle]
pub extern "C" fn hystrix_command_named_with(
    name: *const c_char,
    config: *const hystrix_config,
    out: *mut *mut hystrix_command,
) -> hystrix_status {
    boundary("hystrix_command_named_with", || {
        let name = read_str(name, "name")?;
        let config = read_config(config).map_err(|f| f.for_command(name))?;
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        let cmd = registry().get_or_create_with(name, &config).map_err(|e| match e {
            hystrix_core::SettingsError::Invalid(e) => config_fail_for(name)(e),
            conflict => Fail::new(hystrix_status::HYSTRIX_SETTINGS_CONFLICT, conflict.to_string()),
        })?;
        publish(out, cmd, ClockInner::default_clock());
        Ok(())
    })
}

/// Forgets the name and its settings; the command itself is freed once no
/// handle or execution uses it. Returns `HYSTRIX_INVALID_ARGUMENT` if the
/// name was not registered.
#[no_mangle]
pub extern "C" fn hystrix_remove_named(name: *const c_char) -> hystrix_status {
    boundary("hystrix_remove_named", || {
        let name = read_str(name, "name")?;
        if registry().remove(name) {
            Ok(())
        } else {
            Err(Fail::invalid(format!("no command named {name:?}")))
        }
    })
}

/// Replaces the command's configuration (validated first; nothing changes
/// on error). A new window shape starts a fresh, empty window.
#[no_mangle]
pub extern "C" fn hystrix_command_configure(
    cmd: *const hystrix_command,
    config: *const hystrix_config,
) -> hystrix_status {
    boundary("hystrix_command_configure", || {
        let command = command_owned(cmd)?;
        let config = read_config(config).map_err(|f| f.for_command(command.name()))?;
        command.set_config(config).map_err(config_fail_for(command.name()))
    })
}

/// Changes the keys given in a JSON object (SPEC names), validated as a whole.
#[no_mangle]
pub extern "C" fn hystrix_command_configure_json(cmd: *const hystrix_command, json: *const c_char) -> hystrix_status {
    boundary("hystrix_command_configure_json", || {
        let command = command_owned(cmd)?;
        let text = read_str(json, "json")?;
        let patch: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| config_fail(hystrix_core::ConfigError::new("config", format!("is not valid JSON: {e}"))))?;
        command.configure_json(&patch).map(|_| ()).map_err(config_fail_for(command.name()))
    })
}

/// Writes the configuration in force to `out`, a `hystrix_config` of
/// `struct_size` bytes (the settings that fit; see "ABI evolution" at
/// `hystrix_config`).
#[no_mangle]
pub extern "C" fn hystrix_command_config_sized(
    cmd: *const hystrix_command,
    out: *mut hystrix_config,
    struct_size: usize,
) -> hystrix_status {
    boundary("hystrix_command_config", || {
        let c = command_ref(cmd)?;
        write_config(out, struct_size, c.cmd.config())
    })
}

/// `hystrix_command_config_sized(cmd, out, <the size of hystrix 0.1's
/// struct>)`; the header replaces calls to it by a macro, as for
/// `hystrix_config_default`.
#[no_mangle]
pub extern "C" fn hystrix_command_config(cmd: *const hystrix_command, out: *mut hystrix_config) -> hystrix_status {
    hystrix_command_config_sized(cmd, out, CONFIG_SIZE_0_1)
}

/// Writes a snapshot taken now to `out` (applies a pending trip, never
/// moves open to half-open).
#[no_mangle]
pub extern "C" fn hystrix_command_snapshot(cmd: *const hystrix_command, out: *mut hystrix_snapshot) -> hystrix_status {
    boundary("hystrix_command_snapshot", || {
        let command = command_owned(cmd)?;
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        write_out(out, (&command.snapshot()).into());
        Ok(())
    })
}

/// Writes the rolling and cumulative count of every event type, SPEC v2's
/// included, from one snapshot taken now: `rolling[e]` and `cumulative[e]`
/// for each `hystrix_event` `e` below `len` (arrays of `len` entries; pass
/// `HYSTRIX_EVENT_TYPE_COUNT`). Entries from `HYSTRIX_EVENT_TYPE_COUNT` on
/// (a program built against a newer hystrix.h) are set to 0. Either array
/// may be NULL when not wanted.
#[no_mangle]
pub extern "C" fn hystrix_command_event_counts(
    cmd: *const hystrix_command,
    rolling: *mut u64,
    cumulative: *mut u64,
    len: usize,
) -> hystrix_status {
    boundary("hystrix_command_event_counts", || {
        let command = command_owned(cmd)?;
        let snap = command.snapshot();
        for (out, counts) in [(rolling, &snap.rolling.0), (cumulative, &snap.cumulative.0)] {
            if out.is_null() {
                continue;
            }
            for i in 0..len {
                // SAFETY: non-NULL; the caller promises `len` writable entries.
                unsafe { out.add(i).write(counts.get(i).copied().unwrap_or(0)) };
            }
        }
        Ok(())
    })
}

/// Writes, from one snapshot taken now, the bulkhead's limit in force
/// (semantics §15.1: `max_concurrent_requests` in limit mode `fixed`, the
/// adaptive limit otherwise) to `*out_limit` and the retry budget's
/// balance (semantics §12: 0 while it is off; may be negative) to
/// `*out_budget`. Either may be NULL when not wanted. (SPEC v2 fields that
/// `hystrix_snapshot`, fixed by the ABI, does not have.)
#[no_mangle]
pub extern "C" fn hystrix_command_limit_budget(
    cmd: *const hystrix_command,
    out_limit: *mut u64,
    out_budget: *mut i64,
) -> hystrix_status {
    boundary("hystrix_command_limit_budget", || {
        let command = command_owned(cmd)?;
        let snap = command.snapshot();
        if !out_limit.is_null() {
            write_out(out_limit, snap.limit);
        }
        if !out_budget.is_null() {
            write_out(out_budget, snap.budget);
        }
        Ok(())
    })
}

/// Writes a snapshot as a JSON object (stable field names) to `*out`; the
/// caller frees it with `hystrix_string_free`.
#[no_mangle]
pub extern "C" fn hystrix_command_snapshot_json(cmd: *const hystrix_command, out: *mut *mut c_char) -> hystrix_status {
    boundary("hystrix_command_snapshot_json", || {
        let command = command_owned(cmd)?;
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        let json =
            CString::new(command.snapshot().to_json()).map_err(|_| Fail::invalid("snapshot JSON holds a NUL"))?;
        write_out(out, json.into_raw());
        Ok(())
    })
}

/// Frees a string returned by this library. NULL is ignored.
#[no_mangle]
pub extern "C" fn hystrix_string_free(s: *mut c_char) -> hystrix_status {
    boundary("hystrix_string_free", || {
        if !s.is_null() {
            // SAFETY: the caller passes a string this library made with
            // CString::into_raw, once.
            drop(unsafe { CString::from_raw(s) });
        }
        Ok(())
    })
}

/// Frees a command handle. Executions in flight, sync or async, finish
/// normally (each holds the command): the handle may be freed from another
/// thread while a `hystrix_command_execute` runs, or from inside one of its
/// callbacks (run, fallback, listener). Only the start of a call must not
/// race with the free (the handle is read then). Listeners stay until
/// unsubscribed or the command is gone.
/// NULL is ignored; a second free (or a pointer that is not a command
/// handle) is refused with `HYSTRIX_INVALID_ARGUMENT`, without reading the
/// memory it points at, as long as no new handle has taken its address.
#[no_mangle]
pub extern "C" fn hystrix_command_free(cmd: *mut hystrix_command) -> hystrix_status {
    boundary("hystrix_command_free", || {
        if cmd.is_null() {
            return Ok(());
        }
        // Looked up before it is read: a freed handle's memory is not.
        if !crate::live::remove(cmd) {
            return Err(Fail::invalid("cmd is not a live hystrix_command"));
        }
        command_ref(cmd)?;
        // SAFETY: a live handle of the pool, now out of the live set; its
        // magic is cleared, its memory kept for reuse. The body is dropped
        // after (it may run the program's finalizers).
        let body = unsafe { COMMANDS.retire(cmd) };
        drop(body);
        Ok(())
    })
}

/// Called for every recorded event: the command's name (valid during the
/// call), the event and when it happened.
pub type hystrix_event_fn =
    Option<extern "C" fn(user_data: *mut c_void, command: *const c_char, event: hystrix_event, at_ms: u64)>;

/// Called for every state transition.
pub type hystrix_transition_fn = Option<
    extern "C" fn(user_data: *mut c_void, command: *const c_char, from: hystrix_state, to: hystrix_state, at_ms: u64),
>;

/// A notice, owned, so it can be delivered after a lock is released.
#[derive(Clone, Copy)]
enum Owned {
    Event(EventType, u64),
    Transition(CircuitState, CircuitState, u64),
}

fn subscribe(
    cmd: *const hystrix_command,
    out_id: *mut u64,
    topic: Topic,
    user_data: *mut c_void,
    free_user_data: hystrix_free_fn,
    call: impl Fn(*mut c_void, *const c_char, Owned) + Send + Sync + 'static,
) -> Result<(), Fail> {
    let c = command_ref(cmd)?;
    let name = CString::new(c.cmd.name()).map_err(|_| Fail::invalid("command name holds a NUL"))?;
    // Only now, with every argument checked, does the library own user_data.
    let listener = Arc::new((UserData::new(user_data, free_user_data), name, call));
    let id = c.cmd.subscribe(topic, move |n| {
        let owned = match n {
            Notice::Event { event, at_ms, .. } => Owned::Event(*event, *at_ms),
            Notice::Transition { from, to, at_ms, .. } => Owned::Transition(*from, *to, *at_ms),
        };
        let l = listener.clone();
        crate::deferred::notify(move || (l.2)(l.0.ptr(), l.1.as_ptr(), owned));
    });
    if !out_id.is_null() {
        write_out(out_id, id.raw());
    }
    Ok(())
}

/// Subscribes `callback` to every event the command records. It runs on
/// the thread that caused the event, with no lock held (it may call back
/// into the library, even complete the very call that raised the event:
/// events raised under a call's lock are delivered right after it is
/// released). On error the library takes no ownership of `user_data`. `free_user_data`, if not NULL, is called once the
/// listener is removed and no call to it is running. Writes the listener
/// id to `out_id` (may be NULL).
#[no_mangle]
pub extern "C" fn hystrix_command_on_event(
    cmd: *const hystrix_command,
    callback: hystrix_event_fn,
    user_data: *mut c_void,
    free_user_data: hystrix_free_fn,
    out_id: *mut u64,
) -> hystrix_status {
    boundary("hystrix_command_on_event", || {
        let Some(callback) = callback else { return Err(Fail::null("callback")) };
        subscribe(cmd, out_id, Topic::Events, user_data, free_user_data, move |u, name, n| {
            if let Owned::Event(event, at_ms) = n {
                callback(u, name, event.into(), at_ms);
            }
        })
    })
}

/// Subscribes `callback` to the command's state transitions (same rules
/// as `hystrix_command_on_event`).
#[no_mangle]
pub extern "C" fn hystrix_command_on_state_change(
    cmd: *const hystrix_command,
    callback: hystrix_transition_fn,
    user_data: *mut c_void,
    free_user_data: hystrix_free_fn,
    out_id: *mut u64,
) -> hystrix_status {
    boundary("hystrix_command_on_state_change", || {
        let Some(callback) = callback else { return Err(Fail::null("callback")) };
        subscribe(cmd, out_id, Topic::Transitions, user_data, free_user_data, move |u, name, n| {
            if let Owned::Transition(from, to, at_ms) = n {
                callback(u, name, from.into(), to.into(), at_ms);
            }
        })
    })
}

/// Removes a listener. Returns `HYSTRIX_INVALID_STATE` if it was not
/// subscribed (or already removed).
#[no_mangle]
pub extern "C" fn hystrix_command_unsubscribe(cmd: *const hystrix_command, id: u64) -> hystrix_status {
    boundary("hystrix_command_unsubscribe", || {
        // Removing the listener may run its finalizer, which may free the handle.
        let command = command_owned(cmd)?;
        if command.unsubscribe(ListenerId::from_raw(id)) {
            Ok(())
        } else {
            Err(Fail::state(format!("listener {id} is not subscribed")))
        }
    })
}
