//! `teamsync init`: a starter repository that validates, plans offline against a seeded
//! sandbox, and runs in GitHub Actions: the root file, the roster, one team per file, the
//! JSON Schema the files' modelines point at (relative, so they resolve in the user's
//! repository, not in teamsync's), and the workflows of `examples/github/` it is asked for
//! (plan and apply, expiry and the monthly access review unless `--workflow` says
//! otherwise; drift adoption on request: it opens pull requests, which a repository has to
//! allow Actions to do).
//!
//! Nothing is written unless nothing would be replaced: every target is checked first, and
//! one existing file stops the command with its name (`--force` replaces them).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{EXIT_ERROR, EXIT_OK, Verbosity, report_errors};

/// Which providers the starter configures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Starter {
    Pixiebrix,
    Gitbook,
    Contentful,
}

/// The GitHub workflows a starter can hold, each one of `examples/github/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Workflow {
    /// Plan on a pull request (a sticky comment), apply on merge.
    Plan,
    /// Daily: remove expired access (and nothing else), open an issue for other drift.
    Expiry,
    /// Monthly: the access review as HTML and CSV, kept as an artifact. Read-only.
    Report,
    /// Daily: adopt or revert membership changed outside teamsync, through one pull
    /// request (the repository must allow Actions to create pull requests).
    Drift,
}

impl Workflow {
    /// The workflows a starter holds when `--workflow` is not given: every one that needs
    /// no repository setting beyond its secrets.
    pub const DEFAULT: [Workflow; 3] = [Workflow::Plan, Workflow::Expiry, Workflow::Report];

    /// Where it goes under the root, and its text.
    fn file(self) -> (&'static str, &'static str) {
        match self {
            Workflow::Plan => (
                ".github/workflows/teamsync.yml",
                include_str!("../../examples/github/teamsync.yml"),
            ),
            Workflow::Expiry => (
                ".github/workflows/teamsync-expiry.yml",
                include_str!("../../examples/github/expiry.yml"),
            ),
            Workflow::Report => (
                ".github/workflows/teamsync-report.yml",
                include_str!("../../examples/github/report.yml"),
            ),
            Workflow::Drift => (
                ".github/workflows/teamsync-drift.yml",
                include_str!("../../examples/github/drift.yml"),
            ),
        }
    }
}

pub struct InitOptions {
    /// The repository root: workflows go to `ROOT/.github/workflows/`.
    pub root: PathBuf,
    /// The config folder, relative to the root (the workflows' `CONFIG`).
    pub dir: String,
    pub providers: Vec<Starter>,
    /// The workflows to write, each once.
    pub workflows: Vec<Workflow>,
    /// The company's email domain: the roster's and `allowed_email_domains`.
    pub domain: String,
    pub force: bool,
    pub verbosity: Verbosity,
}

const SCHEMA_FILE: &str = "teamsync.schema.json";

fn modeline(depth: usize) -> String {
    format!(
        "# yaml-language-server: $schema={}{SCHEMA_FILE}\n",
        "../".repeat(depth)
    )
}

fn root_file(o: &InitOptions) -> String {
    let mut s = modeline(0);
    s.push_str(&format!(
        "# Membership as code. Check it: `teamsync validate --config {dir}`.\n\
         # Try it offline, no token: `teamsync sandbox seed --from {dir} --out seed.json`,\n\
         # then `teamsync plan --config {dir} --sandbox seed.json`.\n\
         # Then replace each `organization:` with yours and export the token variables.\n\
         version: 1\nproviders:\n",
        dir = o.dir
    ));
    for p in &o.providers {
        s.push_str(match p {
            Starter::Pixiebrix => {
                "  pixiebrix:\n    kind: pixiebrix\n    # Your team's id: the UUID in the Admin Console's address.\n    organization: 00000000-0000-4000-8000-000000000000\n    token_env: PIXIEBRIX_TOKEN\n"
            }
            Starter::Gitbook => {
                "  docs:\n    kind: gitbook\n    # Your organization's id (GitBook: Settings, or GET /v1/orgs).\n    organization: your-gitbook-organization-id\n    token_env: GITBOOK_TOKEN\n"
            }
            Starter::Contentful => {
                "  cms:\n    kind: contentful\n    # Your organization's id (Contentful: Organization settings).\n    organization: your-contentful-organization-id\n    token_env: CONTENTFUL_TOKEN\n"
            }
        });
    }
    s.push_str(&format!(
        "policy:\n  allowed_email_domains: [{}]\n  # More removals than this in one apply need --allow-removals.\n  max_removals: 10\n\
         include: [\"people.yaml\", \"teams/*.yaml\"]\n",
        o.domain
    ));
    s
}

