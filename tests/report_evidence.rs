//! `teamsync report`'s evidence for access reviews, through the binary on a copy of the
//! example held in a real git repository: each declared access names the commit that last
//! changed its line, that commit's date, author and `Reviewed-by:`/`Approved-by:`
//! trailers; an uncommitted line is "not committed"; a shallow clone and a folder outside
//! any repository report no grant at all (and say why); the CSV carries the same columns;
//! and `--person` narrows the report to one row, so "who gave X access to what, and when"
//! is one command. Each test prints that it skipped when there is no `git` to run.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

const NOW: &str = "2026-12-01T12:00:00Z";
const FIRST_AT: &str = "2026-01-05T10:00:00Z";
const SECOND_AT: &str = "2026-02-10T09:30:00Z";
/// Before the first: the third commit was made on a machine whose clock was behind (or
/// rebased with its old date). It is still the newer change: history's order decides.
const THIRD_AT: &str = "2025-12-20T08:00:00Z";
const AUDITORS: &str = "docs.team[\"Auditors\"]";
const AUTHOR: &str = "Ann Admin <ann@acme.com>";

/// Whether `git` runs here; prints the skip line when it does not.
fn git_installed() -> bool {
    let ok = std::process::Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!("skipped: git not installed");
    }
    ok
}

/// `git -C DIR ARGS`, committing at `date` (author and committer), away from the
/// user's own git configuration; the trimmed stdout.
fn git(dir: &Path, date: &str, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The commit ids of the fixture, oldest first.
struct Commits {
    first: String,
    second: String,
    third: String,
}

/// The example, plus a GitBook team `Auditors` in a file of its own (so the example's own
/// layout can change without this test), committed three times: the whole configuration
/// with `Auditors` = alice and grace; then judy added on a line of her own, with review
/// trailers; then a `role: owner` line under grace's unchanged `- person: grace` (a role
/// change re-grants: the newest commit among an entry's lines is its grant).
fn history_repo() -> (Repo, Commits) {
    let repo = copy_example();
    repo.edit(
        "teamsync.yaml",
        "include: [",
        "include: [\"evidence/*.yaml\", ",
    );
    std::fs::create_dir_all(repo.path().join("evidence")).expect("mkdir");
    repo.write(
        "evidence/auditors.yaml",
        "teams:\n  - provider: docs\n    name: Auditors\n    members:\n      - alice\n      - person: grace\n",
    );
    let dir = repo.path();
    git(dir, FIRST_AT, &["init", "-q"]);
    git(dir, FIRST_AT, &["config", "user.name", "Ann Admin"]);
    git(dir, FIRST_AT, &["config", "user.email", "ann@acme.com"]);
    git(dir, FIRST_AT, &["add", "-A"]);
    git(
        dir,
        FIRST_AT,
        &["commit", "-q", "-m", "Acme's membership as code"],
    );
    let first = git(dir, FIRST_AT, &["rev-parse", "HEAD"]);
    repo.edit(
        "evidence/auditors.yaml",
        "      - person: grace\n",
        "      - person: grace\n      - judy\n",
    );
    git(
        dir,
        SECOND_AT,
        &[
            "commit",
            "-q",
            "-a",
            "-m",
            "Give judy the audit team\n\nShe runs the SOC 2 evidence this year.\n\nReviewed-by: Erin <erin@acme.com>\nApproved-by: Mallory <mallory@acme.com>",
        ],
    );
    let second = git(dir, SECOND_AT, &["rev-parse", "HEAD"]);
    repo.edit(
        "evidence/auditors.yaml",
        "      - person: grace\n",
        "      - person: grace\n        role: owner\n",
    );
    git(
        dir,
        THIRD_AT,
        &["commit", "-q", "-a", "-m", "grace owns the audit team"],
    );
    let third = git(dir, THIRD_AT, &["rev-parse", "HEAD"]);
    (
        repo,
        Commits {
            first,
            second,
            third,
        },
    )
}

/// `teamsync report --format FORMAT ARGS` on `dir`, with the read time fixed: the output.
fn report_in(dir: &Path, format: &str, args: &[&str]) -> assert_cmd::assert::Assert {
    assert_cmd::Command::cargo_bin("teamsync")
        .expect("binary")
        .args(["report", "--format", format])
        .args(args)
        .arg("--config")
        .arg(dir)
        .env("TEAMSYNC_REPORT_NOW", NOW)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("PIXIEBRIX_TOKEN")
        .env_remove("GITBOOK_TOKEN")
        .env_remove("CONTENTFUL_TOKEN")
        .env_remove("GITHUB_ACTIONS")
        .assert()
}

fn json_report(dir: &Path) -> Value {
    let out = report_in(dir, "json", &[]).code(0);
    serde_json::from_slice(&out.get_output().stdout).expect("report is JSON")
}

/// The cell of `person` (a row id) for the container `key`.
fn cell<'a>(doc: &'a Value, person: &str, key: &str) -> &'a Value {
    doc["people"]
        .as_array()
        .and_then(|people| people.iter().find(|p| p["id"] == person))
        .and_then(|p| p["access"].as_array())
        .and_then(|cells| cells.iter().find(|c| c["container"] == key))
        .unwrap_or_else(|| panic!("no cell for {person} in {key}"))
}

