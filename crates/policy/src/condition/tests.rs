use serde_json::json;

use super::*;

#[test]
fn operands_are_checked_at_load() {
    assert!(Test::compile("in", json!("x")).is_err());
    assert!(Test::compile("regex", json!(1)).is_err());
    assert!(Test::compile("regex", json!("(")).is_err());
    assert!(Test::compile("cidr", json!(["10.0.0.0/33"])).is_err());
    assert!(Test::compile("gt", json!([1])).is_err());
    assert!(Test::compile("exists", json!("yes")).is_err());
    assert!(Test::compile("cidr", json!("10.0.0.1")).is_ok());
}

#[test]
fn numbers_compare_by_value() {
    assert!(json_eq(&json!(1), &json!(1.0)));
    assert!(json_eq(&json!({"a": [1, 2]}), &json!({"a": [1.0, 2]})));
    assert!(!json_eq(&json!("1"), &json!(1)));
}
