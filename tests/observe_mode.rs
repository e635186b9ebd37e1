//! `mode: observe` (issue 35 item 4): a container or roster owned by another system (SCIM,
//! the vendor's UI) is read and shown, never written (not created, changed, pruned or
//! offboarded), never drift in the report, and a plan edited to write it is refused.

mod common;

use common::*;
use serde_json::Value;

fn editors(state: &Value) -> Value {
    state["contentful"]["organizations"]["3Xa9pQ"]["teams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Editors")
        .unwrap()["members"]
        .clone()
}

#[test]
fn an_observed_team_is_shown_and_never_written() {
    let repo = copy_example();
    // Live, Editors holds grace and oscar; the config lists others, and observes.
    repo.edit(
        "teams/cms-editors.yaml",
        "    name: Editors\n",
        "    name: Editors\n    mode: observe\n",
    );
    let plan = repo.plan_json(2);
    let keys: Vec<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["key"]["name"].as_str())
        .collect();
    assert!(!keys.contains(&"Editors"), "{keys:?}");
    let note = plan["notes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| {
            n["resource"]
                .as_str()
                .is_some_and(|r| r.contains("Editors"))
        })
        .unwrap_or_else(|| panic!("{}", plan["notes"]));
    assert!(
        note["message"]
            .as_str()
            .unwrap()
            .starts_with("observed (mode: observe): 2 live, never written by teamsync"),
        "{note}"
    );
    let before = editors(
        &serde_json::from_str(
            &std::fs::read_to_string(repo.path().join("live-state.json")).unwrap(),
        )
        .unwrap(),
    );
    repo.run(&["apply", "--auto-approve"]).code(0);
    assert_eq!(editors(&repo.working_state("live-state.json")), before);

    // The report shows the container and its people, with no drift in it.
    let out = repo.run(&["report", "--format", "json"]).code(0);
    let report: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let column = report["containers"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["name"] == "Editors")
        .expect("the observed team is a column");
    let key = report["containers"][column]["key"].clone();
    let mut cells = 0;
    for person in report["people"].as_array().unwrap() {
        for cell in person["access"].as_array().unwrap() {
            if cell["container"] == key {
                cells += 1;
                let marks = cell["marks"].to_string();
                assert!(
                    !marks.contains("undeclared")
                        && !marks.contains("missing")
                        && !marks.contains("role_differs"),
                    "{person}"
                );
            }
        }
    }
    // grace and oscar live, heidi and judy declared: drift if it were managed.
    assert!(cells >= 4, "{cells} cells in the observed column");
    assert_eq!(report["containers"][column]["mode"], "observe");
}

#[test]
fn an_offboarded_person_in_an_observed_container_is_named_not_removed() {
    let repo = copy_example();
    repo.edit(
        "teams/cms-editors.yaml",
        "    name: Editors\n",
        "    name: Editors\n    mode: observe\n",
    );
    repo.edit(
        "people.yaml",
        "grace: { email: grace@acme.com,",
        "grace: { email: grace@acme.com, offboarded: true,",
    );
    let plan = repo.plan_json(2);
    let removed_from_editors = member_changes(&plan)
        .into_iter()
        .any(|(k, who, _)| k.contains("Editors") && who == "grace@acme.com");
    assert!(!removed_from_editors, "{plan}");
    assert!(
        plan["notes"].to_string().contains(
            "offboarded, and in this observed container (mode: observe), which teamsync never writes: remove grace@acme.com"
        ),
        "{}",
        plan["notes"]
    );
    // Everywhere else she leaves as usual.
    assert!(
        member_changes(&plan)
            .into_iter()
            .any(|(k, who, a)| k.starts_with("docs.") && who == "grace@acme.com" && a == "remove"),
        "{plan}"
    );
}

#[test]
fn a_plan_edited_to_write_an_observed_container_is_refused() {
    let repo = copy_example();
    repo.edit(
        "teams/cms-editors.yaml",
        "    name: Editors\n",
        "    name: Editors\n    mode: observe\n",
    );
    let saved = repo.path().join("plan.json");
    repo.run(&["plan", "--out", saved.to_str().unwrap()])
        .code(0);
    let mut plan: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let marketing = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"]["provider"] == "cms")
        .expect("a cms change to copy")
        .clone();
    let mut forged = marketing;
    forged["key"]["name"] = "Editors".into();
    plan["changes"].as_array_mut().unwrap().push(forged);
    std::fs::write(&saved, serde_json::to_string_pretty(&plan).unwrap()).unwrap();
    let before = repo.working_state("live-state.json");
    let out = repo.run(&["apply", saved.to_str().unwrap()]).code(1);
    assert!(
        stderr(&out).contains("nothing was applied"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        editors(&repo.working_state("live-state.json")),
        editors(&before)
    );
}
