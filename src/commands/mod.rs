//! The commands behind the CLI: each turns parsed arguments into work and an exit code.
//! Printing happens here, at the edge; everything below returns values.

pub mod apply;
pub mod codeowners;
pub mod import;
pub mod init;
pub mod man;
pub mod out_file;
pub mod plan;
pub mod report;
pub mod show;
pub mod timings;

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use crate::config::{self, Loaded};
use crate::engine::ClientOptions;
use crate::model::Endpoint;

/// Terraform's exit codes: 0 success, 1 error (usage errors included), 2 success with
/// changes (`plan --detailed-exitcode` only); and teamsync's 3, "needs attention": apply
/// failed nothing, but something it wrote is not visible yet, so it is not reported done.
pub const EXIT_OK: u8 = 0;
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_CHANGES: u8 = 2;
pub const EXIT_ATTENTION: u8 = 3;

/// Why a command stopped early; `cli::main` turns each into an exit code. Problems a
/// command has already reported (diagnostics, provider errors) come back as an exit code
/// instead, so that nothing is printed twice.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Wrong arguments, or `--help` / `--version` (which clap prints, then exit 0).
    #[error(transparent)]
    Usage(#[from] clap::Error),
    /// Whoever read standard output stopped reading (`teamsync plan | head -1`): end
    /// quietly with exit 0, as ripgrep does.
    #[error("standard output was closed")]
    StdoutClosed,
    /// Standard output failed for another reason (a full disk, for example).
    #[error("cannot write to standard output: {0}; check the file or pipe it is redirected to")]
    Stdout(std::io::Error),
    /// Writing a file failed.
    #[error("cannot write {path}: {source}; check that the folder exists and is writable")]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl Failure {
    /// The exit code, after printing what the user needs to read (nothing when stdout
    /// closed).
    pub fn report(self) -> ExitCode {
        match self {
            Failure::Usage(e) => {
                // Help and version go to stdout; a closed pipe there is no error either.
                let _ = e.print();
                if e.use_stderr() {
                    ExitCode::from(EXIT_ERROR)
                } else {
                    ExitCode::from(EXIT_OK)
                }
            }
            Failure::StdoutClosed => ExitCode::from(EXIT_OK),
            other => report_errors(&[other]),
        }
    }
}

/// Writes to standard output: the one way teamsync prints results. A closed pipe becomes
/// `Failure::StdoutClosed` instead of a panic.
pub fn write_stdout(text: &str) -> Result<(), Failure> {
    stream_stdout(|out| out.write_all(text.as_bytes()))
}

/// [`write_stdout`] for what `write` produces piece by piece (buffered), so a document of
/// tens of megabytes is never held whole.
pub fn stream_stdout(
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), Failure> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    write(&mut out).and_then(|()| out.flush()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::StdoutClosed
        } else {
            Failure::Stdout(e)
        }
    })
}

/// `n thing` or `n things`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

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

/// The network flags every command that talks to providers shares (`cli::NetworkArgs`).
#[derive(Clone, Debug)]
pub struct Network {
    /// `--sandbox FILE`: every provider is served by the embedded sandbox from FILE
    /// instead of its endpoint (trying a configuration offline; `sandbox seed` makes one).
    pub sandbox: Option<std::path::PathBuf>,
    /// Requests in flight at once, per provider.
    pub parallelism: usize,
    /// Per-request timeout.
    pub timeout: std::time::Duration,
    /// Largest decoded answer accepted.
    pub max_body_bytes: usize,
}

impl Default for Network {
    fn default() -> Self {
        let d = ClientOptions::default();
        Network {
            sandbox: None,
            parallelism: d.parallelism,
            timeout: d.timeout,
            max_body_bytes: d.max_body_bytes,
        }
    }
}

impl Network {
    /// The configuration with `--sandbox FILE` applied: each provider's endpoint becomes
    /// the embedded sandbox seeded from FILE (relative to the working directory, like
    /// every path on the command line). Without `--sandbox`, the configuration as loaded.
    pub fn endpoints(&self, mut loaded: Loaded) -> Loaded {
        if let Some(file) = &self.sandbox {
            let file = std::path::absolute(file).unwrap_or_else(|_| file.clone());
            for p in loaded.providers.values_mut() {
                p.endpoint = Endpoint::Sandbox(file.clone());
            }
        }
        loaded
    }

