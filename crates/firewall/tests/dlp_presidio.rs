//! DLP quality on Presidio's evaluation templates (`shared/corpora/dlp/presidio/templates.txt`,
//! microsoft/presidio-research, MIT) filled with fake values from a seeded generator: recall and
//! precision per entity, printed and held to a floor. Values follow the shapes common generators
//! (Faker and its locales) produce, in several formats each; the templates are not tuned for.

#[path = "dlp_presidio/fake.rs"]
mod fake;

use std::collections::BTreeMap;

use fake::{Filled, Rng, fill};
use warden_firewall::dlp::{DlpDetector, Entity};

const TEMPLATES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpora/dlp/presidio/templates.txt"
));

/// Fills per template.
const ROUNDS: usize = 40;

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    truths: usize,
    found: usize,
    findings: usize,
    correct: usize,
}

#[test]
fn presidio_templates_recall_and_precision_per_entity() {
    let Ok(detector) = DlpDetector::new() else {
        unreachable!("the default rules load")
    };
    let mut rng = Rng::new(0x5eed_0006);
    let mut tallies: BTreeMap<Entity, Tally> = BTreeMap::new();
    let mut misses: BTreeMap<Entity, Vec<String>> = BTreeMap::new();
    let mut false_positives: BTreeMap<Entity, Vec<String>> = BTreeMap::new();
    let templates: Vec<&str> = TEMPLATES.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut samples = 0;
    for _ in 0..ROUNDS {
        for template in &templates {
            let Filled { text, truths } = fill(template, &mut rng);
            samples += 1;
            let findings = detector.scan(&text);
            for truth in &truths {
                let tally = tallies.entry(truth.entity).or_default();
                tally.truths += 1;
                let hit = findings
                    .iter()
                    .any(|f| Entity::of(f) == Some(truth.entity) && f.start < truth.end && truth.start < f.end);
                if hit {
                    tally.found += 1;
                } else {
                    misses
                        .entry(truth.entity)
                        .or_default()
                        .push(text[truth.start..truth.end].to_owned());
                }
            }
            for finding in &findings {
                let Some(entity) = Entity::of(finding) else { continue };
                let tally = tallies.entry(entity).or_default();
                tally.findings += 1;
                let right = truths
                    .iter()
                    .any(|t| t.entity == entity && finding.start < t.end && t.start < finding.end);
                if right {
                    tally.correct += 1;
                } else {
                    let context = format!("{:?} in {:?}", &text[finding.start..finding.end], text);
                    false_positives.entry(entity).or_default().push(context);
                }
            }
        }
    }
    println!(
        "presidio templates: {} templates x {ROUNDS} fills = {samples} texts",
        templates.len()
    );
    println!(
        "{:<12} {:>7} {:>9} {:>7} {:>10}",
        "entity", "truths", "findings", "recall", "precision"
    );
    let mut below = Vec::new();
    for (entity, t) in &tallies {
        let recall = ratio(t.found, t.truths);
        let precision = ratio(t.correct, t.findings);
        println!(
            "{:<12} {:>7} {:>9} {:>7.3} {:>10.3}",
            entity.name(),
            t.truths,
            t.findings,
            recall,
            precision
        );
        for example in misses.get(entity).into_iter().flatten().take(5) {
            println!("    missed {example:?}");
        }
        for example in false_positives.get(entity).into_iter().flatten().take(5) {
            println!("    false positive {example}");
        }
        let floor = if *entity == Entity::Secret { 0.0 } else { 0.95 };
        if (t.truths > 0 && recall < floor) || precision < floor {
            below.push(format!(
                "{}: recall {recall:.3}, precision {precision:.3}",
                entity.name()
            ));
        }
    }
    let secrets = tallies.get(&Entity::Secret).map_or(0, |t| t.findings);
    assert!(
        secrets <= samples / 200,
        "{secrets} credential findings in PII-only text"
    );
    assert!(below.is_empty(), "below 0.95: {below:?}");
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}
