//! Text rendered into caller-owned buffers (`hystrix_render_*`,
//! `hystrix_registry_render_*`, `hystrix_last_error_message`): a size
//! query, writes only on success and only within `len`, a too-small buffer
//! left untouched.

use crate::support::*;
use hystrix::command::{hystrix_command, hystrix_command_free, hystrix_command_named};
use hystrix::observe::*;
use hystrix::status::{hystrix_last_error_message, hystrix_status};
use std::ffi::c_char;
use std::ptr;

type Render<'a> = &'a dyn Fn(*mut c_char, usize, *mut usize) -> hystrix_status;

/// Checks the buffer rules on `render`; returns the text.
fn check_buffer_rules(render: Render) -> String {
    let mut needed = 0usize;
    expect(render(ptr::null_mut(), 0, &mut needed), HYSTRIX_OK, "");
    assert!(needed >= 1);
    // One byte short: left untouched, the size said again.
    let mut small = vec![0xAAu8; needed - 1];
    let mut again = 0usize;
    expect(render(small.as_mut_ptr().cast(), small.len(), &mut again), HYSTRIX_INVALID_ARGUMENT, "too small");
    assert_eq!(again, needed);
    assert!(small.iter().all(|b| *b == 0xAA), "a too-small buffer is untouched");
    expect(render(ptr::null_mut(), 5, &mut again), HYSTRIX_NULL_ARGUMENT, "buf is NULL");
    expect(render(small.as_mut_ptr().cast(), small.len(), ptr::null_mut()), HYSTRIX_NULL_ARGUMENT, "needed");
    // Exactly the size: the text and its NUL, and not a byte more (Miri
    // checks the bound; natively, the guard byte).
    let mut exact = vec![0xAAu8; needed + 1];
    expect(render(exact.as_mut_ptr().cast(), needed, &mut again), HYSTRIX_OK, "");
    assert_eq!(exact[needed - 1], 0);
    assert_eq!(exact[needed], 0xAA);
    String::from_utf8(exact[..needed - 1].to_vec()).expect("UTF-8")
}

#[test]
fn a_list_of_commands_renders_within_the_buffer() {
    let mut cfg = default_config();
    cfg.force_open = 1;
    let f = Fixture::new("observed", &cfg);
    let list: [*const hystrix_command; 1] = [f.cmd];
    let prometheus =
        check_buffer_rules(&|buf, len, needed| hystrix_render_prometheus(list.as_ptr(), 1, buf, len, needed));
    assert!(prometheus.contains("observed"), "{prometheus}");
    let stream = check_buffer_rules(&|buf, len, needed| hystrix_render_stream(list.as_ptr(), 1, 42, buf, len, needed));
    assert!(stream.starts_with("data: {") && stream.contains("\"isCircuitBreakerOpen\":true"), "{stream}");
    // A NULL and a bogus handle in the list name their index.
    let mut needed = 0;
    let bad: [*const hystrix_command; 2] = [f.cmd, ptr::null()];
    expect(
        hystrix_render_prometheus(bad.as_ptr(), 2, ptr::null_mut(), 0, &mut needed),
        HYSTRIX_NULL_ARGUMENT,
        "commands[1]",
    );
    expect(
        hystrix_render_prometheus(ptr::null(), 1, ptr::null_mut(), 0, &mut needed),
        HYSTRIX_NULL_ARGUMENT,
        "commands",
    );
    // A freed handle is refused, naming its index, without being read
    // (under Miri, reading it is a use after free: the test fails there on
    // the code that only checked the handle's magic number).
    let gone = Fixture::new("gone", &default_config());
    let freed: *const hystrix_command = gone.cmd;
    drop(gone);
    let stale: [*const hystrix_command; 2] = [f.cmd, freed];
    expect(
        hystrix_render_prometheus(stale.as_ptr(), 2, ptr::null_mut(), 0, &mut needed),
        HYSTRIX_INVALID_ARGUMENT,
        "commands[1]: not a live command handle",
    );
    expect(
        hystrix_render_stream(stale.as_ptr(), 2, 1, ptr::null_mut(), 0, &mut needed),
        HYSTRIX_INVALID_ARGUMENT,
        "commands[1]: not a live command handle",
    );
    // An empty list renders nothing (NULL allowed with count 0).
    let empty = check_buffer_rules(&|buf, len, needed| hystrix_render_stream(ptr::null(), 0, 1, buf, len, needed));
    assert_eq!(empty, "");
}

