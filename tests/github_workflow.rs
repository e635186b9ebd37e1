//! The ready workflow for users and the action it uses are valid YAML and keep their
//! promises: plan on pull requests with read tokens and one sticky comment, apply only on
//! push to main with write tokens, never two applies at once; the action installs only the
//! release its `uses:` ref names, whose checksum and build provenance match (or a binary it
//! is given), and tells the workflow what the plan said; a release is tagged only with
//! Cargo.toml's version and is attested; the action is tested on every push.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

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

#[test]
fn plan_runs_on_pull_requests_with_read_tokens_and_one_sticky_comment() {
    let w = workflow();
    assert!(w["on"]["pull_request"].is_object());
    assert!(
        w["on"].get("pull_request_target").is_none(),
        "forks must never get secrets"
    );
    // `paths:` is the config folder, the same on both triggers.
    let config = w["env"]["CONFIG"].as_str().unwrap();
    let paths = serde_json::json!([format!("{config}/**")]);
    assert_eq!(w["on"]["pull_request"]["paths"], paths);
    assert_eq!(w["on"]["push"]["paths"], paths);

    let plan = &w["jobs"]["plan"];
    assert_eq!(plan["if"], "github.event_name == 'pull_request'");
    let steps = plan["steps"].as_array().unwrap();
    let text = serde_json::to_string(steps).unwrap();
    assert!(
        text.contains("READ_TOKEN") && !text.contains("WRITE_TOKEN"),
        "a plan needs only read tokens"
    );
    // The action installs, validates and plans; the job keeps the comment itself.
    let step = steps
        .iter()
        .find(|s| uses_the_action(s))
        .expect("uses the action");
    assert_eq!(step["with"]["comment"], false);
    assert_eq!(step["with"]["config"], "${{ env.CONFIG }}");
    assert_eq!(plan["permissions"]["pull-requests"], "write");
    assert_eq!(w["permissions"]["contents"], "read");
    // The saved plan is kept for apply.
    assert!(
        text.contains("actions/upload-artifact@") && text.contains("teamsync-plan"),
        "{text}"
    );
    let named = |name: &str| {
        steps
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("a step named {name:?}"))
    };
    // CODEOWNERS is checked against the config, after the action installed teamsync,
    // and only where the config has a `codeowners:` section (the starter has none).
    let codeowners = named("CODEOWNERS says what the configuration says");
    let run = codeowners["run"].as_str().unwrap();
    assert!(
        run.contains("teamsync codeowners --check --config \"$CONFIG\"")
            && run.contains("grep -q '^codeowners:' \"$CONFIG/teamsync.yaml\""),
        "{run}"
    );
    let position = |name: &str| steps.iter().position(|s| s["name"] == name);
    assert!(
        steps.iter().position(uses_the_action)
            < position("CODEOWNERS says what the configuration says"),
        "teamsync is installed first"
    );
    let upload = named("Upload the plan for apply");
    assert_eq!(upload["with"]["name"], "teamsync-plan");
    assert_eq!(upload["with"]["if-no-files-found"], "error");
    // The comment and the job summary are rendered from the saved plan, reading no API:
    // the comment within its default budget, the summary within GitHub's 1 MiB.
    let render = named("Render the comment and the whole plan for the job summary");
    let run = render["run"].as_str().unwrap();
    assert!(
        run.contains(
            "teamsync show \"$PLAN_PATH\" --format markdown > \"$RUNNER_TEMP/comment.md\""
        ),
        "{run}"
    );
    let budget = format!("--budget {}", teamsync::render::SUMMARY_BUDGET);
    assert!(
        run.contains(&budget) && run.contains(">> \"$GITHUB_STEP_SUMMARY\""),
        "{run}"
    );
    const { assert!(teamsync::render::SUMMARY_BUDGET <= 1 << 20) };
    // ONE sticky comment: found by the hidden marker among this workflow's own comments,
    // edited if found, else created; the marker line fits the comment's limit.
    let comment = named("Post or update the sticky plan comment");
    assert!(
        comment["uses"]
            .as_str()
            .unwrap()
            .starts_with("actions/github-script@v")
    );
    assert_eq!(
        comment["env"]["COMMENT_MD"],
        "${{ runner.temp }}/comment.md"
    );
    let script = comment["with"]["script"].as_str().unwrap();
    let marker = teamsync::render::COMMENT_MARKER;
    // The marker names the config (as the action's does), and the comment is found by
    // that first line alone, never by who posted it (a PAT or an App token posts as
    // another account).
    assert!(
        script.contains("const marker = '<!-- teamsync-plan config=' + config + ' -->';")
            && script.contains("process.env.CONFIG")
            && script.contains("marker + '\\n' + fs.readFileSync(process.env.COMMENT_MD")
            && script.contains("c.body.split(/\\r?\\n/, 1)[0] === marker")
            && !script.contains("login")
            && script.contains("updateComment")
            && script.contains("createComment"),
        "{script}"
    );
    assert_eq!(workflow()["env"]["CONFIG"], "teamsync");
    assert_eq!(
        teamsync::render::MARKDOWN_BUDGET + marker.len() + 1,
        teamsync::render::COMMENT_LIMIT
    );
    const { assert!(teamsync::render::COMMENT_LIMIT < 65_536) };

    // What the action does in the plan job.
    let action = action_steps_text();
    assert!(
        action.contains("teamsync validate --config \\\"$CONFIG\\\" --format github")
            && action.contains("--format markdown --detailed-exitcode"),
        "{action}"
    );
    assert!(
        action.contains("'<!-- teamsync-plan config=' + config + ' -->'")
            && action.contains("updateComment"),
        "one sticky comment per config"
    );
    assert!(action.contains("GITHUB_STEP_SUMMARY"));
}

