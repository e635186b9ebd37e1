//! The bundled example (`examples/acme`, planned against its embedded sandbox) in every
//! view, through the binary: `plan --format markdown`, `plan --by person`, and `show` of
//! the saved plan in text, Markdown, JSON and JSON by person, reading no API. `show`
//! renders exactly what `plan` printed.

mod common;

use std::path::Path;

use common::*;

/// Dates in a view are the plan's day: the snapshot says `[today]`.
fn dated(out: String) -> String {
    out.replace(&teamsync::engine::today(), "[today]")
}

fn show(plan: &Path, args: &[&str]) -> String {
    let out = assert_cmd::Command::cargo_bin("teamsync")
        .unwrap()
        .arg("show")
        .arg(plan)
        .args(args)
        .env("NO_COLOR", "1")
        .assert()
        .code(0);
    dated(stdout(&out))
}

#[test]
fn the_example_in_every_view() {
    let repo = copy_example();
    let saved = repo.path().join("plan.json");
    let markdown = stdout(
        &repo
            .run(&[
                "plan",
                "--format",
                "markdown",
                "--out",
                saved.to_str().unwrap(),
            ])
            .code(0),
    );
    let markdown = dated(markdown);
    assert!(
        markdown.contains("#### Access removed: 1 person, 5 changes"),
        "{markdown}"
    );
    insta::assert_snapshot!("example_markdown", markdown);

    let by_person = dated(stdout(&repo.run(&["plan", "--by", "person"]).code(0)));
    assert!(by_person.contains("\n  oscar@acme.com\n"), "{by_person}");
    insta::assert_snapshot!("example_by_person_text", by_person);

    // `show` reads no API: the sandbox state is gone and the output is the same.
    std::fs::remove_file(repo.path().join("live-state.json")).unwrap();
    assert_eq!(show(&saved, &["--format", "markdown"]), markdown);
    assert_eq!(show(&saved, &["--by", "person"]), by_person);
    let text = show(&saved, &[]);
    assert!(
        text.starts_with("teamsync will perform the following actions:"),
        "{text}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&show(&saved, &["--format", "json"])).unwrap();
    assert_eq!(json["format_version"], teamsync::changeset::FORMAT_VERSION);
    let people: serde_json::Value =
        serde_json::from_str(&show(&saved, &["--format", "json", "--by", "person"])).unwrap();
    assert_eq!(people["view"], "people");
    assert_eq!(people["summary"], json["summary"]);
    let oscar = people["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["person"] == "oscar@acme.com")
        .unwrap();
    assert_eq!(oscar["loses"].as_array().unwrap().len(), 5);
    let mut people = people;
    people["teamsync_version"] = "[version]".into();
    insta::assert_json_snapshot!("example_by_person_json", people);
}

#[test]
fn show_takes_a_budget_for_the_job_summary() {
    let repo = copy_example();
    let saved = repo.path().join("plan.json");
    repo.run(&["plan", "--out", saved.to_str().unwrap()])
        .code(0);
    let small = show(&saved, &["--format", "markdown", "--budget", "1200"]);
    assert!(small.len() <= 1200, "{}", small.len());
    assert!(small.contains("**Not shown here**"), "{small}");
    let big = show(&saved, &["--format", "markdown", "--budget", "1000000"]);
    assert!(!big.contains("**Not shown here**"), "{big}");
    let refused = assert_cmd::Command::cargo_bin("teamsync")
        .unwrap()
        .arg("show")
        .arg(&saved)
        .args(["--format", "markdown", "--budget", "2000000"])
        .assert()
        .code(1);
    assert!(
        stderr(&refused).contains("--budget"),
        "{}",
        stderr(&refused)
    );
}
