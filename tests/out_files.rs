//! `--out` never destroys a configuration (issue 32): a file of the configuration (root or
//! included, also through a symlink) or a file teamsync did not write is never replaced
//! without `--force`, the error names the file and why, and nothing is written; the
//! extension picks the report's format, and one that contradicts it is an error; `-` is
//! stdout. All against the example's embedded sandbox (no token, no server).

mod common;

use common::*;

fn read(repo: &Repo, name: &str) -> String {
    std::fs::read_to_string(repo.path().join(name)).expect("read")
}

#[test]
fn plan_out_never_replaces_a_configuration_file() {
    let repo = copy_example();
    for name in ["teamsync.yaml", "people.yaml", "teams/docs-writers.yaml"] {
        let before = read(&repo, name);
        let target = repo.path().join(name);
        let out = repo
            .run(&["plan", "--out", target.to_str().expect("utf-8")])
            .code(1);
        let err = stderr(&out);
        assert!(
            err.contains("is a file of the configuration"),
            "{name}: {err}"
        );
        assert!(
            err.contains(name.rsplit('/').next().unwrap_or(name)),
            "{err}"
        );
        assert_eq!(read(&repo, name), before, "{name} was changed");
        // Not even with --force: a .yaml file cannot hold a plan.
        let out = repo
            .run(&["plan", "--force", "--out", target.to_str().expect("utf-8")])
            .code(1);
        assert!(
            stderr(&out).contains("cannot hold a plan"),
            "{}",
            stderr(&out)
        );
        assert_eq!(read(&repo, name), before, "{name} was changed with --force");
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_to_a_configuration_file_is_refused() {
    let repo = copy_example();
    let link = repo.path().join("plan.json");
    std::os::unix::fs::symlink(repo.path().join("people.yaml"), &link).expect("symlink");
    let before = read(&repo, "people.yaml");
    let out = repo
        .run(&["plan", "--out", link.to_str().expect("utf-8")])
        .code(1);
    assert!(
        stderr(&out).contains("is a file of the configuration"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&repo, "people.yaml"), before);
}

#[test]
fn an_unrelated_file_needs_force_and_a_plan_file_may_be_replaced() {
    let repo = copy_example();
    repo.write("notes.json", "{\"mine\": true}\n");
    let target = repo.path().join("notes.json");
    let target = target.to_str().expect("utf-8");
    let out = repo.run(&["plan", "--out", target]).code(1);
    assert!(
        stderr(&out).contains("teamsync did not write it"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&repo, "notes.json"), "{\"mine\": true}\n");
    repo.run(&["plan", "--force", "--out", target]).code(0);
    assert!(read(&repo, "notes.json").contains("\"format_version\""));
    // A plan teamsync saved is replaced by the next one without --force.
    let plan = repo.path().join("plan.json");
    let plan = plan.to_str().expect("utf-8");
    repo.run(&["plan", "--out", plan]).code(0);
    repo.run(&["plan", "--out", plan]).code(0);
}

#[test]
fn plan_out_dash_is_the_json_plan_on_stdout() {
    let repo = copy_example();
    let out = repo.run(&["plan", "--out", "-"]).code(0);
    let plan: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON");
    assert_eq!(plan["format_version"], "3");
    assert!(!repo.path().join("-").exists());
}

#[test]
fn the_report_extension_picks_the_format_and_a_mismatch_is_an_error() {
    let repo = copy_example();
    let csv = repo.path().join("review.csv");
    repo.run(&["report", "--out", csv.to_str().expect("utf-8")])
        .code(0);
    assert!(read(&repo, "review.csv").starts_with("person,handle,email"));
    let out = repo
        .run(&[
            "report",
            "--format",
            "html",
            "--out",
            csv.to_str().expect("utf-8"),
        ])
        .code(1);
    assert!(
        stderr(&out).contains("cannot hold an HTML report"),
        "{}",
        stderr(&out)
    );
    assert!(read(&repo, "review.csv").starts_with("person,handle,email"));
    let people = repo.path().join("people.yaml");
    let before = read(&repo, "people.yaml");
    let out = repo
        .run(&["report", "--out", people.to_str().expect("utf-8")])
        .code(1);
    assert!(
        stderr(&out).contains("is a file of the configuration"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&repo, "people.yaml"), before);
    let out = repo
        .run(&["report", "--format", "json", "--out", "-"])
        .code(0);
    let report: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON");
    assert_eq!(report["report_format_version"], 1);
}

#[test]
fn show_of_a_configuration_file_says_so_and_suggests_no_overwrite() {
    let repo = copy_example();
    let root = repo.path().join("teamsync.yaml");
    let out = assert_cmd::Command::cargo_bin("teamsync")
        .expect("binary")
        .args(["show", root.to_str().expect("utf-8")])
        .assert()
        .code(1);
    let err = stderr(&out);
    assert!(err.contains("a configuration file, not a plan"), "{err}");
    assert!(
        !err.contains("--out teamsync.yaml") && !err.contains(&format!("--out {}", root.display())),
        "{err}"
    );
}

#[test]
fn man_out_leaves_other_programs_pages_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("teamsync.1"), ".TH OTHER 1\n").expect("write");
    let out = assert_cmd::Command::cargo_bin("teamsync")
        .expect("binary")
        .args(["man", "--out", dir.path().to_str().expect("utf-8")])
        .assert()
        .code(1);
    assert!(
        stderr(&out).contains("teamsync did not write it"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("teamsync.1")).expect("read"),
        ".TH OTHER 1\n"
    );
    assert!(
        !dir.path().join("teamsync-plan.1").exists(),
        "a page was written before the refusal"
    );
    // Its own pages are replaced: run twice.
    std::fs::remove_file(dir.path().join("teamsync.1")).expect("rm");
    for _ in 0..2 {
        assert_cmd::Command::cargo_bin("teamsync")
            .expect("binary")
            .args(["man", "--out", dir.path().to_str().expect("utf-8")])
            .assert()
            .code(0);
    }
}
