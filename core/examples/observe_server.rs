//! Serves the named commands of `Registry::global()` over plain `std::net`
//! (no runtime, no new dependency): `/hystrix.stream` for the Netflix
//! Hystrix dashboard and Turbine, `/metrics` for Prometheus, `/hystrix` for
//! the built-in live dashboard page (`/` redirects there) and `/stats` for
//! the server's own counters. A few demo commands run in the background so
//! there is something to watch: `flaky` fails half its calls and keeps
//! tripping, `steady` always succeeds.
//!
//! ```sh
//! cargo run -p hystrix-core --example observe_server -- 127.0.0.1:8080 \
//!     [--interval-ms 500] [--max-connections 5] [--cors '*'] \
//!     [--demo traffic|states|none] [--commands N] [--write-timeout-ms 10000]
//! cargo run -p hystrix-core --example observe_server -- --dump-metrics
//! # open http://127.0.0.1:8080/hystrix in a browser
//! curl -N http://127.0.0.1:8080/hystrix.stream
//! curl http://127.0.0.1:8080/metrics
//! ```
//!
//! `--demo states` (what `tests/observe/` watches) runs three commands on
//! the real clock instead: `tripped` always fails and stays open,
//! `healthy` always succeeds, and `cycling` goes closed → open → half-open
//! (a slow probe of about 1.5 s) → closed, over and over (about 5 s a
//! round). `--demo none` (or `--no-demo`) runs none. `--commands N` adds N
//! idle commands (`idle-00000`…) with one call each, for big frames.
//! Binding port 0 picks a free port; the first line on stderr names it.
//!
//! `--dump-metrics` prints the exposition of a fixed sample (a tripped
//! command, a healthy one, one whose name needs escaping) and exits, for
//! `scripts/promtool-check.sh`.
//!
//! Stream rules (issue #12): Hystrix 1.5's headers; every interval one
//! `data: {json}\n\n` per command, then `ping: \n\n` (also with no
//! command); past `--max-connections` streams a client gets `503` with a
//! one-line reason. One ticker renders each tick once and hands it to every
//! client's own writer thread through a channel of two ticks: a client that
//! does not keep up loses ticks (never buffered without bound; `/stats`
//! counts them), and a client that stops reading for the write timeout is
//! dropped. A watcher per client notices at once when it hangs up and
//! frees its slot. Nothing here blocks a call: rendering reads snapshots
//! only. `/proxy.stream` answers like `/hystrix.stream` (its `origin`
//! parameter is ignored), so the dashboard's `monitor.html` can be served
//! from the same origin without its Java proxy. The query parameter
//! `delay` (Hystrix 1.4's per-client interval) is accepted and ignored as
//! Hystrix 1.5 does, but must be a positive integer: anything else is a
//! `400` with the reason. Unknown routes are `404`.

use hystrix_core::observe::{prometheus, stream, StreamOptions, DASHBOARD_CONTENT_TYPE, DASHBOARD_HTML};
use hystrix_core::{Config, Registry, RunError};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Clone)]
struct Options {
    interval: Duration,
    max_connections: usize,
    cors: Option<String>,
    write_timeout: Duration,
}

/// The writer side of each connected stream client.
type Clients = Arc<Mutex<Vec<SyncSender<Arc<str>>>>>;

/// The server's own counters, served at `/stats`.
#[derive(Default)]
struct Stats {
    /// Stream clients connected now.
    active: AtomicUsize,
    /// Streams served since start.
    served: AtomicU64,
    /// Streams refused with 503.
    refused: AtomicU64,
    /// Ticks a slow client missed (its channel was full).
    dropped: AtomicU64,
}

