//! What the user wrote → desired state + diagnostics. Stages, as taplo does them: syntax
//! (`yaml`), then schema (`schema`), then meaning (`semantic`); each error points at the
//! exact text, and every problem in every file is reported at once. No network call.

pub mod codeowners;
mod digest;
pub mod edit;
mod lines;
mod load;
pub mod report;
mod schema;
mod semantic;
mod text;
pub mod types;
pub mod write;
mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::diag::Diagnostic;
use crate::model::{DesiredState, Policy, ProviderSettings};
use yaml::Spans;

pub use lines::{MemberLine, MemberLines, member_lines};
pub use load::Texts;
pub use load::{DEFAULT_MAX_FILE_BYTES, MAX_FILE_BYTES_CEILING};
pub use schema::schema;
pub use semantic::Declared;

/// The schema as `teamsync schema` prints it and `schemas/teamsync.schema.json` holds it.
pub fn schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// A checked configuration.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The root file (`teamsync.yaml`).
    pub root: PathBuf,
    /// The folder holding the root file; `include` globs and `sandbox:` paths are relative to it.
    pub base_dir: PathBuf,
    /// Every file read, root first.
    pub files: Vec<PathBuf>,
    pub providers: BTreeMap<String, ProviderSettings>,
    pub policy: Policy,
    pub desired: DesiredState,
    /// The roster: handle → email.
    pub people: BTreeMap<String, crate::model::Email>,
    /// Handle → GitHub username (`github:`), for the people who have one.
    pub github: BTreeMap<String, String>,
    /// The files that declare `people` (the roster), as in `files`.
    pub people_files: Vec<PathBuf>,
    /// The `codeowners:` section of the root file, if any.
    pub codeowners: Option<codeowners::Settings>,
    /// Problems that do not stop a plan.
    pub warnings: Vec<Diagnostic>,
    /// Where each resource is declared (file and JSON pointer).
    pub declared: BTreeMap<crate::model::ResourceKey, Declared>,
}

/// The candidate a reader most likely meant by `found`, for "did you mean" hints: within
/// one edit, or a third of the longer word.
pub(crate) fn closest(found: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(found, c), c))
        .filter(|(d, c)| *d <= 1.max(found.len().max(c.len()) / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.clone())
}

/// Reads and checks the included files on every core (a large roster is split across
/// files, and parsing is most of loading), returning the results in the given order.
fn read_all(
    paths: &[PathBuf],
    max_bytes: u64,
    spans: Spans,
    texts: &load::Texts,
) -> Vec<load::Read> {
    crate::model::parallel::map_in_order(paths, usize::MAX, |p| {
        load::read_file(p, false, max_bytes, spans, texts)
    })
}

/// Diagnostics in reading order: by file, then line and column (stable otherwise), with
/// any control, invisible or text-direction character that a quoted name carried into a
/// message escaped, so no message can forge a line or reorder the text around it.
fn sorted(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags.sort_by(|a, b| a.location.cmp(&b.location));
    for d in &mut diags {
        d.message = text::escape_hidden(&d.message);
        d.hint = d.hint.as_deref().map(text::escape_hidden);
        for (_, note) in &mut d.related {
            *note = text::escape_hidden(note);
        }
    }
    diags
}

/// How strict `load_with` is.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions {
    /// An `include` pattern that matches nothing is no error (for `import`, which writes
    /// the files the patterns are meant to match).
    pub unmatched_includes_ok: bool,
    /// Do not compare the CODEOWNERS file with what the configuration gives (for
    /// `teamsync codeowners`, which says so itself).
    pub skip_codeowners_freshness: bool,
}

/// Loads and checks a configuration: `path` is a root file or a folder holding `teamsync.yaml`.
/// Returns every error found, not just the first.
pub fn load(path: &Path) -> Result<Loaded, Vec<Diagnostic>> {
    load_with(path, LoadOptions::default())
}

/// `load`, with options.
///
/// Positions only ever serve a diagnostic, and a clean configuration has none: so the
/// files are first parsed without them (no `Spanned` nodes, no position index: a
/// `validate` of the bench's 20,000-person configuration takes 0.77× the time and 0.85×
/// the memory). Only a load that has an error or a warning to report is done again,
/// with positions, and that second load is the one reported, so every diagnostic points
/// at its text exactly as if positions had been recorded from the start.
pub fn load_with(path: &Path, options: LoadOptions) -> Result<Loaded, Vec<Diagnostic>> {
    load_with_texts(path, options, &Texts::new())
}