#[test]
fn apply_runs_only_on_main_with_write_tokens_and_never_twice_at_once() {
    let w = workflow();
    let apply = &w["jobs"]["apply"];
    assert_eq!(
        apply["if"],
        "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    );
    assert_eq!(apply["environment"], "teamsync-apply");
    assert_eq!(apply["concurrency"]["group"], "teamsync-apply");
    assert_eq!(apply["concurrency"]["cancel-in-progress"], false);
    let steps = apply["steps"].as_array().unwrap();
    // Write tokens go to the apply step alone.
    let step = steps.iter().find(|s| s["name"] == "Apply").unwrap();
    let run = step["run"].as_str().unwrap();
    assert!(
        run.contains("teamsync apply saved-plan/plan.json")
            && run.contains("teamsync apply --config \"$CONFIG\" --auto-approve"),
        "{run}"
    );
    let env = serde_json::to_string(&step["env"]).unwrap();
    assert!(env.contains("WRITE_TOKEN"), "{env}");
    // The saved plan is the merged pull request's artifact, used only when it was made
    // from this config (apply itself refuses it if anything it read has moved).
    let download = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/download-artifact@v"))
        })
        .expect("downloads the saved plan");
    assert_eq!(download["with"]["name"], "teamsync-plan");
    assert_eq!(
        download["with"]["run-id"],
        "${{ steps.saved.outputs.run_id }}"
    );
    assert_eq!(download["continue-on-error"], true);
    assert!(run.contains("saved-plan/config-tree"), "{run}");
    for other in steps.iter().filter(|s| s["name"] != "Apply") {
        let text = serde_json::to_string(other).unwrap();
        assert!(!text.contains("WRITE_TOKEN"), "{text}");
    }
}

#[test]
fn third_party_actions_are_pinned_by_a_version_tag_never_an_unverified_sha() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/github/teamsync.yml"
    ))
    .unwrap();
    let uses: Vec<&str> = text
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            l.strip_prefix("- ").unwrap_or(l).starts_with("uses: ")
        })
        .collect();
    assert!(uses.len() >= 6, "{uses:?}");
    for line in uses {
        if line.contains("teamsync/teamsync@") {
            continue;
        }
        assert!(
            line.contains("@v") && line.contains("# version tag: SHA not verified here"),
            "{line}"
        );
    }
}

