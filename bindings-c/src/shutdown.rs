//! `hystrix_shutdown`: the library gives back what it holds for the whole
//! process (the named registry, the default clock and its timer thread, the
//! completion table) once the program has nothing left alive.

use crate::status::{boundary, hystrix_status, Fail};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Handles (commands, clocks) and queued calls alive now.
static ALIVE: AtomicUsize = AtomicUsize::new(0);

/// Counts one handle or queued call as alive for as long as it lives.
pub(crate) struct Alive(());

impl Alive {
    pub(crate) fn new() -> Alive {
        ALIVE.fetch_add(1, Ordering::SeqCst);
        Alive(())
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        ALIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Stops the default clock's timer thread (joined before this returns) and
/// frees the library's global state: the named commands with their
/// settings (listeners still subscribed to them are removed, their
/// `free_user_data` called) and the table of completion handles. The last
/// call of a program that wants to be valgrind-clean.
///
/// Only once nothing is alive: every command and clock handle freed, every
/// queued call's handles completed (a call stops counting before its
/// `free_user_data` runs, so once that has run it is gone). Otherwise it returns
/// `HYSTRIX_INVALID_STATE`, saying how many are alive, and changes nothing.
/// A `hystrix_command_execute` still running on another thread (its handle
/// already freed) is not counted: it finishes normally, and the timer thread
/// is then stopped when it returns. Call it when no other thread is using
/// the library, never from a callback, and not from a signal handler.
///
/// After it, the library starts again lazily: the next function that needs
/// the default clock or a named command makes a fresh one (names and their
/// settings were forgotten), as on first use. The memory of freed handles
/// is given back too: a handle freed before it must not be passed to any
/// function after it. Returns `HYSTRIX_OK` too when
/// there was nothing to free.
#[no_mangle]
pub extern "C" fn hystrix_shutdown() -> hystrix_status {
    boundary("hystrix_shutdown", || {
        let alive = ALIVE.load(Ordering::SeqCst);
        if alive > 0 {
            return Err(Fail::state(format!(
                "{alive} handles or calls are still alive (command or clock handles not freed, queued calls not \
                 completed): free and complete them first"
            )));
        }
        // Each is taken out under its lock and dropped after: dropping may
        // run the program's finalizers, which may call back in.
        drop(crate::command::take_registry());
        crate::execute_async::release_completions();
        crate::live::release();
        crate::command::release_freed_handles();
        crate::clock::release_freed_handles();
        drop(crate::clock::take_default_clock()); // joins the timer thread
        Ok(())
    })
}
