//! CLI conventions through the binary: usage errors exit 1 (2 means "changes" under
//! `--detailed-exitcode`), `--help` and `--version` exit 0, a closed stdout ends quietly
//! with 0, `-q` leaves only the plan's summary, and `man --out` writes one page per
//! command whose SEE ALSO names only pages that exist.

mod common;

use std::process::{Command as Std, Stdio};

use assert_cmd::Command;
use common::*;

fn teamsync() -> Command {
    Command::cargo_bin("teamsync").unwrap()
}

#[test]
fn usage_errors_exit_1_with_clap_message_and_help_and_version_exit_0() {
    let out = teamsync().arg("--no-such-flag").assert().code(1);
    assert!(
        stderr(&out).contains("unexpected argument '--no-such-flag'"),
        "{}",
        stderr(&out)
    );
    let out = teamsync()
        .args(["plan", "--parallelism", "0"])
        .assert()
        .code(1);
    assert!(stderr(&out).contains("--parallelism"), "{}", stderr(&out));
    teamsync().assert().code(1);
    let help = teamsync().arg("--help").assert().code(0);
    assert!(
        stdout(&help).contains("Usage: teamsync"),
        "{}",
        stdout(&help)
    );
    let version = teamsync().arg("--version").assert().code(0);
    // The release and the commit it was built from (build.rs), so a report names the build.
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let expected = format!(
        "teamsync {} (commit {}",
        env!("CARGO_PKG_VERSION"),
        head.as_deref().unwrap_or("unknown")
    );
    assert!(
        stdout(&version).starts_with(&expected),
        "{} should start with {expected}",
        stdout(&version)
    );
    teamsync().args(["plan", "--help"]).assert().code(0);
}

/// Runs the binary with a stdout pipe whose reading end is already closed.
fn with_closed_stdout(args: &[&str], dir: Option<&std::path::Path>) -> (i32, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = Std::new(assert_cmd::cargo::cargo_bin("teamsync"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_ACTIONS");
    if let Some(d) = dir {
        cmd.arg("--config").arg(d);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_ends_quietly_with_exit_0() {
    let repo = copy_example();
    for args in [
        &["plan"][..],
        &["plan", "--format", "json"],
        &["plan", "-q"],
    ] {
        let (code, err) = with_closed_stdout(args, Some(repo.path()));
        // Off a terminal, a plan says in one line per provider that its read finished
        // (issue 15); nothing else, and nothing about the closed pipe.
        let err: String = err
            .lines()
            .filter(|l| !l.starts_with("Read "))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!((code, err.as_str()), (0, ""), "{args:?}");
    }
    for args in [
        &["schema"][..],
        &["man"],
        &["completions", "bash"],
        &["--help"],
    ] {
        let (code, err) = with_closed_stdout(args, None);
        assert_eq!((code, err.as_str()), (0, ""), "{args:?}");
    }
}

#[test]
fn quiet_plan_prints_only_the_summary() {
    let repo = copy_example();
    let out = repo.run(&["plan", "-q"]).code(0);
    let text = stdout(&out);
    assert!(
        text.starts_with("Plan: 1 to create, 9 to update, 0 to delete; 15 members to add"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
    assert_eq!(stderr(&out), "");
    repo.run(&["apply", "-q", "--auto-approve"]).code(0);
    let out = repo.run(&["plan", "-q"]).code(0);
    assert_eq!(stdout(&out), "No changes.\n");
}

#[test]
fn quiet_apply_prints_only_the_summary_and_errors() {
    let repo = copy_example();
    let out = repo.run(&["apply", "-q", "--auto-approve"]).code(0);
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
    let err = stderr(&out);
    assert!(!err.contains("applied: "), "{err}");
    assert!(err.contains("Apply complete:"), "{err}");
}

#[test]
fn man_out_writes_one_page_per_command_with_the_extra_sections() {
    let dir = tempfile::tempdir().unwrap();
    teamsync()
        .args(["man", "-q", "--out"])
        .arg(dir.path())
        .assert()
        .code(0);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for expected in [
        "teamsync.1",
        "teamsync-validate.1",
        "teamsync-plan.1",
        "teamsync-apply.1",
        "teamsync-import.1",
        "teamsync-schema.1",
        "teamsync-completions.1",
        "teamsync-man.1",
        "teamsync-sandbox.1",
        "teamsync-sandbox-serve.1",
        "teamsync-sandbox-reset.1",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
    for name in &names {
        let page = std::fs::read_to_string(dir.path().join(name)).unwrap();
        for section in [
            ".SH \"EXIT STATUS\"",
            ".SH ENVIRONMENT",
            ".SH EXAMPLES",
            ".SH NAME",
        ] {
            assert!(page.contains(section), "{name} has {section}");
        }
        for var in [
            "PIXIEBRIX_TOKEN",
            "GITBOOK_TOKEN",
            "CONTENTFUL_TOKEN",
            "NO_COLOR",
            "GITHUB_ACTIONS",
            "GITHUB_STEP_SUMMARY",
        ] {
            assert!(page.contains(var), "{name} names {var}");
        }
        // Every page a page refers to, as name(1), exists.
        for word in page.split(|c: char| c.is_whitespace() || c == ',') {
            let word = word
                .replace("\\fI", "")
                .replace("\\fR", "")
                .replace("\\fB", "")
                .replace("\\-", "-");
            if let Some(stem) = word
                .strip_suffix("(1)")
                .filter(|s| s.starts_with("teamsync"))
            {
                assert!(
                    names.contains(&format!("{stem}.1")),
                    "{name} refers to {stem}(1)"
                );
            }
        }
    }
    let top = std::fs::read_to_string(dir.path().join("teamsync.1")).unwrap();
    assert!(top.contains(".SH \"SEE ALSO\""), "{top}");
    let plan = std::fs::read_to_string(dir.path().join("teamsync-plan.1")).unwrap();
    assert!(plan.contains("\\fB2\\fR"), "plan documents exit 2:\n{plan}");
    // Without --out: the top page on stdout.
    let out = teamsync().arg("man").assert().code(0);
    assert_eq!(stdout(&out), top);
}