fn wall_clock_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut addr = "127.0.0.1:8080".to_string();
    let mut opts = Options {
        interval: Duration::from_millis(stream::DEFAULT_INTERVAL_MS),
        max_connections: stream::DEFAULT_MAX_CONNECTIONS,
        cors: None,
        write_timeout: Duration::from_secs(10),
    };
    let mut demo = "traffic".to_string();
    let mut idle = 0usize;
    while let Some(a) = args.next() {
        let mut value = |what: &str| args.next().unwrap_or_else(|| panic!("{what} needs a value"));
        match a.as_str() {
            "--interval-ms" => {
                opts.interval = Duration::from_millis(value(&a).parse().expect("--interval-ms: a number"))
            }
            "--max-connections" => opts.max_connections = value(&a).parse().expect("--max-connections: a number"),
            "--write-timeout-ms" => {
                opts.write_timeout = Duration::from_millis(value(&a).parse().expect("--write-timeout-ms: a number"))
            }
            "--cors" => opts.cors = Some(value(&a)),
            "--demo" => demo = value(&a),
            "--no-demo" => demo = "none".into(),
            "--commands" => idle = value(&a).parse().expect("--commands: a number"),
            "--dump-metrics" => {
                print!("{}", sample_registry().render_prometheus());
                return Ok(());
            }
            _ => addr = a,
        }
    }
    let listener = TcpListener::bind(&addr)?;
    eprintln!(
        "observe_server: http://{}/hystrix.stream, /hystrix (dashboard), /metrics, /stats",
        listener.local_addr()?
    );
    match demo.as_str() {
        "traffic" => start_demo_traffic(),
        "states" => start_state_demo(),
        "none" => {}
        other => panic!("--demo: traffic, states or none (got {other:?})"),
    }
    for i in 0..idle {
        let _ = Registry::global().get_or_create(&format!("idle-{i:05}")).execute(|| Ok::<u32, RunError<()>>(1));
    }
    let clients: Clients = Arc::default();
    let stats = Arc::new(Stats::default());
    {
        let (clients, stats, interval) = (clients.clone(), stats.clone(), opts.interval);
        thread::spawn(move || ticker(Registry::global(), &clients, &stats, interval));
    }
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let (clients, stats, opts) = (clients.clone(), stats.clone(), opts.clone());
        thread::spawn(move || {
            let _ = handle(conn, &clients, &stats, &opts);
        });
    }
    Ok(())
}

/// Renders one tick per interval and offers it to every client; a client
/// whose channel is full misses this tick, a gone one is forgotten.
fn ticker(reg: &Registry, clients: &Mutex<Vec<SyncSender<Arc<str>>>>, stats: &Stats, interval: Duration) {
    loop {
        thread::sleep(interval);
        let mut list = clients.lock().unwrap_or_else(|p| p.into_inner());
        if list.is_empty() {
            continue;
        }
        let mut tick = reg.render_stream_frames(reg.now_ms(), wall_clock_ms(), &StreamOptions::default());
        tick.push_str(stream::PING);
        let tick: Arc<str> = tick.into();
        list.retain(|tx| match tx.try_send(tick.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                stats.dropped.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        });
    }
}

/// Frees a stream slot when its writer ends, however it ends.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Why a query is refused, if it is: `delay` must be a positive integer.
fn bad_query(query: &str) -> Option<String> {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == "delay" && !matches!(value.parse::<u64>(), Ok(n) if n >= 1) {
            return Some(format!("bad query: delay must be a positive integer of milliseconds (got {value:?})\n"));
        }
    }
    None
}

