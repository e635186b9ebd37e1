//! For the tests that call the diff directly (`plan_properties.rs`,
//! `plan_determinism.rs`, `plan_diff.rs`): the people, the providers and the campaign data
//! their generated worlds draw from.

#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::json;
use teamsync::model::{Data, Email, ProviderKind, ProviderSettings};

/// Person `i`'s address.
pub fn email(i: usize) -> Email {
    Email::parse(&format!("p{i}@acme.com")).expect("a valid email")
}

/// The three providers of a generated world, at their defaults: `pb`, `docs`, `cms`, each
/// of organization `org`.
pub fn providers() -> BTreeMap<String, ProviderSettings> {
    super::provider_settings(&[
        ("pb", ProviderKind::Pixiebrix, "org"),
        ("docs", ProviderKind::Gitbook, "org"),
        ("cms", ProviderKind::Contentful, "org"),
    ])
}

/// Campaign data by variant `n`: none, one field, or two (one of them changed).
pub fn campaign_data(n: u8) -> Data {
    match n {
        0 => Data::new(),
        1 => [("Location".to_string(), json!("NYC"))]
            .into_iter()
            .collect(),
        _ => [
            ("Location".to_string(), json!("Boston")),
            ("Unit".to_string(), json!(3)),
        ]
        .into_iter()
        .collect(),
    }
}
