//! The access rules of `policy:` (issue 35 item 1): each violation is a located error
//! naming its rule and the fix, with exit 1 and no request; hostile rule values are
//! located schema errors; and `min_owners` is checked again in the plan, against live
//! owners, whatever `allow_no_owner` says.

mod common;

use std::net::TcpListener;

use common::*;

const ROOT: &str = "version: 1
providers:
  docs: {kind: gitbook, organization: acme, token_env: GB_TOKEN, endpoint: \"ENDPOINT\"}
policy:
  allowed_email_domains: [acme.com, contractors.example]
RULES
include: [\"more.yaml\"]
";

const PEOPLE: &str = "people:
  ann: {email: ann@acme.com}
  bob: {email: bob@acme.com}
  cy: {email: cy@contractors.example}
";

/// `validate` and `plan` on a config with `rules` under policy and `teams` after the
/// roster: both exit 1, the stderr is returned, and no connection reached the endpoint.
fn refused(rules: &str, teams: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let root = ROOT.replace("ENDPOINT", &endpoint).replace("RULES", rules);
    let repo = Repo::new(&[
        ("teamsync.yaml", &root),
        ("more.yaml", &format!("{PEOPLE}{teams}")),
    ]);
    let mut said = String::new();
    for command in ["validate", "plan"] {
        let out = repo
            .command(&[command])
            .env("GB_TOKEN", "t")
            .assert()
            .code(1);
        said = stderr(&out);
        assert!(said.contains("  hint: "), "{command}: {said}");
        match listener.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("{command}: a connection reached the provider: {other:?}"),
        }
    }
    // Paths in messages are the repository's own.
    said.replace(&format!("{}/", repo.path().display()), "")
        .replace(&repo.path().join("").display().to_string(), "")
}

fn far_day(days: i64) -> String {
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    today
        .saturating_add(jiff::Span::new().days(days))
        .to_string()
}

#[test]
fn temporary_access_may_not_be_owner() {
    let until = far_day(30);
    let said = refused(
        "",
        &format!(
            "teams:\n  - provider: docs\n    name: Writers\n    members:\n      - {{person: ann, role: owner}}\n      - {{person: bob, role: owner, until: {until}}}\n"
        ),
    );
    assert!(
        said.contains(&format!(
            "more.yaml:10:9: error: `bob` has `until: {until}` and role owner: temporary access may not be owner or admin (rule: temporary access is ordinary)"
        )),
        "{said}"
    );
    assert!(
        said.contains("drop `role: owner` for temporary access"),
        "{said}"
    );
}

#[test]
fn until_may_be_at_most_max_until_days_ahead() {
    let until = far_day(400);
    let said = refused(
        "  max_until_days: 180",
        &format!(
            "teams:\n  - provider: docs\n    name: Writers\n    members:\n      - {{person: ann, role: owner}}\n      - {{person: bob, until: {until}}}\n"
        ),
    );
    assert!(
        said.contains(&format!(
            "more.yaml:10:9: error: `bob` has `until: {until}`, more than 180 days ahead (rule: policy.max_until_days)"
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!("on or before {}", far_day(180))),
        "{said}"
    );
}

#[test]
fn contractors_always_expire() {
    let said = refused(
        "  require_until: [contractors.example]",
        "teams:\n  - provider: docs\n    name: Writers\n    members: [ann, cy]\n",
    );
    assert!(
        said.contains("more.yaml:8:20: error: `cy` (cy@contractors.example) has no `until:`, which contractors.example requires (rule: policy.require_until)"),
        "{said}"
    );
}

#[test]
fn an_exact_team_keeps_min_owners() {
    let said = refused(
        "  min_owners: 2",
        "teams:\n  - provider: docs\n    name: Writers\n    members:\n      - {person: ann, role: owner}\n      - bob\n",
    );
    assert!(
        said.contains("more.yaml:7:11: error: docs.team[\"Writers\"] declares 1 owner; the rule policy.min_owners needs at least 2"),
        "{said}"
    );
    assert!(said.contains("give 1 more member `role: owner`"), "{said}");
}

#[test]
fn hostile_rule_values_are_located_schema_errors() {
    for (rules, expected) in [
        ("  min_owners: -1", "teamsync.yaml:6:15: error:"),
        ("  min_owners: 0", "teamsync.yaml:6:15: error:"),
        (
            "  min_owners: 100000000000000000000000",
            "teamsync.yaml:6:15: error:",
        ),
        ("  max_until_days: 99999", "teamsync.yaml:6:19: error:"),
        ("  min_ownres: 2", "teamsync.yaml:6:3: error:"),
        (
            "  require_until: [\"*.example\"]",
            "teamsync.yaml:6:19: error:",
        ),
    ] {
        let said = refused(
            rules,
            "teams:\n  - provider: docs\n    name: Writers\n    members: [{person: ann, role: owner}]\n",
        );
        assert!(
            said.contains(expected),
            "{rules}: expected {expected} in\n{said}"
        );
    }
}

/// The plan counts live owners: an `additive` team whose only other owner is being
/// demoted keeps the demotion blocked under `min_owners: 2`, naming the rule, though
/// `allow_no_owner: true` would let it through on its own.
#[test]
fn the_plan_refuses_what_would_leave_fewer_than_min_owners() {
    let repo = copy_example();
    // Live, Writers has one owner (grace); the config demotes her and promotes alice.
    repo.edit(
        "teams/docs-writers.yaml",
        "    name: Writers\n    members:\n      - grace\n",
        "    name: Writers\n    mode: additive\n    members:\n      - { person: grace, role: member }\n",
    );
    // The other exact containers keep two owners/admins, so the configuration passes
    // the offline rule and the plan is where the count happens.
    repo.edit(
        "teams/docs-api-reviewers.yaml",
        "    name: API Reviewers\n",
        "    name: API Reviewers\n    mode: additive\n",
    );
    repo.edit(
        "pixiebrix/organization.yaml",
        "{ person: erin, role: developer }",
        "{ person: erin, role: admin }",
    );
    repo.edit(
        "teamsync.yaml",
        "  max_removals: 20\n",
        "  max_removals: 20\n  min_owners: 2\n  allow_no_owner: true\n",
    );
    let plan = repo.plan_json(2);
    let blocked: Vec<String> = plan["blocked"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["change"]["member"]["email"] == "grace@acme.com")
        .map(|b| b["reason"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(blocked.len(), 1, "{plan}");
    assert!(
        blocked[0].contains("the rule policy.min_owners needs at least 2"),
        "{}",
        blocked[0]
    );
    // Without the rule, allow_no_owner lets the change through (one owner stays: alice).
    repo.edit("teamsync.yaml", "  min_owners: 2\n", "");
    let plan = repo.plan_json(2);
    assert!(
        !plan["blocked"].to_string().contains("grace@acme.com"),
        "{}",
        plan["blocked"]
    );
}
