//! `teamsync report`: read the live state through the plan's read-only clients, put it
//! beside the configuration, and write an access review (HTML, CSV or JSON).

use std::path::{Path, PathBuf};
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

/// `git rev-parse HEAD` in the config folder and whether any of the config `files`
/// (relative to it) differ from that commit or are untracked; `None` when it is not a git
/// checkout or git is missing.
fn git_info(dir: &Path, files: &[String]) -> (Option<String>, Option<bool>) {
    let run = |args: &[&str], paths: &[String]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .args(paths)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let Some(commit) = run(&["rev-parse", "HEAD"], &[]).filter(|c| !c.is_empty()) else {
        return (None, None);
    };
    let dirty = run(&["status", "--porcelain", "--"], files).map(|s| !s.is_empty());
    (Some(commit), dirty)
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
    let digest = match review::config_digest(&loaded) {
        Ok(d) => d,
        Err(e) => return report_errors(&[format!("cannot read the configuration files: {e}")]),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let client_options = opts.network.client_options(opts.verbosity, false);
    let live = rt.block_on(async {
        let conns = Connections::open(&loaded, client_options)
            .await
            .map_err(|e| report_errors(&[e]))?;
        engine::read_for_review(&loaded, &conns)
            .await
            .map_err(|e| report_errors(&e.lines()))
    });
    let live = match live {
        Ok(l) => l,
        Err(code) => return code,
    };
    let files: Vec<String> = review::config_files(&loaded)
        .into_iter()
        .map(|(shown, _)| shown)
        .collect();
    let (git_commit, git_dirty) = git_info(&loaded.base_dir, &files);
    let built = review::build(
        &loaded,
        &live,
        ReadContext {
            read_at,
            config_digest: digest,
            git_commit,
            git_dirty,
        },
    );
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
        None => print!("{text}"),
    }
    ExitCode::from(EXIT_OK)
}