#[test]
fn the_action_verifies_the_checksum_and_declares_its_outputs() {
    let a = action();
    assert_eq!(a["runs"]["using"], "composite");
    for output in ["has_changes", "plan_path", "exit_code"] {
        assert!(
            a["outputs"][output]["value"]
                .as_str()
                .is_some_and(|v| v.contains(&format!("steps.plan.outputs.{output}"))),
            "output {output}"
        );
    }
    for (input, default) in [("binary", ""), ("config", "."), ("comment", "true")] {
        assert_eq!(a["inputs"][input]["default"], default, "input {input}");
    }
    assert!(a["inputs"]["github-token"].is_object());
    // The ref in `uses:` is the version; an input could only disagree with it.
    assert!(a["inputs"].get("version").is_none(), "{}", a["inputs"]);

    let install = install_script();
    assert!(
        install.contains("SHA256SUMS") && install.contains("sha256sum -c"),
        "{install}"
    );
    // The checksum is checked before anything downloaded is unpacked or put on PATH.
    let download = &install[install.find("curl ").expect("downloads")..];
    let check = download.find("sha256sum -c").unwrap();
    assert!(check < download.find("tar -xzf").unwrap());
    assert!(check < download.find("GITHUB_PATH").unwrap());
    // A release without a line for the archive installs nothing.
    assert!(install.contains("has no line for"), "{install}");
    // Archive names are the release workflow's and binstall's.
    assert!(
        install.contains("teamsync-${VERSION}-${target}"),
        "{install}"
    );
}

#[test]
fn releases_are_the_archives_binstall_and_the_action_download() {
    let release = yaml(".github/workflows/release.yml");
    assert_eq!(release["on"]["push"]["tags"], serde_json::json!(["v*"]));
    let mut targets: Vec<&str> = release["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["target"].as_str().unwrap())
        .collect();
    targets.sort_unstable();
    assert_eq!(
        targets,
        [
            "aarch64-apple-darwin",
            "aarch64-unknown-linux-musl",
            "x86_64-apple-darwin",
            "x86_64-pc-windows-msvc",
            "x86_64-unknown-linux-musl"
        ]
    );
    let text = serde_json::to_string(&release).unwrap();
    assert!(text.contains("teamsync-${GITHUB_REF_NAME}-${TARGET}"));
    assert!(text.contains("sha256sum teamsync-* > SHA256SUMS"));
    // The tag is v{version}, so binstall's template names the same file.
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    assert!(
        manifest
            .contains("/releases/download/v{ version }/{ name }-v{ version }-{ target }.tar.gz")
    );
    assert!(manifest.contains("{ name }-v{ version }-{ target }/{ bin }{ binary-ext }"));
}

#[test]
fn the_monthly_report_reads_with_read_tokens_and_keeps_an_artifact() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/github/report.yml"
    ))
    .unwrap();
    let w: Value = serde_saphyr::from_str(&text).expect("valid YAML");
    let cron = w["on"]["schedule"][0]["cron"].as_str().unwrap();
    let fields: Vec<&str> = cron.split_whitespace().collect();
    assert_eq!(fields.len(), 5, "{cron}");
    assert!(fields[2] != "*" && fields[3] == "*", "once a month: {cron}");
    assert!(w["on"].get("workflow_dispatch").is_some());
    assert_eq!(w["permissions"]["contents"], "read");
    let steps = serde_json::to_string(&w["jobs"]["report"]["steps"]).unwrap();
    assert!(
        steps.contains("teamsync report --config . --format html --out report.html")
            && steps.contains("--format csv --out report.csv"),
        "{steps}"
    );
    assert!(steps.contains("READ_TOKEN") && !steps.contains("WRITE_TOKEN"));
    assert!(steps.contains("actions/upload-artifact@v"));
    // The grants come from git blame: a shallow checkout would give none.
    let checkout = w["jobs"]["report"]["steps"]
        .as_array()
        .and_then(|s| {
            s.iter().find(|s| {
                s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("actions/checkout@"))
            })
        })
        .expect("a checkout step");
    assert_eq!(
        checkout["with"]["fetch-depth"], 0,
        "the report needs the whole history: {checkout}"
    );
    for line in text.lines().filter(|l| l.contains("uses:")) {
        assert!(
            line.contains("# version tag: SHA not verified here"),
            "{line}"
        );
    }
}

