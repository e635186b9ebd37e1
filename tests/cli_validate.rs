//! `teamsync validate` and `teamsync schema` through the binary: exit codes and output.

mod common;

use assert_cmd::Command;
use predicates::prelude::*;

fn teamsync() -> Command {
    Command::cargo_bin("teamsync").unwrap()
}

#[test]
fn validate_passes_on_the_bundled_example() {
    teamsync()
        .args(["validate", "--config", "examples/acme"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "is valid: 12 files, 3 providers, 10 resources.",
        ));
}

#[test]
fn validate_shows_every_problem_with_source_line_caret_and_hint_and_exits_1() {
    let dir = common::Repo::new(&[
        (
            "teamsync.yaml",
            "version: 1\nproviders:\n  pb: {kind: pixiebrix, organization: 0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11, token_env: T}\ninclude: [g.yaml]\n",
        ),
        (
            "g.yaml",
            "people:\n  al: {email: al@x.com}\ngroups:\n  - name: G\n    members: [al, bo]\n",
        ),
    ]);
    let out = teamsync()
        .args(["validate", "--config"])
        .arg(dir.path())
        .assert()
        .code(1);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    let g = dir.path().join("g.yaml").display().to_string();
    assert!(
        stderr.contains(&format!("{g}:5:19: error: unknown person `bo`\n   |     members: [al, bo]\n   |                   ^\n  hint: add `bo` under `people:` with an email, or write the email itself")),
        "{stderr}"
    );
    assert!(stderr.ends_with("1 error found.\n"), "{stderr}");
}

#[test]
fn validate_format_json_gives_tools_one_document_valid_or_not() {
    let ok = teamsync()
        .args(["validate", "--format", "json", "--config", "examples/acme"])
        .env("GITHUB_ACTIONS", "true")
        .assert()
        .code(0);
    let doc: serde_json::Value = serde_json::from_slice(&ok.get_output().stdout).unwrap();
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["diagnostics"], serde_json::json!([]));
    assert_eq!(
        doc["summary"],
        serde_json::json!({"files": 12, "providers": 3, "resources": 10})
    );
    assert!(ok.get_output().stderr.is_empty());

    let dir = common::Repo::new(&[
        (
            "teamsync.yaml",
            "version: 1\nproviders:\n  pb: {kind: pixiebrix, organization: 0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11, token_env: T}\ninclude: [g.yaml]\n",
        ),
        (
            "g.yaml",
            "people:\n  al: {email: al@x.com}\ngroups:\n  - name: G\n    members: [al, bo]\n",
        ),
    ]);
    let bad = teamsync()
        .args(["validate", "--format", "json", "--config"])
        .arg(dir.path())
        .assert()
        .code(1);
    let text = String::from_utf8(bad.get_output().stdout.clone()).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["valid"], false);
    assert_eq!(doc["error_count"], 1, "{text}");
    assert_eq!(doc["summary"], serde_json::Value::Null);
    let unknown = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["message"] == "unknown person `bo`")
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(unknown["severity"], "error");
    assert!(
        unknown["location"]["file"]
            .as_str()
            .unwrap()
            .ends_with("g.yaml")
    );
    assert_eq!(unknown["location"]["line"], 5);
    assert_eq!(unknown["location"]["column"], 19);
    assert!(
        unknown["hint"]
            .as_str()
            .unwrap()
            .contains("add `bo` under `people:`")
    );

    // A credential in the file is never repeated, in JSON either.
    dir.write(
        "teamsync.yaml",
        "version: 1\nproviders:\n  pb: {kind: pixiebrix, organization: 0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11, token_env: T, endpoint: \"http://admin:hunter2@127.0.0.1:47913\"}\ninclude: [g.yaml]\n",
    );
    let leak = teamsync()
        .args(["validate", "--format", "json", "--config"])
        .arg(dir.path())
        .assert()
        .code(1);
    let text = String::from_utf8(leak.get_output().stdout.clone()).unwrap();
    assert!(text.contains("carries a user name or password"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn schema_prints_the_committed_schema() {
    let committed = std::fs::read_to_string("schemas/teamsync.schema.json").unwrap();
    teamsync().arg("schema").assert().code(0).stdout(committed);
}

#[test]
fn inside_github_actions_validate_prints_one_annotation_per_problem() {
    let dir = common::Repo::new(&[(
        "teamsync.yaml",
        "version: 1\nproviders:\n  pb: {kind: pixiebrix, organization: 0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11, token_env: T}\ngroups:\n  - name: G\n    membres: []\n  - name: H\n    members: [nobody@x.com, ghost]\n",
    )]);
    let out = teamsync()
        .current_dir(dir.path())
        .arg("validate")
        .env("GITHUB_ACTIONS", "true")
        .assert()
        .code(1);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(
        stdout,
        "::error file=teamsync.yaml,line=6,col=5,title=teamsync validate::unknown key `membres`%0Ahint: did you mean `members`?\n"
    );
    let text = teamsync()
        .current_dir(dir.path())
        .args(["validate", "--format", "text"])
        .env("GITHUB_ACTIONS", "true")
        .assert()
        .code(1);
    assert!(
        text.get_output().stdout.is_empty(),
        "--format text overrides the environment"
    );
}

#[test]
fn completions_and_man_page_are_generated_from_the_cli_definition() {
    teamsync()
        .args(["completions", "bash"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("validate").and(predicate::str::contains("--config")));
    teamsync()
        .arg("man")
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(".ie").or(predicate::str::contains(".TH teamsync")));
}

#[test]
fn quiet_validate_says_nothing_when_the_config_is_valid() {
    teamsync()
        .args(["validate", "-q", "--config", "examples/acme"])
        .assert()
        .code(0)
        .stdout("")
        .stderr("");
}

#[test]
fn lifecycle_keys_are_checked_with_their_location_and_fix() {
    let dir = common::Repo::new(&[
        (
            "teamsync.yaml",
            "version: 1\nproviders:\n  docs: {kind: gitbook, organization: acme, token_env: T, invite_role: manager, verified_domains: [acme.com]}\ninclude: [t.yaml]\n",
        ),
        (
            "t.yaml",
            "people:\n  al: {email: al@acme.com, until: 2026-02-30}\nteams:\n  - name: T\n    description: Writers\n    members: [{person: al, until: soon}]\n",
        ),
    ]);
    let out = teamsync()
        .args(["validate", "--config"])
        .arg(dir.path())
        .assert()
        .code(1);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    for (line, what) in [
        (
            "teamsync.yaml:3:",
            "`invite_role: manager` is not an organization role of gitbook",
        ),
        (
            "teamsync.yaml:3:",
            "`verified_domains` is a PixieBrix setting",
        ),
        ("t.yaml:2:", "`until: 2026-02-30` is not a date"),
        ("t.yaml:6:", "`until: soon` is not a date"),
        ("t.yaml:5:", "`description` is for Contentful teams"),
    ] {
        assert!(
            stderr.lines().any(|l| l.contains(line) && l.contains(what)),
            "{line} {what}:\n{stderr}"
        );
    }
}
