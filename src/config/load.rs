//! Finding and reading the files: the root, then its `include` globs (inside the root's
//! folder only), each read with a size cap, checked as UTF-8, parsed with positions and
//! validated against the schema. Produces the typed files for the semantic stage.

use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use super::schema;
use super::types::File;
use super::yaml::{self, Parsed, Spans};
use crate::diag::{Diagnostic, Location, Position};

const MIB: u64 = 1024 * 1024;

/// Largest config file read by default; a bigger one is refused before it is read into
/// memory. The root file is always held to it; `limits.max_file_mib` raises it for the
/// included files.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 10 * MIB;

/// The most `limits.max_file_mib` may allow (the schema's maximum), whatever a salvaged
/// file says.
pub const MAX_FILE_BYTES_CEILING: u64 = 1024 * MIB;

/// The size limit for the included files: the root file's `limits.max_file_mib`, or the
/// default.
pub fn include_limit(root: &SourceFile) -> u64 {
    root.typed
        .limits
        .as_ref()
        .and_then(|l| l.max_file_mib)
        .map_or(DEFAULT_MAX_FILE_BYTES, |mib| {
            (u64::from(mib) * MIB).clamp(MIB, MAX_FILE_BYTES_CEILING)
        })
}

/// One file that passed syntax and schema checks, or what could be kept of one that did
/// not (`salvaged`), so the other files can still be checked against it.
pub struct SourceFile {
    /// As shown in messages: relative to the current folder when possible.
    pub path: PathBuf,
    pub parsed: Parsed,
    pub typed: File,
    pub is_root: bool,
    /// The file has schema errors: it only gives context (provider names, people, the
    /// includes) to the semantic checks of other files, and its own semantic problems are
    /// not reported (its schema errors are).
    pub salvaged: bool,
    /// Providers and people whose entries were dropped from a salvaged file: references
    /// to them are not errors twice.
    pub broken_providers: Vec<String>,
    pub broken_people: Vec<String>,
}

/// What reading one file gave: the file (clean or salvaged) and its errors.
pub struct Read {
    pub file: Option<SourceFile>,
    pub errors: Vec<Diagnostic>,
}

impl Read {
    fn failed(errors: Vec<Diagnostic>) -> Read {
        Read { file: None, errors }
    }
}

impl SourceFile {
    pub fn at(&self, pointer: &str) -> Location {
        Location {
            file: self.path.clone(),
            position: self.parsed.position(pointer),
        }
    }
    pub fn key_at(&self, pointer: &str) -> Location {
        Location {
            file: self.path.clone(),
            position: self.parsed.key_position(pointer),
        }
    }
}

fn whole_file(path: &Path) -> Location {
    Location {
        file: path.to_path_buf(),
        position: None,
    }
}

/// `path` is a root file or a folder holding `teamsync.yaml`.
pub fn root_path(path: &Path) -> Result<PathBuf, Box<Diagnostic>> {
    if path.is_dir() {
        let root = path.join("teamsync.yaml");
        if root.is_file() {
            return Ok(root);
        }
        return Err(Box::new(
            Diagnostic::error(format!("{} holds no teamsync.yaml", path.display())).with_hint(
                "pass --config with the root file, or a folder that holds teamsync.yaml",
            ),
        ));
    }
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    Err(Box::new(
        Diagnostic::error(format!("configuration not found: {}", path.display()))
            .with_hint("pass --config PATH (a root file, or a folder holding teamsync.yaml), or run from the repository's folder"),
    ))
}

/// Reads, size-checks (against `max_bytes`), decodes and parses one file (recording
/// positions or not, `spans`), then checks it against the schema. A file that parses but
/// breaks the schema is salvaged: the entries that still fit the types are kept (see
/// `SourceFile::salvaged`).
///
/// `texts` stands in for files: a path it holds is read from it instead of the disk (the
/// edits `import --drift` checks before writing them).
pub fn read_file(path: &Path, is_root: bool, max_bytes: u64, spans: Spans, texts: &Texts) -> Read {
    read_file_as(path, is_root, max_bytes, spans, texts, false)
}

