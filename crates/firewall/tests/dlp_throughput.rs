//! Prints how long a DLP scan of a 2 KiB prompt takes (ASCII prose with some PII, and text with
//! non-ASCII characters). Informational only: run in release with `--nocapture`; nothing is asserted
//! about time, since shared CI machines make timing assertions flaky.

use std::time::{Duration, Instant};

use warden_firewall::dlp::DlpDetector;

const ASCII_PARAGRAPH: &str = "Please summarize the attached quarterly report for the board and keep the tone neutral. \
The customer Jane Doe (jane.doe@example.com, phone 555-234-5678) asked whether her card 4111 1111 1111 1111 \
was charged twice on 2024-03-14; our API access logs show two requests from 192.168.10.254 at 10:30:45. \
Remember that the staging token configuration lives in the vault and must never be pasted into a ticket. ";

const UNICODE_PARAGRAPH: &str = "Résumé de la réunion: l'équipe a validé le budget — 12 000 € — et la clé d'accès \
reste dans le coffre. 東京のオフィスでは、顧客の電話番号 +81 3 1234 5678 を確認しました。Ünïcödé façade, naïve \
café, Ελληνικά κείμενα και русский текст для проверки скорости; ключ API не публикуется. ";

fn two_kib(paragraph: &str) -> String {
    let mut text = String::with_capacity(2100);
    while text.len() < 2048 {
        text.push_str(paragraph);
    }
    let mut cut = 2048;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text
}

fn measure(detector: &DlpDetector, name: &str, text: &str) {
    let mut findings = Vec::new();
    for _ in 0..200 {
        findings.clear();
        detector.scan_into(text, &mut findings);
    }
    let mut samples: Vec<Duration> = Vec::with_capacity(3000);
    for _ in 0..3000 {
        let start = Instant::now();
        findings.clear();
        detector.scan_into(text, &mut findings);
        samples.push(start.elapsed());
    }
    samples.sort();
    let total: Duration = samples.iter().sum();
    let mean = total / samples.len() as u32;
    let p50 = samples[samples.len() / 2];
    let p99 = samples[samples.len() * 99 / 100];
    // The minimum is what the code costs; the percentiles also show what else ran on the machine.
    let min = samples[0];
    let mb_per_s = text.len() as f64 / mean.as_secs_f64() / 1e6;
    println!(
        "dlp {name:<14} {} bytes, {} findings: min {:?}, mean {:?}, p50 {:?}, p99 {:?}, {:.0} MB/s at the mean",
        text.len(),
        findings.len(),
        min,
        mean,
        p50,
        p99,
        mb_per_s
    );
}

#[test]
fn dlp_scan_time_per_2_kib_prompt() {
    let Ok(full) = DlpDetector::new() else {
        unreachable!("the default rules load")
    };
    let Ok(pii) = DlpDetector::pii_only() else {
        unreachable!("the PII pattern compiles")
    };
    for (name, paragraph) in [("ascii", ASCII_PARAGRAPH), ("non-ascii", UNICODE_PARAGRAPH)] {
        let text = two_kib(paragraph);
        measure(&full, name, &text);
        measure(&pii, &format!("{name}/pii"), &text);
    }
}
