//! Conditions: `all`/`any`/`not` trees of attribute tests and time windows, judged in three-valued
//! logic so a missing attribute is never mistaken for `false`.

use std::cmp::Ordering;
use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use regex::{Regex, RegexBuilder};
use serde_json::Value;

use crate::TimeWindow;
use crate::canonical::canonical_json;
use crate::path::{Attr, Facts, Path};

/// Largest compiled regex accepted in a policy file.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A condition tree.
#[derive(Debug, Clone)]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    Test { path: Path, test: Test },
    Time(TimeWindow),
}

/// One operator with its operand, compiled at load.
#[derive(Debug, Clone)]
pub enum Test {
    Eq(Value),
    Ne(Value),
    Gt(Value),
    Lt(Value),
    Gte(Value),
    Lte(Value),
    In(Vec<Value>),
    NotIn(Vec<Value>),
    /// Anchored: matches the whole value.
    Regex(Regex),
    Contains(Value),
    Cidr(Vec<IpNet>),
    Exists(bool),
}

/// The outcome of a condition: Kleene logic with the reason a value is unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Truth {
    True,
    False,
    /// The request lacks this attribute.
    Missing(String),
    /// The attribute is there but the test cannot be applied to it.
    Error(String),
}

impl Truth {
    fn from_bool(value: bool) -> Truth {
        if value { Truth::True } else { Truth::False }
    }
}

impl Test {
    /// Compiles `op` with its operand as written in a policy file.
    pub fn compile(op: &str, value: Value) -> Result<Test, String> {
        let test = match op {
            "eq" => Test::Eq(value),
            "ne" => Test::Ne(value),
            "gt" | "lt" | "gte" | "lte" => {
                if !(value.is_number() || value.is_string()) {
                    return Err(format!("`{op}` compares with a number or a string, not {value}"));
                }
                match op {
                    "gt" => Test::Gt(value),
                    "lt" => Test::Lt(value),
                    "gte" => Test::Gte(value),
                    _ => Test::Lte(value),
                }
            }
            "in" | "not_in" => {
                let Value::Array(items) = value else {
                    return Err(format!("`{op}` needs a list, not {value}"));
                };
                if op == "in" {
                    Test::In(items)
                } else {
                    Test::NotIn(items)
                }
            }
            "regex" => {
                let Value::String(pattern) = value else {
                    return Err(format!("`regex` needs a string, not {value}"));
                };
                let regex = RegexBuilder::new(&format!("^(?:{pattern})$"))
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|e| format!("invalid regex `{pattern}`: {e}"))?;
                Test::Regex(regex)
            }
            "contains" => Test::Contains(value),
            "cidr" => Test::Cidr(compile_cidrs(value)?),
            "exists" => {
                let Value::Bool(expected) = value else {
                    return Err(format!("`exists` needs true or false, not {value}"));
                };
                Test::Exists(expected)
            }
            other => {
                return Err(format!(
                    "unknown operator `{other}` (eq, ne, gt, lt, gte, lte, in, not_in, regex, contains, cidr, exists)"
                ));
            }
        };
        Ok(test)
    }

    fn name(&self) -> &'static str {
        match self {
            Test::Eq(_) => "eq",
            Test::Ne(_) => "ne",
            Test::Gt(_) => "gt",
            Test::Lt(_) => "lt",
            Test::Gte(_) => "gte",
            Test::Lte(_) => "lte",
            Test::In(_) => "in",
            Test::NotIn(_) => "not_in",
            Test::Regex(_) => "regex",
            Test::Contains(_) => "contains",
            Test::Cidr(_) => "cidr",
            Test::Exists(_) => "exists",
        }
    }

    fn apply(&self, path: &Path, attr: Option<Attr<'_>>) -> Truth {
        if let Test::Exists(expected) = self {
            return Truth::from_bool(attr.is_some() == *expected);
        }
        let Some(attr) = attr else {
            return Truth::Missing(path.to_string());
        };
        let outcome = match self {
            Test::Eq(value) => Ok(attr_eq(attr, value)),
            Test::Ne(value) => Ok(!attr_eq(attr, value)),
            Test::Gt(value) => compare(attr, value).map(|o| o == Ordering::Greater),
            Test::Lt(value) => compare(attr, value).map(|o| o == Ordering::Less),
            Test::Gte(value) => compare(attr, value).map(|o| o != Ordering::Less),
            Test::Lte(value) => compare(attr, value).map(|o| o != Ordering::Greater),
            Test::In(items) => Ok(is_in(attr, items)),
            Test::NotIn(items) => Ok(!is_in(attr, items)),
            Test::Regex(regex) => regex_match(attr, regex),
            Test::Contains(value) => contains(attr, value),
            Test::Cidr(nets) => cidr_match(attr, nets),
            Test::Exists(_) => Ok(true),
        };
        match outcome {
            Ok(value) => Truth::from_bool(value),
            Err(reason) => Truth::Error(format!("`{path}` {}: {reason}", self.name())),
        }
    }
}

