//! The YAML case corpus: every file under `tests/cases/` names a policy (fixture files or inline YAML)
//! and a list of requests with the decision and deciding rule expected. One test runs them all and
//! reports every mismatch at once. The file format and the check are `warden_policy::cases`; this test
//! only reads the files, which the crate itself never does.

use std::collections::BTreeMap;
use std::path::Path;

use warden_policy::cases::{self, CaseFile};
use warden_policy::{PolicySet, PolicySource};

fn read(path: &Path) -> String {
    let Ok(text) = std::fs::read_to_string(path) else {
        unreachable!("{} is readable", path.display())
    };
    text
}

fn load_policy(dir: &Path, file: &CaseFile) -> Result<PolicySet, String> {
    let mut texts: Vec<(String, String)> = file
        .fixtures
        .iter()
        .map(|name| (name.clone(), read(&dir.join("fixtures").join(name))))
        .collect();
    if let Some(inline) = &file.policy {
        texts.push(("inline".to_owned(), inline.clone()));
    }
    let sources: Vec<PolicySource<'_>> = texts.iter().map(|(file, text)| PolicySource { file, text }).collect();
    PolicySet::load(&sources).map_err(|e| e.to_string())
}

#[test]
fn the_case_corpus_decides_as_written() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let Ok(entries) = std::fs::read_dir(dir.join("cases")) else {
        unreachable!("tests/cases exists")
    };
    let mut files: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    let mut failures: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut count = 0;
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "yaml")) {
        let label = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = match CaseFile::from_yaml(&read(path)) {
            Ok(file) => file,
            Err(e) => {
                failures.insert(label, vec![format!("unreadable case file: {e}")]);
                continue;
            }
        };
        let set = match load_policy(&dir, &file) {
            Ok(set) => set,
            Err(e) => {
                failures.insert(label, vec![format!("policy does not load: {e}")]);
                continue;
            }
        };
        for case in &file.cases {
            count += 1;
            let report = cases::check(&set, case);
            if report.passed() {
                continue;
            }
            let mut lines: Vec<String> = report
                .mismatches
                .iter()
                .map(|m| format!("{}: expected {}, got {}", m.field, m.expected, m.actual))
                .collect();
            lines.push(format!("reasons: {:?}", report.decision.reasons));
            lines.push(format!("trace: {:?}", report.decision.trace));
            let line = case.line.unwrap_or(0);
            failures.insert(format!("{label}:{line} / {}", case.name), lines);
        }
    }
    let report: Vec<String> = failures
        .iter()
        .map(|(name, diffs)| format!("{name}:\n    {}", diffs.join("\n    ")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        report.join("\n")
    );
    assert!(count >= 100, "the corpus shrank to {count} cases");
}
