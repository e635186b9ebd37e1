//! The ready workflow: plan on pull requests, apply on main, pinned third-party actions.

use super::*;

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
