//! `hystrix-conformance PATH...`: replays every scenario file under each
//! PATH through the Rust core, prints `ok`/`FAIL` per scenario and ends with
//! `rust: N passed, M failed`. Exits 1 if anything failed.

mod replay;
mod scenario;

use std::path::{Path, PathBuf};

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(path)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
        entries.sort();
        for e in entries {
            collect(&e, out)?;
        }
    } else if path.extension().is_some_and(|x| x == "json") {
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!("usage: hystrix-conformance PATH...");
        std::process::exit(2);
    }
    let mut files = vec![];
    for a in &args {
        if let Err(e) = collect(Path::new(a), &mut files) {
            eprintln!("cannot read {a}: {e}");
            std::process::exit(2);
        }
    }
    let (mut passed, mut failed) = (0, 0);
    for f in &files {
        let shown = f.display();
        let result = std::fs::read_to_string(f)
            .map_err(|e| e.to_string())
            .and_then(|text| scenario::parse(&text))
            .and_then(|s| replay::run(&s).map(|()| s.name.clone()).map_err(|d| format!("{}: {d}", s.name)));
        match result {
            Ok(name) => {
                passed += 1;
                println!("ok   {shown}: {name}");
            }
            Err(diff) => {
                failed += 1;
                println!("FAIL {shown}: {diff}");
            }
        }
    }
    println!("rust: {passed} passed, {failed} failed");
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
