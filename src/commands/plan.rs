//! `teamsync plan`: ask the engine for a plan, render it, optionally save it.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::changeset::Plan;
use crate::config::Loaded;
use crate::engine::{self, Connections};
use crate::model::ResourceKey;
use crate::render;

use super::{
    ColorChoice, EXIT_CHANGES, EXIT_OK, Failure, load_config, report_errors, runtime,
    stream_stdout, write_stdout,
};

/// How to print a plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Terraform-like lines for a terminal.
    #[default]
    Text,
    /// A pull-request comment.
    Markdown,
    /// The versioned plan document (docs/plan-format.md).
    Json,
}

/// How a plan's changes are grouped in the text and JSON views.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    /// Resource by resource: the plan as apply carries it out.
    #[default]
    Resource,
    /// Person by person: what each one gains, loses and changes across every provider
    /// (JSON: the derived `"view": "people"` document of docs/plan-format.md).
    Person,
}

/// Everything `plan` needs from the command line.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    pub config: PathBuf,
    pub out: Option<PathBuf>,
    /// `--force`: `--out` may replace a file teamsync did not write.
    pub force: bool,
    pub format: Format,
    pub by: By,
    pub detailed_exitcode: bool,
    pub targets: Vec<ResourceKey>,
    pub network: super::Network,
    pub verbosity: super::Verbosity,
    pub color: ColorChoice,
    /// `--at`: plan for another day (UTC) than today, to preview expiries.
    pub at: Option<jiff::civil::Date>,
    /// `--allow-removals[=NAME,…]`: recorded in the plan (`allowed_removals`).
    pub allow_removals: Option<Vec<String>>,
}

