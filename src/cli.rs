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
    },
    /// Print the JSON Schema of the configuration files.
    Schema,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { config } => commands::validate(&config.config),
        Command::Schema => {
            print!("{}", crate::config::schema_text());
            ExitCode::SUCCESS
        }
    }
}