/// The key of the PixieBrix organization roster.
fn roster(doc: &Value) -> String {
    doc["containers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["kind"] == "organization"))
        .and_then(|c| c["key"].as_str())
        .expect("the example declares the organization")
        .to_string()
}

/// Every cell of the report.
fn all_cells(doc: &Value) -> Vec<&Value> {
    doc["people"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["access"].as_array().into_iter().flatten())
        .collect()
}

#[test]
fn a_grant_is_the_commit_that_last_changed_the_members_line() {
    if !git_installed() {
        return;
    }
    let (repo, commits) = history_repo();
    let doc = json_report(repo.path());
    assert_eq!(doc["config"]["history"], "full");
    assert_eq!(doc["config"]["history_reason"], Value::Null);
    assert_eq!(doc["config"]["git_commit"], commits.third.as_str());

    // judy came in with the second commit, and its trailers name who approved it.
    let judy = cell(&doc, "judy", AUDITORS);
    assert_eq!(judy["grant_evidence"], "commit");
    assert_eq!(judy["granted"]["commit"], commits.second.as_str());
    assert_eq!(judy["granted"]["date"], SECOND_AT);
    assert_eq!(judy["granted"]["author"], AUTHOR);
    assert_eq!(judy["granted"]["committer"], AUTHOR);
    assert_eq!(judy["granted"]["committed_at"], SECOND_AT);
    assert_eq!(
        judy["granted"]["approvers"],
        serde_json::json!(["Erin <erin@acme.com>", "Mallory <mallory@acme.com>"])
    );
    // alice's line has not changed since the first commit, which records no approver.
    let alice = cell(&doc, "alice", AUDITORS);
    assert_eq!(alice["granted"]["commit"], commits.first.as_str());
    assert_eq!(alice["granted"]["date"], FIRST_AT);
    assert_eq!(alice["granted"]["approvers"], serde_json::json!([]));
    // grace was listed first, but made an owner last, on a line of its own under hers:
    // the newest of her entry's lines is the grant.
    let grace = cell(&doc, "grace", AUDITORS);
    assert_eq!(grace["declared_role"], "owner");
    assert_eq!(grace["granted"]["commit"], commits.third.as_str());
    assert_eq!(grace["granted"]["date"], THIRD_AT);
    // The roster's members were granted by their `people` entry, in the first commit.
    let org = roster(&doc);
    assert_eq!(
        cell(&doc, "judy", &org)["granted"]["commit"],
        commits.first.as_str()
    );
    // Every declared access has its commit; access nobody declared has no grant at all.
    let cells = all_cells(&doc);
    assert!(cells.iter().any(|c| c["declared"] == false));
    for c in cells {
        if c["declared"] == true {
            assert_eq!(c["grant_evidence"], "commit", "{c}");
            let sha = c["granted"]["commit"].as_str().unwrap_or_default();
            assert!(
                [&commits.first, &commits.second, &commits.third].contains(&&sha.to_string()),
                "{c}"
            );
        } else {
            assert_eq!(c["grant_evidence"], Value::Null, "{c}");
            assert_eq!(c["granted"], Value::Null, "{c}");
        }
    }
}

#[test]
fn a_member_added_but_not_committed_is_not_committed() {
    if !git_installed() {
        return;
    }
    let (repo, commits) = history_repo();
    repo.edit(
        "evidence/auditors.yaml",
        "      - alice\n",
        "      - alice\n      - heidi\n",
    );
    // A whole file git has never seen: every member in it is not committed either.
    repo.write(
        "evidence/interns.yaml",
        "teams:\n  - provider: docs\n    name: Interns\n    members: [niaj]\n",
    );
    let doc = json_report(repo.path());
    assert_eq!(doc["config"]["history"], "full");
    assert_eq!(doc["config"]["git_dirty"], true);
    for (person, key) in [("heidi", AUDITORS), ("niaj", "docs.team[\"Interns\"]")] {
        let c = cell(&doc, person, key);
        assert_eq!(c["grant_evidence"], "not_committed", "{person}: {c}");
        assert_eq!(c["granted"], Value::Null, "{person}: {c}");
    }
    // The lines below the inserted one moved, and still name their own commits.
    assert_eq!(
        cell(&doc, "judy", AUDITORS)["granted"]["commit"],
        commits.second.as_str()
    );
    assert_eq!(
        cell(&doc, "alice", AUDITORS)["granted"]["commit"],
        commits.first.as_str()
    );
}

#[test]
fn a_shallow_clone_reports_no_grant() {
    if !git_installed() {
        return;
    }
    let (repo, commits) = history_repo();
    let clones = tempfile::tempdir().expect("tempdir");
    let url = format!("file://{}", repo.path().display());
    git(
        clones.path(),
        NOW,
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let doc = json_report(&clones.path().join("shallow"));
    assert_eq!(doc["config"]["history"], "shallow");
    assert_eq!(doc["config"]["git_commit"], commits.third.as_str());
    let why = doc["config"]["history_reason"].as_str().unwrap_or_default();
    assert!(
        why.contains("shallow") && why.contains("fetch-depth: 0"),
        "{why}"
    );
    // The clone's only commit would take the blame for every line: none is reported.
    let cells = all_cells(&doc);
    assert!(!cells.is_empty());
    for c in cells {
        assert_eq!(c["granted"], Value::Null, "{c}");
        if c["declared"] == true {
            assert_eq!(c["grant_evidence"], "shallow_history", "{c}");
        }
    }
    let text = std::str::from_utf8(
        &report_in(&clones.path().join("shallow"), "html", &[])
            .code(0)
            .get_output()
            .stdout,
    )
    .expect("UTF-8")
    .to_string();
    assert!(
        text.contains("data-history=\"shallow\""),
        "the header says so"
    );
    assert!(
        !text.contains("granted in "),
        "no grant, not even in the tooltips' data"
    );
}

#[test]
fn a_folder_outside_any_repository_has_no_history() {
    if !git_installed() {
        return;
    }
    let repo = copy_example();
    let doc = json_report(repo.path());
    assert_eq!(doc["config"]["history"], "none");
    assert_eq!(doc["config"]["history_reason"], "not a git repository");
    assert_eq!(doc["config"]["git_commit"], Value::Null);
    for c in all_cells(&doc) {
        assert_eq!(c["granted"], Value::Null, "{c}");
        let want = if c["declared"] == true {
            Value::from("no_history")
        } else {
            Value::Null
        };
        assert_eq!(c["grant_evidence"], want, "{c}");
    }
}

#[test]
fn the_csv_carries_the_grant_and_person_narrows_it_to_one_row() {
    if !git_installed() {
        return;
    }
    let (repo, commits) = history_repo();
    // "Who gave judy access to what, and when": one command, on stdout.
    let out = report_in(repo.path(), "csv", &["--person", "JUDY@acme.com"]).code(0);
    let text = stdout(&out);
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    let header = lines.next().unwrap_or_default();
    assert!(
        header.ends_with(
            ",marks,grant_evidence,granted_commit,granted_at,granted_by,committed_by,committed_at,approved_by"
        ),
        "{header}"
    );
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() >= 2, "{text}");
    assert!(
        rows.iter()
            .all(|r| r.starts_with("judy,judy,judy@acme.com,")),
        "{text}"
    );
    let auditors = rows
        .iter()
        .find(|r| r.contains(",team,Auditors,"))
        .unwrap_or_else(|| panic!("no Auditors row in {text}"));
    assert!(
        auditors.ends_with(&format!(
            ",commit,{},{SECOND_AT},{AUTHOR},{AUTHOR},{SECOND_AT},Erin <erin@acme.com>; Mallory <mallory@acme.com>",
            commits.second
        )),
        "{auditors}"
    );
    // The JSON of the same question: one row, counted alone, and saying it was narrowed.
    let out = report_in(repo.path(), "json", &["--person", "judy"]).code(0);
    let doc: Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON");
    assert_eq!(doc["person"], "judy");
    assert_eq!(doc["people"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["summary"]["people"], 1);
    assert_eq!(
        doc["summary"]["access"].as_u64(),
        Some(rows.len() as u64),
        "the summary counts the one row"
    );
    // Nobody by that name: an error, not an empty report.
    let out = report_in(repo.path(), "csv", &["--person", "nobody"]).code(1);
    assert!(
        stderr(&out).contains("--person \"nobody\""),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
    let out = report_in(repo.path(), "csv", &["--person", "nobody@acme.com"]).code(1);
    assert!(stderr(&out).contains("no such person"), "{}", stderr(&out));
}
