//! The sync driver settles an in-time success without building an
//! `Execution` (its fast path). This property test checks that shortcut
//! changes nothing: random sequences of sync calls (successes, failures, bad
//! requests, panics, late runs; with and without fallbacks), clock advances
//! and live reconfigurations go to two identical commands, one through
//! `Command::execute`/`execute_or`, the other through the sans-IO
//! `Execution` steps exactly as the SPEC's sync semantics describe them. The
//! callers' results and the full snapshots must agree after every step.

use hystrix_core::{Command, Config, Error, ErrorKind, Execution, FnClock, RunError, RunOutcome, Step};
use proptest::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Clone, Copy, Debug)]
enum RunKind {
    Success,
    Failure,
    BadRequest,
    Panic,
}

#[derive(Clone, Copy, Debug)]
enum FallbackKind {
    None,
    Ok,
    Err,
}

#[derive(Clone, Debug)]
enum Op {
    Call { run: RunKind, run_ms: u64, fallback: FallbackKind, fallback_ms: u64 },
    Advance(u64),
    Configure(serde_json::Value),
}

fn op() -> impl Strategy<Value = Op> {
    let run = prop_oneof![
        4 => Just(RunKind::Success),
        3 => Just(RunKind::Failure),
        1 => Just(RunKind::BadRequest),
        1 => Just(RunKind::Panic),
    ];
    let fallback = prop_oneof![Just(FallbackKind::None), Just(FallbackKind::Ok), Just(FallbackKind::Err)];
    let patch = prop_oneof![
        (0u64..6).prop_map(|v| serde_json::json!({ "request_volume_threshold": v })),
        (0u64..=100).prop_map(|v| serde_json::json!({ "error_threshold_percentage": v })),
        any::<bool>().prop_map(|v| serde_json::json!({ "force_open": v })),
        any::<bool>().prop_map(|v| serde_json::json!({ "force_closed": v })),
        any::<bool>().prop_map(|v| serde_json::json!({ "fallback_enabled": v })),
        (0u64..3).prop_map(|v| serde_json::json!({ "health_snapshot_interval_ms": v * 50 })),
        (1u64..4).prop_map(|v| serde_json::json!({ "half_open_max_calls": v })),
    ];
    prop_oneof![
        8 => (run, prop_oneof![3 => Just(0u64), 1 => 0u64..150], fallback, 0u64..3).prop_map(
            |(run, run_ms, fallback, fallback_ms)| Op::Call { run, run_ms, fallback, fallback_ms }
        ),
        2 => (0u64..400).prop_map(Op::Advance),
        1 => patch.prop_map(Op::Configure),
    ]
}

type Outcome = Result<u32, ErrorKind>;

struct Side {
    now: Arc<AtomicU64>,
    cmd: Command,
}

impl Side {
    fn new(config: Config) -> Side {
        let now = Arc::new(AtomicU64::new(0));
        let read = now.clone();
        let cmd = Command::with_clock("", config, Arc::new(FnClock(move || read.load(Ordering::SeqCst)))).unwrap();
        Side { now, cmd }
    }

    fn advance(&self, ms: u64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }

    fn now(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }

    fn snapshot(&self) -> serde_json::Value {
        serde_json::to_value(self.cmd.snapshot()).unwrap()
    }
}

fn run_result(kind: RunKind) -> Result<u32, RunError<String>> {
    match kind {
        RunKind::Success => Ok(1),
        RunKind::Failure => Err(RunError::Failure("boom".into())),
        RunKind::BadRequest => Err(RunError::BadRequest("bad".into())),
        RunKind::Panic => panic!("run panicked"),
    }
}