/// The names of `--allow-removals=NAME,…`, sorted, without the empty one a bare flag gives.
pub fn allowance_names(flag: &Option<Vec<String>>) -> Vec<String> {
    let mut names: Vec<String> = flag
        .iter()
        .flatten()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Rejects `--target` keys the configuration does not declare: a typo must not plan nothing.
pub fn check_targets(loaded: &Loaded, targets: &[ResourceKey]) -> Result<(), ExitCode> {
    engine::check_targets(loaded, targets).map_err(|e| report_errors(&e.lines()))
}

/// The plan in the chosen view; `markdown_budget` bounds the Markdown one (the Markdown
/// view always has both the people and the resource sections, whatever `by` says).
pub fn shown(
    plan: &Plan,
    format: Format,
    by: By,
    markdown_budget: usize,
    color: bool,
    verbosity: super::Verbosity,
) -> String {
    match (format, by) {
        (Format::Text, _) => shown_text_by(plan, by, color, verbosity),
        (Format::Markdown, _) => render::markdown_with_budget(plan, markdown_budget),
        (Format::Json, By::Resource) => render::json(plan),
        (Format::Json, By::Person) => render::people_json(plan),
    }
}

/// The plan as the terminal shows it; with `-q` only its summary line.
pub fn shown_text(plan: &Plan, color: bool, verbosity: super::Verbosity) -> String {
    shown_text_by(plan, By::Resource, color, verbosity)
}

/// As [`shown_text`], by resource or by person.
pub fn shown_text_by(plan: &Plan, by: By, color: bool, verbosity: super::Verbosity) -> String {
    if verbosity.info() {
        match by {
            By::Resource => render::text(plan, color),
            By::Person => render::text_by_person(plan, color),
        }
    } else if plan.has_changes() {
        format!("{}\n", plan.summary.line())
    } else {
        "No changes.\n".to_string()
    }
}

/// `Ok` carries the exit code of a plan that ran (reported failures included); `Err` is a
/// failure `cli::main` reports, such as a closed stdout.
pub fn run(opts: PlanOptions) -> Result<ExitCode, Failure> {
    let mut timings = super::timings::Timings::start();
    let loaded = match load_config(&opts.config) {
        Ok(l) => opts.network.endpoints(l),
        Err(code) => return Ok(code),
    };
    if let Err(code) = check_targets(&loaded, &opts.targets) {
        return Ok(code);
    }
    // `--out -` is the plan on stdout; any other file is checked before the first request.
    let to_stdout = opts.out.as_deref() == Some(std::path::Path::new("-"));
    if let Some(out) = opts.out.as_deref().filter(|_| !to_stdout)
        && let Err(why) = super::out_file::check(
            out,
            super::out_file::Written::Plan,
            &loaded.files,
            opts.force,
        )
    {
        return Ok(report_errors(&[why]));
    }
    timings.mark("config");
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return Ok(code),
    };
    let client_options = opts.network.client_options(opts.verbosity, true);
    let plan = rt.block_on(async {
        let conns = Connections::open(&loaded, client_options)
            .await
            .map_err(|e| report_errors(&[e]))?;
        timings.mark("clients");
        let day = opts.at.unwrap_or_else(engine::today_date);
        let plan = engine::plan(&loaded, &conns, &opts.targets, day)
            .await
            .map_err(|e| report_errors(&e.lines()));
        timings.mark("plan");
        timings.requests(conns.output().timeline());
        plan
    });
    let mut plan = match plan {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    plan.allowed_removals = allowance_names(&opts.allow_removals);
    // A name that is no provider, container or person of the plan is a typo: refused.
    if let Err(e) = engine::execute::check_allowances(&plan) {
        return Ok(report_errors(&[e]));
    }
    if to_stdout {
        stream_stdout(|out| render::write_json(&plan, out))?;
        timings.mark("output");
        timings.print();
        return Ok(exit_code(&plan, opts.detailed_exitcode));
    }
    if let Some(out) = &opts.out
        && let Err(source) = save(out, &plan)
    {
        return Err(Failure::Write {
            path: out.clone(),
            source,
        });
    }
    match (opts.format, opts.by) {
        // The plan document itself is streamed: at a million memberships it is the
        // largest thing a plan writes.
        (Format::Json, By::Resource) => stream_stdout(|out| render::write_json(&plan, out))?,
        _ => write_stdout(&shown(
            &plan,
            opts.format,
            opts.by,
            render::MARKDOWN_BUDGET,
            opts.color.for_stdout(),
            opts.verbosity,
        ))?,
    }
    timings.mark("output");
    if let Err(e) = write_step_summary(&plan) {
        eprintln!("warning: cannot write the job summary: {e}");
    }
    timings.print();
    if let Some(out) = opts.out.as_ref().filter(|_| opts.verbosity.info()) {
        eprintln!(
            "Saved the plan to {}; apply exactly it with `teamsync apply {}`.",
            out.display(),
            out.display()
        );
    }
    Ok(exit_code(&plan, opts.detailed_exitcode))
}

/// 0, or with `--detailed-exitcode`: 3 while the plan lists values teamsync does not know
/// (a person should look, changes or not), else 2 for changes, 0 for none.
fn exit_code(plan: &Plan, detailed: bool) -> ExitCode {
    ExitCode::from(match detailed {
        false => EXIT_OK,
        true if !plan.attention.is_empty() => super::EXIT_ATTENTION,
        true if plan.has_changes() => EXIT_CHANGES,
        true => EXIT_OK,
    })
}

/// Writes the plan file for `apply PLAN_FILE`, streamed rather than built in memory.
fn save(path: &std::path::Path, plan: &Plan) -> std::io::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    render::write_json(plan, &mut file)?;
    file.into_inner()
        .map_err(std::io::IntoInnerError::into_error)?
        .sync_all()
}

/// Inside GitHub Actions, appends the Markdown plan to the job summary, within the
/// summary's own (larger) budget.
fn write_step_summary(plan: &Plan) -> std::io::Result<()> {
    use std::io::Write as _;
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(
        file,
        "{}",
        render::markdown_with_budget(plan, render::SUMMARY_BUDGET)
    )
}
