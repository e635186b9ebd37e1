//! The action: checksum and outputs, what it installs, its self-test and its sticky comment.

use super::*;

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
