use serde_json::json;

use super::*;

#[test]
fn objects_are_kept_as_compact_json() {
    let Ok(data) = SecretData::from_value(json!({"api_key": "sk-live-1", "org": "acme"})) else {
        unreachable!("an object is data")
    };
    let text = String::from_utf8_lossy(data.expose_bytes()).into_owned();
    assert!(text == r#"{"api_key":"sk-live-1","org":"acme"}"# || text == r#"{"org":"acme","api_key":"sk-live-1"}"#);
    assert_eq!(
        data.to_value().ok(),
        Some(json!({"api_key": "sk-live-1", "org": "acme"}))
    );
}

#[test]
fn only_objects_are_data() {
    for value in [json!("sk-live-1"), json!(42), json!(null), json!(["a"]), json!(true)] {
        assert!(
            matches!(
                SecretData::from_value(value.clone()),
                Err(VaultError::DataNotObject { .. })
            ),
            "{value}"
        );
    }
}

#[test]
fn the_size_limit_is_exact() {
    // `{"k":"…"}` is 8 bytes of framing around the value.
    let at_limit = json!({"k": "x".repeat(MAX_DATA_LEN - 8)});
    assert_eq!(
        SecretData::from_value(at_limit).map(|d| d.len()).ok(),
        Some(MAX_DATA_LEN)
    );
    let over = json!({"k": "x".repeat(MAX_DATA_LEN - 7)});
    assert!(matches!(
        SecretData::from_value(over),
        Err(VaultError::DataTooLarge { len, max: MAX_DATA_LEN }) if len == MAX_DATA_LEN + 1
    ));
    let far_over = json!({"k": "x".repeat(10 * MAX_DATA_LEN)});
    assert!(matches!(
        SecretData::from_value(far_over),
        Err(VaultError::DataTooLarge { len, .. }) if len == 10 * MAX_DATA_LEN + 8
    ));
}

#[test]
fn debug_and_errors_never_show_the_value() {
    let Ok(data) = SecretData::from_value(json!({"password": "hunter2-correct-horse"})) else {
        unreachable!("an object is data")
    };
    let debug = format!("{data:?}");
    assert_eq!(debug, "SecretData([redacted], 36 bytes)");
    let refused = SecretData::from_plaintext(zeroize::Zeroizing::new(b"{\"password\": hunter2}".to_vec()));
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("line 1, column"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
    let body = serde_json::from_str::<SecretData>(r#""hunter2-correct-horse""#);
    let message = body.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(!message.contains("hunter2"), "{message}");
}

#[test]
fn opened_plaintext_must_be_an_object() {
    let ok = |bytes: &[u8]| SecretData::from_plaintext(zeroize::Zeroizing::new(bytes.to_vec())).is_ok();
    assert!(ok(b"{}"));
    assert!(ok(b" {\"a\":[1,2,{\"b\":null}]} "));
    for bad in [&b""[..], b"[]", b"\"x\"", b"{", b"{}{}", b"{} x", b"\xff"] {
        assert!(!ok(bad), "{:?}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn wiping_clears_every_string_and_key() {
    let mut value = json!({"outer": {"inner": ["sk-live-1", {"deep": "pw"}]}, "n": 5});
    wipe(&mut value);
    let text = value.to_string();
    assert!(
        !text.contains("sk-live") && !text.contains("outer") && !text.contains("pw"),
        "{text}"
    );
}

#[test]
fn the_writer_never_reallocates_in_place() {
    // Growth by many small writes: the content survives every move to a bigger buffer.
    let big = json!({"k": "y".repeat(5000), "list": (0..500).collect::<Vec<_>>()});
    let expected = big.to_string();
    let Ok(data) = SecretData::from_value(big) else {
        unreachable!("under the limit")
    };
    assert_eq!(data.expose_bytes(), expected.as_bytes());
}
