//! Every file path, command and flag that README.md and docs/ name exists: a path in
//! backticks or a relative link is a file or folder of the repository, and every
//! `teamsync …` invocation (in backticks or a shell block) names real subcommands and
//! flags of that subcommand. Docs that drift from the code fail here, not in a new
//! admin's first hour.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every Markdown file under docs/ (vendor files are the vendors').
fn pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "vendor") {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut out = vec![root().join("README.md")];
    walk(&root().join("docs"), &mut out);
    out.sort();
    out
}

/// The text inside single backticks, and every line of fenced code blocks.
fn spans(text: &str) -> (Vec<String>, Vec<String>) {
    let mut inline = Vec::new();
    let mut block_lines = Vec::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            block_lines.push(line.to_string());
            continue;
        }
        let mut parts = line.split('`');
        parts.next();
        while let Some(code) = parts.next() {
            inline.push(code.to_string());
            parts.next();
        }
    }
    (inline, block_lines)
}

/// The folders and files of the repository a doc may name as a path.
const TOP: &[&str] = &[
    "src/",
    "tests/",
    "docs/",
    "examples/",
    "schemas/",
    "benches/",
    "scripts/",
    ".github/",
    ".ci/",
];
const FILES: &[&str] = &[
    "README.md",
    "Cargo.toml",
    "Cargo.lock",
    "Containerfile",
    "action.yml",
    "build.rs",
    ".dockerignore",
    ".containerignore",
];

/// A span that names a repository path: starts with a top folder or is a top file, and
/// holds no placeholder, glob or spaces.
fn as_path(span: &str) -> Option<&str> {
    let span = span.trim().trim_end_matches([',', '.', ':']);
    let span = span.split_once("::").map_or(span, |(p, _)| p);
    let span = span.split_once('#').map_or(span, |(p, _)| p);
    let named = TOP.iter().any(|t| span.starts_with(t)) || FILES.contains(&span);
    let concrete = !span.contains(['<', '>', '*', '{', '}', ' ', '…', '|', '$', '=', '('])
        && !span.contains("NAME")
        && !span.contains("FILE");
    (named && concrete && !span.is_empty()).then_some(span)
}

#[test]
fn every_path_the_docs_name_exists() {
    let mut missing = BTreeSet::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("read");
        let (inline, _) = spans(&text);
        // The API notes quote the vendors' own repositories (`src/rate-limit.ts` of an
        // SDK): their paths are not ours. Their links are checked all the same.
        let vendor_paths = page.starts_with(root().join("docs/providers"));
        for span in inline.iter().filter(|_| !vendor_paths) {
            // `.teamsync/` holds what commands make at run time (the sandbox's working
            // copies), git-ignored: named in the docs, absent from a fresh clone.
            if let Some(path) = as_path(span).filter(|p| !p.contains("/.teamsync/")) {
                // `src/config/semantic.rs:389`: the file, not the line.
                let path = path.split(':').next().unwrap_or(path);
                checked += 1;
                if !root().join(path).exists() {
                    missing.insert(format!("{}: `{path}`", page.display()));
                }
            }
        }
        // Relative links: [text](path), resolved against the page's folder.
        for (i, _) in text.match_indices("](") {
            let rest = &text[i + 2..];
            let Some(end) = rest.find(')') else { continue };
            let target = rest[..end].split('#').next().unwrap_or_default();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let resolved = page.parent().expect("parent").join(target);
            if !resolved.exists() {
                missing.insert(format!("{}: link ({target})", page.display()));
            }
        }
    }
    assert!(checked > 50, "the docs name paths: only {checked} found");
    assert!(
        missing.is_empty(),
        "named but missing:\n{}",
        Vec::from_iter(missing).join("\n")
    );
}

/// Every long and short flag a command (and its parents) accepts.
fn flags_of(cmd: &clap::Command, inherited: &BTreeSet<String>) -> BTreeSet<String> {
    let mut flags = inherited.clone();
    for arg in cmd.get_arguments() {
        if let Some(long) = arg.get_long() {
            flags.insert(format!("--{long}"));
        }
        for alias in arg.get_all_aliases().into_iter().flatten() {
            flags.insert(format!("--{alias}"));
        }
        if let Some(short) = arg.get_short() {
            flags.insert(format!("-{short}"));
        }
    }
    flags.insert("--help".into());
    flags.insert("-h".into());
    flags
}

