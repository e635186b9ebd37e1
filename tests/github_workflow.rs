//! The ready workflow for users is valid YAML and keeps its promises: plan on pull
//! requests with read tokens and one sticky comment, apply only on push to main, never two
//! applies at once.

use serde_json::Value;

fn workflow() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/github/teamsync.yml"
    ))
    .unwrap();
    serde_saphyr::from_str(&text).expect("valid YAML")
}

#[test]
fn plan_runs_on_pull_requests_with_read_tokens_and_one_sticky_comment() {
    let w = workflow();
    assert!(w["on"]["pull_request"].is_object());
    assert!(
        w["on"].get("pull_request_target").is_none(),
        "forks must never get secrets"
    );
    let plan = &w["jobs"]["plan"];
    assert_eq!(plan["if"], "github.event_name == 'pull_request'");
    let steps = plan["steps"].as_array().unwrap();
    let text = serde_json::to_string(steps).unwrap();
    assert!(
        text.contains("teamsync validate")
            && text.contains("--format markdown --detailed-exitcode"),
        "{text}"
    );
    assert!(
        text.contains("READ_TOKEN") && !text.contains("WRITE_TOKEN"),
        "a plan needs only read tokens"
    );
    assert!(
        text.contains("<!-- teamsync-plan -->") && text.contains("updateComment"),
        "one sticky comment"
    );
    assert!(text.contains("GITHUB_STEP_SUMMARY"));
}

#[test]
fn apply_runs_only_on_main_and_never_twice_at_once() {
    let w = workflow();
    let apply = &w["jobs"]["apply"];
    assert_eq!(
        apply["if"],
        "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    );
    assert_eq!(apply["concurrency"]["group"], "teamsync-apply");
    assert_eq!(apply["concurrency"]["cancel-in-progress"], false);
    let text = serde_json::to_string(&apply["steps"]).unwrap();
    assert!(
        text.contains("teamsync apply --config . --auto-approve") && text.contains("WRITE_TOKEN"),
        "{text}"
    );
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
    for line in text.lines().filter(|l| l.contains("uses:")) {
        assert!(
            line.contains("# version tag: SHA not verified here"),
            "{line}"
        );
    }
}
