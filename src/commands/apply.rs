//! `teamsync apply`: apply a fresh plan after confirmation, or exactly a saved one after
//! checking it is not stale. Ends with what was applied, what failed and what was skipped.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::changeset::Plan;
use crate::engine::execute::{Outcome, Report, Step, check_plan, execute};
use crate::engine::{self, Connections};
use crate::model::ResourceAction;
use crate::render;

use super::{
    ColorChoice, EXIT_ERROR, EXIT_OK, Failure, load_config, report_errors, runtime, write_stdout,
};

/// Everything `apply` needs from the command line.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    pub config: PathBuf,
    pub plan_file: Option<PathBuf>,
    pub auto_approve: bool,
    /// `--allow-removals[=NAME,…]`.
    pub allow_removals: Option<Vec<String>>,
    pub network: super::Network,
    pub verbosity: super::Verbosity,
    pub color: ColorChoice,
    pub only: Option<Only>,
    /// How long to wait for writes to show in reads before calling them not yet visible.
    pub settle: std::time::Duration,
    /// `json`: the outcome of every step as one JSON document on stdout (the plan is not
    /// printed there).
    pub format: ResultFormat,
}

/// `apply --format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ResultFormat {
    /// The plan on stdout, every step's outcome on stderr.
    #[default]
    Text,
    /// The result as JSON on stdout (`docs/plan-format.md`, "Apply result").
    Json,
}

/// `apply --only`: a part of the plan to carry out alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Only {
    /// Removals whose `until` date has passed.
    Expired,
}

/// Reads a saved plan; a plan of another format version is refused before its fields are.
pub(super) fn read_plan(path: &std::path::Path) -> Result<Plan, ExitCode> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        report_errors(&[format!("cannot read the plan file {}: {e}", path.display())])
    })?;
    // Never suggest saving a plan over the file given: it may be a configuration file.
    let make_one = "make one with `teamsync plan --out plan.json`";
    let yaml = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    if yaml {
        return Err(report_errors(&[format!(
            "{}: this is a YAML file (a configuration file, not a plan); {make_one} and pass that file",
            path.display()
        )]));
    }
    let not_a_plan = |e: serde_json::Error| {
        report_errors(&[format!(
            "{}:{}:{}: not a teamsync plan: {e}; {make_one}",
            path.display(),
            e.line(),
            e.column(),
        )])
    };
    // The version alone first (every other field is skipped, nothing is kept), so a plan
    // of another format is refused before its fields are read; then the plan itself,
    // straight from the text: no tree of JSON values beside it (at 10,000 changes that
    // tree was the largest thing apply FILE held).
    #[derive(serde::Deserialize)]
    struct Version {
        format_version: Option<serde_json::Value>,
    }
    let version: Version = serde_json::from_str(&text).map_err(not_a_plan)?;
    let version = version.format_version;
    let version = version.as_ref().and_then(|v| v.as_str());
    if version != Some(crate::changeset::FORMAT_VERSION) {
        return Err(report_errors(&[format!(
            "{}: the plan has format_version {}; this teamsync reads {:?}: make the plan again with `teamsync plan --out {}`",
            path.display(),
            version.map_or("(none)".to_string(), |v| format!("{v:?}")),
            crate::changeset::FORMAT_VERSION,
            path.display()
        )]));
    }
    serde_json::from_str(&text).map_err(not_a_plan)
}

/// Asks for `yes` on the terminal. Anything else declines.
fn confirm() -> bool {
    eprint!("\nDo you want to apply these changes? Only 'yes' will be accepted: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).is_ok() && answer.trim() == "yes"
}

fn describe(step: &Step) -> String {
    let what = match (&step.member, &step.action) {
        (Some(m), _) => format!("{} {}", step.key, render::member_line(m)),
        (None, Some(a)) => format!("{} {}", step.key, render::action_word(a)),
        (None, None) => step.key.to_string(),
    };
    match &step.outcome {
        Outcome::Applied => format!("applied: {what}"),
        Outcome::Failed(e) => format!("FAILED:  {what}: {e}"),
        Outcome::Skipped(why) => format!("skipped: {what}: {why}"),
        Outcome::Blocked(why) => format!("blocked: {what}: {why}"),
        Outcome::NotYetVisible(why) => format!("written, not yet visible: {what}: {why}"),
    }
}

/// The outcome word of a step in the JSON result.
fn outcome_word(o: &Outcome) -> &'static str {
    match o {
        Outcome::Applied => "applied",
        Outcome::Failed(_) => "failed",
        Outcome::Skipped(_) => "skipped",
        Outcome::Blocked(_) => "blocked",
        Outcome::NotYetVisible(_) => "not_yet_visible",
    }
}

