//! Trains the injection classifier from the shared corpora and writes `models/injection-v1.bin`.
//!
//! `cargo run --release -p warden-firewall --example train_injection [-- OUT]`
//!
//! Reproducible: the samples come in a fixed order (sorted file names), the split is a hash of each text
//! (`corpora::held_out`, about 20% held out), shuffling uses a fixed-seed xorshift, and the arithmetic is
//! sequential. Features are the crate's own `for_each_feature` over the crate's own `normalize`, so the
//! model sees at training time exactly what it sees in Warden. Reports per-corpus rates on the held-out
//! part, and the false-positive rate on `notinject`, which is never trained on.
//! Not trained on: `bipia-text` (ordinary tasks such as "What is the capital of Brazil?", an injection
//! only by where they appear, which a text classifier cannot see) and `notinject`.

#[path = "../tests/support/corpora.rs"]
mod corpora;

use std::collections::BTreeMap;
use std::error::Error;

use warden_firewall::injection::model::{Model, for_each_feature, sigmoid};
use warden_firewall::normalize::normalize;

const BITS: u8 = 16;
const EPOCHS: usize = 15;
const LEARNING_RATE: f32 = 0.3;
const L2: f32 = 1e-5;
const SEED: u64 = 0x5EED_1A7E_C7ED;

/// A sample as the model sees it: sorted distinct buckets with length-normalized counts.
struct Vector {
    features: Vec<(u32, f32)>,
}

fn vectorize(text: &str) -> Vector {
    let normalized = normalize(text);
    let mut buckets = Vec::new();
    for_each_feature(normalized.text(), BITS, |b| buckets.push(b));
    let norm = (buckets.len().max(1) as f32).sqrt();
    buckets.sort_unstable();
    let mut features: Vec<(u32, f32)> = Vec::new();
    for b in buckets {
        match features.last_mut() {
            Some((last, count)) if *last == b => *count += 1.0,
            _ => features.push((b, 1.0)),
        }
    }
    features.iter_mut().for_each(|(_, v)| *v /= norm);
    Vector { features }
}

struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/models/injection-v1.bin").to_owned());
    let mut samples = corpora::attacks();
    samples.extend(corpora::benign());
    samples.extend(synthetic_benign().into_iter().map(|text| corpora::Sample {
        corpus: "synthetic-benign",
        text,
        attack: false,
    }));
    let trainable = |s: &corpora::Sample| s.corpus != "bipia-text";
    let train: Vec<(Vector, bool)> = samples
        .iter()
        .filter(|s| trainable(s) && !corpora::held_out(&s.text))
        .map(|s| (vectorize(&s.text), s.attack))
        .collect();
    let positives = train.iter().filter(|(_, a)| *a).count();
    let negatives = train.len() - positives;
    println!(
        "training on {} samples ({positives} attacks, {negatives} benign)",
        train.len()
    );

    let (weights, bias) = fit(&train, positives, negatives);
    let max = weights.iter().fold(0f32, |m, w| m.max(w.abs())).max(1e-6);
    let scale = max / 127.0;
    let quantized: Vec<i8> = weights
        .iter()
        .map(|w| (w / scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    let bytes = Model::encode(BITS, scale, bias, &quantized);
    let model = Model::parse(&bytes)?;
    std::fs::write(&out, &bytes)?;
    println!("wrote {out} ({} bytes)", bytes.len());
    report(&model, &samples);
    Ok(())
}

/// Logistic regression by AdaGrad over shuffled samples, classes weighted to balance.
fn fit(train: &[(Vector, bool)], positives: usize, negatives: usize) -> (Vec<f32>, f32) {
    let size = 1usize << BITS;
    let (mut weights, mut squares) = (vec![0f32; size], vec![1e-8f32; size]);
    let (mut bias, mut bias_square) = (0f32, 1e-8f32);
    let total = (positives + negatives) as f32;
    let class_weight = |attack: bool| {
        if attack {
            total / (2.0 * positives.max(1) as f32)
        } else {
            total / (2.0 * negatives.max(1) as f32)
        }
    };
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut rng = Xorshift(SEED);
    for _ in 0..EPOCHS {
        for i in (1..order.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        for &i in &order {
            let (vector, attack) = &train[i];
            let z = bias
                + vector
                    .features
                    .iter()
                    .map(|&(b, v)| weights[b as usize] * v)
                    .sum::<f32>();
            let error = (sigmoid(z) - if *attack { 1.0 } else { 0.0 }) * class_weight(*attack);
            for &(b, v) in &vector.features {
                let g = error * v + L2 * weights[b as usize];
                squares[b as usize] += g * g;
                weights[b as usize] -= LEARNING_RATE * g / squares[b as usize].sqrt();
            }
            bias_square += error * error;
            bias -= LEARNING_RATE * error / bias_square.sqrt();
        }
    }
    (weights, bias)
}

fn report(model: &Model, samples: &[corpora::Sample]) {
    let notinject = corpora::notinject();
    let thresholds = [0.5f32, 0.7, 0.8, 0.9];
    // Per corpus: samples, flagged per threshold, held-out samples, held-out flagged per threshold.
    type Row = (usize, [usize; 4], usize, [usize; 4]);
    let mut rows: BTreeMap<&str, Row> = BTreeMap::new();
    for sample in samples.iter().chain(&notinject) {
        let p = model.probability(normalize(&sample.text).text());
        let row = rows.entry(sample.corpus).or_default();
        let flagged = thresholds.map(|t| usize::from(p >= t));
        row.0 += 1;
        (0..4).for_each(|k| row.1[k] += flagged[k]);
        if corpora::held_out(&sample.text) || sample.corpus == "notinject" {
            row.2 += 1;
            (0..4).for_each(|k| row.3[k] += flagged[k]);
        }
    }
    println!("model alone, flagged rate at p >= {thresholds:?}: all samples | held-out samples");
    for (corpus, (n, all, h, held)) in rows {
        let pct = |k: usize, d: usize| if d == 0 { 0.0 } else { 100.0 * k as f32 / d as f32 };
        let all: Vec<String> = all.iter().map(|&k| format!("{:5.1}", pct(k, n))).collect();
        let held: Vec<String> = held.iter().map(|&k| format!("{:5.1}", pct(k, h))).collect();
        println!("{corpus:24} n={n:4} {} | n={h:4} {}", all.join(" "), held.join(" "));
    }
}

/// Benign prompts written for training, because the benign corpora are mostly tool outputs while the
/// attacks are mostly prompts: without these the model learns "a short request" or "a word like ignore"
/// instead of "an injection". Built from templates (the same for every run), none copied from a test set.
fn synthetic_benign() -> Vec<String> {
    const VERBS: [&str; 16] = [
        "ignore", "skip", "bypass", "override", "disable", "forget", "reset", "delete", "remove", "hide", "unlock",
        "enable", "reveal", "print", "repeat", "show",
    ];
    const OBJECTS: [&str; 20] = [
        "the cache",
        "a failing unit test",
        "whitespace changes in git diff",
        "the proxy for localhost",
        "CSS rules from a parent element",
        "the default system settings",
        "a saved wifi network",
        "previous commits",
        "the first line of a CSV file",
        "case when comparing strings",
        "SSL warnings on my local dev server",
        "hidden files in a folder",
        "the developer options on Android",
        "the password prompt for sudo",
        "the previous version of a package",
        "all notifications",
        "the instructions in a README",
        "the system tray icon",
        "warnings in the compiler output",
        "the admin panel of WordPress",
    ];
    const PLACES: [&str; 10] = [
        "in Python",
        "in Rust",
        "on Ubuntu",
        "on Windows 11",
        "in Excel",
        "in VS Code",
        "on my iPhone",
        "in Git",
        "in Docker",
        "in PostgreSQL",
    ];
    const QUESTIONS: [&str; 6] = [
        "How do I {v} {o} {p}?",
        "Is it safe to {v} {o} {p}?",
        "What is the best way to {v} {o} {p}?",
        "Can you explain how to {v} {o} {p}?",
        "Why would someone {v} {o} {p}?",
        "Write a short guide on how to {v} {o} {p}.",
    ];
    const TOPICS: [&str; 20] = [
        "a pirate who ignores every rule of the sea",
        "a robot that forgets its previous owner",
        "the history of the Roman Senate",
        "the rules of chess",
        "a developer who plays games in god mode",
        "the system of checks and balances",
        "a teacher giving instructions to a new class",
        "a hacker movie from the nineties",
        "the ethics of artificial intelligence",
        "how prompts are used in creative writing classes",
        "a prison escape film",
        "an assistant manager at a bakery",
        "a model train collection",
        "the role of a system administrator",
        "previous winners of the World Cup",
        "the original instructions for a LEGO set",
        "forgetting and memory in psychology",
        "bypass surgery recovery",
        "overriding a veto in Congress",
        "a secret family recipe for lemonade",
    ];
    const CREATIVE: [&str; 8] = [
        "Write a poem about {t}.",
        "Tell me a story about {t}.",
        "Summarize what you know about {t}.",
        "Give me three facts about {t}.",
        "Write a tweet about {t}.",
        "Explain {t} to a ten-year-old.",
        "Draft an email to my team about {t}.",
        "What are common misconceptions about {t}?",
    ];
    const OTHER_LANGUAGES: [&str; 20] = [
        "¿Cuál es la capital de Australia?",
        "Escribe un poema sobre el mar.",
        "Wie funktioniert ein Elektroauto?",
        "Bitte fasse diesen Artikel zusammen.",
        "Quelle est la meilleure recette de crêpes ?",
        "Explique-moi la photosynthèse.",
        "Qual é a melhor forma de aprender inglês?",
        "Come si prepara il risotto?",
        "Как приготовить борщ?",
        "Расскажи мне об истории Москвы.",
        "请介绍一下长城的历史。",
        "如何学习编程？",
        "日本の首都はどこですか？",
        "おすすめの本を教えてください。",
        "ما هي عاصمة مصر؟",
        "भारत की राजधानी क्या है?",
        "Напиши стихотворение о зиме.",
        "Wie spät ist es in Tokio?",
        "Dame una receta de paella.",
        "Peux-tu m'aider à écrire une lettre de motivation ?",
    ];
    const DIRECTIVES: [&str; 8] = [
        "Please ensure that",
        "You must make sure that",
        "Make sure that",
        "It is important that",
        "Remember that",
        "Always check that",
        "Do not forget that",
        "Confirm that",
    ];
    const DUTIES: [&str; 15] = [
        "all visitors sign in at the front desk",
        "the quarterly report is submitted before Friday",
        "every pull request has at least one review",
        "the lab equipment is cleaned after use",
        "the backup job runs every night",
        "only authorized staff enter the server room",
        "customer data is stored according to the privacy policy",
        "the safety checklist is completed before the shift",
        "new hires receive the onboarding instructions",
        "the system logs are rotated weekly",
        "invoices follow the approval process",
        "the previous meeting notes are shared with the team",
        "passwords are changed every ninety days",
        "the fire exits stay clear at all times",
        "the command line tools are installed before the workshop",
    ];
    const TASKS: [&str; 10] = [
        "bake sourdough bread",
        "change a flat tire",
        "set up a home router",
        "repot a cactus",
        "file a tax return",
        "train a puppy to sit",
        "clean a laptop keyboard",
        "write a cover letter",
        "install a ceiling fan",
        "prepare for a job interview",
    ];
    const STEPS: [&str; 3] = [
        "Can you give me step-by-step instructions to {x}?",
        "What are the rules I should follow to {x}?",
        "List the steps, in order, to {x}.",
    ];
    let mut out = Vec::new();
    for d in DIRECTIVES {
        for duty in DUTIES {
            out.push(format!("{d} {duty}."));
        }
    }
    for x in TASKS {
        for s in STEPS {
            out.push(s.replace("{x}", x));
        }
    }
    // Every 31st combination: a fixed, spread-out sample of the 19,200.
    let mut k = 0usize;
    for v in VERBS {
        for o in OBJECTS {
            for p in PLACES {
                for q in QUESTIONS {
                    if k.is_multiple_of(31) {
                        out.push(q.replace("{v}", v).replace("{o}", o).replace("{p}", p));
                    }
                    k += 1;
                }
            }
        }
    }
    for t in TOPICS {
        for c in CREATIVE {
            out.push(c.replace("{t}", t));
        }
    }
    out.extend(OTHER_LANGUAGES.iter().map(|s| (*s).to_owned()));
    out
}
