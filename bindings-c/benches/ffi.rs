//! Sync execute through the C ABI, beside a direct call of the same C-ABI
//! callback and the core's closed path, in one criterion run.
//! `cargo bench -p hystrix-c --bench ffi`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use hystrix::command::{hystrix_command, hystrix_command_free, hystrix_command_new};
use hystrix::execute_sync::hystrix_command_execute;
use hystrix::status::hystrix_status;
use hystrix_core::{Command, Config, RunError};
use std::ffi::c_void;

/// The trivial operation, as a C callback: writes its input + 1.
extern "C" fn op(user_data: *mut c_void, out: *mut *mut c_void) -> i32 {
    let x = black_box(user_data as usize);
    // SAFETY: `out` is a valid pointer given by the caller.
    unsafe { *out = (x + 1) as *mut c_void };
    hystrix_status::HYSTRIX_OK as i32
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("c_abi");
    let direct: extern "C" fn(*mut c_void, *mut *mut c_void) -> i32 = black_box(op);
    g.bench_function("direct_c_call", |b| {
        b.iter(|| {
            let mut v = std::ptr::null_mut();
            direct(black_box(41usize as *mut c_void), &mut v);
            v
        })
    });
    let core = Command::new(Config::default()).expect("default config");
    g.bench_function("core_closed_path", |b| {
        b.iter(|| core.execute(|| Ok::<usize, RunError<()>>(black_box(41usize) + 1)).expect("closed path"))
    });
    let mut cmd: *mut hystrix_command = std::ptr::null_mut();
    assert_eq!(
        hystrix_command_new(std::ptr::null(), std::ptr::null(), std::ptr::null(), &mut cmd),
        hystrix_status::HYSTRIX_OK
    );
    g.bench_function("c_abi_execute", |b| {
        b.iter(|| {
            let mut v = std::ptr::null_mut();
            let st = hystrix_command_execute(cmd, Some(op), None, black_box(41usize as *mut c_void), &mut v);
            debug_assert_eq!(st, hystrix_status::HYSTRIX_OK);
            v
        })
    });
    g.finish();
    hystrix_command_free(cmd);
}

criterion_group!(benches, bench);
criterion_main!(benches);