/// `load_with`, reading each path `texts` holds (named as `Loaded::files` names it) from
/// it instead of the disk: a check of edits before they are written.
pub fn load_with_texts(
    path: &Path,
    options: LoadOptions,
    texts: &Texts,
) -> Result<Loaded, Vec<Diagnostic>> {
    match load_pass(path, options, Spans::Skipped, texts) {
        Ok(loaded) if loaded.warnings.is_empty() => Ok(loaded),
        _ => load_pass(path, options, Spans::Recorded, texts),
    }
}

/// One whole load, recording positions or not.
fn load_pass(
    path: &Path,
    options: LoadOptions,
    spans: Spans,
    texts: &Texts,
) -> Result<Loaded, Vec<Diagnostic>> {
    let root_path = load::root_path(path).map_err(|d| vec![*d])?;
    let base_dir = root_path
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    // Every file is read and checked even when another one is broken: a file with schema
    // errors is salvaged for context (its providers, people and includes) and left out of
    // the semantic checks, so its errors never hide another file's.
    // The root file is read before its `limits` are known: it is held to the default.
    let root = load::read_file(&root_path, true, load::DEFAULT_MAX_FILE_BYTES, spans, texts);
    let mut errors = root.errors;
    let Some(root) = root.file else {
        return Err(errors);
    };
    let (includes, mut include_errors) =
        load::expand_includes(&root, &base_dir, options.unmatched_includes_ok);
    errors.append(&mut include_errors);
    let limit = load::include_limit(&root);
    let mut files = vec![root];
    for read in read_all(&includes, limit, spans, texts) {
        let mut e = read.errors;
        errors.append(&mut e);
        files.extend(read.file);
    }
    // A file that could not be read at all takes its people and providers with it: every
    // reference to them elsewhere would be a false "unknown person", so its own error is
    // the only one reported until it reads.
    let unreadable = files.len() < includes.len() + 1;
    if unreadable && !errors.is_empty() {
        return Err(sorted(errors));
    }
    let checked = semantic::check(&files, &base_dir);
    let salvaged: Vec<&Path> = files
        .iter()
        .filter(|f| f.salvaged)
        .map(|f| f.path.as_path())
        .collect();
    let checked = match checked {
        Ok(c) if errors.is_empty() => c,
        Ok(_) => return Err(sorted(errors)),
        Err(semantic_errors) => {
            errors.extend(semantic_errors.into_iter().filter(|d| {
                d.location
                    .as_ref()
                    .is_none_or(|l| !salvaged.contains(&l.file.as_path()))
            }));
            return Err(sorted(errors));
        }
    };
    let codeowners_at = files[0].key_at("/codeowners");
    let mut loaded = Loaded {
        root: root_path,
        base_dir,
        files: files.into_iter().map(|f| f.path).collect(),
        providers: checked.providers,
        policy: checked.policy,
        desired: checked.desired,
        people: checked.people,
        github: checked.github,
        people_files: checked.people_files,
        codeowners: checked.codeowners,
        warnings: Vec::new(),
        declared: checked.declared,
    };
    let mut warnings = checked.warnings;
    if !options.skip_codeowners_freshness {
        warnings.extend(stale_codeowners(&loaded, codeowners_at));
    }
    loaded.warnings = sorted(warnings);
    Ok(loaded)
}

/// A warning when the configuration has a `codeowners:` section and the file at its path
/// says something else than the configuration gives; nothing when the file is missing
/// (`teamsync codeowners --check` fails then).
fn stale_codeowners(loaded: &Loaded, at: crate::diag::Location) -> Option<Diagnostic> {
    let settings = loaded.codeowners.as_ref()?;
    let meta = std::fs::metadata(&settings.path).ok()?;
    let shown = settings.path.display();
    let expected = match codeowners::render(loaded, settings) {
        Ok(text) => text,
        Err(why) => {
            return Some(
                Diagnostic::warning(format!("CODEOWNERS cannot be written: {why}"))
                    .at(at)
                    .with_hint(format!("{shown} is left as it is")),
            );
        }
    };
    // A file many times the size of what is generated cannot be it.
    let on_disk = if meta.len() > 16 * expected.len() as u64 + 4096 {
        None
    } else {
        std::fs::read_to_string(&settings.path).ok()
    };
    if on_disk.is_some_and(|text| codeowners::same_text(&text, &expected)) {
        return None;
    }
    Some(
        Diagnostic::warning("CODEOWNERS is out of date: run `teamsync codeowners`")
            .at(at)
            .with_hint(format!(
                "{shown} does not say what the configuration gives (owners, their `github:` names or the files changed); `teamsync codeowners` rewrites it, `teamsync codeowners --check` fails until then"
            )),
    )
}