impl Condition {
    pub(crate) fn evaluate(&self, facts: &Facts<'_>) -> Truth {
        match self {
            Condition::All(items) => {
                let mut unknown = None;
                for item in items {
                    match item.evaluate(facts) {
                        Truth::False => return Truth::False,
                        Truth::True => {}
                        other => {
                            unknown.get_or_insert(other);
                        }
                    }
                }
                unknown.unwrap_or(Truth::True)
            }
            Condition::Any(items) => {
                let mut unknown = None;
                for item in items {
                    match item.evaluate(facts) {
                        Truth::True => return Truth::True,
                        Truth::False => {}
                        other => {
                            unknown.get_or_insert(other);
                        }
                    }
                }
                unknown.unwrap_or(Truth::False)
            }
            Condition::Not(inner) => match inner.evaluate(facts) {
                Truth::True => Truth::False,
                Truth::False => Truth::True,
                unknown => unknown,
            },
            Condition::Test { path, test } => test.apply(path, path.read(facts)),
            Condition::Time(window) => match window.contains(facts.request.now) {
                Ok(inside) => Truth::from_bool(inside),
                Err(reason) => Truth::Error(reason),
            },
        }
    }
}

fn compile_cidrs(value: Value) -> Result<Vec<IpNet>, String> {
    let items = match value {
        Value::Array(items) => items,
        single @ Value::String(_) => vec![single],
        other => return Err(format!("`cidr` needs a CIDR or a list of them, not {other}")),
    };
    items
        .iter()
        .map(|item| {
            let text = item.as_str().ok_or_else(|| format!("`{item}` is not a CIDR"))?;
            text.parse::<IpNet>()
                .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("`{text}` is not a CIDR such as 10.0.0.0/8"))
        })
        .collect()
}

/// JSON equality with numbers compared by value, so `1` equals `1.0`.
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(xs), Value::Array(ys)) => xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| json_eq(x, y)),
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len() && xs.iter().all(|(k, x)| ys.get(k).is_some_and(|y| json_eq(x, y)))
        }
        _ => a == b,
    }
}

fn attr_eq(attr: Attr<'_>, value: &Value) -> bool {
    match attr {
        Attr::Str(s) => value.as_str() == Some(s),
        Attr::Strs(list) => value.as_array().is_some_and(|items| {
            items.len() == list.len() && items.iter().zip(list).all(|(v, s)| v.as_str() == Some(s))
        }),
        Attr::Json(json) => json_eq(json, value),
    }
}

fn compare(attr: Attr<'_>, value: &Value) -> Result<Ordering, String> {
    let mismatch = || format!("cannot compare {} with {value}", describe(attr));
    match (attr, value) {
        (Attr::Str(s), Value::String(v)) => Ok(s.cmp(v.as_str())),
        (Attr::Json(Value::Number(n)), Value::Number(v)) => {
            let (Some(a), Some(b)) = (n.as_f64(), v.as_f64()) else {
                return Err(mismatch());
            };
            a.partial_cmp(&b).ok_or_else(mismatch)
        }
        _ => Err(mismatch()),
    }
}

