use serde::Deserialize;
use serde_json::json;

use super::{RequestsFile, SimulateView, render};

fn view() -> SimulateView {
    let answer = json!({
        "active_policy": "aaa", "candidate_policy": "bbb", "changed": 2,
        "results": [
            {"agent": "reader", "action": "doc:read", "resource": "doc:public/readme", "changed": false,
             "active": {"decision": "allow", "deciding_rule": "allow-readers", "basis": "rule", "reasons": []},
             "candidate": {"decision": "allow", "deciding_rule": "allow-readers", "basis": "rule", "reasons": []}},
            {"agent": "reader", "action": "doc:read", "resource": "doc:public/drafts/x", "changed": true,
             "active": {"decision": "allow", "deciding_rule": "allow-readers", "basis": "rule", "reasons": []},
             "candidate": {"decision": "deny", "deciding_rule": "deny-drafts", "basis": "rule", "reasons": []}},
            {"agent": "ops", "action": "db:drop", "resource": "db:prod", "changed": true,
             "active": {"decision": "deny", "deciding_rule": null, "basis": "no_match", "reasons": []},
             "candidate": {"decision": "allow", "deciding_rule": null, "basis": "grant", "reasons": []}},
            {"agent": "ops", "action": "db:read", "resource": "db:prod", "changed": false,
             "active": {"decision": "allow", "deciding_rule": "a", "basis": "rule", "reasons": []},
             "candidate": {"decision": "allow", "deciding_rule": "b", "basis": "rule", "reasons": []}},
        ],
    });
    match SimulateView::deserialize(&answer) {
        Ok(view) => view,
        Err(error) => unreachable!("{error}"),
    }
}

#[test]
fn only_changed_decisions_are_listed_by_default() {
    assert_eq!(
        render(&view(), false),
        "active policy     aaa
candidate policy  bbb
reader doc:read doc:public/drafts/x: allow -> deny (rule allow-readers -> rule deny-drafts)
ops db:drop db:prod: deny -> allow (no rule matched -> a grant)
2 of 4 decisions would change
"
    );
}

#[test]
fn all_lists_every_request_in_order() {
    let text = render(&view(), true);
    let rows: Vec<&str> = text.lines().skip(2).collect();
    assert_eq!(
        rows,
        [
            "reader doc:read doc:public/readme: allow (rule allow-readers)",
            "reader doc:read doc:public/drafts/x: allow -> deny (rule allow-readers -> rule deny-drafts)",
            "ops db:drop db:prod: deny -> allow (no rule matched -> a grant)",
            "ops db:read db:prod: allow (rule a -> rule b)",
            "2 of 4 decisions would change",
        ]
    );
}

#[test]
fn a_requests_file_is_checked_for_unknown_keys() {
    let good: Result<RequestsFile, _> = serde_saphyr::from_str(
        "requests:\n  - {agent: reader, action: \"doc:read\", resource: x, context: {mfa: true, n: 3}, now: \"2026-11-16T10:00:00Z\"}\n",
    );
    let Ok(good) = good else { unreachable!("{good:?}") };
    let sent = serde_json::to_value(&good.requests);
    assert!(
        sent.as_ref().is_ok_and(|v| v
            == &json!([{"agent": "reader", "action": "doc:read", "resource": "x",
                         "context": {"mfa": true, "n": 3}, "now": "2026-11-16T10:00:00Z"}])),
        "{sent:?}"
    );
    let bad: Result<RequestsFile, _> =
        serde_saphyr::from_str("requests:\n  - {agent: reader, action: x, resource: y, contxt: {}}\n");
    assert!(bad.is_err_and(|e| e.to_string().contains("contxt")));
}
