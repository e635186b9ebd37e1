//! The binary: parse arguments, run, map the one top-level outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    teamsync::cli::main()
}
