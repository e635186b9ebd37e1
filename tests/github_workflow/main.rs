//! The ready workflow for users and the action it uses are valid YAML and keep their
//! promises: plan on pull requests with read tokens and one sticky comment, apply only on
//! push to main with write tokens, never two applies at once; the action installs only the
//! release its `uses:` ref names, whose checksum and build provenance match (or a binary it
//! is given), and tells the workflow what the plan said; a release is tagged only with
//! Cargo.toml's version and is attested; the action is tested on every push.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

mod action;
mod ready_workflow;
mod release;
mod scheduled;

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    serde_saphyr::from_str(&text).expect("valid YAML")
}

fn workflow() -> Value {
    yaml("examples/github/teamsync.yml")
}

fn action() -> Value {
    yaml("action.yml")
}

/// The `run:` scripts and `script:` inputs of the action's steps, as one text.
fn action_steps_text() -> String {
    serde_json::to_string(&action()["runs"]["steps"]).unwrap()
}

/// The `run:` script of the action's install step.
fn install_script() -> String {
    action()["runs"]["steps"][0]["run"]
        .as_str()
        .expect("the install step runs a script")
        .to_string()
}

/// What one run of the install script did.
struct Install {
    ok: bool,
    /// stdout and stderr together.
    output: String,
    /// What it appended to $GITHUB_PATH.
    path: String,
    /// Every call of the fake `curl` and `gh`.
    calls: String,
    temp: std::path::PathBuf,
}

/// A release v0.1.0 for x86_64 Linux, as the release workflow lays it out, that the fake
/// `curl` serves: the archive (its `teamsync` prints a version) and SHA256SUMS over it.
/// `tampered`: the archive changes after SHA256SUMS was written.
fn fake_release(dir: &Path, tampered: bool) {
    let script = r#"set -euo pipefail
        name=teamsync-v0.1.0-x86_64-unknown-linux-musl
        mkdir -p "$name"
        printf '#!/bin/sh\necho "teamsync 0.1.0 (fake)"\n' > "$name/teamsync"
        chmod +x "$name/teamsync"
        tar -czf "$name.tar.gz" "$name"
        rm -r "$name"
        sha256sum "$name.tar.gz" > SHA256SUMS
        if [ "$TAMPERED" = 1 ]; then echo junk >> "$name.tar.gz"; fi"#;
    let status = Command::new("bash")
        .args(["-c", script])
        .current_dir(dir)
        .env("TAMPERED", if tampered { "1" } else { "0" })
        .status()
        .unwrap();
    assert!(status.success());
}

/// Runs the action's install script with a fake `curl` (serving `fake_release`, never the
/// network) and a fake `gh` (exiting with FAKE_GH_EXIT), on a Linux x64 runner unless
/// `vars` say otherwise.
fn run_install(vars: &[(&str, &str)], tampered: bool) -> Install {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let bin = root.join("fake-bin");
    let release = root.join("release");
    let temp = root.join("runner-temp");
    for d in [&bin, &release, &temp] {
        std::fs::create_dir(d).unwrap();
    }
    fake_release(&release, tampered);
    let fakes = [
        (
            "curl",
            r#"echo "curl $*" >> "$FAKE_LOG"
out=""; url=""
while [ $# -gt 0 ]; do
  case "$1" in -o) out=$2; shift 2 ;; -*) shift ;; *) url=$1; shift ;; esac
done
cp "$FAKE_RELEASE/${url##*/}" "$out""#,
        ),
        (
            "gh",
            r#"echo "gh $* token=$GH_TOKEN" >> "$FAKE_LOG"
exit "$FAKE_GH_EXIT""#,
        ),
    ];
    for (name, body) in fakes {
        let file = bin.join(name);
        std::fs::write(&file, format!("#!/usr/bin/env bash\n{body}\n")).unwrap();
        Command::new("chmod").arg("+x").arg(&file).status().unwrap();
    }
    let log = root.join("calls.log");
    let github_path = root.join("github-path");
    let mut cmd = Command::new("bash");
    cmd.args(["-c", &install_script()])
        .current_dir(root)
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("FAKE_LOG", &log)
        .env("FAKE_RELEASE", &release)
        .env("FAKE_GH_EXIT", "0")
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TEMP", &temp)
        .env("GITHUB_PATH", &github_path)
        .env("GITHUB_ACTION_PATH", "")
        .env("ACTION_REF", "")
        .env("BINARY", "")
        .env("GH_TOKEN", "the-job-token");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    Install {
        ok: out.status.success(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        path: read(&github_path),
        calls: read(&log),
        temp: temp.clone(),
    }
}

fn uses_the_action(step: &Value) -> bool {
    step["uses"]
        .as_str()
        .is_some_and(|u| u.starts_with("teamsync/teamsync@v"))
}