/// The status of a run: `complete` (exit 0), `needs_attention` (exit 3: nothing failed, but
/// something written is not visible yet, or a live value is one teamsync does not know),
/// `incomplete` (exit 1).
fn status(report: &Report) -> (&'static str, u8) {
    if report.is_success() {
        ("complete", EXIT_OK)
    } else if report.failed() == 0 && report.skipped() == 0 {
        ("needs_attention", super::EXIT_ATTENTION)
    } else {
        ("incomplete", EXIT_ERROR)
    }
}

/// The result of a run as JSON: its status, the counts, and one entry per step.
pub fn result_json(report: &Report) -> serde_json::Value {
    let steps: Vec<serde_json::Value> = report
        .steps
        .iter()
        .map(|s| {
            let message = match &s.outcome {
                Outcome::Applied => None,
                Outcome::Failed(f) => Some(f.message.clone()),
                Outcome::Skipped(m) | Outcome::Blocked(m) | Outcome::NotYetVisible(m) => {
                    Some(m.clone())
                }
            };
            serde_json::json!({
                "resource": s.key.to_string(),
                "member": s.member.as_ref().map(render::member_line),
                "action": s.action.as_ref().map(render::action_word),
                "outcome": outcome_word(&s.outcome),
                "message": message,
            })
        })
        .collect();
    serde_json::json!({
        "status": status(report).0,
        "applied": report.applied(),
        "not_yet_visible": report.not_yet_visible(),
        "failed": report.failed(),
        "skipped": report.skipped(),
        "blocked": report.blocked(),
        "held": report.held,
        "attention": report.attention,
        "collateral": report.collateral,
        "steps": steps,
    })
}

/// A progress bar on a terminal (one tick per step); `None` means one line per step.
fn progress_bar(plan: &Plan, interactive: bool) -> Option<indicatif::ProgressBar> {
    if !interactive {
        return None;
    }
    let steps: usize = plan
        .changes
        .iter()
        .map(|c| c.members.len() + usize::from(c.action != ResourceAction::Update))
        .sum();
    let bar = indicatif::ProgressBar::new(steps as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} applying [{bar:30}] {pos}/{len} {elapsed}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    Some(bar)
}

fn summarize(report: &Report) -> ExitCode {
    let failures: Vec<&Step> = report
        .steps
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Failed(_) | Outcome::Skipped(_)))
        .collect();
    if !failures.is_empty() {
        eprintln!("\nNot applied:");
        for s in &failures {
            eprintln!("  {}", describe(s));
        }
    }
    let late: Vec<&Step> = report
        .steps
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::NotYetVisible(_)))
        .collect();
    if !late.is_empty() {
        eprintln!(
            "\nWritten, not yet visible (the API accepted these, but its reads do not show them yet; nothing was sent to redo or undo them, and the next plan shows whether they landed):"
        );
        for s in &late {
            eprintln!("  {}", describe(s));
        }
    }
    let blocked: Vec<String> = report
        .steps
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Blocked(_)))
        .map(describe)
        .chain(report.held.iter().cloned())
        .collect();
    if !blocked.is_empty() {
        eprintln!("\nNot carried out (listed in the plan with what to do; not failures):");
        for line in &blocked {
            eprintln!("  {line}");
        }
    }
    if !report.collateral.is_empty() {
        eprintln!(
            "\nChanged beyond what was sent (members teamsync did not touch, gone or re-roled after apply):"
        );
        for line in &report.collateral {
            eprintln!("  {}", render::one_line(line));
        }
    }
    if !report.attention.is_empty() {
        eprintln!("\nNeeds attention ({}):", render::ATTENTION);
        for line in &report.attention {
            eprintln!("  {}", render::one_line(line));
        }
    }
    let held = if blocked.is_empty() {
        String::new()
    } else {
        format!("; {} not carried out", blocked.len())
    };
    let late = if late.is_empty() {
        String::new()
    } else {
        format!("{} written but not yet visible, ", late.len())
    };
    let (word, code) = status(report);
    eprintln!(
        "\nApply {}: {} applied, {late}{} failed, {} skipped{held}.",
        word.replace('_', " "),
        report.applied(),
        report.failed(),
        report.skipped()
    );
    if code != EXIT_ERROR {
        ExitCode::from(code)
    } else {
        if report.retry_helps() {
            eprintln!(
                "What failed was transient (lost answers, throttling, server errors): running `teamsync apply` again retries it."
            );
        } else {
            eprintln!(
                "Some failures need a person first (see each message); running apply again will not fix those."
            );
        }
        ExitCode::from(EXIT_ERROR)
    }
}

