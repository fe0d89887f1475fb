//! Reads JSON configurations, one per line on stdin, and prints for each
//! whether the core accepts it: `ok`, or `err <key>` naming the key it
//! refuses. With the argument `schema`, prints the configuration schema
//! instead. The Rust side of the cross-binding differential check
//! (`tests/config-diff/`): every binding must give the same verdicts.

use hystrix_core::Config;
use std::io::{BufRead, Write};

fn main() {
    let mut out = std::io::stdout().lock();
    if std::env::args().nth(1).as_deref() == Some("schema") {
        writeln!(out, "{}", Config::schema_json()).expect("stdout");
        return;
    }
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin is UTF-8 text");
        let verdict = match Config::from_json(&line) {
            Ok(_) => "ok".to_string(),
            Err(e) => format!("err {}", e.key()),
        };
        writeln!(out, "{verdict}").expect("stdout");
    }
}
