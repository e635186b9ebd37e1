//! Command-line definitions and dispatch. Flags live here and only here.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Keep SaaS team, group and campaign membership equal to YAML files in git.
#[derive(Debug, Parser)]
#[command(name = "teamsync", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration offline: schema and semantic rules, every problem at once.
    Validate {
        /// A root file, or a folder holding teamsync.yaml.
        #[arg(long, default_value = "teamsync.yaml")]
        config: PathBuf,
    },
    /// Print the JSON Schema of the configuration files.
    Schema,
    /// Run the local emulator of the PixieBrix, GitBook and Contentful APIs.
    Sandbox {
        #[command(subcommand)]
        action: crate::sandbox::cli::SandboxCommand,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { config } => match crate::config::load(&config) {
            Ok(_) => ExitCode::SUCCESS,
            Err(diags) => {
                for d in diags {
                    eprintln!("{d}");
                }
                ExitCode::from(1)
            }
        },
        Command::Sandbox { action } => crate::sandbox::cli::run(action),
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::config::schema()).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
    }
}
