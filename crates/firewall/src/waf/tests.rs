use super::*;

fn rules() -> WafRules {
    let rules = match WafRules::builtin() {
        Ok(rules) => rules,
        Err(e) => unreachable!("the built-in rules compile: {e}"),
    };
    rules
}

#[test]
fn builtin_rules_compile() {
    assert!(rules().len() > 20);
}