    /// The HTTP clients' options for one run: the request log follows `-v`; `progress`
    /// (plan and apply) shows read progress unless `-q`.
    pub fn client_options(&self, verbosity: Verbosity, progress: bool) -> ClientOptions {
        ClientOptions {
            parallelism: self.parallelism,
            timeout: self.timeout,
            max_body_bytes: self.max_body_bytes,
            log_requests: verbosity.request_log(),
            progress: progress && verbosity.info(),
            ..ClientOptions::default()
        }
    }
}

/// When to colour terminal output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal, unless `NO_COLOR`, `CLICOLOR=0` or `TERM=dumb`;
    /// `CLICOLOR_FORCE` colours a pipe too.
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
            ColorChoice::Auto => auto_colour(std::io::stdout().is_terminal(), |name| {
                std::env::var_os(name)
            }),
        }
    }
}

/// `--color auto`, as the conventions say (no-color.org and the CLICOLOR convention, with
/// the precedence `anstream` uses): a non-empty `NO_COLOR` turns colour off; else
/// `CLICOLOR_FORCE` other than `0` turns it on even off a terminal; else colour needs a
/// terminal, and `CLICOLOR=0` or `TERM=dumb` turn it off. Pure, so every rule is tested.
pub fn auto_colour(is_terminal: bool, var: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    if set("NO_COLOR").is_some() {
        return false;
    }
    if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
        return true;
    }
    is_terminal
        && set("CLICOLOR").is_none_or(|v| v != "0")
        && set("TERM").is_none_or(|v| v != "dumb")
}

#[cfg(test)]
mod colour_tests {
    use super::auto_colour;
    use std::ffi::OsString;

    fn with(tty: bool, vars: &[(&str, &str)]) -> bool {
        auto_colour(tty, |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn a_terminal_gets_colour_unless_a_variable_says_no() {
        assert!(with(true, &[]));
        assert!(with(true, &[("TERM", "xterm-256color"), ("CLICOLOR", "1")]));
        assert!(!with(true, &[("NO_COLOR", "1")]));
        assert!(
            with(true, &[("NO_COLOR", "")]),
            "an empty NO_COLOR is unset"
        );
        assert!(!with(true, &[("TERM", "dumb")]));
        assert!(!with(true, &[("CLICOLOR", "0")]));
    }

    #[test]
    fn clicolor_force_colours_a_pipe_but_no_color_wins() {
        assert!(!with(false, &[]));
        assert!(with(false, &[("CLICOLOR_FORCE", "1")]));
        assert!(with(false, &[("CLICOLOR_FORCE", "1"), ("TERM", "dumb")]));
        assert!(!with(false, &[("CLICOLOR_FORCE", "0")]));
        assert!(!with(true, &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]));
    }
}

/// How diagnostics are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiagnosticFormat {
    /// For people: location, source line with a caret, hint.
    Text,
    /// GitHub Actions workflow commands (`::error file=…,line=…,col=…::…`).
    Github,
    /// One JSON document on stdout, valid or not (`validate` only; see
    /// docs/plan-format.md).
    Json,
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
            DiagnosticFormat::Json => config::report::json(diags, None),
        }
    }
}

/// Loads the configuration, printing every diagnostic; `Err` carries the exit code.
pub fn load_config(path: &Path) -> Result<Loaded, ExitCode> {
    load_config_as(
        path,
        DiagnosticFormat::from_env(),
        config::LoadOptions::default(),
    )
}

/// `load_config` with options (for `import`: includes may match nothing yet).
pub fn load_config_with(path: &Path, options: config::LoadOptions) -> Result<Loaded, ExitCode> {
    load_config_as(path, DiagnosticFormat::from_env(), options)
}

