//! Hostile and broken input: every case gets a clear, located error (message and
//! file:line:column asserted), bounded memory, and no panic.

use std::path::Path;

use teamsync::config;
use teamsync::diag::Diagnostic;

mod cases_endpoints_and_ids;
mod cases_hostile_text;
mod cases_included_file;
mod cases_root_file;
mod cli;
mod names_and_endpoints;
mod reading;
mod reporting;

const ROOT: &str = "version: 1
providers:
  pb: {kind: pixiebrix, organization: 0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11, token_env: PB_TOKEN}
  docs: {kind: gitbook, organization: acme, token_env: GB_TOKEN}
  cms: {kind: contentful, organization: c1, token_env: CF_TOKEN}
policy:
  allowed_email_domains: [acme.com]
include: [\"more.yaml\"]
";

const PEOPLE: &str = "people:
  alice: {email: alice@acme.com}
  bob: {email: bob@acme.com}
";

struct Case {
    name: &'static str,
    files: Vec<(&'static str, String)>,
    /// (file, line, column, message fragment)
    expect: (&'static str, usize, usize, &'static str),
}

fn case(
    name: &'static str,
    more: &str,
    expect: (&'static str, usize, usize, &'static str),
) -> Case {
    Case {
        name,
        files: vec![
            ("teamsync.yaml", ROOT.to_string()),
            ("more.yaml", more.to_string()),
        ],
        expect,
    }
}

fn root_case(
    name: &'static str,
    root: &str,
    expect: (&'static str, usize, usize, &'static str),
) -> Case {
    Case {
        name,
        files: vec![
            ("teamsync.yaml", root.to_string()),
            ("more.yaml", PEOPLE.to_string()),
        ],
        expect,
    }
}

fn cases() -> Vec<Case> {
    [
        cases_included_file::cases(),
        cases_root_file::cases(),
        cases_hostile_text::cases(),
        cases_endpoints_and_ids::cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn write_files(dir: &Path, files: &[(&str, String)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn matches(
    d: &Diagnostic,
    dir: &Path,
    (file, line, col, fragment): (&str, usize, usize, &str),
) -> bool {
    let Some(loc) = &d.location else { return false };
    let file_ok = loc.file == dir.join(file);
    let pos_ok = match (loc.position, line) {
        (_, 0) => true,
        (Some(p), l) => p.line == l && (col == 0 || p.column == col),
        (None, _) => false,
    };
    file_ok && pos_ok && d.message.contains(fragment) && d.hint.is_some()
}

#[test]
fn corpus_of_broken_configs_gives_located_errors() {
    let mut failures = Vec::new();
    let all = cases();
    assert!(all.len() >= 30, "the corpus keeps at least 30 cases");
    for c in all {
        let dir = tempfile::tempdir().unwrap();
        write_files(dir.path(), &c.files);
        match config::load(&dir.path().join("teamsync.yaml")) {
            Ok(_) => failures.push(format!("{}: loaded without error", c.name)),
            Err(diags) => {
                if !diags.iter().any(|d| matches(d, dir.path(), c.expect)) {
                    failures.push(format!(
                        "{}: expected {:?}, got:\n{}",
                        c.name,
                        c.expect,
                        config::report::render(&diags)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
fn load_errors(files: &[(&str, &str)]) -> (tempfile::TempDir, Vec<Diagnostic>) {
    let dir = tempfile::tempdir().unwrap();
    let owned: Vec<(&str, String)> = files.iter().map(|(n, t)| (*n, t.to_string())).collect();
    write_files(dir.path(), &owned);
    let diags = match config::load(&dir.path().join("teamsync.yaml")) {
        Ok(_) => panic!("loaded without error"),
        Err(d) => d,
    };
    (dir, diags)
}

/// (file name, line, message fragment) of each diagnostic, in the order reported.
fn summary(dir: &Path, diags: &[Diagnostic]) -> Vec<(String, usize, String)> {
    diags
        .iter()
        .map(|d| {
            let loc = d.location.as_ref().unwrap();
            (
                loc.file.strip_prefix(dir).unwrap().display().to_string(),
                loc.position.map_or(0, |p| p.line),
                d.message.clone(),
            )
        })
        .collect()
}
