//! The examples are a contract: `docs/design.md`'s YAML validates exactly as written, and the
//! bundled example repository validates clean and means what it says.

use std::path::Path;

use teamsync::config;
use teamsync::model::*;

fn fixture(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[test]
fn design_md_examples_validate_as_written() {
    let loaded = config::load(&fixture("tests/fixtures/design"))
        .unwrap_or_else(|e| panic!("{}", config::report::render(&e)));
    assert_eq!(loaded.providers.len(), 3);
    let group =
        &loaded.desired.resources[&ResourceKey::new("pixiebrix", ResourceKind::Group, "Sales Ops")];
    assert_eq!(group.mode, Mode::Exact);
    let emails: Vec<String> = group.members.keys().map(|k| k.to_string()).collect();
    assert_eq!(
        emails,
        vec!["alice@acme.com", "bob@acme.com"],
        "Bob@Acme.com is normalised"
    );
    let team = &loaded.desired.resources[&ResourceKey::new("docs", ResourceKind::Team, "Writers")];
    let bob = &team.members[&MemberKey::Email(Email::parse("bob@acme.com").unwrap())];
    assert_eq!(bob.role, Some(Role::Owner));
    let campaign = &loaded.desired.resources
        [&ResourceKey::new("pixiebrix", ResourceKind::Campaign, "Q3 Rollout")];
    let alice = &campaign.members[&MemberKey::Email(Email::parse("alice@acme.com").unwrap())];
    assert_eq!(
        alice.data.get("Location").unwrap(),
        "New York, NY",
        "campaign data comes from the roster"
    );
    let org = &loaded.desired.resources[&ResourceKey::new(
        "pixiebrix",
        ResourceKind::Organization,
        "0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11",
    )];
    assert_eq!(org.mode, Mode::Exact);
    assert_eq!(
        org.organization.as_ref().unwrap().keep,
        [AccountKind::ServiceAccounts, AccountKind::DeploymentKeys].into()
    );
    assert_eq!(
        org.members.len(),
        2,
        "everyone in people belongs to the organization"
    );
}

#[test]
fn the_fixtures_are_exactly_the_yaml_blocks_of_design_md() {
    let text = std::fs::read_to_string(fixture("docs/design.md"))
        .expect("docs/design.md is in the repository");
    let mut blocks = 0;
    for block in text.split("```yaml\n").skip(1) {
        let body = block.split("```").next().unwrap();
        let name = body
            .lines()
            .next()
            .unwrap()
            .trim_start_matches("# ")
            .split_whitespace()
            .next()
            .unwrap();
        let fixture_text =
            std::fs::read_to_string(fixture(&format!("tests/fixtures/design/{name}"))).unwrap();
        assert_eq!(
            fixture_text, body,
            "tests/fixtures/design/{name} differs from docs/design.md"
        );
        blocks += 1;
    }
    assert_eq!(blocks, 4);
}

#[test]
fn the_bundled_example_validates_clean_and_uses_every_feature() {
    let loaded = config::load(&fixture("examples/acme"))
        .unwrap_or_else(|e| panic!("{}", config::report::render(&e)));
    let kinds: Vec<ProviderKind> = loaded.providers.values().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ProviderKind::Contentful,
            ProviderKind::Gitbook,
            ProviderKind::Pixiebrix
        ]
    );
    assert!(
        loaded
            .providers
            .values()
            .all(|p| matches!(p.endpoint, Endpoint::Sandbox(_)))
    );
    let count = |kind| {
        loaded
            .desired
            .resources
            .keys()
            .filter(|k| k.kind == kind)
            .count()
    };
    assert_eq!(count(ResourceKind::Group), 3);
    assert_eq!(count(ResourceKind::Campaign), 2);
    assert_eq!(count(ResourceKind::Team), 4);
    assert_eq!(count(ResourceKind::Organization), 1);
    let bob_q3 = &loaded.desired.resources
        [&ResourceKey::new("pixiebrix", ResourceKind::Campaign, "Q3 Rollout")]
        .members[&MemberKey::Email(Email::parse("bob@acme.com").unwrap())];
    assert_eq!(
        bob_q3.data.get("Location").unwrap(),
        "Cambridge, MA",
        "campaign data overrides the roster field by field"
    );
    assert_eq!(bob_q3.data.get("Unit").unwrap(), "Sales");
}

#[test]
fn the_committed_schema_is_what_teamsync_schema_prints() {
    let committed =
        std::fs::read_to_string(fixture("schemas/teamsync.schema.json")).unwrap_or_default();
    let generated = config::schema_text();
    if committed != generated {
        let diff = similar::TextDiff::from_lines(&committed, &generated)
            .unified_diff()
            .context_radius(3)
            .header(
                "schemas/teamsync.schema.json (committed)",
                "teamsync schema (generated)",
            )
            .to_string();
        panic!(
            "the committed schema is out of date; run `cargo run -- schema > schemas/teamsync.schema.json`\n{diff}"
        );
    }
}

#[test]
fn every_property_in_the_schema_has_a_description_and_objects_reject_unknown_keys() {
    let schema = config::schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let mut missing = Vec::new();
    fn walk(node: &serde_json::Value, path: String, missing: &mut Vec<String>) {
        if let Some(props) = node.get("properties").and_then(|p| p.as_object()) {
            if node.get("additionalProperties") != Some(&serde_json::Value::Bool(false)) {
                missing.push(format!("{path}: additionalProperties is not false"));
            }
            for (name, prop) in props {
                if prop.get("description").is_none() {
                    missing.push(format!("{path}/{name}: no description"));
                }
            }
        }
        if let Some(map) = node.as_object() {
            for (k, v) in map {
                walk(v, format!("{path}/{k}"), missing);
            }
        }
    }
    walk(&schema, String::new(), &mut missing);
    assert!(missing.is_empty(), "{missing:#?}");
}
