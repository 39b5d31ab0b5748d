//! `valk-bench`: see `valk_bench::USAGE` and `bench/README.md`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match valk_bench::parse_args(&args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{}", valk_bench::USAGE);
            return;
        }
        Err(e) => {
            eprintln!("valk-bench: {e}");
            std::process::exit(2);
        }
    };
    match valk_bench::run(&options) {
        Ok(results) => {
            let failures = results.failures();
            let missing: Vec<&str> = results
                .engines
                .iter()
                .filter(|s| !s.available())
                .map(|s| s.engine.key())
                .collect();
            if !missing.is_empty() {
                eprintln!("valk-bench: engines not available: {}", missing.join(", "));
            }
            for (program, engine, kind, detail) in &failures {
                eprintln!(
                    "valk-bench: FAILED {program} on {}: {}: {detail}",
                    engine.key(),
                    kind.word()
                );
            }
            for e in results.engine_list() {
                if let Some((g, n)) = results.geomean_ratio(e) {
                    eprintln!(
                        "valk-bench: {:<12} geometric mean ratio to Chez {g:.2} ({n} programs)",
                        e.key()
                    );
                }
            }
        }
        Err(e) => {
            eprintln!("valk-bench: {e}");
            std::process::exit(1);
        }
    }
}
