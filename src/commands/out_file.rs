//! Where `--out` may write (issue 32): never over a file of the configuration (the root
//! file or one it includes, also through a symlink), never over a file teamsync did not
//! write, unless `--force`; and a file's extension says what it holds, so `report --out
//! x.csv` is CSV and `plan --out teamsync.yaml` is refused before anything is read from an
//! API. Every command that writes a file asks [`check`] first.

use std::io::Read as _;
use std::path::{Path, PathBuf};

/// What a command is about to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// A saved plan (`plan --out`): JSON.
    Plan,
    /// The access review as HTML, CSV or JSON (`report --out`).
    ReportHtml,
    ReportCsv,
    ReportJson,
    /// A man page (`man --out DIR`).
    ManPage,
    /// A sandbox state file (`sandbox seed --out`): JSON.
    SandboxSeed,
    /// A CODEOWNERS file (`codeowners --out`): named `CODEOWNERS`, no extension.
    Codeowners,
}

impl Written {
    /// The extensions a file of this kind may have (lower case, without the dot).
    fn extensions(self) -> &'static [&'static str] {
        match self {
            Written::Plan | Written::ReportJson | Written::SandboxSeed => &["json"],
            Written::ReportHtml => &["html", "htm"],
            Written::ReportCsv => &["csv"],
            Written::ManPage => &["1"],
            Written::Codeowners => &[],
        }
    }

    /// The file name a file of this kind must have, when it has one: GitHub reads a
    /// CODEOWNERS file by that name only.
    fn required_name(self) -> Option<&'static str> {
        match self {
            Written::Codeowners => Some("CODEOWNERS"),
            _ => None,
        }
    }

    /// A file name this kind may have, for a hint.
    fn example_name(self) -> String {
        match (self.required_name(), self.extensions().first()) {
            (Some(name), _) => name.to_string(),
            (None, Some(ext)) => format!("out.{ext}"),
            (None, None) => "out".to_string(),
        }
    }

    fn what(self) -> &'static str {
        match self {
            Written::Plan => "a plan (JSON)",
            Written::ReportHtml => "an HTML report",
            Written::ReportCsv => "a CSV report",
            Written::ReportJson => "a JSON report",
            Written::ManPage => "a man page",
            Written::SandboxSeed => "a sandbox state",
            Written::Codeowners => "a CODEOWNERS file",
        }
    }

    /// Whether the start of an existing file shows that teamsync wrote it, as this kind
    /// or another of its own files (a plan may replace a plan, a report a report). A
    /// CODEOWNERS file is its own: only a CODEOWNERS file replaces it, and it replaces
    /// nothing else, since the repository's approvals hang on it.
    fn recognises(self, head: &str) -> bool {
        let codeowners = head.starts_with(crate::config::codeowners::HEADER);
        if self == Written::Codeowners || codeowners {
            return self == Written::Codeowners && codeowners;
        }
        let plan = head.contains("\"format_version\"") && head.contains("\"teamsync_version\"");
        let json_report = head.contains("\"report_format_version\"");
        let csv_report = head.starts_with("person,handle,email,name,user_id,known_to_config");
        let html_report =
            head.starts_with("<!DOCTYPE html>") && head.contains("<title>Access review");
        let man = head.lines().take(8).any(|l| l.starts_with(".TH TEAMSYNC"));
        // `sandbox seed` writes its marker first; a hand-written state has none.
        let seed = head.trim_start().starts_with(&format!(
            "{{\n  \"generated_by\": \"{}\"",
            crate::engine::seed::GENERATED_BY
        ));
        plan || json_report || csv_report || html_report || man || seed
    }
}

/// The report format an `--out` file's extension names, if any: `report --out x.csv`
/// without `--format` writes CSV.
pub fn report_kind_of(path: &Path) -> Option<Written> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    [Written::ReportHtml, Written::ReportCsv, Written::ReportJson]
        .into_iter()
        .find(|k| k.extensions().contains(&ext.as_str()))
}

/// The path with symlinks and `..` resolved as far as it exists, so two spellings of one
/// file compare equal: the file itself when it exists, else its folder and its name.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    match (parent.canonicalize(), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

