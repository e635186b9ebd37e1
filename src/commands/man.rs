//! `teamsync man`: one roff page per command (`teamsync.1`, `teamsync-plan.1`,
//! `teamsync-sandbox-serve.1`, …), each with clap_mangen's generated sections plus EXIT
//! STATUS, ENVIRONMENT, EXAMPLES and SEE ALSO written here.

use std::path::{Path, PathBuf};

use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, italic, roman};

use super::Failure;

/// One rendered page: its file name (`teamsync-plan.1`) and its roff text.
pub struct Page {
    pub file_name: String,
    pub roff: Vec<u8>,
}

/// Every page, the top page first. `cmd` is the CLI's definition.
pub fn pages(cmd: clap::Command) -> Vec<Page> {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let mut commands = Vec::new();
    collect(&cmd, &mut Vec::new(), &mut commands);
    let names: Vec<String> = commands.iter().map(|(path, _)| page_name(path)).collect();
    commands
        .into_iter()
        .map(|(path, c)| Page {
            file_name: format!("{}.1", page_name(&path)),
            roff: render(&path, c, &names),
        })
        .collect()
}

/// Writes every page into `dir` (created if missing); returns the paths written.
pub fn write_pages(cmd: clap::Command, dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    std::fs::create_dir_all(dir).map_err(|source| Failure::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let pages = pages(cmd);
    // Every page is checked before the first is written: none replaces a file teamsync
    // did not write (`--out` of a folder holding other programs' pages).
    for page in &pages {
        let path = dir.join(&page.file_name);
        super::out_file::check(&path, super::out_file::Written::ManPage, &[], false).map_err(
            |why| Failure::Write {
                path: path.clone(),
                source: std::io::Error::other(why),
            },
        )?;
    }
    let mut written = Vec::new();
    for page in pages {
        let path = dir.join(&page.file_name);
        std::fs::write(&path, &page.roff).map_err(|source| Failure::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

/// Depth first, parents before children: (["sandbox", "serve"], command).
fn collect(
    cmd: &clap::Command,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, clap::Command)>,
) {
    out.push((path.clone(), cmd.clone()));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        path.push(sub.get_name().to_string());
        collect(sub, path, out);
        path.pop();
    }
}

fn page_name(path: &[String]) -> String {
    std::iter::once("teamsync")
        .chain(path.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("-")
}

fn render(path: &[String], cmd: clap::Command, all: &[String]) -> Vec<u8> {
    let name = page_name(path);
    let has_args = cmd.get_arguments().any(|a| !a.is_hide_set());
    let has_subcommands = cmd.get_subcommands().any(|s| !s.is_hide_set());
    let has_version = cmd.get_version().or(cmd.get_long_version()).is_some();
    let man = Man::new(cmd.display_name(name.clone())).title(name.to_uppercase());
    let mut out = Vec::new();
    // Rendering into a Vec cannot fail.
    let _ = man.render_title(&mut out);
    let _ = man.render_name_section(&mut out);
    let _ = man.render_synopsis_section(&mut out);
    let _ = man.render_description_section(&mut out);
    if has_args {
        let _ = man.render_options_section(&mut out);
    }
    if has_subcommands {
        let _ = man.render_subcommands_section(&mut out);
    }
    let mut roff = Roff::new();
    exit_status(&mut roff, path);
    environment(&mut roff);
    examples(&mut roff, path);
    see_also(&mut roff, &name, path, all);
    // `to_roff`: clap_mangen's pieces already wrote the preamble that defines `\*(Aq`.
    out.extend_from_slice(roff.to_roff().as_bytes());
    if has_version {
        let _ = man.render_version_section(&mut out);
    }
    out
}

fn paragraph(roff: &mut Roff, tag: &str, text: &str) {
    roff.control("TP", []);
    roff.text([bold(tag)]);
    roff.text([roman(text)]);
}

fn exit_status(roff: &mut Roff, path: &[String]) {
    roff.control("SH", ["EXIT STATUS"]);
    paragraph(
        roff,
        "0",
        "Success. For plan with --detailed-exitcode: success and no changes. Also when standard output is closed early (teamsync plan | head -1).",
    );
    paragraph(
        roff,
        "1",
        if path == ["codeowners"] {
            "An error: invalid configuration, no codeowners: section, a file teamsync did not write in the way, or a usage error; with --check also a CODEOWNERS file that is missing or out of date."
        } else {
            "An error: invalid configuration, a provider or network failure, a refused or incomplete apply, or a usage error (unknown flag, missing argument)."
        },
    );
    if path.is_empty() || path == ["plan"] {
        paragraph(
            roff,
            "2",
            "Success with changes; only teamsync plan --detailed-exitcode exits 2.",
        );
    }
}

fn environment(roff: &mut Roff) {
    roff.control("SH", ["ENVIRONMENT"]);
    paragraph(
        roff,
        "PIXIEBRIX_TOKEN, GITBOOK_TOKEN, CONTENTFUL_TOKEN",
        "The API tokens, read from the variable each provider's token_env names in teamsync.yaml (these are the names the examples use). Tokens never go in files and are never printed. Not needed for sandbox: endpoints.",
    );
    paragraph(
        roff,
        "NO_COLOR, CLICOLOR_FORCE, CLICOLOR, TERM",
        "For --color auto: a non-empty NO_COLOR turns colour off; otherwise CLICOLOR_FORCE other than 0 colours even a pipe; otherwise colour needs a terminal, and CLICOLOR=0 or TERM=dumb turn it off.",
    );
    paragraph(
        roff,
        "GITHUB_ACTIONS",
        "When true, validate prints problems as GitHub workflow commands (annotations); --format text overrides it.",
    );
    paragraph(
        roff,
        "GITHUB_STEP_SUMMARY",
        "When set, plan appends its Markdown view to this file (the job summary).",
    );
}

fn examples(roff: &mut Roff, path: &[String]) {
    let list: &[(&str, &str)] = match path
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => &[
            (
                "Check the configuration offline:",
                "teamsync validate --config examples/acme",
            ),
            (
                "Show what would change:",
                "teamsync plan --config examples/acme",
            ),
            (
                "Make it so:",
                "teamsync apply --config examples/acme --auto-approve",
            ),
        ],
        ["validate"] => &[
            (
                "Every problem at once, with file:line:column:",
                "teamsync validate --config .",
            ),
            (
                "Annotations for a pull request:",
                "teamsync validate --format github",
            ),
        ],
        ["plan"] => &[
            (
                "Show what would change:",
                "teamsync plan --config examples/acme",
            ),
            (
                "Save the plan for apply; exit 2 when it has changes:",
                "teamsync plan --out plan.json --detailed-exitcode",
            ),
            ("A pull-request comment:", "teamsync plan --format markdown"),
            (
                "Only one resource:",
                "teamsync plan --target 'docs.team[\"Writers\"]'",
            ),
        ],
        ["apply"] => &[
            (
                "Plan, confirm with yes, apply:",
                "teamsync apply --config examples/acme",
            ),
            (
                "Apply a saved plan, only if a plan made now carries exactly its changes:",
                "teamsync apply plan.json",
            ),
        ],
        ["report"] => &[
            (
                "An access review as one self-contained page:",
                "teamsync report --out report.html",
            ),
            (
                "One row per person and container, for a spreadsheet:",
                "teamsync report --format csv --out report.csv",
            ),
        ],
        ["import"] => &[
            (
                "Write one provider's live state as config files:",
                "teamsync import --provider docs --out imported",
            ),
            (
                "A whole repository for every configured provider:",
                "teamsync import --all --out adopted",
            ),
        ],
        ["show"] => &[
            (
                "Show a saved plan as the terminal shows a plan:",
                "teamsync show plan.json",
            ),
            (
                "The pull-request comment of a saved plan:",
                "teamsync show plan.json --format markdown",
            ),
        ],
        ["codeowners"] => &[
            (
                "Write the CODEOWNERS file the configuration names:",
                "teamsync codeowners --config examples/acme",
            ),
            (
                "In CI: fail when it is missing or out of date:",
                "teamsync codeowners --check",
            ),
        ],
        ["schema"] => &[(
            "Refresh the committed schema:",
            "teamsync schema > schemas/teamsync.schema.json",
        )],
        ["completions"] => &[(
            "Bash completions:",
            "teamsync completions bash > /etc/bash_completion.d/teamsync",
        )],
        ["man"] => &[
            (
                "Every page into a folder:",
                "teamsync man --out /usr/local/share/man/man1",
            ),
            ("The top page only:", "teamsync man > teamsync.1"),
        ],
        ["init"] => &[
            (
                "A starter repository in the current one (config in teamsync/, workflows):",
                "teamsync init --domain acme.com",
            ),
            (
                "Only GitBook and Contentful, the config in access/:",
                "teamsync init --provider gitbook,contentful --dir access",
            ),
        ],
        ["sandbox", ..] => &[
            (
                "Serve the three APIs on loopback:",
                "teamsync sandbox serve --state examples/acme/live-state.json",
            ),
            (
                "Start the embedded sandboxes over:",
                "teamsync sandbox reset --config examples/acme",
            ),
            (
                "Try your own configuration offline:",
                "teamsync sandbox seed --from . --out seed.json && teamsync plan --sandbox seed.json",
            ),
        ],
        _ => &[],
    };
    if list.is_empty() {
        return;
    }
    roff.control("SH", ["EXAMPLES"]);
    for (what, command) in list {
        roff.control("TP", []);
        roff.text([roman(*what)]);
        roff.text([bold(*command)]);
    }
}

/// The pages this one relates to; every one of them is among the pages written.
fn see_also(roff: &mut Roff, name: &str, path: &[String], all: &[String]) {
    let related: Vec<&String> = if path.is_empty() {
        all.iter().filter(|n| *n != name).collect()
    } else {
        let parent = page_name(&path[..path.len() - 1]);
        all.iter()
            .filter(|n| **n == parent || n.starts_with(&format!("{name}-")))
            .collect()
    };
    if related.is_empty() {
        return;
    }
    roff.control("SH", ["SEE ALSO"]);
    let mut inlines = Vec::new();
    for (i, n) in related.iter().enumerate() {
        if i > 0 {
            inlines.push(roman(", "));
        }
        inlines.push(italic(n.as_str()));
        inlines.push(roman("(1)"));
    }
    roff.text(inlines);
}
