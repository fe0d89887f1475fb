//! The sync driver settles an in-time success without building an
//! `Execution` (its fast path). This property test checks that shortcut
//! changes nothing: random sequences of sync calls (successes, failures, bad
//! requests, panics, late runs; with and without fallbacks), clock advances
//! and live reconfigurations go to two identical commands, one through
//! `Command::execute`/`execute_or`, the other through the sans-IO
//! `Execution` steps exactly as the SPEC's sync semantics describe them. The
//! callers' results, every listener notice (event or transition, with its
//! time) and, when the sequence asks, the full snapshots must agree. Runs
//! may make a nested call first, so bulkhead and fallback-limit refusals
//! happen without threads.

use hystrix_core::{Command, Config, Error, ErrorKind, Execution, FnClock, Notice, RunError, RunOutcome, Step, Topic};
use proptest::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone, Copy, Debug)]
enum RunKind {
    Success,
    Failure,
    BadRequest,
    Panic,
    /// Makes a nested call (a quick success with a fallback) while holding
    /// its permit, then succeeds.
    NestedThenSuccess,
}

#[derive(Clone, Copy, Debug)]
enum FallbackKind {
    None,
    Ok,
    Err,
    Panic,
}

#[derive(Clone, Debug)]
enum Op {
    Call { run: RunKind, run_ms: u64, fallback: FallbackKind, fallback_ms: u64 },
    Advance(u64),
    Configure(serde_json::Value),
    Snapshot,
}

fn op() -> impl Strategy<Value = Op> {
    let run = prop_oneof![
        4 => Just(RunKind::Success),
        3 => Just(RunKind::Failure),
        1 => Just(RunKind::BadRequest),
        1 => Just(RunKind::Panic),
        1 => Just(RunKind::NestedThenSuccess),
    ];
    let fallback = prop_oneof![
        Just(FallbackKind::None),
        Just(FallbackKind::Ok),
        Just(FallbackKind::Err),
        Just(FallbackKind::Panic)
    ];
    let patch = prop_oneof![
        (0u64..6).prop_map(|v| serde_json::json!({ "request_volume_threshold": v })),
        (0u64..=100).prop_map(|v| serde_json::json!({ "error_threshold_percentage": v })),
        any::<bool>().prop_map(|v| serde_json::json!({ "force_open": v })),
        any::<bool>().prop_map(|v| serde_json::json!({ "force_closed": v })),
        any::<bool>().prop_map(|v| serde_json::json!({ "fallback_enabled": v })),
        (0u64..3).prop_map(|v| serde_json::json!({ "health_snapshot_interval_ms": v * 50 })),
        (1u64..4).prop_map(|v| serde_json::json!({ "half_open_max_calls": v })),
        (1u64..3).prop_map(|v| serde_json::json!({ "max_concurrent_requests": v })),
        (1u64..3).prop_map(|v| serde_json::json!({ "fallback_max_concurrent_requests": v })),
        any::<bool>().prop_map(|v| serde_json::json!({ "timeout_enabled": v })),
    ];
    prop_oneof![
        8 => (run, prop_oneof![3 => Just(0u64), 1 => 0u64..150], fallback, 0u64..3).prop_map(
            |(run, run_ms, fallback, fallback_ms)| Op::Call { run, run_ms, fallback, fallback_ms }
        ),
        2 => (0u64..400).prop_map(Op::Advance),
        1 => patch.prop_map(Op::Configure),
        1 => Just(Op::Snapshot),
    ]
}

type Outcome = Result<u32, ErrorKind>;

struct Side {
    now: Arc<AtomicU64>,
    cmd: Command,
    /// Every notice, as "event@time" or "from->to@time".
    log: Arc<Mutex<Vec<String>>>,
}

impl Side {
    fn new(config: Config) -> Side {
        let now = Arc::new(AtomicU64::new(0));
        let read = now.clone();
        let cmd = Command::with_clock("", config, Arc::new(FnClock(move || read.load(Ordering::SeqCst)))).unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        for topic in [Topic::Events, Topic::Transitions] {
            let log = log.clone();
            cmd.subscribe(topic, move |n: &Notice<'_>| {
                let line = match n {
                    Notice::Event { event, at_ms, .. } => format!("{event}@{at_ms}"),
                    Notice::Transition { from, to, at_ms, .. } => format!("{from:?}->{to:?}@{at_ms}"),
                };
                log.lock().unwrap().push(line);
            });
        }
        Side { now, cmd, log }
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

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

/// Makes one call on `side` the way `call` does (driver or reference).
type CallFn = fn(&Side, RunKind, u64, FallbackKind, u64) -> Outcome;

fn run_result(side: &Side, call: CallFn, kind: RunKind) -> Result<u32, RunError<String>> {
    match kind {
        RunKind::Success => Ok(1),
        RunKind::Failure => Err(RunError::Failure("boom".into())),
        RunKind::BadRequest => Err(RunError::BadRequest("bad".into())),
        RunKind::Panic => panic!("run panicked"),
        RunKind::NestedThenSuccess => {
            let _ = call(side, RunKind::Success, 0, FallbackKind::Ok, 0);
            Ok(1)
        }
    }
}

fn fallback_result(kind: FallbackKind) -> Result<u32, String> {
    match kind {
        FallbackKind::Ok => Ok(2),
        FallbackKind::Panic => panic!("fallback panicked"),
        _ => Err("fallback failed".to_string()),
    }
}

/// Through the public sync driver.
fn call_driver(side: &Side, run: RunKind, run_ms: u64, fallback: FallbackKind, fallback_ms: u64) -> Outcome {
    let body = || {
        side.advance(run_ms);
        run_result(side, call_driver, run)
    };
    let fb = |_: &Error<String>| {
        side.advance(fallback_ms);
        fallback_result(fallback)
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
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_result(side, call_reference, run)));
            let end = side.now();
            if deadline.is_some_and(|d| end >= d) {
                step = ex.timer_fired(cmd, end);
                ex.run_stopped(cmd);
                ErrorKind::Timeout
            } else {
                let (outcome, kind) = match result {
                    Ok(Ok(_)) => {
                        ex.run_finished(cmd, end, RunOutcome::Success);
                        return Ok(1);
                    }
                    Ok(Err(RunError::BadRequest(_))) => (RunOutcome::BadRequest, ErrorKind::BadRequest),
                    Ok(Err(RunError::Failure(_))) | Err(_) => (RunOutcome::Failure, ErrorKind::Failure),
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
            let result = std::panic::catch_unwind(|| fallback_result(fallback));
            let ok = matches!(result, Ok(Ok(_)));
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
                Op::Snapshot => {
                    let (a, b) = (driver.snapshot(), reference.snapshot());
                    if a != b {
                        failure = Some(format!("step {i}: snapshots differ\n driver    {a}\n reference {b}"));
                        break;
                    }
                }
            }
            let (a, b) = (driver.log(), reference.log());
            if a != b {
                failure = Some(format!("step {i} {op:?}: notices differ\n driver    {a:?}\n reference {b:?}"));
                break;
            }
        }
        // And at the end, whatever the sequence asked for.
        if failure.is_none() && driver.snapshot() != reference.snapshot() {
            failure = Some("final snapshots differ".to_string());
        }
        std::panic::set_hook(hook);
        if let Some(f) = failure {
            return Err(TestCaseError::fail(f));
        }
    }
}
