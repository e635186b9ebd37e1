//! `teamsync show PLAN_FILE`: renders a saved plan without reading any API (Terraform's
//! `show`), in the same three views `plan` prints.

use std::path::Path;
use std::process::ExitCode;

use super::plan::{Format, shown_text};
use super::{ColorChoice, EXIT_OK, Failure, Verbosity, write_stdout};
use crate::render;

pub fn run(
    path: &Path,
    format: Format,
    color: ColorChoice,
    verbosity: Verbosity,
) -> Result<ExitCode, Failure> {
    let plan = match super::apply::read_plan(path) {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let shown = match format {
        Format::Text => shown_text(&plan, color.for_stdout(), verbosity),
        Format::Markdown => render::markdown(&plan),
        Format::Json => render::json(&plan),
    };
    write_stdout(&shown)?;
    Ok(ExitCode::from(EXIT_OK))
}