/// `read_file` with positions, keeping the parsed value beside the typed file (which
/// `read_file` drops, holding only positions) so a node's extent can be measured
/// (`Parsed::lines`): for `config::member_lines`, never for a load.
pub fn read_file_whole(path: &Path, is_root: bool, max_bytes: u64) -> Read {
    read_file_as(
        path,
        is_root,
        max_bytes,
        Spans::Recorded,
        &Texts::new(),
        true,
    )
}

fn read_file_as(
    path: &Path,
    is_root: bool,
    max_bytes: u64,
    spans: Spans,
    texts: &Texts,
    keep: bool,
) -> Read {
    match read_checked(path, is_root, max_bytes, spans, texts, keep) {
        Ok(file) => Read {
            file: Some(file),
            errors: Vec::new(),
        },
        Err((errors, None)) => Read::failed(errors),
        Err((errors, Some(parsed))) => Read {
            file: Some(salvage(path, *parsed, is_root)),
            errors,
        },
    }
}

/// The parts of a file that still deserialize: each provider and person on its own,
/// every other top-level key whole (list items are not dropped one by one, so the
/// positions of the rest stay right).
fn salvage(path: &Path, mut parsed: Parsed, is_root: bool) -> SourceFile {
    use serde_json::Map;
    let mut kept = Map::new();
    let mut broken_providers = Vec::new();
    let mut broken_people = Vec::new();
    let value = std::mem::take(&mut parsed.value);
    for (key, v) in value.as_object().into_iter().flatten() {
        if key.starts_with("x-") {
            continue;
        }
        let entries = |broken: &mut Vec<String>, fits: &dyn Fn(&Value) -> bool| -> Value {
            let mut good = Map::new();
            for (name, entry) in v.as_object().into_iter().flatten() {
                if fits(entry) {
                    good.insert(name.clone(), entry.clone());
                } else {
                    broken.push(name.clone());
                }
            }
            Value::Object(good)
        };
        let kept_value = match key.as_str() {
            "providers" => entries(&mut broken_providers, &|e| {
                serde_json::from_value::<super::types::Provider>(e.clone()).is_ok()
            }),
            "people" => entries(&mut broken_people, &|e| {
                serde_json::from_value::<super::types::Person>(e.clone()).is_ok()
            }),
            _ => v.clone(),
        };
        let mut single = Map::new();
        single.insert(key.clone(), kept_value.clone());
        if serde_json::from_value::<File>(Value::Object(single)).is_ok() {
            kept.insert(key.clone(), kept_value);
        }
    }
    let typed = serde_json::from_value::<File>(Value::Object(kept)).unwrap_or_default();
    SourceFile {
        path: path.to_path_buf(),
        parsed,
        typed,
        is_root,
        salvaged: true,
        broken_providers,
        broken_people,
    }
}

type Rejected = (Vec<Diagnostic>, Option<Box<Parsed>>);

/// The "file too large" error: for an included file it names the key that raises the
/// limit; the root file cannot be raised (it is read before the key is known).
fn too_large(path: &Path, size: u64, max_bytes: u64, is_root: bool) -> Diagnostic {
    let d = Diagnostic::error(format!(
        "file is {} MiB, larger than the {} MiB a config file may be{}",
        size / MIB,
        max_bytes / MIB,
        if is_root {
            " (the root file is always held to this default)"
        } else {
            " (`limits.max_file_mib` in the root file)"
        }
    ))
    .at(whole_file(path));
    if is_root {
        d.with_hint(
            "move people and resources into files listed under `include`; \
             `limits.max_file_mib` can raise the limit for those",
        )
    } else {
        d.with_hint(format!(
            "split it into several files listed under `include`, or raise the limit in \
             the root file: `limits: {{max_file_mib: {}}}`",
            size.div_ceil(MIB)
        ))
    }
}

/// Texts that stand in for files of these paths (as the loader names them) in one load.
pub type Texts = std::collections::BTreeMap<PathBuf, String>;

