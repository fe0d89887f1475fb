//! Observing the named commands (issue #12): the `hystrix.stream` frames
//! and the Prometheus exposition of the registry behind
//! `hystrix_command_named`, rendered by the core into a caller-owned buffer.
//!
//! Buffer convention of these functions: `*needed` always receives the
//! size the text needs, terminating NUL included. With `buf` NULL and
//! `len` 0 that is all (a size query, `HYSTRIX_OK`). Otherwise the text and
//! its NUL are written only if `len >= *needed` (`HYSTRIX_OK`); a smaller
//! buffer is left untouched and gives `HYSTRIX_INVALID_ARGUMENT`. Counts
//! move between two calls, so a caller that sized its buffer with a query
//! should leave some room or retry with the new `*needed`.

use crate::command::{command_ref, hystrix_command, registry};
use crate::status::{boundary, hystrix_status, write_out, Fail};
use hystrix_core::observe::{Observation, StreamOptions};
use std::ffi::c_char;

/// Copies `text` and a NUL into `buf` if it fits (see the module rules).
fn deliver(text: &str, buf: *mut c_char, len: usize, needed: *mut usize) -> Result<(), Fail> {
    if text.as_bytes().contains(&0) {
        return Err(Fail::invalid("the text holds a NUL byte"));
    }
    let size = text.len() + 1;
    write_out(needed, size);
    if buf.is_null() {
        return if len == 0 { Ok(()) } else { Err(Fail::null("buf")) };
    }
    if len < size {
        return Err(Fail::invalid(format!("buf too small: {len} bytes given, {size} needed")));
    }
    // SAFETY: the caller gives `len >= size` writable bytes at `buf`.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
        *buf.add(text.len()) = 0;
    }
    Ok(())
}

/// One tick of `hystrix.stream` for every named command, sorted by name:
/// `data: {json}\n\n` per command (the Hystrix 1.5 `HystrixCommand`
/// object), `currentTime` = `wall_clock_ms` (epoch milliseconds: the host's
/// wall clock, the only one involved). An empty string when no named
/// command exists. Serve it with the headers `Content-Type:
/// text/event-stream;charset=UTF-8`, `Cache-Control: no-cache, no-store,
/// max-age=0, must-revalidate`, `Pragma: no-cache`, and write `ping: \n\n`
/// every interval. Read-only: never trips a circuit.
/// The buffer: `*needed` always receives the size the text needs, NUL
/// included (`needed` must not be NULL). `buf` NULL with `len` 0 is a size
/// query (`HYSTRIX_OK`). Otherwise text and NUL are written only if `len >=
/// *needed` (`HYSTRIX_OK`); a smaller buffer is left untouched
/// (`HYSTRIX_INVALID_ARGUMENT`). Counts move between calls: leave room, or
/// retry with the new `*needed`.
#[no_mangle]
pub extern "C" fn hystrix_registry_render_stream(
    wall_clock_ms: u64,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> hystrix_status {
    boundary("hystrix_registry_render_stream", || {
        if needed.is_null() {
            return Err(Fail::null("needed"));
        }
        let reg = registry();
        let text = reg.render_stream_frames(reg.now_ms(), wall_clock_ms, &StreamOptions::default());
        deliver(&text, buf, len, needed)
    })
}

/// The Prometheus text exposition (format 0.0.4; serve it as `text/plain;
/// version=0.0.4; charset=utf-8`) of every named command. Read-only.
/// Buffer rules as for `hystrix_registry_render_stream`.
#[no_mangle]
pub extern "C" fn hystrix_registry_render_prometheus(
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> hystrix_status {
    boundary("hystrix_registry_render_prometheus", || {
        if needed.is_null() {
            return Err(Fail::null("needed"));
        }
        deliver(&registry().render_prometheus(), buf, len, needed)
    })
}

/// The named commands among `commands[0..count]`, each observed now on its
/// own clock (a virtual clock's reading, in tests).
fn observe_list(commands: *const *const hystrix_command, count: usize) -> Result<Observation, Fail> {
    if commands.is_null() && count > 0 {
        return Err(Fail::null("commands"));
    }
    let mut observation = Observation::new();
    for i in 0..count {
        // SAFETY: the caller gives `count` readable pointers at `commands`.
        let cmd = unsafe { *commands.add(i) };
        // Only live handles are read: a pointer that is no handle at all is
        // refused without reading it (a freed one would be refused by its
        // cleared magic too); rendering is off the call path, so the lookup
        // costs no call.
        if !cmd.is_null() && !crate::live::contains(cmd) {
            return Err(Fail::invalid(format!("commands[{i}]: not a live command handle (freed already?)")));
        }
        let c = command_ref(cmd).map_err(|e| Fail::new(e.status, format!("commands[{i}]: {}", e.message)))?;
        observation.add(&c.cmd, c.cmd.now_ms(), StreamOptions::default());
    }
    Ok(observation)
}

/// `hystrix_registry_render_stream` for the commands `commands[0..count]`
/// (handles from `hystrix_command_new` or `hystrix_command_named`), each
/// observed at its own clock's time, so commands on a virtual clock render
/// deterministically. Anonymous commands are left out; frames are sorted
/// by name. `commands` may be NULL when `count` is 0. A NULL or freed
/// handle is `HYSTRIX_NULL_ARGUMENT` / `HYSTRIX_INVALID_ARGUMENT` naming
/// its index. Buffer rules as for `hystrix_registry_render_stream`.
#[no_mangle]
pub extern "C" fn hystrix_render_stream(
    commands: *const *const hystrix_command,
    count: usize,
    wall_clock_ms: u64,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> hystrix_status {
    boundary("hystrix_render_stream", || {
        if needed.is_null() {
            return Err(Fail::null("needed"));
        }
        deliver(&observe_list(commands, count)?.stream_frames(wall_clock_ms), buf, len, needed)
    })
}

/// `hystrix_registry_render_prometheus` for the commands
/// `commands[0..count]`, each observed at its own clock's time (rules as
/// for `hystrix_render_stream`).
#[no_mangle]
pub extern "C" fn hystrix_render_prometheus(
    commands: *const *const hystrix_command,
    count: usize,
    buf: *mut c_char,
    len: usize,
    needed: *mut usize,
) -> hystrix_status {
    boundary("hystrix_render_prometheus", || {
        if needed.is_null() {
            return Err(Fail::null("needed"));
        }
        deliver(&observe_list(commands, count)?.prometheus(), buf, len, needed)
    })
}

/// The built-in live dashboard page: one self-contained HTML document
/// (inline CSS and JS, no network but its stream) with a tile per command
/// (circuit state including half-open, error %, request rate, rolling
/// counts, latency percentiles, a sparkline). It reads `hystrix.stream`
/// relative to its own URL, or the URL in its `?stream=` query parameter;
/// serve it (e.g. at `/hystrix`) as `text/html; charset=utf-8`.
/// `*out` receives a static, NUL-terminated string that lives as long as
/// the library: never free or modify it. `*len` receives its length
/// without the NUL. `out` and `len` must not be NULL.
#[no_mangle]
pub extern "C" fn hystrix_dashboard_html(out: *mut *const c_char, len: *mut usize) -> hystrix_status {
    boundary("hystrix_dashboard_html", || {
        if out.is_null() {
            return Err(Fail::null("out"));
        }
        if len.is_null() {
            return Err(Fail::null("len"));
        }
        // A static string (no allocation): the page and its NUL.
        let page = hystrix_core::observe::DASHBOARD_HTML_NUL;
        write_out(out, page.as_ptr().cast::<c_char>());
        write_out(len, page.len() - 1);
        Ok(())
    })
}