/// Through the public sync driver.
fn call_driver(side: &Side, run: RunKind, run_ms: u64, fallback: FallbackKind, fallback_ms: u64) -> Outcome {
    let body = || {
        side.advance(run_ms);
        run_result(run)
    };
    let fb = |_: &Error<String>| {
        side.advance(fallback_ms);
        match fallback {
            FallbackKind::Ok => Ok(2),
            _ => Err("fallback failed".to_string()),
        }
    };
    let result = match fallback {
        FallbackKind::None => side.cmd.execute(body),
        _ => side.cmd.execute_or(body, fb),
    };
    result.map_err(|e| e.kind())
}

/// The same call, step by step through `Execution`: admitted at the start,
/// judged late when it returns at or after its deadline.
fn call_reference(side: &Side, run: RunKind, run_ms: u64, fallback: FallbackKind, fallback_ms: u64) -> Outcome {
    let cmd = &side.cmd;
    let has_fallback = !matches!(fallback, FallbackKind::None);
    let (mut ex, mut step) = Execution::start(cmd, side.now(), has_fallback);
    let original = match step {
        Step::Run { deadline } => {
            side.advance(run_ms);
            let end = side.now();
            if deadline.is_some_and(|d| end >= d) {
                step = ex.timer_fired(cmd, end);
                ex.run_stopped(cmd);
                ErrorKind::Timeout
            } else {
                let (outcome, kind) = match run {
                    RunKind::Success => {
                        ex.run_finished(cmd, end, RunOutcome::Success);
                        return Ok(1);
                    }
                    RunKind::BadRequest => (RunOutcome::BadRequest, ErrorKind::BadRequest),
                    RunKind::Failure | RunKind::Panic => (RunOutcome::Failure, ErrorKind::Failure),
                };
                step = ex.run_finished(cmd, end, outcome);
                kind
            }
        }
        Step::Fallback { cause } => cause,
        Step::Done(_) => ex.cause().expect("refused at admission"),
        Step::Nothing => unreachable!(),
    };
    match step {
        Step::Fallback { .. } => {
            side.advance(fallback_ms);
            let ok = matches!(fallback, FallbackKind::Ok);
            ex.fallback_finished(cmd, side.now(), ok);
            if ok {
                Ok(2)
            } else {
                Err(ErrorKind::FallbackFailure)
            }
        }
        Step::Done(hystrix_core::Resolution::Error(ErrorKind::FallbackRejected)) => Err(ErrorKind::FallbackRejected),
        Step::Done(_) => Err(original),
        _ => unreachable!(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_sync_fast_path_matches_the_execution_steps(ops in proptest::collection::vec(op(), 1..80)) {
        let config = Config {
            timeout_ms: 100,
            request_volume_threshold: 3,
            sleep_window_ms: 300,
            rolling_window_ms: 1000,
            rolling_window_buckets: 10,
            health_snapshot_interval_ms: 0,
            fallback_max_concurrent_requests: 1,
            ..Config::default()
        };
        let (driver, reference) = (Side::new(config), Side::new(config));
        // Panicking runs are expected here: keep the output quiet.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let mut failure = None;
        for (i, op) in ops.iter().enumerate() {
            match op {
                Op::Call { run, run_ms, fallback, fallback_ms } => {
                    let a = call_driver(&driver, *run, *run_ms, *fallback, *fallback_ms);
                    let b = call_reference(&reference, *run, *run_ms, *fallback, *fallback_ms);
                    if a != b {
                        failure = Some(format!("step {i} {op:?}: driver {a:?}, reference {b:?}"));
                        break;
                    }
                }
                Op::Advance(ms) => {
                    driver.advance(*ms);
                    reference.advance(*ms);
                }
                Op::Configure(patch) => {
                    driver.cmd.configure_json(patch).unwrap();
                    reference.cmd.configure_json(patch).unwrap();
                }
            }
            let (a, b) = (driver.snapshot(), reference.snapshot());
            if a != b {
                failure = Some(format!("step {i} {op:?}: snapshots differ\n driver    {a}\n reference {b}"));
                break;
            }
        }
        std::panic::set_hook(hook);
        if let Some(f) = failure {
            return Err(TestCaseError::fail(f));
        }
    }
}