#[test]
fn the_daily_expiry_applies_only_expiries_and_reports_other_drift_in_one_issue() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/github/expiry.yml"
    ))
    .unwrap();
    let w: Value = serde_saphyr::from_str(&text).expect("valid YAML");
    let cron = w["on"]["schedule"][0]["cron"].as_str().unwrap();
    let fields: Vec<&str> = cron.split_whitespace().collect();
    assert_eq!(&fields[2..], ["*", "*", "*"], "daily: {cron}");
    let job = &w["jobs"]["expire"];
    assert_eq!(job["concurrency"]["group"], "teamsync-apply");
    let steps = job["steps"].as_array().unwrap();
    let runs: Vec<String> = steps
        .iter()
        .filter_map(|s| s["run"].as_str().map(str::to_string))
        .collect();
    // The only write: expiries. Every other teamsync apply would carry unreviewed drift.
    let applies: Vec<&String> = runs
        .iter()
        .filter(|r| r.contains("teamsync apply"))
        .collect();
    assert_eq!(applies.len(), 1, "{runs:?}");
    assert!(applies[0].contains("--only expired"), "{}", applies[0]);
    for s in steps {
        let run = s["run"].as_str().unwrap_or("");
        let env = serde_json::to_string(&s["env"]).unwrap();
        if env.contains("WRITE_TOKEN") {
            assert!(
                run.contains("--only expired"),
                "write tokens only for expiry: {run}"
            );
        }
    }
    let drift = runs
        .iter()
        .find(|r| r.contains("teamsync plan"))
        .expect("a drift plan");
    assert!(drift.contains("--detailed-exitcode"), "{drift}");
    let issue = runs
        .iter()
        .find(|r| r.contains("gh issue"))
        .expect("an issue step");
    assert!(
        issue.contains("gh issue edit") && issue.contains("gh issue create"),
        "{issue}"
    );
    assert_eq!(job["permissions"]["issues"], "write");
    for line in text.lines().filter(|l| l.contains("uses:")) {
        assert!(line.contains("# version tag"), "{line}");
    }
}

#[test]
fn a_release_tag_must_be_v_and_the_cargo_toml_version() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/check-release-version");
    let run = |script: &Path, tag: &str| {
        let out = Command::new("bash").arg(script).arg(tag).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let version = env!("CARGO_PKG_VERSION");
    let (code, stderr) = run(Path::new(script), &format!("v{version}"));
    assert_eq!(code, Some(0), "{stderr}");
    for wrong in ["v0.0.0-not-this", version, ""] {
        let (code, stderr) = run(Path::new(script), wrong);
        assert_eq!(code, Some(1), "{wrong:?}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "error: tag {wrong} does not match Cargo.toml version {version}; bump Cargo.toml or tag v{version}"
            )),
            "{stderr}"
        );
    }
    // Only [package]'s version counts: dependency tables have `version` keys too.
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join("scripts")).unwrap();
    let copy = repo.path().join("scripts/check-release-version");
    std::fs::copy(script, &copy).unwrap();
    std::fs::write(
        repo.path().join("Cargo.toml"),
        "[dependencies.serde]\nversion = \"9.9.9\"\n\n[package] # the crate\nname = \"x\"\n\
         version = \"1.2.3\" # bump when tagging\n\n[workspace.package]\nversion = \"7.7.7\"\n",
    )
    .unwrap();
    assert_eq!(run(&copy, "v1.2.3").0, Some(0));
    for wrong in ["v9.9.9", "v7.7.7", "1.2.3"] {
        let (code, stderr) = run(&copy, wrong);
        assert_eq!(code, Some(1), "{wrong}");
        assert!(stderr.contains("Cargo.toml version 1.2.3"), "{stderr}");
    }

    // The release workflow checks the tag before it builds anything.
    let release = yaml(".github/workflows/release.yml");
    let check = &release["jobs"]["check-version"];
    assert_eq!(check["runs-on"], "ubuntu-24.04");
    let steps = serde_json::to_string(&check["steps"]).unwrap();
    assert!(
        steps.contains("actions/checkout@v")
            && steps.contains(r#"scripts/check-release-version \"$GITHUB_REF_NAME\""#),
        "{steps}"
    );
    let needs = &release["jobs"]["build"]["needs"];
    assert!(
        needs == "check-version"
            || needs
                .as_array()
                .is_some_and(|n| n.contains(&"check-version".into())),
        "build needs: {needs}"
    );
    assert_eq!(release["jobs"]["release"]["needs"], "build");
}