/// Checks one `teamsync …` invocation; `Err` says what does not exist.
fn check_invocation(words: &[&str]) -> Result<(), String> {
    let top = teamsync::cli::command();
    let mut cmd = &top;
    let mut flags = flags_of(cmd, &BTreeSet::new());
    flags.insert("--version".into());
    flags.insert("-V".into());
    let mut path = vec!["teamsync".to_string()];
    for word in words {
        let word = word.trim_matches(['"', '\'', ',', ';']);
        if word.is_empty() || matches!(word, "|" | "\\|" | "&&" | ">" | ">>" | "#" | "\\" | "2>&1")
        {
            break;
        }
        if word.starts_with('-') {
            let flag = word.split('=').next().unwrap_or(word);
            // `-vv`: repeated short flags.
            let flag = if flag.len() > 2 && !flag.starts_with("--") {
                &flag[..2]
            } else {
                flag
            };
            if !flags.contains(flag) {
                return Err(format!("`{}` has no flag {flag}", path.join(" ")));
            }
            continue;
        }
        if cmd.has_subcommands() && !cmd.is_args_conflicts_with_subcommands_set() {
            match cmd.find_subcommand(word) {
                Some(sub) => {
                    path.push(word.to_string());
                    flags = flags_of(sub, &flags);
                    cmd = sub;
                }
                None if cmd.get_subcommands().next().is_some()
                    && cmd.get_positionals().next().is_none() =>
                {
                    return Err(format!("`{}` has no subcommand {word}", path.join(" ")));
                }
                None => {}
            }
        }
    }
    Ok(())
}

#[test]
fn every_teamsync_command_and_flag_the_docs_name_exists() {
    let mut wrong = BTreeSet::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("read");
        let (inline, blocks) = spans(&text);
        let mut invocations: Vec<String> = inline
            .into_iter()
            .filter(|s| s.starts_with("teamsync "))
            .collect();
        for line in blocks {
            let line = line.trim_start().trim_start_matches("$ ");
            if let Some(at) = line.find("teamsync ")
                && (at == 0 || line[..at].ends_with(' ') || line[..at].ends_with('('))
                && !line[..at].contains('#')
                && !line.starts_with("//")
                && !line.starts_with("- uses")
            {
                invocations.push(line[at..].to_string());
            }
        }
        for inv in invocations {
            let words: Vec<&str> = inv.split_whitespace().skip(1).collect();
            // `teamsync/teamsync@v1` and prose such as "teamsync is" are not commands.
            let Some(first) = words.first() else { continue };
            if !first.starts_with('-') && teamsync::cli::command().find_subcommand(first).is_none()
            {
                if first.chars().all(|c| c.is_ascii_lowercase()) && first.len() > 2 {
                    // a lower-case word right after `teamsync ` in code is meant as a command
                    if ["plan", "apply"].iter().any(|c| first.starts_with(c)) {
                        wrong.insert(format!(
                            "{}: `{inv}`: no subcommand {first}",
                            page.display()
                        ));
                    }
                }
                continue;
            }
            checked += 1;
            if let Err(why) = check_invocation(&words) {
                wrong.insert(format!("{}: `{inv}`: {why}", page.display()));
            }
        }
    }
    assert!(checked > 30, "the docs name commands: only {checked} found");
    assert!(
        wrong.is_empty(),
        "named but not so:\n{}",
        Vec::from_iter(wrong).join("\n")
    );
}

#[test]
fn the_checker_catches_what_does_not_exist() {
    assert!(check_invocation(&["plan", "--config", "x", "--out", "p.json"]).is_ok());
    assert!(check_invocation(&["sandbox", "seed", "--from", "."]).is_ok());
    assert!(check_invocation(&["plan", "--no-such-flag"]).is_err());
    assert!(check_invocation(&["sandbox", "nonsense"]).is_err());
    assert!(
        check_invocation(&["apply", "--from"]).is_err(),
        "--from belongs to sandbox seed"
    );
    assert_eq!(
        as_path("src/commands/plan.rs"),
        Some("src/commands/plan.rs")
    );
    assert_eq!(as_path("src/providers/<api>.rs"), None);
    assert_eq!(as_path("the plan"), None);
}
