//! `teamsync report`: read the live state through the plan's read-only clients, put it
//! beside the configuration, and write an access review (HTML, CSV or JSON), with the
//! commit that granted each declared access (`history`, which runs `git`).

mod history;

use std::path::PathBuf;
use std::process::ExitCode;

use crate::engine::{self, Connections};
use crate::review::{self, ReadContext};

use super::{EXIT_OK, load_config, report_errors, runtime};

/// The environment variable that fixes the report's read time (RFC 3339), for tests and
/// reproducible output.
pub const NOW_ENV: &str = "TEAMSYNC_REPORT_NOW";

/// How to write the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One self-contained page: grid on screen, one section per person in print.
    #[default]
    Html,
    /// One row per person × container, for spreadsheets.
    Csv,
    /// The versioned report document (docs/report-format.md).
    Json,
}

/// Everything `report` needs from the command line.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    pub config: PathBuf,
    /// `None`: what the `--out` file's extension says, else HTML.
    pub format: Option<Format>,
    pub out: Option<PathBuf>,
    /// `--force`: `--out` may replace a file teamsync did not write.
    pub force: bool,
    /// `--person`: keep only the row of this handle or email (or `user_id:…` id).
    pub person: Option<String>,
    pub network: super::Network,
    pub verbosity: super::Verbosity,
}

/// The read time: `TEAMSYNC_REPORT_NOW` when set (must be RFC 3339), else now; UTC.
fn read_at() -> Result<String, String> {
    match std::env::var(NOW_ENV) {
        Ok(raw) if !raw.trim().is_empty() => humantime::parse_rfc3339_weak(raw.trim())
            .map(|t| humantime::format_rfc3339_seconds(t).to_string())
            .map_err(|e| format!("{NOW_ENV}={raw:?} is not an RFC 3339 time: {e}")),
        _ => Ok(humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()),
    }
}

pub fn run(opts: ReportOptions) -> ExitCode {
    let loaded = match load_config(&opts.config) {
        Ok(l) => opts.network.endpoints(l),
        Err(code) => return code,
    };
    let read_at = match read_at() {
        Ok(t) => t,
        Err(e) => return report_errors(&[e]),
    };
    // The file is checked, and its extension picks the format, before the first request.
    use super::out_file::{Written, check, report_kind_of};
    let out = opts
        .out
        .clone()
        .filter(|o| o.as_path() != std::path::Path::new("-"));
    let named = out.as_deref().and_then(report_kind_of);
    let written = |f: Format| match f {
        Format::Html => Written::ReportHtml,
        Format::Csv => Written::ReportCsv,
        Format::Json => Written::ReportJson,
    };
    let format = match (opts.format, named) {
        (Some(f), _) => f,
        (None, Some(Written::ReportCsv)) => Format::Csv,
        (None, Some(Written::ReportJson)) => Format::Json,
        (None, _) => Format::Html,
    };
    if let Some(path) = &out
        && let Err(why) = check(path, written(format), &loaded.files, opts.force)
    {
        return report_errors(&[why]);
    }
    // A name that is no handle cannot name a row: say so before reading any provider.
    if let Some(who) = opts.person.as_deref().map(str::trim) {
        let row_id = who.contains('@') || who.starts_with("user_id:");
        if who.is_empty() || (!row_id && !loaded.people.contains_key(&who.to_ascii_lowercase())) {
            return report_errors(&[format!(
                "--person {who:?} is not a handle under `people` (an email or `user_id:ID` \
                 names anyone else)"
            )]);
        }
    }
    let digest = match review::config_digest(&loaded) {
        Ok(d) => d,
        Err(e) => return report_errors(&[format!("cannot read the configuration files: {e}")]),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let files = review::config_files(&loaded);
    let client_options = opts.network.client_options(opts.verbosity, false);
    // git and the providers are asked at the same time: neither waits for the other.
    let (live, history) = std::thread::scope(|scope| {
        let history = scope.spawn(|| {
            history::read(&loaded.base_dir, &files, || {
                crate::config::member_lines(&loaded).map_err(|diags| {
                    format!(
                        "the configuration changed while the report was made:\n{}",
                        crate::config::report::render(&diags).trim_end()
                    )
                })
            })
        });
        let live = rt.block_on(async {
            let conns = Connections::open(&loaded, client_options)
                .await
                .map_err(|e| report_errors(&[e]))?;
            engine::read_for_review(&loaded, &conns)
                .await
                .map_err(|e| report_errors(&e.lines()))
        });
        let history = history
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (live, history)
    });
    let live = match live {
        Ok(l) => l,
        Err(code) => return code,
    };
    let history = match history {
        Ok(h) => h,
        Err(why) => return report_errors(&[why]),
    };
    let mut built = review::build(
        &loaded,
        &live,
        ReadContext {
            read_at,
            config_digest: digest,
            git_commit: history.head,
            git_dirty: history.dirty,
            history: history.state,
            history_reason: history.reason,
            grants: history.grants,
        },
    );
    if let Some(who) = &opts.person {
        built = match review::only_person(built, who) {
            Some(b) => b,
            None => {
                return report_errors(&[format!(
                    "--person {who:?}: no such person in the configuration or live"
                )]);
            }
        };
    }
    let text = match format {
        Format::Html => review::html(&built),
        Format::Csv => review::csv(&built),
        Format::Json => review::json(&built),
    };
    match &out {
        Some(out) => {
            if let Err(e) = std::fs::write(out, &text) {
                return report_errors(&[format!(
                    "cannot write the report to {}: {e}",
                    out.display()
                )]);
            }
            if opts.verbosity.info() {
                let s = &built.summary;
                eprintln!(
                    "Wrote {}: {} people, {} containers, {} with drift.",
                    out.display(),
                    s.people,
                    s.containers,
                    s.drift
                );
            }
        }
        None => match super::write_stdout(&text) {
            Ok(()) | Err(super::Failure::StdoutClosed) => {}
            Err(e) => return report_errors(&[e]),
        },
    }
    ExitCode::from(EXIT_OK)
}
