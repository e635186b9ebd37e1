//! The scheduled example workflows: monthly report, daily expiry, daily drift adoption.

use super::*;

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
        steps.contains(r#"teamsync report --config \"$CONFIG\" --format html --out report.html"#)
            && steps
                .contains(r#"teamsync report --config \"$CONFIG\" --format csv --out report.csv"#),
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
    // The config folder is named once, as in teamsync.yml (`teamsync init` rewrites it).
    assert_eq!(w["env"]["CONFIG"], "teamsync");
    assert!(
        text.contains("CONFIG: teamsync #"),
        "init finds the line it rewrites"
    );
    // Installed by the same verified action as the plan, not built from a placeholder.
    let install = w["jobs"]["report"]["steps"]
        .as_array()
        .and_then(|s| {
            s.iter().find(|s| {
                s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("teamsync/teamsync@v"))
            })
        })
        .expect("the teamsync action installs it");
    assert_eq!(install["with"]["config"], "${{ env.CONFIG }}");
    assert_eq!(install["with"]["comment"], false);
    assert!(!text.contains("cargo install"), "{text}");
    for line in text.lines().filter(|l| l.contains("uses:")) {
        let ours = line.contains("uses: teamsync/teamsync@");
        assert!(
            line.contains(if ours {
                "# version tag, not an unverified SHA"
            } else {
                "# version tag: SHA not verified here"
            }),
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
