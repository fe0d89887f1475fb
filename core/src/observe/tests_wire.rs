//! [`wire`](super::wire): what crosses renders exactly as the command itself.

use super::wire::{decode, encode, len};
use super::{Isolation, Observation, StreamOptions};
use crate::{Command, Config, Jitter, LimitMode, RunError, VirtualClock};
use std::sync::Arc;

/// A command with settings off their defaults (named ones too), tripped
/// open, recovered and tripped again, with latencies in several buckets.
fn busy_command(clock: &Arc<VirtualClock>) -> Command {
    let cfg = Config {
        request_volume_threshold: 2,
        health_snapshot_interval_ms: 0,
        sleep_window_ms: 100,
        timeout_ms: 700,
        retry_jitter: Jitter::Decorrelated,
        concurrency_limit_mode: LimitMode::Aimd,
        fallback_enabled: false,
        ..Config::default()
    };
    let cmd = Command::with_clock("wired", cfg, clock.clone()).unwrap();
    clock.advance(1_000);
    for i in 0..12u64 {
        let c = clock.clone();
        let _ = cmd.execute(move || {
            c.advance(i * 37 % 300);
            Ok::<u32, RunError<()>>(1)
        });
    }
    for _ in 0..20 {
        let _ = cmd.execute(|| Err::<u32, _>(RunError::Failure(())));
    }
    clock.advance(150);
    let _ = cmd.execute(|| Ok::<u32, RunError<()>>(1));
    for _ in 0..3 {
        let _ = cmd.execute(|| Err::<u32, _>(RunError::Failure(())));
    }
    clock.advance(20);
    cmd
}

#[test]
fn a_decoded_snapshot_renders_like_the_command() {
    let clock = Arc::new(VirtualClock::new());
    let cmd = busy_command(&clock);
    let now = clock.now_ms();
    let thread = StreamOptions { isolation: Isolation::Thread, ..StreamOptions::default() };
    let mut direct = Observation::new();
    direct.add(&cmd, now, thread);
    let words = encode(&cmd.observe_at(now), &cmd.config());
    assert_eq!(words.len(), len());
    let (snap, config) = decode("wired".to_string(), &words).expect("a list encode wrote");
    let mut wired = Observation::new();
    wired.add_observed(snap.clone(), config, thread);
    assert_eq!(wired.stream_frames(12_345), direct.stream_frames(12_345));
    assert_eq!(wired.prometheus(), direct.prometheus());
    assert_eq!(wired.families_json(), direct.families_json());
    assert_eq!(config, cmd.config());
    assert_eq!(snap.to_json(), cmd.observe_at(now).to_json());
    assert_eq!(snap.states, cmd.observe_at(now).states);
    assert_eq!(snap.latency_total_histogram, cmd.observe_at(now).latency_total_histogram);
    // The renders are not trivially equal: the command was observed busy.
    assert!(direct.prometheus().contains("hystrix_circuitbreaker_transitions_total"));
    assert_ne!(snap.states.transitions, [[0; 3]; 3]);
}

#[test]
fn integers_cross_exactly_above_two_to_the_53() {
    let clock = Arc::new(VirtualClock::new());
    let cmd = busy_command(&clock);
    let mut snap = cmd.observe_at(clock.now_ms());
    snap.cumulative.0[0] = u64::MAX - 1;
    snap.budget = -7;
    snap.latency_run.mean = 0.1 + 0.2;
    let (back, _) = decode(String::new(), &encode(&snap, &cmd.config())).unwrap();
    assert_eq!(back.cumulative.0[0], u64::MAX - 1);
    assert_eq!(back.budget, -7);
    assert_eq!(back.latency_run.mean.to_bits(), (0.1f64 + 0.2).to_bits());
}

#[test]
fn anything_but_a_list_encode_wrote_is_refused() {
    let clock = Arc::new(VirtualClock::new());
    let cmd = busy_command(&clock);
    let words = encode(&cmd.observe_at(clock.now_ms()), &cmd.config());
    assert!(decode(String::new(), &words[1..]).is_none(), "too short");
    assert!(decode(String::new(), &[words.clone(), vec![0]].concat()).is_none(), "too long");
    let mut bad_state = words.clone();
    bad_state[1] = 3;
    assert!(decode(String::new(), &bad_state).is_none(), "no fourth state");
    let mut bad_name = words;
    let jitter = Config::keys().position(|k| k == "retry_jitter").unwrap();
    let at = len() - Config::keys().count() + jitter;
    bad_name[at] = Jitter::ALL.len() as u64;
    assert!(decode(String::new(), &bad_name).is_none(), "no such jitter");
}

#[test]
fn an_anonymous_snapshot_is_not_rendered() {
    let clock = Arc::new(VirtualClock::new());
    let cmd = busy_command(&clock);
    let mut snap = cmd.observe_at(clock.now_ms());
    snap.name = String::new();
    let mut o = Observation::new();
    o.add_observed(snap, cmd.config(), StreamOptions::default());
    assert!(o.is_empty());
}