fn people_file(o: &InitOptions) -> String {
    format!(
        "{}# One roster for every provider: a handle, an email, optional data.\n\
         # A leaver keeps their entry with `offboarded: true`; a contractor gets `until:`.\n\
         people:\n  ada: {{ email: ada@{d} }}\n  grace: {{ email: grace@{d} }}\n  linus: {{ email: linus@{d}, until: 2099-12-31 }}\n",
        modeline(0),
        d = o.domain
    )
}

/// One team per file: its owners can own the file (CODEOWNERS).
fn team_files(o: &InitOptions) -> Vec<(String, String)> {
    let head = modeline(1);
    o.providers
        .iter()
        .map(|p| match p {
            Starter::Pixiebrix => (
                "teams/pixiebrix-everyone.yaml".to_string(),
                format!("{head}# A PixieBrix group.\ngroups:\n  - name: Everyone\n    members: [ada, grace, linus]\n"),
            ),
            Starter::Gitbook => (
                "teams/docs-writers.yaml".to_string(),
                format!("{head}# A GitBook team: roles owner or member (the default).\nteams:\n  - provider: docs\n    name: Writers\n    members:\n      - {{ person: ada, role: owner }}\n      - grace\n"),
            ),
            Starter::Contentful => (
                "teams/cms-editors.yaml".to_string(),
                format!("{head}# A Contentful team.\nteams:\n  - provider: cms\n    name: Editors\n    members: [grace, linus]\n"),
            ),
        })
        .collect()
}

/// The example workflow with its config folder replaced by `dir`.
fn workflow(text: &str, dir: &str) -> String {
    text.replace("\"teamsync/**\"", &format!("\"{dir}/**\""))
        .replace("CONFIG: teamsync #", &format!("CONFIG: {dir} #"))
}

/// Every file the starter holds, as (path under the root, text).
pub fn files(o: &InitOptions) -> Vec<(PathBuf, String)> {
    let dir = Path::new(&o.dir);
    let mut out = vec![
        (dir.join("teamsync.yaml"), root_file(o)),
        (dir.join("people.yaml"), people_file(o)),
        (dir.join(SCHEMA_FILE), crate::config::schema_text()),
        (
            dir.join(".gitignore"),
            "# The embedded sandbox's working copies.\n.teamsync/\nseed.json\n".to_string(),
        ),
    ];
    for (name, text) in team_files(o) {
        out.push((dir.join(name), text));
    }
    for w in &o.workflows {
        let (path, text) = w.file();
        out.push((PathBuf::from(path), workflow(text, &o.dir)));
    }
    out
}

pub fn run(o: InitOptions) -> ExitCode {
    let dir_ok = !o.dir.is_empty()
        && Path::new(&o.dir)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !dir_ok {
        return report_errors(&[format!(
            "--dir {:?} must be a folder inside the repository, such as `teamsync` (no `..`, not absolute)",
            o.dir
        )]);
    }
    if o.providers.is_empty() {
        return report_errors(&["--provider needs at least one of pixiebrix, gitbook, contentful"]);
    }
    let files = files(&o);
    let existing: Vec<String> = files
        .iter()
        .map(|(p, _)| o.root.join(p))
        .filter(|p| p.exists() || p.is_symlink())
        .map(|p| p.display().to_string())
        .collect();
    if !existing.is_empty() && !o.force {
        for path in &existing {
            eprintln!(
                "error: {path} exists; teamsync init never replaces a file (add --force to replace it)"
            );
        }
        eprintln!("Nothing was written.");
        return ExitCode::from(EXIT_ERROR);
    }
    for (path, text) in &files {
        let path = o.root.join(path);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text));
        if let Err(e) = written {
            return report_errors(&[format!("cannot write {}: {e}", path.display())]);
        }
    }
    if o.verbosity.info() {
        for (path, _) in &files {
            eprintln!("wrote {}", o.root.join(path).display());
        }
        eprintln!(
            "\nNext:\n  teamsync validate --config {d}\n  teamsync sandbox seed --from {d} --out {d}/seed.json\n  teamsync plan --config {d} --sandbox {d}/seed.json\nthen put your organizations in {d}/teamsync.yaml, export the token variables, and plan for real.",
            d = o.root.join(&o.dir).display()
        );
    }
    ExitCode::from(EXIT_OK)
}