/// Refuses to write `kind` to `path` when it would destroy something: a configuration file
/// (`config_files`, the files the configuration was loaded from), an existing file teamsync
/// did not write, or a name whose extension says another kind of file. `--force` lets the
/// first two through; an extension that contradicts the content never passes. The message
/// names the file, why, and the fix.
pub fn check(
    path: &Path,
    kind: Written,
    config_files: &[PathBuf],
    force: bool,
) -> Result<(), String> {
    let shown = path.display();
    let target = resolved(path);
    if !force && let Some(config) = config_files.iter().find(|f| resolved(f) == target) {
        return Err(format!(
            "{shown} is a file of the configuration ({}): writing {} there would replace it; choose another --out (or add --force if that is really what you want)",
            config.display(),
            kind.what()
        ));
    }
    if let Some(name) = kind.required_name() {
        if path.file_name().and_then(|n| n.to_str()) != Some(name) {
            return Err(format!(
                "{shown}: {} must be named {name} (GitHub reads no other name); give --out a path ending in {name}",
                kind.what()
            ));
        }
    } else {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if let Some(ext) = &ext
            && !kind.extensions().contains(&ext.as_str())
        {
            return Err(format!(
                "{shown}: a .{ext} file cannot hold {}; give --out a name ending in .{}",
                kind.what(),
                kind.extensions().join(" or .")
            ));
        }
    }
    if target.is_dir() {
        return Err(format!(
            "{shown} is a folder; give --out a file name (for example {}/{})",
            shown,
            kind.example_name()
        ));
    }
    if force {
        return Ok(());
    }
    if target.exists() {
        let mut head = String::new();
        let read = std::fs::File::open(&target)
            .and_then(|f| f.take(4096).read_to_string(&mut head))
            .is_ok();
        if !(read && kind.recognises(&head)) {
            return Err(format!(
                "{shown} exists and teamsync did not write it: it is left as it is; choose another --out, or add --force to replace it"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_names_the_report_format() {
        assert_eq!(report_kind_of(Path::new("x.CSV")), Some(Written::ReportCsv));
        assert_eq!(
            report_kind_of(Path::new("a/b.htm")),
            Some(Written::ReportHtml)
        );
        assert_eq!(
            report_kind_of(Path::new("r.json")),
            Some(Written::ReportJson)
        );
        assert_eq!(report_kind_of(Path::new("people.yaml")), None);
        assert_eq!(report_kind_of(Path::new("report")), None);
    }

    #[test]
    fn teamsync_files_are_recognised_and_others_are_not() {
        assert!(
            Written::Plan
                .recognises("{\n  \"format_version\": \"3\",\n  \"teamsync_version\": \"0.1.0\"")
        );
        assert!(
            Written::Plan.recognises("person,handle,email,name,user_id,known_to_config,account")
        );
        assert!(
            Written::Plan.recognises(
                ".ie \\n(.g .ds Aq \\(aq\n.TH TEAMSYNC-PLAN 1  \"teamsync-plan 0.1.0\" "
            )
        );
        assert!(!Written::Plan.recognises(".TH GIT 1 \"git 2.47\""));
        assert!(!Written::Plan.recognises("people:\n  alice: {email: a@acme.com}\n"));
        assert!(!Written::Plan.recognises("{\"format_version\": 1}"));
        let ours = format!(
            "{} from /teamsync.yaml; do not edit it by hand.\n",
            crate::config::codeowners::HEADER
        );
        assert!(Written::Codeowners.recognises(&ours));
        assert!(
            !Written::Plan.recognises(&ours),
            "a plan never replaces the approvals"
        );
        assert!(
            !Written::Codeowners
                .recognises("{\n  \"format_version\": \"3\",\n  \"teamsync_version\": \"0.1.0\"")
        );
        assert!(!Written::Codeowners.recognises("# Owners\n* @acme/admins\n"));
    }

    #[test]
    fn a_codeowners_file_must_be_named_codeowners() {
        let dir = std::env::temp_dir();
        for bad in ["CODEOWNERS.txt", "owners", "codeowners", "CODEOWNERS.md"] {
            let why = check(&dir.join(bad), Written::Codeowners, &[], true).expect_err(bad);
            assert!(why.contains("must be named CODEOWNERS"), "{why}");
        }
        let why = check(&dir, Written::Codeowners, &[], true).expect_err("a folder");
        assert!(why.contains("must be named CODEOWNERS"), "{why}");
        let fresh = tempfile_free_name(&dir).join("CODEOWNERS");
        assert_eq!(check(&fresh, Written::Codeowners, &[], false), Ok(()));
        let why = check(Path::new("plan.json"), Written::Plan, &[], true);
        assert_eq!(why, Ok(()), "other kinds keep their extension rule");
    }

    /// A folder under `dir` that does not exist, so nothing is in the way.
    fn tempfile_free_name(dir: &Path) -> PathBuf {
        dir.join(format!("teamsync-out-file-test-{}", std::process::id()))
    }
}
