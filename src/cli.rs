//! Command-line definitions and dispatch. Flags live here and only here; the work is in
//! `commands`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::commands::{self, ColorChoice};
use crate::model::ResourceKey;

/// `teamsync --version`: the release and the commit it was built from (build.rs).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("TEAMSYNC_BUILD"), ")");

/// Keep SaaS team, group and campaign membership equal to YAML files in git.
#[derive(Debug, Parser)]
#[command(name = "teamsync", version = VERSION, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Say less: only errors and results (plan and apply print only the plan's summary).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Say more: -v logs every request (never a header), -vv also every retry wait.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// `--config`, shared by every command that reads a configuration.
#[derive(Debug, Clone, Args)]
pub struct ConfigArg {
    /// A root file, or a folder holding teamsync.yaml.
    #[arg(long, default_value = "teamsync.yaml", value_name = "PATH")]
    pub config: PathBuf,
}

/// Flags shared by the commands that talk to providers.
#[derive(Debug, Clone, Args)]
pub struct NetworkArgs {
    /// Serve every provider from the embedded sandbox seeded from FILE, instead of its
    /// endpoint: try a configuration offline (`teamsync sandbox seed` makes FILE).
    #[arg(long, value_name = "FILE")]
    pub sandbox: Option<PathBuf>,
    /// Requests in flight at once, per provider.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256), value_name = "N")]
    pub parallelism: u16,
    /// When to colour the output (`auto`: on a terminal unless NO_COLOR, CLICOLOR=0 or TERM=dumb; CLICOLOR_FORCE also off one).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Seconds one request may take before it is abandoned (then retried if that is safe).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600), value_name = "SECS")]
    pub timeout: u64,
    /// Largest answer accepted from an API, in MiB once decoded; a bigger one (or a
    /// compression bomb) ends the read with an error.
    #[arg(long, default_value_t = crate::providers::DEFAULT_MAX_BODY_MIB as u64, value_parser = clap::value_parser!(u64).range(1..=4096), value_name = "MIB")]
    pub max_response_mib: u64,
}

impl NetworkArgs {
    /// The flags as the commands take them.
    pub fn network(&self) -> commands::Network {
        commands::Network {
            sandbox: self.sandbox.clone(),
            parallelism: usize::from(self.parallelism),
            timeout: std::time::Duration::from_secs(self.timeout),
            max_body_bytes: usize::try_from(self.max_response_mib << 20).unwrap_or(usize::MAX),
        }
    }
}