#[test]
fn releases_are_attested_and_the_action_installs_only_an_attested_archive() {
    let release = yaml(".github/workflows/release.yml");
    let job = &release["jobs"]["release"];
    for (permission, level) in [
        ("contents", "write"),
        ("id-token", "write"),
        ("attestations", "write"),
    ] {
        assert_eq!(job["permissions"][permission], level, "{permission}");
    }
    let steps = job["steps"].as_array().unwrap();
    let at = |pred: &dyn Fn(&Value) -> bool| steps.iter().position(pred).unwrap();
    let sums = at(&|s| s["name"] == "SHA256SUMS");
    let attest = at(&|s| {
        s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("actions/attest-build-provenance@v3"))
    });
    let publish = at(&|s| {
        s["run"]
            .as_str()
            .is_some_and(|r| r.contains("gh release create"))
    });
    assert!(
        sums < attest && attest < publish,
        "{sums} {attest} {publish}"
    );
    assert_eq!(steps[attest]["with"]["subject-path"], "dist/teamsync-*");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/.github/workflows/release.yml"
    ))
    .unwrap();
    for line in text.lines().filter(|l| l.contains("uses: ")) {
        assert!(
            line.contains("# version tag: SHA not verified here"),
            "{line}"
        );
    }

    // The action verifies the attestation after the checksum, before unpacking.
    let install = install_script();
    let download = &install[install.find("curl ").unwrap()..];
    let verify = download
        .find(r#"gh attestation verify "$name.$ext" --repo teamsync/teamsync"#)
        .expect("verifies the attestation");
    assert!(download.find("sha256sum -c").unwrap() < verify);
    assert!(verify < download.find("tar -xzf").unwrap());
    assert!(verify < download.find("GITHUB_PATH").unwrap());
    assert_eq!(
        action()["runs"]["steps"][0]["env"]["GH_TOKEN"],
        "${{ github.token }}"
    );

    // And so it does, run: an attested archive is installed ...
    let tag = [(
        "GITHUB_ACTION_PATH",
        "/runner/_work/_actions/teamsync/teamsync/v0.1.0",
    )];
    let archive = "teamsync-v0.1.0-x86_64-unknown-linux-musl.tar.gz";
    let good = run_install(&tag, false);
    assert!(good.ok, "{}", good.output);
    assert!(
        good.calls.contains(&format!(
            "gh attestation verify {archive} --repo teamsync/teamsync token=the-job-token"
        )),
        "{}",
        good.calls
    );
    let installed = good
        .temp
        .join("teamsync-v0.1.0/teamsync-v0.1.0-x86_64-unknown-linux-musl");
    assert_eq!(good.path, format!("{}\n", installed.display()));
    assert!(
        good.output.contains("teamsync 0.1.0 (fake)"),
        "{}",
        good.output
    );
    // ... one gh does not verify is not, and the error names it ...
    let unattested = run_install(&[tag[0], ("FAKE_GH_EXIT", "1")], false);
    assert!(!unattested.ok);
    assert!(
        unattested
            .output
            .contains(&format!("::error::{archive} is not installed")),
        "{}",
        unattested.output
    );
    assert_eq!(unattested.path, "");
    // ... and one whose checksum is wrong never gets that far.
    let tampered = run_install(&tag, true);
    assert!(!tampered.ok, "{}", tampered.output);
    assert!(!tampered.calls.contains("gh "), "{}", tampered.calls);
    assert_eq!(tampered.path, "");
}