fn load_config_as(
    path: &Path,
    format: DiagnosticFormat,
    options: config::LoadOptions,
) -> Result<Loaded, ExitCode> {
    // Workflow commands are read from stdout; people read errors on stderr.
    // A closed stdout does not change whether the configuration is valid: the exit code
    // still says so.
    let emit = |text: String| match format {
        DiagnosticFormat::Github | DiagnosticFormat::Json => {
            let _ = write_stdout(&text);
        }
        DiagnosticFormat::Text => eprint!("{text}"),
    };
    match config::load_with(path, options) {
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
    if format == DiagnosticFormat::Json {
        let (text, code) = match config::load_with(path, config::LoadOptions::default()) {
            Ok(loaded) => {
                let counts = config::report::Counts {
                    files: loaded.files.len(),
                    providers: loaded.providers.len(),
                    resources: loaded.desired.resources.len(),
                };
                (
                    config::report::json(&loaded.warnings, Some(&counts)),
                    EXIT_OK,
                )
            }
            Err(diags) => (config::report::json(&diags, None), EXIT_ERROR),
        };
        if write_stdout(&text).is_err() {
            return ExitCode::from(EXIT_ERROR);
        }
        return ExitCode::from(code);
    }
    match load_config_as(path, format, config::LoadOptions::default()) {
        Ok(loaded) if !verbosity.info() => {
            let _ = loaded;
            ExitCode::from(EXIT_OK)
        }
        Ok(loaded) => {
            let files = loaded.files.len();
            let resources = loaded.desired.resources.len();
            eprintln!(
                "{} is valid: {}, {}, {}.",
                loaded.root.display(),
                plural(files, "file", "files"),
                plural(loaded.providers.len(), "provider", "providers"),
                plural(resources, "resource", "resources"),
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
        eprintln!("error: {}", crate::model::redact::scrub(&e.to_string()));
    }
    ExitCode::from(EXIT_ERROR)
}

/// `teamsync sandbox seed`: a sandbox state file made from a configuration
/// (`engine::seed`), on stdout or in `out`, which is never a file of the configuration nor
/// one teamsync did not write (unless `force`).
pub fn sandbox_seed(from: &Path, out: &Path, force: bool, verbosity: Verbosity) -> ExitCode {
    let loaded = match load_config(from) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let to_stdout = out.as_os_str() == "-";
    if !to_stdout
        && let Err(why) = out_file::check(out, out_file::Written::SandboxSeed, &loaded.files, force)
    {
        return report_errors(&[why]);
    }
    let seeded = match crate::engine::seed::seed(&loaded) {
        Ok(s) => s,
        Err(why) => return report_errors(&[why]),
    };
    let mut text = match serde_json::to_string_pretty(&seeded.world) {
        Ok(t) => t,
        Err(e) => return report_errors(&[format!("cannot write the seed: {e}")]),
    };
    text.push('\n');
    for line in &seeded.left_out {
        eprintln!("note: {line}");
    }
    if to_stdout {
        // A closed stdout is a normal stop, as for every command.
        let _ = write_stdout(&text);
        return ExitCode::from(EXIT_OK);
    }
    if let Err(e) = std::fs::write(out, text) {
        return report_errors(&[format!("cannot write {}: {e}", out.display())]);
    }
    if verbosity.info() {
        eprintln!(
            "Wrote {}: {}'s configuration as if applied. Try it offline:\n  teamsync plan --config {} --sandbox {}",
            out.display(),
            loaded.root.display(),
            from.display(),
            out.display()
        );
    }
    ExitCode::from(EXIT_OK)
}

/// `teamsync sandbox reset`: deletes the working copies of a configuration's `sandbox:`
/// endpoints; the next command copies the committed seeds again.
pub fn sandbox_reset(path: &Path, sandbox: Option<&Path>) -> ExitCode {
    let loaded = match load_config(path) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let extra = sandbox.map(|f| std::path::absolute(f).unwrap_or_else(|_| f.to_path_buf()));
    let mut seeds: Vec<&std::path::PathBuf> = loaded
        .providers
        .values()
        .filter_map(|p| match &p.endpoint {
            Endpoint::Sandbox(seed) => Some(seed),
            _ => None,
        })
        .chain(extra.as_ref())
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
        let copy = crate::engine::working_copy(&loaded.base_dir, seed);
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
