//! The commands behind the CLI: each turns parsed arguments into work and an exit code.
//! Printing happens here, at the edge; everything below returns values.

pub mod apply;
pub mod import;
pub mod plan;
pub mod report;

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use crate::config::{self, Loaded};
use crate::model::Endpoint;

/// Terraform's exit codes.
pub const EXIT_OK: u8 = 0;
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_CHANGES: u8 = 2;

/// How much to say on stderr: `-q` only errors and results, `-v` also every request,
/// `-vv` also every retry wait.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    #[default]
    Normal,
    Verbose,
    Debug,
}

impl Verbosity {
    pub fn from_flags(quiet: bool, verbose: u8) -> Self {
        match (quiet, verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Normal,
            (false, 1) => Verbosity::Verbose,
            (false, _) => Verbosity::Debug,
        }
    }

    /// Whether informational messages (progress, "saved", "valid") are shown.
    pub fn info(self) -> bool {
        self >= Verbosity::Normal
    }

    /// The request log level for the HTTP clients: 0 none, 1 requests, 2 retries too.
    pub fn request_log(self) -> u8 {
        match self {
            Verbosity::Quiet | Verbosity::Normal => 0,
            Verbosity::Verbose => 1,
            Verbosity::Debug => 2,
        }
    }
}

/// When to colour terminal output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset.
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour what goes to stdout.
    pub fn for_stdout(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

/// How diagnostics are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiagnosticFormat {
    /// For people: location, source line with a caret, hint.
    Text,
    /// GitHub Actions workflow commands (`::error file=…,line=…,col=…::…`).
    Github,
}

impl DiagnosticFormat {
    /// `github` inside GitHub Actions, `text` elsewhere.
    pub fn from_env() -> Self {
        if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
            DiagnosticFormat::Github
        } else {
            DiagnosticFormat::Text
        }
    }

    fn render(self, diags: &[crate::diag::Diagnostic]) -> String {
        match self {
            DiagnosticFormat::Text => config::report::render(diags),
            DiagnosticFormat::Github => config::report::github(diags),
        }
    }
}

/// Loads the configuration, printing every diagnostic; `Err` carries the exit code.
pub fn load_config(path: &Path) -> Result<Loaded, ExitCode> {
    load_config_as(path, DiagnosticFormat::from_env())
}

fn load_config_as(path: &Path, format: DiagnosticFormat) -> Result<Loaded, ExitCode> {
    // Workflow commands are read from stdout; people read errors on stderr.
    let emit = |text: String| match format {
        DiagnosticFormat::Github => print!("{text}"),
        DiagnosticFormat::Text => eprint!("{text}"),
    };
    match config::load(path) {
        Ok(loaded) => {
            if !loaded.warnings.is_empty() {
                emit(format.render(&loaded.warnings));
            }
            Ok(loaded)
        }
        Err(diags) => {
            emit(format.render(&diags));
            Err(ExitCode::from(EXIT_ERROR))
        }
    }
}

/// `teamsync validate`: every problem at once, exit 1 on any error.
pub fn validate(path: &Path, format: DiagnosticFormat, verbosity: Verbosity) -> ExitCode {
    match load_config_as(path, format) {
        Ok(loaded) if !verbosity.info() => {
            let _ = loaded;
            ExitCode::from(EXIT_OK)
        }
        Ok(loaded) => {
            let files = loaded.files.len();
            let resources = loaded.desired.resources.len();
            eprintln!(
                "{} is valid: {files} file{}, {} provider{}, {resources} resource{}.",
                loaded.root.display(),
                if files == 1 { "" } else { "s" },
                loaded.providers.len(),
                if loaded.providers.len() == 1 { "" } else { "s" },
                if resources == 1 { "" } else { "s" },
            );
            ExitCode::from(EXIT_OK)
        }
        Err(code) => code,
    }
}

/// A multi-threaded runtime for the network commands.
pub fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::from(EXIT_ERROR)
        })
}

/// Prints errors one per line, prefixed like every other teamsync error.
pub fn report_errors<E: std::fmt::Display>(errors: &[E]) -> ExitCode {
    for e in errors {
        eprintln!("error: {e}");
    }
    ExitCode::from(EXIT_ERROR)
}

/// `teamsync sandbox reset`: deletes the working copies of a configuration's `sandbox:`
/// endpoints; the next command copies the committed seeds again.
pub fn sandbox_reset(path: &Path) -> ExitCode {
    let loaded = match load_config(path) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let mut seeds: Vec<&std::path::PathBuf> = loaded
        .providers
        .values()
        .filter_map(|p| match &p.endpoint {
            Endpoint::Sandbox(seed) => Some(seed),
            _ => None,
        })
        .collect();
    seeds.sort();
    seeds.dedup();
    if seeds.is_empty() {
        eprintln!(
            "{} has no sandbox: endpoints; nothing to reset.",
            loaded.root.display()
        );
    }
    for seed in seeds {
        let copy = crate::live::working_copy(&loaded.base_dir, seed);
        match std::fs::remove_file(&copy) {
            Ok(()) => eprintln!(
                "Reset {}: the next command starts from {}.",
                copy.display(),
                seed.display()
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!(
                    "{} is already at its seed {}.",
                    copy.display(),
                    seed.display()
                )
            }
            Err(e) => return report_errors(&[format!("cannot remove {}: {e}", copy.display())]),
        }
    }
    ExitCode::from(EXIT_OK)
}
