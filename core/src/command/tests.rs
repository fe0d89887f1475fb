//! Unit tests of the command's circuit, windows and clock-skew rules.

use super::*;
use crate::clock::FnClock;
use crate::window::HealthCounts;

fn command(config: Config) -> Command {
    Command::with_clock("t", config, Arc::new(FnClock(|| 0))).unwrap()
}

/// An evaluator that read unhealthy counts before the circuit tripped,
/// half-opened and closed again must not reopen it with them (the
/// close reset health; those counts are gone).
#[test]
fn a_trip_decided_on_health_read_before_a_close_is_dropped() {
    let cfg = Config {
        request_volume_threshold: 1,
        health_snapshot_interval_ms: 0,
        sleep_window_ms: 100,
        ..Config::default()
    };
    let cmd = command(cfg);
    cmd.window().record(0, EventType::Failure);
    // The slow evaluator reads the transition count and the health…
    let seen = cmd.inner.transitions.load(Ordering::Acquire);
    let stale = cmd.health(0, &cfg);
    assert_eq!(stale, HealthCounts { total: 1, errors: 1 });
    // …meanwhile another call trips the circuit, a probe closes it.
    assert_eq!(cmd.circuit_admit(0), None);
    assert_eq!(cmd.state(), CircuitState::Open);
    let probe = cmd.circuit_admit(100).expect("a probe after the sleep window");
    cmd.record(100, EventType::Success, probe);
    assert_eq!(cmd.state(), CircuitState::Closed);
    // The stale evaluator now takes the lock: nothing happens.
    cmd.trip_unless_moved(seen, 101);
    assert_eq!(cmd.state(), CircuitState::Closed);
    // A fresh evaluation still trips on fresh counts.
    cmd.trip_unless_moved(cmd.inner.transitions.load(Ordering::Acquire), 102);
    assert_eq!(cmd.state(), CircuitState::Open);
}

/// A writer that loaded the window before a reshape and records after
/// it: its event still lands in the cumulative counts (the fold at the
/// reshape used to miss it).
#[test]
fn an_event_recorded_into_a_replaced_window_is_still_counted() {
    let cfg = Config::default();
    let cmd = command(cfg);
    cmd.record(0, EventType::Success, 0);
    let straggler: *const Window = cmd.window();
    cmd.set_config(Config { rolling_window_ms: 20_000, ..cfg }).unwrap();
    // SAFETY: replaced windows live as long as the command.
    unsafe { &*straggler }.record(1, EventType::Success);
    cmd.record(2, EventType::Success, 0);
    assert_eq!(cmd.snapshot_at(3).cumulative.get(EventType::Success), 3);
    // Back to the first shape: its window is reused, its counts kept.
    cmd.set_config(cfg).unwrap();
    cmd.record(4, EventType::Failure, 0);
    let all = cmd.snapshot_at(5).cumulative;
    assert_eq!((all.get(EventType::Success), all.get(EventType::Failure)), (3, 1));
}

/// A reshape reuses the window in force when its capacity fits, and
/// allocates (from the ladder of capacities) only when none does.
#[test]
fn a_reshape_reuses_a_window_that_fits_and_allocates_only_when_none_does() {
    let shape =
        |buckets: u64| Config { rolling_window_ms: 10 * buckets, rolling_window_buckets: buckets, ..Config::default() };
    let cmd = command(shape(10));
    let held = |cmd: &Command| cmd.inner.windows.lock().unwrap().iter().map(|w| w.capacity()).collect::<Vec<_>>();
    assert_eq!(held(&cmd), [10], "created exactly sized");
    cmd.record(0, EventType::Success, 0);
    cmd.set_config(shape(20)).unwrap();
    assert_eq!(held(&cmd), [10, 25]);
    let grown: *const Window = cmd.window();
    for buckets in [5, 25, 1, 13] {
        cmd.set_config(shape(buckets)).unwrap();
        assert!(std::ptr::eq(cmd.window(), grown), "{buckets} buckets fit the window in force");
        assert_eq!(cmd.window().shape(), (10, buckets));
        cmd.record(1, EventType::Failure, 0);
    }
    cmd.set_config(shape(2_000)).unwrap();
    assert_eq!(held(&cmd), [10, 25, 3_125]);
    let all = cmd.snapshot_at(2).cumulative;
    assert_eq!((all.get(EventType::Success), all.get(EventType::Failure)), (1, 4));
    assert_eq!(cmd.snapshot_at(2).rolling.total(), 0, "a new shape starts empty");
}

/// One reading 100 years ahead must not blind the window: later writes
/// to the slot it stamped count in health again (a one-bucket window
/// never tripped again).
#[test]
fn a_bucket_stamped_far_in_the_future_does_not_blind_the_window() {
    const CENTURY: u64 = 100 * 365 * 24 * 3600 * 1000;
    let cfg = Config {
        rolling_window_buckets: 1,
        request_volume_threshold: 5,
        health_snapshot_interval_ms: 0,
        ..Config::default()
    };
    let cmd = command(cfg);
    cmd.record(CENTURY, EventType::Success, 0);
    for t in 0..5 {
        cmd.record(1_000 + t, EventType::Failure, 0);
    }
    assert_eq!(cmd.state(), CircuitState::Open);
    assert_eq!(cmd.snapshot_at(1_005).cumulative.total(), 6, "nothing is lost");
}

