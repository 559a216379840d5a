//! Rough timing of injection scanning on a 2 KiB prompt: `cargo run --release --example injection_timing
//! [-- ascii|non-ascii] [stage]` where stage is `scan` (default), `normalize` or `model`. Prints wall time
//! per call; on a shared machine, divide `perf stat` cycles by the call count for a steadier figure.
//! BENCHMARKS.md figures come from the bench crate, not from here.

use std::hint::black_box;
use std::time::Instant;

use warden_firewall::InjectionDetector;
use warden_firewall::normalize::normalize;

const ROUNDS: u32 = 20_000;

fn prompt(non_ascii: bool) -> String {
    let sentence = if non_ascii {
        "Résumé du rapport trimestriel — coûts 📈 und Überblick, 東京の会議 & отчёт. "
    } else {
        "Please summarise the quarterly report and list the three largest cost items for the team. "
    };
    let mut text = String::new();
    while text.len() + sentence.len() <= 2048 {
        text.push_str(sentence);
    }
    text
}

fn main() {
    let mut args = std::env::args().skip(1);
    let text = prompt(args.next().is_some_and(|a| a == "non-ascii"));
    let stage = args.next().unwrap_or_else(|| "scan".to_owned());
    let detector = InjectionDetector::default();
    let normalized = normalize(&text);
    let start = Instant::now();
    for _ in 0..ROUNDS {
        match stage.as_str() {
            "normalize" => drop(black_box(normalize(black_box(&text)))),
            "model" => drop(black_box(detector.model_probability(black_box(&text)))),
            "rules" => drop(black_box(detector.scan_normalized(black_box(&text), &normalized))),
            _ => drop(black_box(detector.scan(black_box(&text)))),
        }
    }
    let nanos = start.elapsed().as_nanos() / u128::from(ROUNDS);
    println!("{stage} of {} bytes: {nanos} ns per call ({ROUNDS} calls)", text.len());
}