fn handle(mut conn: TcpStream, clients: &Clients, stats: &Stats, opts: &Options) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    conn.set_write_timeout(Some(opts.write_timeout))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    // Skip the headers.
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let mut parts = request.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let cors = opts.cors.as_ref().map(|o| format!("Access-Control-Allow-Origin: {o}\r\n")).unwrap_or_default();
    if method != "GET" {
        return respond(&mut conn, "405 Method Not Allowed", "text/plain", &cors, "only GET\n");
    }
    if let Some(reason) = bad_query(query) {
        return respond(&mut conn, "400 Bad Request", "text/plain", &cors, &reason);
    }
    match path {
        "/metrics" => {
            let body = Registry::global().render_prometheus();
            respond(&mut conn, "200 OK", prometheus::CONTENT_TYPE, &cors, &body)
        }
        "/hystrix.stream" | "/proxy.stream" => serve_stream(conn, clients, stats, opts, &cors),
        "/hystrix" | "/hystrix/" | "/hystrix/index.html" => {
            respond(&mut conn, "200 OK", DASHBOARD_CONTENT_TYPE, &cors, DASHBOARD_HTML)
        }
        "/" => {
            let location = if query.is_empty() { "/hystrix".to_string() } else { format!("/hystrix?{query}") };
            let cors = format!("{cors}Location: {location}\r\n");
            respond(&mut conn, "302 Found", "text/plain", &cors, "see /hystrix\n")
        }
        "/stats" => {
            let body = format!(
                "stream_clients {}\nstreams_served_total {}\nstreams_refused_total {}\nticks_dropped_total {}\n",
                stats.active.load(Ordering::SeqCst),
                stats.served.load(Ordering::Relaxed),
                stats.refused.load(Ordering::Relaxed),
                stats.dropped.load(Ordering::Relaxed)
            );
            respond(&mut conn, "200 OK", "text/plain", &cors, &body)
        }
        _ => respond(&mut conn, "404 Not Found", "text/plain", &cors, "not found\n"),
    }
}

fn respond(conn: &mut TcpStream, status: &str, ctype: &str, cors: &str, body: &str) -> std::io::Result<()> {
    write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{cors}Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    conn.flush()
}