#[test]
fn the_action_installs_the_release_its_ref_names_or_the_binary_it_is_given() {
    let a = action();
    let step = &a["runs"]["steps"][0];
    // The ref reaches the script through env:, never as text of the script.
    assert_eq!(step["env"]["ACTION_REF"], "${{ github.action_ref }}");
    assert_eq!(step["env"]["BINARY"], "${{ inputs.binary }}");
    let install = install_script();
    assert!(!install.contains("${{"), "{install}");
    assert!(
        install.contains(r"[[ $VERSION =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]]")
            || install.contains(r#"[[ "$VERSION" =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]]"#),
        "{install}"
    );
    let header =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/action.yml")).unwrap();
    assert!(
        header.contains("#     - uses: teamsync/teamsync@v0.1.0")
            && !header.contains("version: v0"),
        "the usage snippet pins the release by its ref alone"
    );

    let refuses = |why: &str, vars: &[(&str, &str)]| {
        let run = run_install(vars, false);
        assert!(!run.ok, "{why}: {}", run.output);
        assert!(
            run.output.contains("::error::")
                && run.output.contains("`uses: teamsync/teamsync@vX.Y.Z`")
                && run.output.contains("`binary:`"),
            "{why}: {}",
            run.output
        );
        assert_eq!(run.calls, "", "{why}: nothing is downloaded");
        assert_eq!(run.path, "", "{why}");
    };
    refuses(
        "a branch",
        &[
            (
                "GITHUB_ACTION_PATH",
                "/home/runner/work/_actions/teamsync/teamsync/main",
            ),
            ("ACTION_REF", "main"),
        ],
    );
    refuses(
        "uses: ./",
        &[("GITHUB_ACTION_PATH", "/home/runner/work/teamsync/teamsync")],
    );
    refuses(
        "a commit SHA, inside a composite action pinned to a tag of its own",
        &[
            (
                "GITHUB_ACTION_PATH",
                "/home/runner/work/_actions/teamsync/teamsync/8f4b7f84864484a7bf31766abe9204da3cbe65b3",
            ),
            ("ACTION_REF", "v0.1.0"),
        ],
    );

    // A release tag gets past the ref: whether the runner laid the action out (also with
    // Windows' separators) or only github.action_ref knows it. An unknown OS stops it
    // before any download.
    for vars in [
        [
            (
                "GITHUB_ACTION_PATH",
                "/home/runner/work/_actions/teamsync/teamsync/v0.1.0",
            ),
            ("ACTION_REF", ""),
        ],
        [
            (
                "GITHUB_ACTION_PATH",
                r"D:\a\_actions\teamsync\teamsync\v0.1.0",
            ),
            ("ACTION_REF", ""),
        ],
        [
            ("GITHUB_ACTION_PATH", "/home/runner/work/teamsync/teamsync"),
            ("ACTION_REF", "v0.1.0"),
        ],
    ] {
        let run = run_install(&[vars[0], vars[1], ("RUNNER_OS", "Plan9")], false);
        assert!(!run.ok);
        assert!(
            run.output
                .contains("::error::teamsync has no release build for Plan9 X64"),
            "{vars:?}: {}",
            run.output
        );
    }

    // `binary:` wins over any ref: nothing is downloaded, its folder goes on PATH.
    let teamsync = Path::new(env!("CARGO_BIN_EXE_teamsync"));
    let given = run_install(
        &[
            ("BINARY", teamsync.to_str().unwrap()),
            ("GITHUB_ACTION_PATH", "/home/runner/work/teamsync/teamsync"),
        ],
        false,
    );
    assert!(given.ok, "{}", given.output);
    assert_eq!(given.calls, "");
    assert_eq!(
        given.path,
        format!("{}\n", teamsync.parent().unwrap().display())
    );
    assert!(given.output.contains("teamsync"), "{}", given.output);
    for (binary, error) in [
        ("/bin/sh", "must be named teamsync"),
        ("no/such/teamsync", "does not run"),
    ] {
        let run = run_install(&[("BINARY", binary)], false);
        assert!(!run.ok);
        assert!(
            run.output
                .contains(&format!("::error::binary: {binary} {error}")),
            "{}",
            run.output
        );
        assert_eq!(run.path, "");
    }
}

#[test]
fn the_action_is_tested_on_every_push_with_a_binary_built_from_the_same_commit() {
    let w = yaml(".github/workflows/action-selftest.yml");
    assert!(w["on"].get("push").is_some() && w["on"].get("pull_request").is_some());
    assert!(w["on"].get("release").is_none(), "{}", w["on"]);
    assert_eq!(w["permissions"], serde_json::json!({"contents": "read"}));
    let job = &w["jobs"]["selftest"];
    assert_eq!(job["runs-on"], "ubuntu-24.04");
    let steps = job["steps"].as_array().unwrap();
    let build = steps
        .iter()
        .position(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("cargo build --release --locked"))
        })
        .expect("builds teamsync");
    let uses = steps
        .iter()
        .position(|s| s["uses"] == "./")
        .expect("runs the action");
    assert!(build < uses);
    let with = &steps[uses]["with"];
    assert_eq!(with["binary"], "target/release/teamsync");
    assert_eq!(with["config"], "examples/acme");
    assert_eq!(with["comment"], false);
    assert!(with.get("version").is_none());
    let checks = steps[uses + 1..]
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect::<String>();
    for check in [
        r#"test "$EXIT_CODE" = 2"#,
        r#"test "$HAS_CHANGES" = true"#,
        r#"test -s "$PLAN_PATH""#,
        r#"teamsync apply "$PLAN_PATH" --config examples/acme"#,
        "teamsync plan --config examples/acme --detailed-exitcode",
    ] {
        assert!(checks.contains(check), "{check}: {checks}");
    }
}

