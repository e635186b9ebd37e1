//! A resource key's text form, as a property: whatever the name (quotes, backslashes,
//! brackets, dots, non-ASCII letters, invisible or control characters), the key a plan
//! prints parses back to the same key, stays on one line, and a saved plan keeps it.

use std::collections::BTreeMap;

use proptest::prelude::*;
use teamsync::model::{ResourceKey, ResourceKind, key_text};

/// Names made mostly of the characters the text form must escape or must leave alone.
fn tricky_name() -> impl Strategy<Value = String> {
    let tricky = prop_oneof![
        Just('"'),
        Just('\\'),
        Just('['),
        Just(']'),
        Just('.'),
        Just(' '),
        Just('u'),
        Just('{'),
        Just('}'),
        Just('\n'),
        Just('\t'),
        Just('\u{200B}'),
        Just('\u{202E}'),
        Just('é'),
        Just('Ж'),
        Just('😀'),
        Just('\u{0301}'),
        any::<char>(),
    ];
    prop::collection::vec(tricky, 1..16).prop_map(|cs| cs.into_iter().collect())
}

fn key() -> impl Strategy<Value = ResourceKey> {
    (
        "[a-z0-9][a-z0-9_-]{0,12}",
        prop::sample::select(ResourceKind::ALL.to_vec()),
        prop_oneof![
            tricky_name(),
            any::<String>().prop_filter("a name", |n| !n.is_empty())
        ],
    )
        .prop_map(|(provider, kind, name)| ResourceKey::new(provider, kind, name))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    #[serde(with = "key_text")]
    key: ResourceKey,
    #[serde(with = "key_text::map")]
    map: BTreeMap<ResourceKey, u8>,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("TEAMSYNC_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1024)
    ))]

    #[test]
    fn a_key_prints_and_parses_back_to_itself(key in key()) {
        let text = key.to_string();
        prop_assert_eq!(text.parse::<ResourceKey>(), Ok(key), "{}", text);
    }

    #[test]
    fn a_printed_key_is_one_line_of_visible_text(key in key()) {
        let text = key.to_string();
        prop_assert!(
            !text.chars().any(|c| teamsync::model::is_hidden(c) || (c.is_whitespace() && c != ' ')),
            "{:?}", text
        );
    }

    #[test]
    fn a_saved_key_reads_back_as_the_same_key(a in key(), b in key()) {
        let saved = Saved { key: a.clone(), map: [(a.clone(), 1), (b.clone(), 2)].into() };
        let json = serde_json::to_string(&saved).expect("serialises");
        let back: Saved = serde_json::from_str(&json).expect("reads back");
        prop_assert_eq!(back.key, a);
        prop_assert_eq!(back.map, saved.map);
    }
}

#[test]
fn the_text_form_of_ordinary_names_is_what_plans_have_always_shown() {
    for name in [
        "Writers",
        "Sales Ops",
        "R&D",
        "Équipe",
        "a.b[c]",
        "Say \"hi\"",
    ] {
        let key = ResourceKey::new("docs", ResourceKind::Team, name);
        assert_eq!(key.to_string(), format!("docs.team[{name:?}]"));
    }
    let key = ResourceKey::new("x", ResourceKind::Team, r"R&D\Ops");
    assert_eq!(key.to_string(), r#"x.team["R&D\\Ops"]"#);
}

#[test]
fn a_malformed_key_says_how_to_write_it() {
    let err = r#"x.team["a\qb"]"#.parse::<ResourceKey>().expect_err("unknown escape");
    assert!(err.to_string().contains(r"`\q` is not an escape"), "{err}");
    let err = "x.team[Writers]"
        .parse::<ResourceKey>()
        .expect_err("unquoted");
    assert!(err.to_string().contains("double quotes"), "{err}");
}