fn read_checked(
    path: &Path,
    is_root: bool,
    max_bytes: u64,
    spans: Spans,
    texts: &Texts,
    keep_value: bool,
) -> Result<SourceFile, Rejected> {
    let cannot_read = |e: std::io::Error| {
        (
            vec![
                Diagnostic::error(format!("cannot read {}: {e}", path.display()))
                    .at(whole_file(path)),
            ],
            None,
        )
    };
    let given = texts.get(path);
    let size = match given {
        Some(text) => text.len() as u64,
        None => std::fs::metadata(path).map_err(cannot_read)?.len(),
    };
    if size > max_bytes {
        return Err((vec![too_large(path, size, max_bytes, is_root)], None));
    }
    let bytes = match given {
        Some(text) => text.clone().into_bytes(),
        None => std::fs::read(path).map_err(cannot_read)?,
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..valid];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        (
            vec![
                Diagnostic::error("the file is not valid UTF-8")
                    .at(Location {
                        file: path.to_path_buf(),
                        position: Some(Position { line, column }),
                    })
                    .with_hint("save the file as UTF-8"),
            ],
            None,
        )
    })?;
    let parsed = yaml::parse_with(&text, spans).map_err(|e| {
        (
            vec![
                Diagnostic::error(yaml_message(&e.message))
                    .at(Location {
                        file: path.to_path_buf(),
                        position: e.position,
                    })
                    .with_hint(yaml_hint(&e.message)),
            ],
            None,
        )
    })?;
    let mut parsed = parsed;
    if parsed.value.is_null() {
        parsed.value = Value::Object(Default::default());
    }
    if !parsed.value.is_object() {
        return Err((
            vec![
                Diagnostic::error(
                    "a teamsync file must be a mapping of keys such as `people:` or `groups:`",
                )
                .at(Location {
                    file: path.to_path_buf(),
                    position: parsed.position(""),
                })
                .with_hint("start the file with a key, for example `groups:`"),
            ],
            None,
        ));
    }
    let errors = schema::check(path, &parsed);
    if !errors.is_empty() {
        return Err((errors, Some(Box::new(parsed))));
    }
    // `x-` keys only hold anchors, already resolved by the parser.
    if let Some(map) = parsed.value.as_object_mut() {
        map.retain(|k, _| !k.starts_with("x-"));
    }
    let typed: File = match serde_path_to_error::deserialize(&parsed.value) {
        Ok(t) => t,
        Err(e) => {
            let pointer = format!(
                "/{}",
                e.path()
                    .to_string()
                    .replace(['.', '['], "/")
                    .replace(']', "")
            );
            let key = e.path().to_string();
            let (message, hint) = typed_error(&key, &e.inner().to_string());
            let mut d = Diagnostic::error(message).at(Location {
                file: path.to_path_buf(),
                position: parsed.position(&pointer),
            });
            if let Some(hint) = hint {
                d = d.with_hint(hint);
            }
            return Err((vec![d], Some(Box::new(parsed))));
        }
    };
    // Only positions are needed from here on; the typed file holds the content.
    if !keep_value {
        parsed.value = Value::Null;
    }
    Ok(SourceFile {
        path: path.to_path_buf(),
        parsed,
        typed,
        is_root,
        salvaged: false,
        broken_providers: Vec::new(),
        broken_people: Vec::new(),
    })
}

/// A typed-deserialization error in a person's words. The schema already refused wrong
/// types, so what reaches here is a number the schema's `integer` admits but the field
/// cannot hold (`1e+23` for a count): say the allowed range.
fn typed_error(key: &str, inner: &str) -> (String, Option<String>) {
    let ranges = [
        ("u64", u64::MAX),
        ("u32", u64::from(u32::MAX)),
        ("u16", u64::from(u16::MAX)),
        ("u8", u64::from(u8::MAX)),
        ("usize", usize::MAX as u64),
    ];
    let too_big = inner.starts_with("invalid type: floating point")
        || inner.starts_with("invalid value: integer");
    match ranges
        .iter()
        .find(|(ty, _)| too_big && inner.ends_with(&format!("expected {ty}")))
    {
        Some((_, max)) => (
            format!("`{key}` is out of range: it must be a whole number from 0 to {max}"),
            Some(format!(
                "write a whole number between 0 and {max}, without an exponent or a decimal point"
            )),
        ),
        None if key == "." => (inner.to_string(), None),
        None => (format!("`{key}`: {inner}"), None),
    }
}

