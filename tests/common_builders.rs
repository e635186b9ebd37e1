//! The support's own promise: `a_config()` writes the YAML the tests used to write by
//! hand, and what it writes is a valid configuration. (`sandbox()` is checked by the
//! tests of each knob, `tests/sandbox_core.rs` first.)

mod common;

use common::*;

#[test]
fn a_config_writes_the_yaml_a_test_would_write_by_hand() {
    let config = a_config()
        .provider("pb", "pixiebrix", "0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11")
        .endpoint("https://pb.example.com")
        .token_env("PB_TOKEN")
        .provider("docs", "gitbook", "acme")
        .token_env("GB_TOKEN")
        .set("invite", "true")
        .allowed_domains(&["acme.com", "contractors.example"])
        .policy_yaml("max_removals: 3")
        .root_yaml("limits:\n  max_file_mib: 20")
        .person("ann", "ann@acme.com")
        .person("cy", "cy@contractors.example")
        .set("until", "2099-01-31")
        .organization("pb", ["{person: ann, role: admin}"])
        .mode("exact")
        .set("keep", "[service_accounts]")
        .in_file("teams.yaml")
        .team(
            "docs",
            "Writers: west",
            ["ann", "{person: cy, role: member}"],
        )
        .previously(&["Authors"])
        .mode("additive")
        .group("pb", "Sales Ops", NOBODY)
        .campaign("pb", "Q3", ["{person: ann, data: {Location: NYC}}"])
        .raw(
            "more.yaml",
            "groups:\n  - {provider: pb, name: Support, members: [cy]}\n",
        );
    let files = config.files();
    let text = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
            .unwrap_or_else(|| panic!("{name} is written"))
    };
    assert_eq!(
        text("teamsync.yaml"),
        "version: 1
providers:
  pb:
    kind: pixiebrix
    organization: \"0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11\"
    endpoint: \"https://pb.example.com\"
    token_env: PB_TOKEN
  docs:
    kind: gitbook
    organization: acme
    token_env: GB_TOKEN
    invite: true
policy:
  allowed_email_domains: [acme.com, contractors.example]
  max_removals: 3
include: [people.yaml, teams.yaml, more.yaml]
limits:
  max_file_mib: 20
"
    );
    assert_eq!(
        text("people.yaml"),
        "people:
  ann: {email: ann@acme.com}
  cy: {email: cy@contractors.example, until: 2099-01-31}
organization:
  provider: pb
  roster: exact
  keep: [service_accounts]
  members: [{person: ann, role: admin}]
"
    );
    assert_eq!(
        text("teams.yaml"),
        "groups:
  - provider: pb
    name: Sales Ops
campaigns:
  - provider: pb
    name: Q3
    members: [{person: ann, data: {Location: NYC}}]
teams:
  - provider: docs
    name: \"Writers: west\"
    previously: [Authors]
    mode: additive
    members: [ann, {person: cy, role: member}]
"
    );
    let repo = config.write();
    let out = repo.run(&["validate"]);
    assert_eq!(out.get_output().status.code(), Some(0), "{}", stderr(&out));
}
