//! Command-line definitions and dispatch. Flags live here and only here; the work is in
//! `commands`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::commands;

/// Keep SaaS team, group and campaign membership equal to YAML files in git.
#[derive(Debug, Parser)]
#[command(name = "teamsync", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// `--config`, shared by every command that reads a configuration.
#[derive(Debug, Clone, Args)]
pub struct ConfigArg {
    /// A root file, or a folder holding teamsync.yaml.
    #[arg(long, default_value = "teamsync.yaml", value_name = "PATH")]
    pub config: PathBuf,
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
    /// Print the JSON Schema of the configuration files.
    Schema,
    /// Print a shell completion script (for example `teamsync completions bash > /etc/bash_completion.d/teamsync`).
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), for example `teamsync man > teamsync.1`.
    Man,
    /// Run the local emulator of the PixieBrix, GitBook and Contentful APIs.
    Sandbox {
        #[command(subcommand)]
        action: crate::sandbox::cli::SandboxCommand,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { config, format } => commands::validate(
            &config.config,
            format.unwrap_or_else(commands::DiagnosticFormat::from_env),
        ),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "teamsync", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Command::Man => {
            let man = clap_mangen::Man::new(<Cli as clap::CommandFactory>::command());
            match man.render(&mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => commands::report_errors(&[format!("cannot write the man page: {e}")]),
            }
        }
        Command::Sandbox { action } => crate::sandbox::cli::run(action),
        Command::Schema => {
            print!("{}", crate::config::schema_text());
            ExitCode::SUCCESS
        }
    }
}