/// The parser's word for a second `---` document, which its budget counts like nesting.
fn is_second_document(message: &str) -> bool {
    message.to_lowercase().contains("document")
}

/// What the diagnostic says of a parse error: the parser's own words, except for a second
/// document, whose budget text (`Documents { documents: 2 }`) says nothing to a person.
fn yaml_message(message: &str) -> String {
    if is_second_document(message) {
        "invalid YAML: a second YAML document starts here; a teamsync file holds one".into()
    } else {
        format!("invalid YAML: {message}")
    }
}

fn yaml_hint(message: &str) -> String {
    let m = message.to_lowercase();
    // Before the budget words: a second document is reported as a breached budget too.
    if is_second_document(message) {
        "keep one YAML document per file: remove this `---` (and what follows), or move it to a file of its own and list that file under `include:`".into()
    } else if m.contains("budget")
        || m.contains("depth")
        || m.contains("alias")
        || m.contains("nodes")
    {
        "the file nests too deeply or expands too many aliases; a config needs neither".into()
    } else if m.contains("given twice") {
        "remove one of the two entries, or merge them into one".into()
    } else if m.contains("tag") {
        "remove the tag and write the value itself (a name or an address in plain text, not base64)"
            .into()
    } else {
        "check the indentation and quoting around this position".into()
    }
}

/// Expands the root's `include` globs into files inside `base_dir`, sorted and unique.
/// Each problem is located at its `include` entry. A pattern that also matches the root
/// file (`*.yaml`) simply skips it. `unmatched_ok`: a pattern that matches nothing is no
/// error (`import` writes the files it is meant to match).
pub fn expand_includes(
    root: &SourceFile,
    base_dir: &Path,
    unmatched_ok: bool,
) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let Some(patterns) = &root.typed.include else {
        return (files, errors);
    };
    let canonical_base = base_dir
        .canonicalize()
        .unwrap_or_else(|_| base_dir.to_path_buf());
    let canonical_root = root
        .path
        .canonicalize()
        .unwrap_or_else(|_| root.path.clone());
    for (i, pattern) in patterns.iter().enumerate() {
        let at = root.at(&format!("/include/{i}"));
        let escapes = Path::new(pattern).is_absolute()
            || Path::new(pattern).components().any(|c| {
                matches!(
                    c,
                    Component::ParentDir | Component::RootDir | Component::Prefix(_)
                )
            });
        if escapes {
            errors.push(
                Diagnostic::error(format!(
                    "include pattern `{pattern}` reaches outside the repository"
                ))
                .at(at)
                .with_hint("use a path relative to the root file's folder, without `..`"),
            );
            continue;
        }
        // The folder is a literal path: a `[`, `*` or `?` in its name is not a pattern.
        let full = Path::new(&glob::Pattern::escape(&base_dir.to_string_lossy())).join(pattern);
        let Ok(paths) = glob::glob(&full.to_string_lossy()) else {
            errors.push(
                Diagnostic::error(format!("include pattern `{pattern}` is not a valid glob"))
                    .at(at)
                    .with_hint("use `*`, `?`, `[abc]` or `**` only"),
            );
            continue;
        };
        let mut matched = 0;
        for entry in paths.flatten() {
            if !entry.is_file() {
                continue;
            }
            let canonical = entry.canonicalize().unwrap_or_else(|_| entry.clone());
            if !canonical.starts_with(&canonical_base) {
                errors.push(
                    Diagnostic::error(format!("`{}` (from include `{pattern}`) is outside the repository", entry.display()))
                        .at(at.clone())
                        .with_hint("a symbolic link may point outside; include only files inside the root file's folder"),
                );
                continue;
            }
            matched += 1;
            // The root is read already; included files cannot include, so no cycle.
            if canonical == canonical_root {
                continue;
            }
            if !files.contains(&entry) {
                files.push(entry);
            }
        }
        if matched == 0 && !unmatched_ok {
            errors.push(
                Diagnostic::error(format!("include pattern `{pattern}` matches no file"))
                    .at(at)
                    .with_hint("fix the pattern or remove it; paths are relative to the root file's folder"),
            );
        }
    }
    files.sort();
    (files, errors)
}
