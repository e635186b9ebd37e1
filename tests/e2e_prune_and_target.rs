//! Pruning (the delete change kind) for every provider, and `--target`, end to end.

mod common;

use common::*;
use serde_json::json;

const ORG: &str = "0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11";

fn repo() -> Repo {
    let root = root_config(
        &format!(
            concat!(
                "  pb:\n    kind: pixiebrix\n    organization: {}\n    endpoint: sandbox:state.json\n    prune: [group, campaign]\n",
                "  docs:\n    kind: gitbook\n    organization: acme\n    endpoint: sandbox:state.json\n    prune: [team]\n",
                "  cms:\n    kind: contentful\n    organization: c1\n    endpoint: sandbox:state.json\n    prune: [team]\n",
            ),
            ORG
        ),
        "all.yaml",
    );
    let all = concat!(
        "people:\n  alice: {email: alice@acme.com}\ngroups:\n  - name: Kept\n    members: [alice]\n",
        "teams:\n  - {provider: docs, name: Kept, members: [alice]}\n  - {provider: cms, name: Kept, members: [alice]}\n",
    );
    let repo = Repo::new(&[("teamsync.yaml", &root), ("all.yaml", all)]);
    let mut org = pixiebrix_org(ORG, &[("alice@acme.com", 1, "human")]);
    org["groups"] = json!([
        {"id": uuid(1), "name": "Kept", "members": [{"id": uuid(2), "email": "alice@acme.com"}]},
        {"id": uuid(3), "name": "Stray", "members": [{"id": uuid(4), "email": "alice@acme.com"}]}
    ]);
    org["campaigns"] = json!([{"id": uuid(5), "name": "Old campaign", "members": []}]);
    repo.write_json(
        "state.json",
        &json!({
            "pixiebrix": {"organizations": [org]},
            "gitbook": {"organizations": {"acme": {
                "members": [{"id": "u_alice", "name": "Alice", "email": "alice@acme.com", "role": "edit"}],
                "teams": [{"id": "t_kept", "title": "Kept", "members": [{"user": "u_alice"}]}, {"id": "t_stray", "title": "Stray"}]}}},
            "contentful": {"organizations": {"c1": {
                "users": [{"id": "Ua", "email": "alice@acme.com"}], "memberships": [{"id": "OMa", "user": "Ua"}],
                "teams": [{"id": "Tkept", "name": "Kept", "members": [{"id": "TMa", "membership": "OMa"}]}, {"id": "Tstray", "name": "Stray"}]}}}
        }),
    );
    repo
}

#[test]
fn pruning_deletes_undeclared_resources_of_every_provider_and_converges() {
    let repo = repo();
    let plan = repo.plan_json(2);
    assert_eq!(
        resource_actions(&plan),
        vec![
            ("cms.team[Stray]".to_string(), "delete".to_string()),
            ("docs.team[Stray]".into(), "delete".into()),
            ("pb.group[Stray]".into(), "delete".into()),
            ("pb.campaign[Old campaign]".into(), "delete".into()),
        ]
    );
    assert_eq!(plan["summary"]["delete"], 4);
    assert!(plan["risks"].as_array().unwrap().contains(&json!("prune")));
    repo.run(&["apply", "--auto-approve"]).code(0);
    assert_eq!(repo.plan_json(0)["changes"], json!([]));
    let state = repo.working_state("state.json");
    assert_eq!(
        state["pixiebrix"]["organizations"][0]["groups"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        state["gitbook"]["organizations"]["acme"]["teams"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        state["contentful"]["organizations"]["c1"]["teams"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn target_limits_the_plan_and_the_apply_to_one_resource() {
    let repo = repo();
    repo.write("all.yaml", "people:\n  alice: {email: alice@acme.com}\n  bob: {email: bob@acme.com}\ngroups:\n  - name: Kept\n    members: [alice, bob]\n  - name: New\n    members: [alice]\n");
    let out = repo
        .run(&["plan", "--format", "json", "--target", "pb.group[\"New\"]"])
        .code(0);
    let plan: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(
        resource_actions(&plan),
        vec![("pb.group[New]".to_string(), "create".to_string())],
        "no prune, no other group"
    );
    let out = repo.run(&["plan", "--target", "pb.group.Nope"]).code(1);
    assert!(
        stderr(&out).contains("--target pb.group[\"Nope\"] is not declared in the configuration"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_key_a_plan_prints_for_a_name_with_a_backslash_is_a_valid_target() {
    let root = root_config(
        "  x:\n    kind: gitbook\n    organization: acme\n    endpoint: sandbox:state.json\n",
        "teams.yaml",
    );
    let teams = "people:\n  alice: {email: alice@acme.com}\nteams:\n  - {provider: x, name: 'R&D\\Ops', members: [alice]}\n  - {provider: x, name: Other, members: [alice]}\n";
    let repo = Repo::new(&[("teamsync.yaml", &root), ("teams.yaml", teams)]);
    repo.write_json(
        "state.json",
        &json!({"gitbook": {"organizations": {"acme": {
            "members": [{"id": "u_alice", "name": "Alice", "email": "alice@acme.com", "role": "edit"}],
            "teams": []}}}}),
    );
    let printed = r#"x.team["R&D\\Ops"]"#;
    let plan = stdout(&repo.run(&["plan"]).code(0));
    assert!(plan.contains(printed), "the plan prints {printed}: {plan}");

    let out = repo
        .run(&["plan", "--format", "json", "--target", printed])
        .code(0);
    let plan: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON");
    assert_eq!(
        resource_actions(&plan),
        vec![(r"x.team[R&D\Ops]".to_string(), "create".to_string())],
        "only the targeted team"
    );
    assert_eq!(plan["binding"]["targets"], json!([printed]));
}