#[test]
fn the_sticky_comment_is_found_by_its_config_marker_whoever_posted_it() {
    let steps = action()["runs"]["steps"].as_array().unwrap().clone();
    let step = steps
        .iter()
        .find(|s| s["name"] == "Post or update the sticky plan comment")
        .unwrap();
    assert_eq!(step["env"]["CONFIG"], "${{ inputs.config }}");
    let script = step["with"]["script"].as_str().unwrap();
    assert!(
        !script.contains("user.login") && !script.contains("github-actions[bot]"),
        "{script}"
    );
    assert!(
        script.contains("process.env.CONFIG")
            && script.contains("'<!-- teamsync-plan config=' + config + ' -->'")
            && script.contains(".split(/\\r?\\n/, 1)[0] === marker"),
        "{script}"
    );

    // Run it, where there is node (GitHub's runners have it), against a fake API.
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("node not on PATH: the comment script is checked as text only");
        return;
    }
    let harness = r#"
        const calls = [];
        const github = {
          paginate: async () => JSON.parse(process.env.COMMENTS),
          rest: { issues: {
            listComments: {},
            updateComment: async (a) => { calls.push(['update', a]); },
            createComment: async (a) => { calls.push(['create', a]); },
          } },
        };
        const context = { repo: { owner: 'o', repo: 'r' }, issue: { number: 7 } };
        const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
        new AsyncFunction('require', 'github', 'context', process.env.SCRIPT)(require, github, context)
          .then(() => console.log(JSON.stringify(calls)), (e) => { console.error(e); process.exit(1); });
    "#;
    let dir = tempfile::tempdir().unwrap();
    let plan_md = dir.path().join("plan.md");
    std::fs::write(&plan_md, "the plan\n").unwrap();
    let run = |config: &str, comments: Value| -> Value {
        let out = Command::new("node")
            .args(["-e", harness])
            .env("SCRIPT", script)
            .env("PLAN_MD", &plan_md)
            .env("CONFIG", config)
            .env("COMMENTS", comments.to_string())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let comment = |id: u32, login: &str, day: u32, body: &str| {
        serde_json::json!({"id": id, "user": {"login": login},
            "created_at": format!("2025-01-{day:02}T00:00:00Z"), "body": body})
    };
    // Posted by an App and by a person's token; edited in the browser (CRLF); another
    // config's comment; a quote of the marker; a marker line with more on it.
    let comments = serde_json::json!([
        comment(
            1,
            "teamsync-app[bot]",
            1,
            "<!-- teamsync-plan config=teamsync -->\nold"
        ),
        comment(
            2,
            "alice",
            2,
            "<!-- teamsync-plan config=teamsync -->\r\nnewer"
        ),
        comment(
            3,
            "teamsync-app[bot]",
            3,
            "<!-- teamsync-plan config=other -->\nx"
        ),
        comment(
            4,
            "bob",
            4,
            "> <!-- teamsync-plan config=teamsync -->\nquoted"
        ),
        comment(
            5,
            "bob",
            5,
            "<!-- teamsync-plan config=teamsync --> and more\n"
        ),
    ]);
    let calls = run("teamsync", comments.clone());
    assert_eq!(calls.as_array().unwrap().len(), 1, "{calls}");
    assert_eq!(calls[0][0], "update", "{calls}");
    assert_eq!(
        calls[0][1]["comment_id"], 2,
        "the newest with the marker line: {calls}"
    );
    assert_eq!(
        calls[0][1]["body"],
        "<!-- teamsync-plan config=teamsync -->\nthe plan\n"
    );
    // A second config gets a comment of its own; no path can close the HTML comment.
    let calls = run("teams/--> <!-- x\n%2D", comments);
    assert_eq!(calls[0][0], "create", "{calls}");
    assert_eq!(calls[0][1]["issue_number"], 7);
    let body = calls[0][1]["body"].as_str().unwrap();
    let marker = body.lines().next().unwrap();
    assert_eq!(
        marker,
        "<!-- teamsync-plan config=teams/-%2D%3E %3C!-%2D x%0A%252D -->"
    );
    let inner = &marker["<!--".len()..marker.len() - "-->".len()];
    assert!(!inner.contains("--") && !inner.contains('>'), "{marker}");
    assert_eq!(body, format!("{marker}\nthe plan\n"));
}