pub fn run(opts: ApplyOptions) -> ExitCode {
    let names = super::plan::allowance_names(&opts.allow_removals);
    if opts.plan_file.is_some() && !names.is_empty() {
        return report_errors(&[format!(
            "--allow-removals={} names what a saved plan may remove past its budgets, and that is reviewed with the plan: make it with `teamsync plan --allow-removals={} --out FILE` (apply FILE takes only the bare flag, for policy.max_removals)",
            names.join(","),
            names.join(",")
        )]);
    }
    let loaded = match load_config(&opts.config) {
        Ok(l) => opts.network.endpoints(l),
        Err(code) => return code,
    };
    let saved = match &opts.plan_file {
        Some(path) => match read_plan(path) {
            Ok(p) => Some(p),
            Err(code) => return code,
        },
        None => None,
    };
    if saved.is_none() && !opts.auto_approve && !std::io::stdin().is_terminal() {
        return report_errors(&[
            "apply needs a `yes` on a terminal, and standard input is not one; review the plan, \
             then rerun with --auto-approve (or apply a saved plan file)",
        ]);
    }
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let client_options = crate::engine::ClientOptions {
        settle: opts.settle,
        ..opts.network.client_options(opts.verbosity, true)
    };
    let interactive = std::io::stderr().is_terminal();
    // Apply always plans for today: a saved plan's own day is never trusted, so an edited
    // `planned_for` cannot bring back access that has expired.
    let today = engine::today_date();
    rt.block_on(async {
        let conns = match Connections::open(&loaded, client_options).await {
            Ok(c) => c,
            Err(e) => return report_errors(&[e]),
        };
        let plan = match saved {
            // The same engine as `plan`: what is applied is a plan made now, and only if
            // it carries exactly the changes the reviewer saw.
            Some(saved) => {
                match engine::replan(
                    &loaded,
                    &conns,
                    &saved,
                    opts.allow_removals.is_some(),
                    today,
                )
                .await
                {
                    Ok(fresh) => fresh,
                    Err(e) => return report_errors(&e.lines()),
                }
            }
            None => {
                let mut plan = match engine::plan_to_apply(&loaded, &conns, &[], today).await {
                    Ok(p) => p,
                    Err(e) => return report_errors(&e.lines()),
                };
                if opts.only == Some(Only::Expired) {
                    plan.retain_expired();
                }
                // Stdout is for reading; a reader that went away (closed pipe) does not
                // stop an approved apply, whose outcome is on stderr and in the exit code.
                let shown = super::plan::shown_text(&plan, opts.color.for_stdout(), opts.verbosity);
                // With `--format json` stdout holds the JSON result alone; the plan goes to
                // stderr, where a reviewer of the log still sees it.
                let written = match opts.format {
                    ResultFormat::Text => write_stdout(&shown),
                    ResultFormat::Json => {
                        eprint!("{shown}");
                        Ok(())
                    }
                };
                match written {
                    Ok(()) | Err(Failure::StdoutClosed) => {}
                    Err(e) => eprintln!("warning: {e}"),
                }
                if !plan.has_changes() {
                    return ExitCode::from(EXIT_OK);
                }
                plan.allowed_removals = super::plan::allowance_names(&opts.allow_removals);
                if let Err(refusal) =
                    check_plan(&plan, &loaded.policy, opts.allow_removals.is_some())
                {
                    return report_errors(&[refusal]);
                }
                if !opts.auto_approve && !confirm() {
                    eprintln!("Apply cancelled; nothing was changed.");
                    return ExitCode::from(EXIT_ERROR);
                }
                plan
            }
        };
        // Through the run's one output, below the request log (-v), so neither tears the other.
        let output = conns.output();
        let bar = progress_bar(&plan, interactive).map(|bar| output.add_bar(bar));
        let progress = |step: &Step| match &bar {
            Some(bar) => {
                bar.inc(1);
                if !matches!(step.outcome, Outcome::Applied) {
                    bar.println(describe(step));
                }
            }
            None if opts.verbosity.info() || !matches!(step.outcome, Outcome::Applied) => {
                output.println(&describe(step))
            }
            None => {}
        };
        let report = execute(&plan, &conns, &loaded.desired, &loaded.policy, &progress).await;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        if opts.format == ResultFormat::Json {
            let text = serde_json::to_string_pretty(&result_json(&report)).unwrap_or_default();
            match write_stdout(&(text + "\n")) {
                Ok(()) | Err(Failure::StdoutClosed) => {}
                Err(e) => eprintln!("warning: {e}"),
            }
        }
        summarize(&report)
    })
}
