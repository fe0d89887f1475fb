//! A closed-loop simulation of the adaptive concurrency limit (semantics
//! §15) on a virtual clock: `CLIENTS` clients call an upstream whose
//! latency is flat up to a concurrency **knee** and rises in proportion
//! beyond it (a queue forms). A client whose call is rejected tries again
//! 1 ms later; one whose call returns calls again at once. After 30
//! simulated seconds the knee moves, and the limiter must follow it.
//!
//! ```text
//! cargo run --release -p hystrix-core --example adaptive_sim
//! ```
//!
//! Prints, per mode, the limit every 5 s and whether its mean over each
//! phase's last 10 s is within ±20 % of the knee (exit status 1 if not).
//! Deterministic: the same table every run. About 30 s of CPU in release.

use hystrix_core::{
    Action, AttemptId, Call, CallTimer, Command, Config, FnClock, Input, LimitMode, RunOutcome, TimerId, TimerQueue,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Concurrent clients: far more than any knee, so the limit decides.
const CLIENTS: usize = 400;
/// Upstream latency at or below the knee.
const BASE_MS: u64 = 20;
/// Simulated time per phase.
const PHASE_MS: u64 = 30_000;

#[derive(Clone, Copy, Debug)]
enum Ev {
    /// A client starts a call.
    Client(usize),
    /// A call's own timer.
    Timer(usize, CallTimer),
    /// An attempt's run returns.
    RunDone(usize, AttemptId),
}

/// The upstream's latency for a call arriving with `inflight` calls in it.
fn latency(knee: u64, inflight: u64) -> u64 {
    if inflight <= knee {
        BASE_MS
    } else {
        BASE_MS * inflight / knee
    }
}

struct Sim {
    now: Arc<AtomicU64>,
    cmd: Command,
    queue: TimerQueue<Ev>,
    /// Live calls by client.
    calls: HashMap<usize, Call>,
    /// The calls' armed timers.
    armed: HashMap<(usize, CallTimer), TimerId>,
    /// Runs in flight at the upstream.
    upstream: u64,
    knee: u64,
}

impl Sim {
    fn now(&self) -> u64 {
        self.now.load(Ordering::Relaxed)
    }

    fn drain(&mut self, client: usize) {
        let now = self.now();
        let Some(call) = self.calls.get_mut(&client) else { return };
        let mut settled = false;
        while let Some(action) = call.poll_action() {
            match action {
                Action::SetTimer { timer, at } => {
                    let id = self.queue.arm(at, Ev::Timer(client, timer));
                    self.armed.insert((client, timer), id);
                }
                Action::ClearTimer { timer } => {
                    if let Some(id) = self.armed.remove(&(client, timer)) {
                        self.queue.cancel(id);
                    }
                }
                Action::InvokeAttempt { attempt } => {
                    self.upstream += 1;
                    let at = now + latency(self.knee, self.upstream);
                    self.queue.arm(at, Ev::RunDone(client, attempt));
                }
                Action::AbortAttempt { attempt, .. } => {
                    // The upstream keeps working; the run's end frees it.
                    let _ = attempt;
                }
                Action::InvokeFallback { .. } => call.handle(now, Input::FallbackEnded { ok: true }),
                Action::Settle(_) => settled = true,
            }
        }
        if settled {
            // Refused calls back off 1 ms; others call again at once.
            let refused = !call.events().any(|e| e == hystrix_core::EventType::Success);
            self.queue.arm(now + u64::from(refused), Ev::Client(client));
        }
        if call.is_finished() {
            self.calls.remove(&client);
        }
    }

    fn step(&mut self, until: u64) {
        while let Some((at, ev)) = self.queue.pop_due(until) {
            self.now.store(at, Ordering::Relaxed);
            match ev {
                Ev::Client(c) => {
                    if self.calls.contains_key(&c) {
                        // Its last call still holds a permit: wait for it.
                        self.queue.arm(at + 1, Ev::Client(c));
                        continue;
                    }
                    let call = Call::start(&self.cmd, at, true);
                    self.calls.insert(c, call);
                    self.drain(c);
                }
                Ev::Timer(c, timer) => {
                    self.armed.remove(&(c, timer));
                    if let Some(call) = self.calls.get_mut(&c) {
                        call.handle(at, Input::TimerFired { timer });
                        self.drain(c);
                    }
                }
                Ev::RunDone(c, attempt) => {
                    self.upstream -= 1;
                    if let Some(call) = self.calls.get_mut(&c) {
                        call.handle(at, Input::AttemptEnded { attempt, outcome: RunOutcome::Success });
                        self.drain(c);
                    }
                }
            }
        }
        self.now.store(until, Ordering::Relaxed);
    }
}

/// Runs one mode; returns the mean limit over each phase's last 10 s.
fn simulate(mode: LimitMode, knees: [u64; 2]) -> [u64; 2] {
    let config = Config {
        concurrency_limit_mode: mode,
        adaptive_initial_limit: 10,
        adaptive_min_limit: 1,
        adaptive_max_limit: 1000,
        adaptive_window_ms: 100,
        adaptive_window_min_samples: 10,
        // AIMD: a window averaging above 1.1 × the flat latency is a drop.
        aimd_timeout_ms: BASE_MS * 11 / 10,
        // Gradient2: no extra RTT tolerance, so the queue settles near the knee.
        gradient2_rtt_tolerance_permille: 1000,
        timeout_ms: 10_000,
        // Rejections must not trip the circuit: the limit is under study.
        circuit_breaker_enabled: false,
        ..Config::default()
    };
    let now = Arc::new(AtomicU64::new(0));
    let clock_now = now.clone();
    let cmd = Command::with_clock("sim", config, Arc::new(FnClock(move || clock_now.load(Ordering::Relaxed))))
        .expect("a valid configuration");
    let mut sim = Sim {
        now,
        cmd,
        queue: TimerQueue::new(),
        calls: HashMap::new(),
        armed: HashMap::new(),
        upstream: 0,
        knee: knees[0],
    };
    for c in 0..CLIENTS {
        sim.queue.arm(0, Ev::Client(c));
    }
    let mut ends = [0; 2];
    print!("{:<10}", mode.as_str());
    for (phase, knee) in knees.into_iter().enumerate() {
        sim.knee = knee;
        let (mut sum, mut samples) = (0, 0);
        for k in 1..=PHASE_MS / 100 {
            let t = phase as u64 * PHASE_MS + k * 100;
            sim.step(t);
            let limit = sim.cmd.snapshot_at(t).limit;
            if t % 5_000 == 0 {
                print!(" {limit:>5}");
                std::io::Write::flush(&mut std::io::stdout()).ok();
            }
            // The mean over the phase's last 10 s (the limit oscillates).
            if k > (PHASE_MS - 10_000) / 100 {
                sum += limit;
                samples += 1;
            }
        }
        ends[phase] = sum / samples;
        print!(" |");
    }
    println!();
    ends
}

fn main() {
    let knees = [50, 120];
    println!(
        "{CLIENTS} clients; upstream {BASE_MS} ms up to the knee, proportionally slower beyond; knee {} for 30 s, \
         then {}",
        knees[0], knees[1]
    );
    println!("limit at   {}", (1..=12).map(|k| format!(" {:>4}s", k * 5)).collect::<String>());
    let mut all_ok = true;
    for mode in [LimitMode::Aimd, LimitMode::Gradient2] {
        let ends = simulate(mode, knees);
        for (end, knee) in ends.into_iter().zip(knees) {
            let ok = end * 5 >= knee * 4 && end * 5 <= knee * 6;
            all_ok &= ok;
            println!(
                "  {}: knee {knee}, mean limit over 20–30 s {end} ({:+.0} %) — {}",
                mode.as_str(),
                (end as f64 / knee as f64 - 1.0) * 100.0,
                if ok { "within ±20 %" } else { "OUTSIDE ±20 %" }
            );
        }
    }
    if !all_ok {
        std::process::exit(1);
    }
}
