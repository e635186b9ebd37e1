//! Removal budgets where they belong (issue 35 item 3): a provider's or a container's
//! `max_removals`, passed only by `--allow-removals=NAME` naming it (or each person); the
//! override is listed in the plan, saved with it, shown in its comment, and what `apply
//! FILE` uses; a typo is refused; nothing over budget is applied.

mod common;

use common::*;
use serde_json::{Value, json};

const SALES_OPS: &str = "pixiebrix.group[\"Sales Ops\"]";

fn example() -> Repo {
    let repo = copy_example();
    // Live, Sales Ops (then Sales Operations) holds oscar, whom the config leaves out.
    repo.edit(
        "pixiebrix/sales-ops.yaml",
        "    members: [alice, bob, ivan]\n    mode: exact\n",
        "    members: [alice, bob, ivan]\n    mode: exact\n    max_removals: 0\n",
    );
    repo
}

fn sales_ops(state: &Value) -> Value {
    state["pixiebrix"]["organizations"][0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| {
            g["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("Sales Op"))
        })
        .unwrap()["members"]
        .clone()
}

#[test]
fn a_container_over_its_budget_is_shown_and_not_applied_unless_named() {
    let repo = example();
    let plan = repo.plan_json(2);
    assert_eq!(
        plan["over_budget"],
        json!([{"scope": SALES_OPS, "max": 0, "removals": 1, "people": ["oscar@acme.com"]}])
    );
    let text = stdout(&repo.run(&["plan"]).code(0));
    assert!(
        text.contains(&format!(
            "Over budget: {SALES_OPS} removes 1 member, more than its max_removals (0); apply needs --allow-removals={SALES_OPS}"
        )),
        "{text}"
    );
    let before = sales_ops(&repo.working_state("live-state.json"));
    // Neither the bare flag (the global budget) nor another name lets it through.
    for flags in [
        vec![],
        vec!["--allow-removals"],
        vec!["--allow-removals=docs"],
    ] {
        let mut args = vec!["apply", "--auto-approve"];
        args.extend(flags);
        let out = repo.run(&args).code(1);
        assert!(
            stderr(&out).contains(&format!(
                "the plan removes 1 members at {SALES_OPS}, more than its max_removals (0)"
            )),
            "{args:?}: {}",
            stderr(&out)
        );
        assert_eq!(sales_ops(&repo.working_state("live-state.json")), before);
    }
    let flag = format!("--allow-removals={SALES_OPS}");
    repo.run(&["apply", "--auto-approve", &flag]).code(0);
    assert_ne!(sales_ops(&repo.working_state("live-state.json")), before);
}

#[test]
fn naming_the_person_passes_their_removal_and_a_typo_is_refused() {
    let repo = example();
    repo.run(&["apply", "--auto-approve", "--allow-removals=oscar@acme.com"])
        .code(0);
    let repo = example();
    let out = repo
        .run(&["plan", "--allow-removals=pixiebrix.group[\"Sales Opps\"]"])
        .code(1);
    assert!(
        stderr(&out).contains("--allow-removals names `pixiebrix.group[\"Sales Opps\"]`, which is no provider, container or person of this plan"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_provider_budget_counts_every_container_of_the_provider() {
    let repo = example();
    let path = repo.path().join("teamsync.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "    token_env: GITBOOK_TOKEN\n",
        "    token_env: GITBOOK_TOKEN\n    max_removals: 0\n",
        1,
    );
    std::fs::write(&path, text).unwrap();
    let plan = repo.plan_json(2);
    let docs = plan["over_budget"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["scope"] == "docs")
        .unwrap_or_else(|| panic!("{}", plan["over_budget"]))
        .clone();
    assert!(docs["removals"].as_u64().unwrap() >= 1, "{docs}");
    let out = repo
        .run(&[
            "apply",
            "--auto-approve",
            &format!("--allow-removals={SALES_OPS}"),
        ])
        .code(1);
    assert!(
        stderr(&out).contains("removes") && stderr(&out).contains("at docs,"),
        "{}",
        stderr(&out)
    );
    repo.run(&[
        "apply",
        "--auto-approve",
        &format!("--allow-removals={SALES_OPS},docs"),
    ])
    .code(0);
}

#[test]
fn the_override_is_saved_shown_and_bound_to_the_plan() {
    let repo = example();
    let saved = repo.path().join("plan.json");
    let flag = format!("--allow-removals={SALES_OPS}");
    repo.run(&["plan", &flag, "--out", saved.to_str().unwrap()])
        .code(0);
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(plan["allowed_removals"], json!([SALES_OPS]));
    let comment = stdout(
        &assert_cmd::Command::cargo_bin("teamsync")
            .unwrap()
            .args(["show", "--format", "markdown"])
            .arg(&saved)
            .assert()
            .code(0),
    );
    assert!(
        comment.contains("Removal overrides in this plan (--allow-removals)"),
        "{comment}"
    );
    assert!(comment.contains("allowed by --allow-removals"), "{comment}");
    // apply FILE takes no names of its own: the reviewed plan's are the ones used.
    let out = repo
        .run(&["apply", saved.to_str().unwrap(), "--allow-removals=docs"])
        .code(1);
    assert!(
        stderr(&out).contains("reviewed with the plan"),
        "{}",
        stderr(&out)
    );
    // A saved plan whose override was removed after review is over budget: refused.
    let mut stripped = plan.clone();
    stripped.as_object_mut().unwrap().remove("allowed_removals");
    let tampered = repo.path().join("tampered.json");
    std::fs::write(&tampered, serde_json::to_string_pretty(&stripped).unwrap()).unwrap();
    let out = repo.run(&["apply", tampered.to_str().unwrap()]).code(1);
    assert!(
        stderr(&out).contains("more than its max_removals"),
        "{}",
        stderr(&out)
    );
    repo.run(&["apply", saved.to_str().unwrap()]).code(0);
}
