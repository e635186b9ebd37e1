//! `teamsync init`: a starter repository that validates, plans offline against a seed made
//! from it, whose schema modelines resolve inside it, whose workflows name its folder, and
//! which is never written over an existing file without --force.

use std::path::Path;

use assert_cmd::Command;

fn teamsync(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("teamsync").expect("binary");
    cmd.current_dir(dir).env_remove("GITHUB_ACTIONS");
    cmd
}

fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

#[test]
fn the_starter_validates_plans_offline_and_its_modelines_resolve() {
    let root = tempfile::tempdir().expect("tempdir");
    teamsync(root.path())
        .args(["init", "--domain", "corp.example"])
        .assert()
        .code(0);
    teamsync(root.path())
        .args(["validate", "--config", "teamsync"])
        .assert()
        .code(0);
    teamsync(root.path())
        .args([
            "sandbox",
            "seed",
            "--from",
            "teamsync",
            "--out",
            "teamsync/seed.json",
        ])
        .assert()
        .code(0);
    let plan = teamsync(root.path())
        .args([
            "plan",
            "--config",
            "teamsync",
            "--sandbox",
            "teamsync/seed.json",
            "--detailed-exitcode",
        ])
        .env_remove("PIXIEBRIX_TOKEN")
        .env_remove("GITBOOK_TOKEN")
        .env_remove("CONTENTFUL_TOKEN")
        .assert()
        .code(0);
    assert!(
        String::from_utf8_lossy(&plan.get_output().stdout).contains("No changes."),
        "the seed is the starter applied"
    );
    // Every YAML file names a schema that exists in the user's repository and is the
    // schema this teamsync checks with.
    let schema = teamsync(root.path()).arg("schema").assert().code(0);
    let schema = schema.get_output().stdout.clone();
    let mut files = Vec::new();
    yaml_files(&root.path().join("teamsync"), &mut files);
    assert_eq!(
        files.len(),
        5,
        "root, people and one file per team: {files:?}"
    );
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let first = text.lines().next().unwrap_or_default();
        let target = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| panic!("{} starts with a modeline: {first}", file.display()));
        let resolved = file.parent().expect("parent").join(target);
        assert_eq!(
            std::fs::read(&resolved).unwrap_or_default(),
            schema,
            "{} points at {}",
            file.display(),
            resolved.display()
        );
    }
    let people = std::fs::read_to_string(root.path().join("teamsync/people.yaml")).unwrap();
    assert!(people.contains("ada@corp.example"), "{people}");
}

#[test]
fn the_workflows_name_the_config_folder() {
    let root = tempfile::tempdir().expect("tempdir");
    teamsync(root.path())
        .args(["init", "--dir", "access/config"])
        .assert()
        .code(0);
    teamsync(root.path())
        .args([
            "init",
            "--dir",
            "access/config",
            "--workflow",
            "drift",
            "--force",
        ])
        .assert()
        .code(0);
    for name in [
        "teamsync.yml",
        "teamsync-expiry.yml",
        "teamsync-report.yml",
        "teamsync-drift.yml",
    ] {
        let text =
            std::fs::read_to_string(root.path().join(".github/workflows").join(name)).unwrap();
        assert!(text.contains("CONFIG: access/config #"), "{name}:\n{text}");
        assert!(!text.contains("CONFIG: teamsync #"), "{name}");
        let doc: serde_json::Value = serde_saphyr::from_str(&text).expect("workflow YAML");
        assert_eq!(doc["env"]["CONFIG"], "access/config", "{name}");
    }
    let plan = std::fs::read_to_string(root.path().join(".github/workflows/teamsync.yml")).unwrap();
    assert!(plan.contains("\"access/config/**\""), "{plan}");
    teamsync(root.path())
        .args(["validate", "--config", "access/config"])
        .assert()
        .code(0);
}

#[test]
fn init_never_replaces_a_file_without_force_and_writes_nothing_when_it_refuses() {
    let root = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(root.path().join("teamsync")).unwrap();
    std::fs::write(root.path().join("teamsync/people.yaml"), "people: {}\n").unwrap();
    let out = teamsync(root.path()).arg("init").assert().code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("teamsync/people.yaml exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(root.path().join("teamsync/people.yaml")).unwrap(),
        "people: {}\n"
    );
    assert!(
        !root.path().join("teamsync/teamsync.yaml").exists(),
        "nothing else was written"
    );
    teamsync(root.path())
        .args(["init", "--force"])
        .assert()
        .code(0);
    assert!(
        std::fs::read_to_string(root.path().join("teamsync/people.yaml"))
            .unwrap()
            .contains("ada@")
    );
}

#[test]
fn one_provider_gives_one_provider_and_a_folder_outside_is_refused() {
    let root = tempfile::tempdir().expect("tempdir");
    teamsync(root.path())
        .args(["init", "--provider", "gitbook"])
        .assert()
        .code(0);
    let text = std::fs::read_to_string(root.path().join("teamsync/teamsync.yaml")).unwrap();
    assert!(
        text.contains("kind: gitbook") && !text.contains("kind: pixiebrix"),
        "{text}"
    );
    assert!(
        root.path()
            .join("teamsync/teams/docs-writers.yaml")
            .exists()
    );
    assert!(!root.path().join("teamsync/teams/cms-editors.yaml").exists());
    teamsync(root.path())
        .args(["validate", "--config", "teamsync"])
        .assert()
        .code(0);
    let out = teamsync(root.path())
        .args(["init", "--dir", "../elsewhere"])
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("inside the repository"));
    assert!(!root.path().parent().unwrap().join("elsewhere").exists());
}

/// By default the starter holds every workflow that needs no repository setting beyond its
/// secrets (plan and apply, expiry, the monthly access review); drift adoption, which opens
/// pull requests, only when asked for, and `--workflow` writes exactly what it names.
#[test]
fn the_workflows_are_the_default_three_or_exactly_those_asked_for() {
    let workflows = |root: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(root.join(".github/workflows"))
            .expect("workflows folder")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let root = tempfile::tempdir().expect("tempdir");
    teamsync(root.path()).arg("init").assert().code(0);
    assert_eq!(
        workflows(root.path()),
        ["teamsync-expiry.yml", "teamsync-report.yml", "teamsync.yml"]
    );
    let report =
        std::fs::read_to_string(root.path().join(".github/workflows/teamsync-report.yml")).unwrap();
    assert!(
        report.contains("teamsync report --config \"$CONFIG\""),
        "{report}"
    );

    let root = tempfile::tempdir().expect("tempdir");
    teamsync(root.path())
        .args(["init", "--workflow", "plan,drift"])
        .assert()
        .code(0);
    assert_eq!(
        workflows(root.path()),
        ["teamsync-drift.yml", "teamsync.yml"]
    );
    let out = teamsync(root.path())
        .args(["init", "--workflow", "nightly", "--force"])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("nightly") && err.contains("drift"), "{err}");
}