#[test]
fn the_daily_drift_adoption_reads_only_and_keeps_one_pull_request() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/github/drift.yml"
    ))
    .unwrap();
    let w: Value = serde_saphyr::from_str(&text).expect("valid YAML");
    let cron = w["on"]["schedule"][0]["cron"].as_str().unwrap();
    let fields: Vec<&str> = cron.split_whitespace().collect();
    assert_eq!(fields.len(), 5, "{cron}");
    assert!(w["on"].get("workflow_dispatch").is_some());
    assert_eq!(w["permissions"]["contents"], "read");
    assert_eq!(w["env"]["TITLE"], "live changed: adopt or revert?");
    let job = &w["jobs"]["adopt"];
    assert_eq!(job["permissions"]["contents"], "write");
    assert_eq!(job["permissions"]["pull-requests"], "write");
    assert_eq!(job["permissions"].as_object().unwrap().len(), 2);
    let steps = job["steps"].as_array().unwrap();
    let runs: Vec<String> = steps
        .iter()
        .filter_map(|s| s["run"].as_str().map(str::to_string))
        .collect();
    // The one teamsync write is to the config files; providers are only read.
    let adopt = runs
        .iter()
        .find(|r| r.contains("teamsync import"))
        .expect("an import step");
    assert!(
        adopt.contains(r#"teamsync import --config "$CONFIG" --drift --force"#),
        "{adopt}"
    );
    let applies = runs
        .iter()
        .flat_map(|r| r.lines())
        .any(|l| l.trim_start().starts_with("teamsync apply"));
    assert!(!applies, "{runs:?}");
    assert!(!text.contains("WRITE_TOKEN"), "read tokens only");
    // Open or update by branch, and the body says what merging and closing do.
    let pr = runs
        .iter()
        .find(|r| r.contains("gh pr create"))
        .expect("a pull-request step");
    assert!(
        pr.contains("gh pr edit") && pr.contains(r#"--head "$BRANCH""#),
        "{pr}"
    );
    assert!(
        pr.contains("**Merge** it to adopt") && pr.contains("**Close** it to revert"),
        "{pr}"
    );
    assert!(
        runs.iter().any(|r| r.contains("gh pr close")),
        "an out-of-date pull request is closed"
    );
    for line in text.lines().filter(|l| l.contains("uses:")) {
        assert!(line.contains("# version tag"), "{line}");
    }
}