/// `in`: a single value is one of the items; a list has at least one element among them.
fn is_in(attr: Attr<'_>, items: &[Value]) -> bool {
    match attr {
        Attr::Str(s) => items.iter().any(|v| v.as_str() == Some(s)),
        Attr::Strs(list) => list
            .iter()
            .any(|s| items.iter().any(|v| v.as_str() == Some(s.as_str()))),
        Attr::Json(Value::Array(values)) => values.iter().any(|x| items.iter().any(|v| json_eq(x, v))),
        Attr::Json(json) => items.iter().any(|v| json_eq(json, v)),
    }
}

/// `contains`: a list has the value as an element; a string has it as a substring.
fn contains(attr: Attr<'_>, value: &Value) -> Result<bool, String> {
    match attr {
        Attr::Strs(list) => Ok(value.as_str().is_some_and(|v| list.iter().any(|s| s == v))),
        Attr::Json(Value::Array(items)) => Ok(items.iter().any(|x| json_eq(x, value))),
        Attr::Str(s) => match value.as_str() {
            Some(v) => Ok(s.contains(v)),
            None => Err(format!("a string cannot contain {value}")),
        },
        other => Err(format!("{} cannot contain anything", describe(other))),
    }
}

/// `regex` on a list matches when any element matches.
fn regex_match(attr: Attr<'_>, regex: &Regex) -> Result<bool, String> {
    match attr {
        Attr::Str(s) => Ok(regex.is_match(s)),
        Attr::Strs(list) => Ok(list.iter().any(|s| regex.is_match(s))),
        Attr::Json(Value::Array(items)) => Ok(items.iter().any(|v| v.as_str().is_some_and(|s| regex.is_match(s)))),
        other => Err(format!("{} is not text", describe(other))),
    }
}

fn cidr_match(attr: Attr<'_>, nets: &[IpNet]) -> Result<bool, String> {
    let text = match attr {
        Attr::Str(s) => s,
        other => return Err(format!("{} is not an IP address", describe(other))),
    };
    let ip: IpAddr = text.parse().map_err(|_| format!("`{text}` is not an IP address"))?;
    Ok(nets.iter().any(|net| net.contains(&ip)))
}

fn describe(attr: Attr<'_>) -> String {
    match attr {
        Attr::Str(s) => format!("`{s}`"),
        Attr::Strs(_) => "a list".to_owned(),
        Attr::Json(value) => format!("`{value}`"),
    }
}

/// The canonical text of a condition, hashed into the policy-set hash.
impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, name: &str, items: &[Condition]| -> fmt::Result {
            write!(f, "{name}(")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{item}")?;
            }
            f.write_str(")")
        };
        match self {
            Condition::All(items) => list(f, "all", items),
            Condition::Any(items) => list(f, "any", items),
            Condition::Not(inner) => write!(f, "not({inner})"),
            Condition::Time(window) => write!(f, "{window}"),
            Condition::Test { path, test } => {
                write!(f, "{path} {} ", test.name())?;
                match test {
                    Test::Eq(v) | Test::Ne(v) | Test::Gt(v) | Test::Lt(v) | Test::Gte(v) | Test::Lte(v) => {
                        f.write_str(&canonical_json(v))
                    }
                    Test::Contains(v) => f.write_str(&canonical_json(v)),
                    Test::In(items) | Test::NotIn(items) => f.write_str(&canonical_json(&Value::Array(items.clone()))),
                    Test::Regex(regex) => f.write_str(&canonical_json(&Value::String(regex.as_str().to_owned()))),
                    Test::Cidr(nets) => {
                        let nets: Vec<String> = nets.iter().map(ToString::to_string).collect();
                        write!(f, "[{}]", nets.join(","))
                    }
                    Test::Exists(expected) => write!(f, "{expected}"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