#[test]
fn an_anonymous_command_is_left_out() {
    let f = Fixture::new("", &default_config());
    let list = [f.cmd.cast_const()];
    let text = check_buffer_rules(&|buf, len, needed| hystrix_render_stream(list.as_ptr(), 1, 1, buf, len, needed));
    assert_eq!(text, "");
}

/// Renders with room to spare (the registry's text moves between calls:
/// it is on the real clock); checks `*needed` is the text's size.
fn render_with_room(render: Render) -> String {
    let mut needed = 0usize;
    expect(render(ptr::null_mut(), 0, &mut needed), HYSTRIX_OK, "");
    let mut buf = vec![0xAAu8; needed + 4096];
    expect(render(buf.as_mut_ptr().cast(), buf.len(), &mut needed), HYSTRIX_OK, "");
    assert_eq!(buf[needed - 1], 0);
    String::from_utf8(buf[..needed - 1].to_vec()).expect("UTF-8")
}

#[test]
fn the_registry_renders_its_named_commands() {
    let name = c("miri-named-observed");
    let mut cmd = ptr::null_mut();
    expect(hystrix_command_named(name.as_ptr(), &mut cmd), HYSTRIX_OK, "");
    let text = render_with_room(&|buf, len, needed| hystrix_registry_render_prometheus(buf, len, needed));
    assert!(text.contains("miri-named-observed"), "{text}");
    let text = render_with_room(&|buf, len, needed| hystrix_registry_render_stream(7, buf, len, needed));
    assert!(text.starts_with("data: {") && text.contains("miri-named-observed"), "{text}");
    let mut needed = 0;
    let mut tiny = [0xAAu8; 4];
    let status = hystrix_registry_render_prometheus(tiny.as_mut_ptr().cast(), tiny.len(), &mut needed);
    expect(status, HYSTRIX_INVALID_ARGUMENT, "too small");
    assert_eq!(tiny, [0xAA; 4], "a too-small buffer is untouched");
    expect(hystrix_command_free(cmd), HYSTRIX_OK, "");
    expect(hystrix::command::hystrix_remove_named(name.as_ptr()), HYSTRIX_OK, "");
    expect(hystrix::command::hystrix_remove_named(name.as_ptr()), HYSTRIX_INVALID_ARGUMENT, "no command named");
}

#[test]
fn the_last_error_message_is_truncated_to_the_buffer() {
    expect(hystrix_render_stream(ptr::null(), 0, 1, ptr::null_mut(), 0, ptr::null_mut()), HYSTRIX_NULL_ARGUMENT, "");
    let full = last_error();
    assert!(full.contains("needed is NULL"), "{full}");
    let mut buf = [0xAAu8; 6];
    let mut written = 0;
    expect(hystrix_last_error_message(buf.as_mut_ptr().cast(), 4, &mut written), HYSTRIX_OK, "");
    assert_eq!(written, full.len());
    assert_eq!(&buf[..4], &[full.as_bytes()[0], full.as_bytes()[1], full.as_bytes()[2], 0]);
    assert_eq!(&buf[4..], &[0xAA, 0xAA]);
    expect(hystrix_last_error_message(ptr::null_mut(), 4, &mut written), HYSTRIX_NULL_ARGUMENT, "buf");
    expect(hystrix_last_error_message(buf.as_mut_ptr().cast(), 4, ptr::null_mut()), HYSTRIX_NULL_ARGUMENT, "written");
}

#[test]
fn the_dashboard_page_is_a_static_nul_terminated_string() {
    let (mut page, mut len) = (ptr::null(), 0usize);
    expect(hystrix_dashboard_html(&mut page, &mut len), HYSTRIX_OK, "");
    // SAFETY: `len` bytes and a NUL at `page`.
    let bytes = unsafe { std::slice::from_raw_parts(page.cast::<u8>(), len + 1) };
    assert_eq!(bytes[len], 0);
    assert!(bytes.starts_with(b"<!DOCTYPE html>") || bytes.starts_with(b"<!doctype html>"));
    expect(hystrix_dashboard_html(ptr::null_mut(), &mut len), HYSTRIX_NULL_ARGUMENT, "out");
}
