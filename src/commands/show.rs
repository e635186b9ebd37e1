//! `teamsync show PLAN_FILE`: renders a saved plan without reading any API (Terraform's
//! `show`), in the same views `plan` prints: text, Markdown (within `--budget`) or JSON,
//! by resource or by person.

use std::path::Path;
use std::process::ExitCode;

use super::plan::{By, Format};
use super::{ColorChoice, EXIT_OK, Failure, Verbosity, write_stdout};

pub fn run(
    path: &Path,
    format: Format,
    by: By,
    markdown_budget: usize,
    color: ColorChoice,
    verbosity: Verbosity,
) -> Result<ExitCode, Failure> {
    let plan = match super::apply::read_plan(path) {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    write_stdout(&super::plan::shown(
        &plan,
        format,
        by,
        markdown_budget,
        color.for_stdout(),
        verbosity,
    ))?;
    Ok(ExitCode::from(EXIT_OK))
}
