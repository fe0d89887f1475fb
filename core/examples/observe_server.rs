//! Serves the named commands of `Registry::global()` over plain `std::net`
//! (no runtime, no new dependency): `/hystrix.stream` for the Netflix
//! Hystrix dashboard and Turbine, `/metrics` for Prometheus. A few demo
//! commands run in the background so there is something to watch: `flaky`
//! fails half its calls and keeps tripping, `steady` always succeeds.
//!
//! ```sh
//! cargo run -p hystrix-core --example observe_server -- 127.0.0.1:8080 \
//!     [--interval-ms 500] [--max-connections 5] [--cors '*'] [--no-demo]
//! cargo run -p hystrix-core --example observe_server -- --dump-metrics
//! curl -N http://127.0.0.1:8080/hystrix.stream
//! curl http://127.0.0.1:8080/metrics
//! ```
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
//! does not keep up loses ticks (never buffered without bound), and a
//! client that stops reading for 10 s is dropped. Nothing here blocks a
//! call: rendering reads snapshots only. `/proxy.stream` answers like
//! `/hystrix.stream`, so the dashboard's `monitor.html` can be served from
//! the same origin without its Java proxy.

use hystrix_core::observe::{prometheus, stream, StreamOptions};
use hystrix_core::{Config, Registry, RunError};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Clone)]
struct Options {
    interval: Duration,
    max_connections: usize,
    cors: Option<String>,
}

/// The writer side of each connected stream client.
type Clients = Arc<Mutex<Vec<SyncSender<Arc<str>>>>>;

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
    };
    let mut demo = true;
    while let Some(a) = args.next() {
        let mut value = |what: &str| args.next().unwrap_or_else(|| panic!("{what} needs a value"));
        match a.as_str() {
            "--interval-ms" => {
                opts.interval = Duration::from_millis(value(&a).parse().expect("--interval-ms: a number"))
            }
            "--max-connections" => opts.max_connections = value(&a).parse().expect("--max-connections: a number"),
            "--cors" => opts.cors = Some(value(&a)),
            "--no-demo" => demo = false,
            "--dump-metrics" => {
                print!("{}", sample_registry().render_prometheus());
                return Ok(());
            }
            _ => addr = a,
        }
    }
    let listener = TcpListener::bind(&addr)?;
    eprintln!("observe_server: http://{}/hystrix.stream and /metrics", listener.local_addr()?);
    if demo {
        start_demo_traffic();
    }
    let clients: Clients = Arc::default();
    let active = Arc::new(AtomicUsize::new(0));
    {
        let (clients, interval) = (clients.clone(), opts.interval);
        thread::spawn(move || ticker(Registry::global(), &clients, interval));
    }
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let (clients, active, opts) = (clients.clone(), active.clone(), opts.clone());
        thread::spawn(move || {
            let _ = handle(conn, &clients, &active, &opts);
        });
    }
    Ok(())
}

/// Renders one tick per interval and offers it to every client; a client
/// whose channel is full misses this tick, a gone one is forgotten.
fn ticker(reg: &Registry, clients: &Mutex<Vec<SyncSender<Arc<str>>>>, interval: Duration) {
    loop {
        thread::sleep(interval);
        let mut list = clients.lock().unwrap_or_else(|p| p.into_inner());
        if list.is_empty() {
            continue;
        }
        let mut tick = reg.render_stream_frames(reg.now_ms(), wall_clock_ms(), &StreamOptions::default());
        tick.push_str(stream::PING);
        let tick: Arc<str> = tick.into();
        list.retain(|tx| !matches!(tx.try_send(tick.clone()), Err(TrySendError::Disconnected(_))));
    }
}

/// Frees a stream slot when its writer ends, however it ends.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn handle(mut conn: TcpStream, clients: &Clients, active: &AtomicUsize, opts: &Options) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    conn.set_write_timeout(Some(Duration::from_secs(10)))?;
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
    let path = target.split('?').next().unwrap_or("");
    let cors = opts.cors.as_ref().map(|o| format!("Access-Control-Allow-Origin: {o}\r\n")).unwrap_or_default();
    if method != "GET" {
        return respond(&mut conn, "405 Method Not Allowed", "text/plain", &cors, "only GET\n");
    }
    match path {
        "/metrics" => {
            let body = Registry::global().render_prometheus();
            respond(&mut conn, "200 OK", prometheus::CONTENT_TYPE, &cors, &body)
        }
        "/hystrix.stream" | "/proxy.stream" => serve_stream(conn, clients, active, opts, &cors),
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
    active: &AtomicUsize,
    opts: &Options,
    cors: &str,
) -> std::io::Result<()> {
    if active.fetch_add(1, Ordering::SeqCst) >= opts.max_connections {
        active.fetch_sub(1, Ordering::SeqCst);
        let reason = format!("MaxConcurrentConnections reached: {}\n", opts.max_connections);
        return respond(&mut conn, "503 Service Unavailable", "text/plain", cors, &reason);
    }
    let _slot = Slot(active);
    let mut head = String::from("HTTP/1.1 200 OK\r\n");
    for (name, value) in stream::HEADERS {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(cors);
    head.push_str("Connection: close\r\n\r\n");
    conn.write_all(head.as_bytes())?;
    conn.flush()?;
    let (tx, rx): (SyncSender<Arc<str>>, Receiver<Arc<str>>) = sync_channel(2);
    clients.lock().unwrap_or_else(|p| p.into_inner()).push(tx);
    // Ends when a write fails (the client left, or stalled past the write
    // timeout); dropping `rx` then tells the ticker to forget this client.
    for tick in rx {
        conn.write_all(tick.as_bytes())?;
        conn.flush()?;
    }
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
