//! `teamsync codeowners`: writes the CODEOWNERS file the configuration gives
//! (`config::codeowners`), so each team's owners approve changes to their team's file and
//! `codeowners.fallback` approves the rest; `--check` writes nothing and fails when the
//! file is missing or out of date (for CI). Reads the configuration only, never an API.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::{self, LoadOptions, Loaded};

use super::out_file::{Written, check};
use super::{EXIT_ERROR, EXIT_OK, Verbosity, load_config_with, report_errors, write_stdout};

/// Everything `codeowners` needs from the command line.
#[derive(Clone, Debug)]
pub struct CodeownersOptions {
    pub config: PathBuf,
    /// `None`: `codeowners.path`; `-`: standard output.
    pub out: Option<PathBuf>,
    /// `--out` may replace a file teamsync did not write.
    pub force: bool,
    /// Write nothing; exit 1 unless the file says what the configuration gives.
    pub check: bool,
    pub verbosity: Verbosity,
}

/// What to add when the configuration has no `codeowners:` section.
const NO_SECTION: &str = "the configuration has no `codeowners:` section, so teamsync does not know who approves what no team owner may; add one to the root file, for example:\n\n  codeowners:\n    fallback: [\"@acme/access-admins\"]   # GitHub users (@name) or teams (@org/team)\n    # path: ../.github/CODEOWNERS        # default: .github/CODEOWNERS at the repository's root\n\nand give the team owners a `github:` username in `people`";

/// Lines printed of what differs, each way, before "and N more".
const SHOWN_DIFFERENCES: usize = 20;

pub fn run(opts: CodeownersOptions) -> ExitCode {
    // The loader's "out of date" warning is this command's own answer: not said twice.
    let options = LoadOptions {
        skip_codeowners_freshness: true,
        ..LoadOptions::default()
    };
    let loaded = match load_config_with(&opts.config, options) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let Some(settings) = &loaded.codeowners else {
        return report_errors(&[NO_SECTION]);
    };
    let text = match config::codeowners::render(&loaded, settings) {
        Ok(t) => t,
        Err(why) => return report_errors(&[why]),
    };
    let out = opts.out.clone().unwrap_or_else(|| settings.path.clone());
    let to_stdout = out.as_os_str() == "-";
    if opts.check {
        if to_stdout {
            return report_errors(&[
                "--check compares a file with what the configuration gives: give --out FILE, or leave --out out for `codeowners.path`",
            ]);
        }
        return check_file(&out, &text, &loaded, opts.verbosity);
    }
    if to_stdout {
        // A closed stdout is a normal stop, as for every command.
        let _ = write_stdout(&text);
        return ExitCode::from(EXIT_OK);
    }
    if let Err(why) = check(&out, Written::Codeowners, &loaded.files, opts.force) {
        return report_errors(&[why]);
    }
    let current = std::fs::read_to_string(&out)
        .is_ok_and(|on_disk| config::codeowners::same_text(&on_disk, &text));
    if current {
        if opts.verbosity.info() {
            eprintln!("{} is up to date.", out.display());
        }
        return ExitCode::from(EXIT_OK);
    }
    let written = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| crate::config::write::replace(&out, &text));
    if let Err(e) = written {
        return report_errors(&[format!(
            "cannot write {}: {e}; check that the folder is writable",
            out.display()
        )]);
    }
    if opts.verbosity.info() {
        eprintln!(
            "Wrote {} from {}: commit it with the configuration.",
            out.display(),
            loaded.root.display()
        );
    }
    ExitCode::from(EXIT_OK)
}

/// `--check`: 0 when `path` says `expected`, else 1 with what to run and what differs.
fn check_file(path: &Path, expected: &str, loaded: &Loaded, verbosity: Verbosity) -> ExitCode {
    let on_disk = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return report_errors(&[format!(
                "{} does not exist: run `teamsync codeowners --config {}` to write it, and commit it",
                path.display(),
                loaded.base_dir.display()
            )]);
        }
        Err(e) => return report_errors(&[format!("cannot read {}: {e}", path.display())]),
    };
    if config::codeowners::same_text(&on_disk, expected) {
        if verbosity.info() {
            eprintln!("{} is up to date.", path.display());
        }
        return ExitCode::from(EXIT_OK);
    }
    let ours = on_disk.starts_with(config::codeowners::HEADER);
    let _ = report_errors(&[format!(
        "{} is out of date: run `teamsync codeowners --config {}`{} and commit it",
        path.display(),
        loaded.base_dir.display(),
        if ours {
            ""
        } else {
            " --force (teamsync did not write the file there now)"
        }
    )]);
    // In file order (in CODEOWNERS the last matching line wins, so a moved line matters):
    // the lines the file has that it should not (-) and those it lacks (+).
    let on_disk = on_disk.replace("\r\n", "\n");
    let diff = similar::TextDiff::from_lines(on_disk.as_str(), expected);
    for (sign, tag) in [
        ("-", similar::ChangeTag::Delete),
        ("+", similar::ChangeTag::Insert),
    ] {
        let differing: Vec<String> = diff
            .iter_all_changes()
            .filter(|c| c.tag() == tag && !c.value().trim().is_empty())
            .map(|c| c.value().trim_end_matches('\n').chars().take(300).collect())
            .collect();
        for line in differing.iter().take(SHOWN_DIFFERENCES) {
            eprintln!("  {sign} {}", escape(line));
        }
        if differing.len() > SHOWN_DIFFERENCES {
            eprintln!(
                "  {sign} … and {} more",
                differing.len() - SHOWN_DIFFERENCES
            );
        }
    }
    ExitCode::from(EXIT_ERROR)
}

/// A line of the file as it may be printed: control and invisible characters escaped, so
/// a hand-edited file cannot rewrite the terminal.
fn escape(line: &str) -> String {
    line.chars()
        .map(|c| {
            if c.is_control() || crate::model::is_hidden(c) {
                format!("\\u{{{:04X}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}