/// One reading 100 years ahead opens the circuit; once the clock is
/// back, the circuit probes a sleep window later, not in 100 years.
#[test]
fn an_open_instant_in_the_future_restarts_the_sleep_window() {
    const CENTURY: u64 = 100 * 365 * 24 * 3600 * 1000;
    let cfg = Config { request_volume_threshold: 1, sleep_window_ms: 100, ..Config::default() };
    let cmd = command(cfg);
    cmd.record(CENTURY, EventType::Failure, 0);
    assert_eq!(cmd.state(), CircuitState::Open);
    assert_eq!(cmd.circuit_admit(1_000), None, "still open, its window restarted at 1000");
    assert_eq!(cmd.circuit_admit(1_099), None);
    assert!(cmd.circuit_admit(1_100).is_some(), "a probe one sleep window after the clock came back");
    assert_eq!(cmd.state(), CircuitState::HalfOpen);
}

/// A healthy snapshot taken at a reading 100 years ahead must not keep
/// the trip rule from running once the clock is back.
#[test]
fn a_gate_and_snapshot_stamped_in_the_future_are_due_at_once() {
    const CENTURY: u64 = 100 * 365 * 24 * 3600 * 1000;
    let cfg = Config { request_volume_threshold: 2, health_snapshot_interval_ms: 500, ..Config::default() };
    let cmd = command(cfg);
    cmd.record(CENTURY, EventType::Success, 0);
    assert_eq!(cmd.snapshot_at(CENTURY).health.total, 1, "a healthy snapshot, cached with its gate");
    cmd.record(1_000, EventType::Failure, 0);
    cmd.record(1_000, EventType::Failure, 0);
    // The snapshot refreshed at 1000 (1 of 1 failed) is used until 1500.
    assert_eq!(cmd.state(), CircuitState::Closed);
    assert_eq!(cmd.circuit_admit(1_500), None, "the trip rule ran on fresh counts at the next refresh");
    assert_eq!(cmd.state(), CircuitState::Open);
}

/// The cached health snapshot keeps the error ratio past 2^32 counts.
#[test]
fn a_cached_health_snapshot_past_2_pow_32_keeps_its_ratio() {
    let cfg = Config { request_volume_threshold: 1, error_threshold_percentage: 51, ..Config::default() };
    let cmd = command(cfg);
    cmd.window().record_many(0, EventType::Failure, 1 << 32);
    cmd.window().record_many(0, EventType::Success, 1 << 32);
    // Refreshed and cached alike: both halves scaled, the ratio kept.
    let fresh = cmd.health(0, &cfg);
    let cached = cmd.health(1, &cfg);
    assert_eq!(fresh, cached, "a refresh decides on what the cache holds");
    assert_eq!(cached.error_percentage(), 50);
    assert!(cached.total >= 1 << 31);
    assert_eq!(cmd.circuit_admit(2), Some(0), "50 % does not meet a 51 % threshold");
}

/// Lowering `half_open_max_calls` to the probes that already succeeded,
/// none running, closes the circuit at the next admission (SPEC §5).
#[test]
fn an_episode_whose_slots_were_configured_away_closes_at_the_next_admission() {
    let cfg = Config {
        request_volume_threshold: 1,
        health_snapshot_interval_ms: 0,
        sleep_window_ms: 100,
        half_open_max_calls: 2,
        ..Config::default()
    };
    let cmd = command(cfg);
    cmd.record(0, EventType::Failure, 0);
    assert_eq!(cmd.state(), CircuitState::Open);
    let probe = cmd.circuit_admit(100).unwrap();
    cmd.record(100, EventType::Success, probe);
    assert_eq!(cmd.state(), CircuitState::HalfOpen);
    cmd.set_config(Config { half_open_max_calls: 1, ..cfg }).unwrap();
    assert_eq!(cmd.circuit_admit(5_000), Some(0), "admitted as a normal call");
    assert_eq!(cmd.state(), CircuitState::Closed);
}

/// The strategy state is made at first use (an idle command does not pay
/// for it); a command reconfigured before that first use behaves as one
/// created with the new settings: the same draws, the same adaptive limit.
#[test]
fn strategy_state_made_at_first_use_follows_the_settings_in_force() {
    let seeded = |seed| Config { random_seed: seed, ..Config::default() };
    let draws = |c: &Command| [c.draw(), c.draw(), c.draw()];
    let direct = command(seeded(7));
    let reseeded = command(seeded(1));
    reseeded.set_config(seeded(7)).unwrap();
    let back_and_forth = command(seeded(7));
    back_and_forth.set_config(seeded(1)).unwrap();
    back_and_forth.set_config(seeded(7)).unwrap();
    assert_eq!(draws(&reseeded), draws(&direct));
    assert_eq!(draws(&back_and_forth), draws(&command(seeded(7))));
    // Reseeding after use restarts the generator, as before.
    reseeded.set_config(seeded(1)).unwrap();
    reseeded.set_config(seeded(7)).unwrap();
    assert_eq!(draws(&reseeded), draws(&command(seeded(7))));

    let adaptive = |initial| Config {
        concurrency_limit_mode: crate::config::LimitMode::Aimd,
        adaptive_initial_limit: initial,
        ..Config::default()
    };
    let later = command(Config::default());
    later.set_config(adaptive(130)).unwrap();
    assert_eq!(later.limit(), 130);
    assert_eq!(later.limit(), command(adaptive(130)).limit());
    later.set_config(adaptive(50)).unwrap();
    assert_eq!(later.limit(), 50);
}
