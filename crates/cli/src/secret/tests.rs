use clap::Parser;
use serde_json::json;

use super::{SecretCommand, field_text, parse_data};
use crate::{Cli, Command};

const VALUE: &str = "sk-proj-NeverInAnErrorMessage-1234";

fn parse(args: &[&str]) -> Result<SecretCommand, clap::Error> {
    let mut all = vec!["warden", "secret"];
    all.extend_from_slice(args);
    match Cli::try_parse_from(all)?.command {
        Command::Secret(command) => Ok(command),
        other => unreachable!("parsed as {other:?}"),
    }
}

#[test]
fn data_is_a_json_object() {
    let parsed = parse_data("{\"api_key\": \"sk-1\", \"org\": \"acme\"}\n");
    assert_eq!(parsed.ok(), Some(json!({"api_key": "sk-1", "org": "acme"})));
    for text in ["[1, 2]", "\"sk-1\"", "42", "null"] {
        let refused = parse_data(text).map_err(|e| e.to_string());
        assert!(
            refused.as_ref().is_err_and(|e| e.contains("must be a JSON object")),
            "{text}: {refused:?}"
        );
    }
}

#[test]
fn a_value_that_is_not_json_is_never_repeated() {
    for text in [
        VALUE.to_owned(),
        format!("{{\"api_key\": \"{VALUE}\""),
        format!("{{\"k\": {VALUE}}}"),
    ] {
        let Err(error) = parse_data(&text) else {
            unreachable!("{text} parsed")
        };
        let message = format!("{error:#}");
        assert!(message.contains("not JSON (line 1, column"), "{message}");
        assert!(!message.contains("NeverInAnErrorMessage"), "{message}");
    }
}

#[test]
fn a_field_prints_raw_text_or_json() {
    let data = json!({"api_key": VALUE, "port": 5432, "pem": "-----BEGIN-----\nxyz\n", "tls": {"on": true}});
    let field = |key: &str| field_text("db", &data, key).map_err(|e| e.to_string());
    assert_eq!(field("api_key").ok(), Some(format!("{VALUE}\n")));
    assert_eq!(field("port").ok().as_deref(), Some("5432\n"));
    assert_eq!(
        field("pem").ok().as_deref(),
        Some("-----BEGIN-----\nxyz\n"),
        "no second newline"
    );
    assert_eq!(field("tls").ok().as_deref(), Some("{\"on\":true}\n"));
    let missing = field("password");
    assert!(
        missing
            .as_ref()
            .is_err_and(|e| e.contains("`password`") && e.contains("api_key, pem, port, tls")),
        "{missing:?}"
    );
    assert!(
        missing.is_err_and(|e| !e.contains(VALUE)),
        "field names only, never values"
    );
}

#[test]
fn exactly_one_source_of_data() {
    let put = parse(&[
        "put",
        "openai",
        "--type",
        "api_key",
        "--from-stdin",
        "--tag",
        "llm",
        "--tag",
        "prod",
    ]);
    let Ok(SecretCommand::Put {
        name, kind, data, tags, ..
    }) = put
    else {
        unreachable!("{put:?}")
    };
    assert_eq!((name.as_str(), kind.as_str()), ("openai", "api_key"));
    assert!(data.from_stdin && data.data.is_none() && data.data_file.is_none());
    assert_eq!(tags, ["llm", "prod"]);

    for args in [
        &["put", "openai", "--type", "api_key"][..],
        &[
            "put",
            "openai",
            "--type",
            "api_key",
            "--from-stdin",
            "--data-file",
            "f.json",
        ],
        &["put", "openai", "--type", "api_key", "--data", "{}", "--from-stdin"],
        &["rotate", "openai"],
        &["put", "openai", "--from-stdin"],
    ] {
        let refused = parse(args);
        assert!(refused.is_err(), "{args:?} parsed: {refused:?}");
    }
    let rotate = parse(&["rotate", "db/main", "--data-file", "new.json"]);
    assert!(
        matches!(&rotate, Ok(SecretCommand::Rotate { name, data, generate: false }) if name == "db/main" && data.data_file.is_some()),
        "{rotate:?}"
    );
    let generated = parse(&["rotate", "db/main", "--generate"]);
    assert!(
        matches!(&generated, Ok(SecretCommand::Rotate { generate: true, data, .. }) if data.data_file.is_none()),
        "{generated:?}"
    );
    assert!(parse(&["rotate", "db/main", "--generate", "--from-stdin"]).is_err());
    assert!(parse(&["put", "db/main", "--type", "database", "--generate"]).is_err());
}

#[test]
fn versions_count_from_one() {
    assert!(parse(&["get", "openai", "--version", "0"]).is_err());
    let get = parse(&["get", "openai", "--version", "3", "--field", "api_key"]);
    assert!(
        matches!(&get, Ok(SecretCommand::Get { version: Some(3), field: Some(f), .. }) if f == "api_key"),
        "{get:?}"
    );
}