/// `teamsync sandbox …`
#[derive(Debug, Subcommand)]
pub enum SandboxAction {
    /// Serve the three APIs from a state file until Ctrl-C.
    Serve(crate::sandbox::cli::ServeArgs),
    /// Start a configuration's embedded sandboxes over: forget what `apply` changed in the
    /// working copies under `.teamsync/`, so the next command starts from the seeds.
    Reset {
        #[command(flatten)]
        config: ConfigArg,
        /// Also the working copy of this `--sandbox FILE` seed.
        #[arg(long, value_name = "FILE")]
        sandbox: Option<PathBuf>,
    },
    /// Write a sandbox state file from a configuration, to try it offline: the
    /// configuration as if applied, leavers and expired access still there (then `teamsync
    /// plan --config DIR --sandbox FILE`).
    Seed {
        /// The configuration: a root file, or a folder holding teamsync.yaml.
        #[arg(long, value_name = "PATH")]
        from: PathBuf,
        /// Where to write the state file (`-`: stdout). A file teamsync did not write is
        /// never replaced without --force.
        #[arg(long, value_name = "FILE", default_value = "-")]
        out: PathBuf,
        /// Let --out replace a file teamsync did not write.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration offline: schema and semantic rules, every problem at once.
    Validate {
        #[command(flatten)]
        config: ConfigArg,
        /// How to report problems; `github` prints workflow commands that annotate the
        /// files in a pull request (the default when GITHUB_ACTIONS is set).
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<commands::DiagnosticFormat>,
    },
    /// Read the live state, compare it with the configuration and show what would change.
    Plan {
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        network: NetworkArgs,
        /// Also save the plan (JSON) for `teamsync apply FILE`; `-` prints it on stdout
        /// instead of the view. A file of the configuration, or one teamsync did not
        /// write, is never replaced without --force.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Let --out replace a file teamsync did not write (or a configuration file).
        #[arg(long)]
        force: bool,
        /// How to print the plan.
        #[arg(long, value_enum, default_value_t = commands::plan::Format::Text)]
        format: commands::plan::Format,
        /// Group the text or JSON view by resource or by person (Markdown always shows both).
        #[arg(long, value_enum, default_value_t = commands::plan::By::Resource, value_name = "VIEW")]
        by: commands::plan::By,
        /// Exit 2 when the plan has changes (0 when none, 1 on error).
        #[arg(long)]
        detailed_exitcode: bool,
        /// Plan only this resource, written provider.kind["name"] (repeatable).
        #[arg(long = "target", value_name = "KEY")]
        targets: Vec<ResourceKey>,
        /// Plan for another day (UTC, YYYY-MM-DD) than today, to preview which `until`
        /// dates will have passed. Apply always plans for today.
        #[arg(long, value_name = "YYYY-MM-DD")]
        at: Option<jiff::civil::Date>,
        /// Let removals past their budgets through, reviewed with the plan: bare, past
        /// policy.max_removals; `=NAME,…`, past the budget of each named provider or
        /// container (`docs.team["Writers"]`), or for each named person. Saved in the
        /// plan and shown in its comment; `apply FILE` uses exactly these.
        #[arg(long, value_name = "NAME", num_args = 0..=1, require_equals = true, default_missing_value = "", value_delimiter = ',')]
        allow_removals: Option<Vec<String>>,
    },
    /// Apply a fresh plan after confirmation, or exactly a saved plan.
    Apply {
        /// A plan saved by `teamsync plan --out FILE`; applied exactly, if still fresh.
        plan_file: Option<PathBuf>,
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        network: NetworkArgs,
        /// Apply without asking for confirmation.
        #[arg(long)]
        auto_approve: bool,
        /// Let removals past their budgets through: bare, past policy.max_removals;
        /// `=NAME,…`, past the budget of each named provider or container, or for each
        /// named person. With a saved plan, only bare: its names are the plan's own.
        #[arg(long, value_name = "NAME", num_args = 0..=1, require_equals = true, default_missing_value = "", value_delimiter = ',')]
        allow_removals: Option<Vec<String>>,
        /// Carry out only this part of the plan: `expired` applies the removals whose
        /// `until` date has passed (reviewed when the date was merged) and nothing else.
        #[arg(long, value_enum, value_name = "WHAT")]
        only: Option<commands::apply::Only>,
        /// Seconds to keep re-reading, with backoff, for a write the API accepted to show
        /// in its reads (APIs answer late for a moment after a write); past it the change
        /// is reported "written, not yet visible" and apply exits 3.
        #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=3600))]
        settle: u64,
        /// `json` prints the outcome of every change as JSON on stdout (the plan goes to
        /// stderr).
        #[arg(long, value_enum, default_value_t = commands::apply::ResultFormat::Text)]
        format: commands::apply::ResultFormat,
    },
    /// Write what a provider has today as config files, so adoption starts from a plan
    /// with no changes.
    Import {
        #[command(flatten)]
        config: ConfigArg,
        /// The configured provider to import (its name under `providers:`).
        #[arg(
            long,
            value_name = "NAME",
            required_unless_present_any = ["all", "drift"],
            conflicts_with = "all"
        )]
        provider: Option<String>,
        /// Import every configured provider: with --out DIR elsewhere, a whole repository
        /// (teamsync.yaml, one people.yaml, a file per provider) that plans to no changes.
        #[arg(long)]
        all: bool,
        /// Adopt drift instead of importing: where the members of an `exact` group,
        /// campaign or team changed live, rewrite only those entries in the files that
        /// declare them (comments and layout kept). Prints the diff and writes nothing
        /// (exit 2 when there is drift to adopt, 0 when none) unless --force. With
        /// --provider NAME, only that provider is read and adopted.
        #[arg(long, conflicts_with_all = ["all", "out"])]
        drift: bool,
        /// Folder for the files (default: the root file's folder).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Overwrite files that already exist; with --drift, write the adopted files.
        #[arg(long)]
        force: bool,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256), value_name = "N")]
        parallelism: u16,
    },
    /// Write an access review: who has access to what, live, beside what the configuration
    /// declares, with drift, invitations, owners/admins and service accounts marked.
    /// Read-only: uses the same read-only clients as `plan`.
    Report {
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        network: NetworkArgs,
        /// What to write: a self-contained HTML page, CSV for spreadsheets, or JSON
        /// (default: what the --out file's extension says, else html).
        #[arg(long, value_enum)]
        format: Option<commands::report::Format>,
        /// Write to FILE instead of stdout (`-`: stdout). A file of the configuration, or
        /// one teamsync did not write, is never replaced without --force.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Let --out replace a file teamsync did not write (or a configuration file).
        #[arg(long)]
        force: bool,
        /// Only this person's row: a handle, an email (any case) or `user_id:ID`. With
        /// `--format csv` it answers "who gave them access to what, and when" on stdout.
        #[arg(long, value_name = "HANDLE|EMAIL")]
        person: Option<String>,
    },
    /// Render a plan saved with `plan --out`, reading no API.
    Show {
        /// The saved plan.
        plan_file: PathBuf,
        /// How to print it.
        #[arg(long, value_enum, default_value_t = commands::plan::Format::Text)]
        format: commands::plan::Format,
        /// Group the text or JSON view by resource or by person (Markdown always shows both).
        #[arg(long, value_enum, default_value_t = commands::plan::By::Resource, value_name = "VIEW")]
        by: commands::plan::By,
        /// Largest Markdown view, in bytes: the default fits a pull-request comment with its
        /// marker line; a job summary takes up to 1 MiB (--budget 1000000).
        #[arg(long, default_value_t = crate::render::MARKDOWN_BUDGET, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1000..=1_048_576), value_name = "BYTES")]
        budget: usize,
        /// When to colour the output (`auto`: on a terminal unless NO_COLOR, CLICOLOR=0 or TERM=dumb; CLICOLOR_FORCE also off one).
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
        color: ColorChoice,
    },
    /// Write a starter repository: the root file, the roster, one team per file, the
    /// schema its modelines point at, and the GitHub workflows. Never replaces a file
    /// without --force.
    Init {
        /// The repository's root: the workflows go to ROOT/.github/workflows/.
        #[arg(long, default_value = ".", value_name = "ROOT")]
        root: PathBuf,
        /// The configuration's folder inside the root (the workflows' CONFIG).
        #[arg(long, default_value = "teamsync", value_name = "DIR")]
        dir: String,
        /// The providers to configure (repeatable, or comma-separated); default all three.
        #[arg(
            long = "provider",
            value_enum,
            value_delimiter = ',',
            value_name = "KIND"
        )]
        providers: Vec<commands::init::Starter>,
        /// The GitHub workflows to write (repeatable, or comma-separated); default plan,
        /// expiry and report. `drift` opens pull requests, which the repository must allow
        /// Actions to do (Settings, Actions, General).
        #[arg(
            long = "workflow",
            value_enum,
            value_delimiter = ',',
            value_name = "WORKFLOW"
        )]
        workflows: Vec<commands::init::Workflow>,
        /// The company's email domain, for the roster and allowed_email_domains.
        #[arg(long, default_value = "example.com", value_name = "DOMAIN")]
        domain: String,
        /// Replace files that exist.
        #[arg(long)]
        force: bool,
    },
    /// Write the CODEOWNERS file the configuration gives: each team's owners (by their
    /// `github:` names) approve changes to their team's file, `codeowners.fallback` approves
    /// the root file, the roster and every team without an owner. Reads no API.
    Codeowners {
        #[command(flatten)]
        config: ConfigArg,
        /// Where to write it (`-`: stdout); default `codeowners.path`. A file teamsync did
        /// not write is never replaced without --force.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Let --out replace a file teamsync did not write.
        #[arg(long, conflicts_with = "check")]
        force: bool,
        /// Write nothing: exit 1 when the file is missing or differs from what the
        /// configuration gives, 0 when it is current (for CI).
        #[arg(long)]
        check: bool,
    },
    /// Print the JSON Schema of the configuration files.
    Schema,
    /// Print a shell completion script (for example `teamsync completions bash > /etc/bash_completion.d/teamsync`).
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), for example `teamsync man > teamsync.1`, or write one
    /// page per command with --out.
    Man {
        /// Write every page (teamsync.1, teamsync-plan.1, …) into this folder.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Run the local emulator of the PixieBrix, GitBook and Contentful APIs.
    Sandbox {
        #[command(subcommand)]
        action: SandboxAction,
    },
}

