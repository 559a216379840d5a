//! Rough per-stage timing of injection scanning on a 2 KiB prompt (`cargo run --release --example
//! injection_timing`); BENCHMARKS.md figures come from the bench crate, not from here.

use std::hint::black_box;
use std::time::Instant;

use warden_firewall::InjectionDetector;
use warden_firewall::normalize::normalize;

fn main() {
    let detector = InjectionDetector::default();
    let sentence = "Please summarise the quarterly report and list the three largest cost items for the team. ";
    let text: String = sentence.repeat(2048 / sentence.len() + 1).chars().take(2048).collect();
    let rounds = 20_000u32;
    let time = |label: &str, f: &dyn Fn()| {
        let start = Instant::now();
        for _ in 0..rounds {
            f();
        }
        println!("{label:14} {:8} ns", start.elapsed().as_nanos() / u128::from(rounds));
    };
    let normalized = normalize(&text);
    time("normalize", &|| {
        black_box(normalize(black_box(&text)));
    });
    time("scan (total)", &|| {
        black_box(detector.scan(black_box(&text)));
    });
    time("scan (no norm)", &|| {
        black_box(detector.scan_normalized(black_box(&text), &normalized));
    });
    time("model", &|| {
        black_box(detector.model_probability(black_box(&text)));
    });
}