fn serve_stream(
    mut conn: TcpStream,
    clients: &Clients,
    stats: &Stats,
    opts: &Options,
    cors: &str,
) -> std::io::Result<()> {
    if stats.active.fetch_add(1, Ordering::SeqCst) >= opts.max_connections {
        stats.active.fetch_sub(1, Ordering::SeqCst);
        stats.refused.fetch_add(1, Ordering::Relaxed);
        let reason = format!("MaxConcurrentConnections reached: {}\n", opts.max_connections);
        return respond(&mut conn, "503 Service Unavailable", "text/plain", cors, &reason);
    }
    let _slot = Slot(&stats.active);
    stats.served.fetch_add(1, Ordering::Relaxed);
    let mut head = String::from("HTTP/1.1 200 OK\r\n");
    for (name, value) in stream::HEADERS {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(cors);
    head.push_str("Connection: close\r\n\r\n");
    conn.write_all(head.as_bytes())?;
    conn.flush()?;
    let (tx, rx): (SyncSender<Arc<str>>, Receiver<Arc<str>>) = sync_channel(2);
    // The watcher reads until the client hangs up, then wakes the writer
    // with an empty tick so the slot is freed at once, not at the next tick.
    let (hangup, mut watched) = (tx.clone(), conn.try_clone()?);
    watched.set_read_timeout(None)?;
    thread::spawn(move || {
        let mut sink = [0u8; 512];
        while matches!(watched.read(&mut sink), Ok(n) if n > 0) {}
        let _ = hangup.try_send(Arc::from(""));
    });
    clients.lock().unwrap_or_else(|p| p.into_inner()).push(tx);
    // Ends when the client hangs up or a write fails (it stalled past the
    // write timeout); dropping `rx` then tells the ticker to forget it.
    for tick in rx {
        if tick.is_empty() {
            break;
        }
        conn.write_all(tick.as_bytes())?;
        conn.flush()?;
    }
    let _ = conn.shutdown(Shutdown::Both);
    Ok(())
}

/// A registry on a virtual clock with a tripped command, a healthy one
/// with latencies across the histogram's buckets, and a name that needs
/// escaping.
fn sample_registry() -> Registry {
    let clock = Arc::new(hystrix_core::VirtualClock::new());
    let reg = Registry::new(clock.clone());
    reg.configure(
        "tripped",
        Config { request_volume_threshold: 2, health_snapshot_interval_ms: 0, ..Config::default() },
    )
    .expect("valid");
    let bad = reg.get_or_create("tripped");
    for _ in 0..3 {
        let _ = bad.execute_or(|| Err::<u32, _>(RunError::Failure(())), |_| Ok(0));
    }
    let good = reg.get_or_create("healthy");
    for ms in [1u64, 3, 8, 20, 40, 70, 90, 200, 400, 700, 900, 2_000] {
        let c = clock.clone();
        let _ = good.execute(move || {
            c.advance(ms);
            Ok::<u64, RunError<()>>(ms)
        });
    }
    let _ = reg.get_or_create("odd \"name\"\n\\ é").execute(|| Ok::<u32, RunError<()>>(1));
    clock.advance(1_000);
    reg
}

/// Two commands with traffic: `flaky` fails every other call and keeps
/// tripping and recovering, `steady` always succeeds.
fn start_demo_traffic() {
    let reg = Registry::global();
    let quick = Config { request_volume_threshold: 5, sleep_window_ms: 2_000, ..Config::default() };
    reg.configure("flaky", quick).expect("a valid configuration");
    thread::spawn(move || {
        let (flaky, steady) = (reg.get_or_create("flaky"), reg.get_or_create("steady"));
        for i in 0u64.. {
            let _ = flaky.execute_or(|| if i % 2 == 0 { Err(RunError::Failure("down")) } else { Ok(i) }, |_| Ok(0));
            let _ = steady.execute(|| {
                thread::sleep(Duration::from_millis(i % 7));
                Ok::<u64, RunError<()>>(i)
            });
            thread::sleep(Duration::from_millis(20));
        }
    });
}

/// `--demo states`: `tripped` always fails (and stays open: a long sleep
/// window, failed probes), `healthy` always succeeds, and `cycling` trips,
/// waits out its sleep window, holds its probe for about 1.5 s (half-open)
/// and succeeds (closed), then stays healthy for 2 s, round after round.
fn start_state_demo() {
    let reg = Registry::global();
    let quick = Config { request_volume_threshold: 3, health_snapshot_interval_ms: 0, ..Config::default() };
    reg.configure("tripped", Config { sleep_window_ms: 60_000, ..quick }).expect("a valid configuration");
    reg.configure("cycling", Config { sleep_window_ms: 1_000, timeout_ms: 5_000, ..quick }).expect("valid");
    thread::spawn(move || {
        let (tripped, healthy) = (reg.get_or_create("tripped"), reg.get_or_create("healthy"));
        for i in 0u64.. {
            let _ = tripped.execute_or(|| Err::<u64, _>(RunError::Failure("down")), |_| Ok(0));
            let _ = healthy.execute(|| {
                thread::sleep(Duration::from_millis(i % 5));
                Ok::<u64, RunError<()>>(i)
            });
            thread::sleep(Duration::from_millis(25));
        }
    });
    thread::spawn(move || {
        let cycling = reg.get_or_create("cycling");
        loop {
            // Closed → open: failures until the circuit refuses calls.
            while cycling.observe_at(cycling.now_ms()).state == hystrix_core::CircuitState::Closed {
                let _ = cycling.execute(|| Err::<u64, _>(RunError::Failure("down")));
                thread::sleep(Duration::from_millis(30));
            }
            // Open for the sleep window, then one slow probe (half-open) that succeeds.
            thread::sleep(Duration::from_millis(1_100));
            let _ = cycling.execute(|| {
                thread::sleep(Duration::from_millis(1_500));
                Ok::<u64, RunError<()>>(1)
            });
            // Closed and healthy for a while.
            for _ in 0..40 {
                let _ = cycling.execute(|| Ok::<u64, RunError<()>>(1));
                thread::sleep(Duration::from_millis(50));
            }
        }
    });
}