/// The one place an outcome becomes an exit code: 0 success, 1 error (usage errors
/// included, unlike clap's 2, which `--detailed-exitcode` reserves for "changes"), 2
/// changes. A closed stdout ends quietly with 0.
pub fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}

/// The top-level error type of the binary.
pub type Error = commands::Failure;

/// The whole command-line definition (for man pages, completions, and the docs test).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

fn run() -> Result<ExitCode, Error> {
    let cli = Cli::try_parse()?;
    let verbosity = commands::Verbosity::from_flags(cli.quiet, cli.verbose);
    Ok(match cli.command {
        Command::Validate { config, format } => commands::validate(
            &config.config,
            format.unwrap_or_else(commands::DiagnosticFormat::from_env),
            verbosity,
        ),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command(), "teamsync", &mut script);
            commands::write_stdout(&String::from_utf8_lossy(&script))?;
            ExitCode::SUCCESS
        }
        Command::Man { out: None } => {
            let top = commands::man::pages(command())
                .into_iter()
                .next()
                .map(|p| p.roff)
                .unwrap_or_default();
            commands::write_stdout(&String::from_utf8_lossy(&top))?;
            ExitCode::SUCCESS
        }
        Command::Man { out: Some(dir) } => {
            let written = commands::man::write_pages(command(), &dir)?;
            if verbosity.info() {
                eprintln!(
                    "Wrote {} to {}.",
                    commands::plural(written.len(), "man page", "man pages"),
                    dir.display()
                );
            }
            ExitCode::SUCCESS
        }
        Command::Sandbox {
            action: SandboxAction::Serve(args),
        } => crate::sandbox::cli::serve(args),
        Command::Sandbox {
            action: SandboxAction::Reset { config, sandbox },
        } => commands::sandbox_reset(&config.config, sandbox.as_deref()),
        Command::Sandbox {
            action: SandboxAction::Seed { from, out, force },
        } => commands::sandbox_seed(&from, &out, force, verbosity),
        Command::Plan {
            config,
            network,
            out,
            force,
            format,
            by,
            detailed_exitcode,
            targets,
            at,
            allow_removals,
        } => commands::plan::run(commands::plan::PlanOptions {
            config: config.config,
            out,
            force,
            format,
            by,
            detailed_exitcode,
            targets,
            network: network.network(),
            color: network.color,
            verbosity,
            at,
            allow_removals,
        })?,
        Command::Apply {
            plan_file,
            config,
            network,
            auto_approve,
            allow_removals,
            only,
            settle,
            format,
        } => commands::apply::run(commands::apply::ApplyOptions {
            config: config.config,
            plan_file,
            auto_approve,
            allow_removals,
            only,
            settle: std::time::Duration::from_secs(settle),
            format,
            network: network.network(),
            color: network.color,
            verbosity,
        }),
        Command::Import {
            config,
            provider,
            all,
            drift,
            out,
            force,
            parallelism,
        } => commands::import::run(commands::import::ImportOptions {
            config: config.config,
            provider,
            all,
            out,
            drift,
            force,
            network: commands::Network {
                parallelism: usize::from(parallelism),
                ..commands::Network::default()
            },
            verbosity,
        }),
        Command::Report {
            config,
            network,
            format,
            out,
            force,
            person,
        } => commands::report::run(commands::report::ReportOptions {
            config: config.config,
            format,
            out,
            force,
            person,
            network: network.network(),
            verbosity,
        }),
        Command::Show {
            plan_file,
            format,
            by,
            budget,
            color,
        } => commands::show::run(&plan_file, format, by, budget, color, verbosity)?,
        Command::Init {
            root,
            dir,
            mut providers,
            mut workflows,
            domain,
            force,
        } => {
            if providers.is_empty() {
                providers = vec![
                    commands::init::Starter::Pixiebrix,
                    commands::init::Starter::Gitbook,
                    commands::init::Starter::Contentful,
                ];
            }
            providers.sort();
            providers.dedup();
            if workflows.is_empty() {
                workflows = commands::init::Workflow::DEFAULT.to_vec();
            }
            workflows.sort();
            workflows.dedup();
            commands::init::run(commands::init::InitOptions {
                root,
                dir,
                providers,
                workflows,
                domain,
                force,
                verbosity,
            })
        }
        Command::Codeowners {
            config,
            out,
            force,
            check,
        } => commands::codeowners::run(commands::codeowners::CodeownersOptions {
            config: config.config,
            out,
            force,
            check,
            verbosity,
        }),
        Command::Schema => {
            commands::write_stdout(&crate::config::schema_text())?;
            ExitCode::SUCCESS
        }
    })
}
