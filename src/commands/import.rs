//! `teamsync import`: write what a provider has today as config.

use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Map, Value, json};

use crate::config::write as config_write;
use crate::config::{LoadOptions, Loaded};
use crate::engine::{self, Connections};
use crate::model::Endpoint;

use super::{EXIT_OK, load_config_with, plural, report_errors, runtime};

mod drift;

/// Everything `import` needs from the command line.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub config: PathBuf,
    /// One provider; `None` with `all`.
    pub provider: Option<String>,
    /// Every configured provider, as a repository of its own (root file included).
    pub all: bool,
    pub out: Option<PathBuf>,
    /// `--drift`: adopt the live change of `exact` containers into the files that
    /// declare them (see `drift`); `force` then writes them.
    pub drift: bool,
    pub force: bool,
    pub network: super::Network,
    pub verbosity: super::Verbosity,
}

/// `path` made absolute against the current folder, with `.` and `..` folded away
/// (lexically: the path need not exist).
fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(path)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `target` relative to the folder `from`, with `/` separators (`../schemas/x.json`,
/// `./x.json`). Falls back to the absolute path when there is no common root.
fn relative(from: &Path, target: &Path) -> String {
    let (from, target) = (absolute(from), absolute(target));
    let f: Vec<Component> = from.components().collect();
    let t: Vec<Component> = target.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return target.display().to_string();
    }
    let mut parts: Vec<String> = vec!["..".to_string(); f.len() - common];
    parts.extend(
        t[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    let joined = parts.join("/");
    if joined.starts_with("..") {
        joined
    } else {
        format!("./{joined}")
    }
}

/// The schema the written files' modelines point at: the one the root file's modeline
/// names, if it exists, else `schemas/teamsync.schema.json` beside the root. Either way
/// as a path relative to `out`, where the files are written; a URL stays a URL.
fn modeline(root: &Path, base: &Path, out: &Path) -> String {
    let named = std::fs::read_to_string(root).ok().and_then(|text| {
        text.lines()
            .take_while(|l| l.starts_with('#'))
            .find_map(|l| l.split_once("$schema=").map(|(_, v)| v.trim().to_string()))
            .filter(|v| !v.is_empty())
    });
    if let Some(url) = named.as_ref().filter(|v| v.contains("://")) {
        return url.clone();
    }
    let beside = base.join("schemas/teamsync.schema.json");
    let target = match named.map(|n| base.join(n)) {
        Some(t) if t.is_file() || !beside.is_file() => t,
        _ => beside,
    };
    relative(out, &target)
}

/// The file name a `sandbox:` seed gets inside `out` when it lies outside it (a `sandbox:`
/// path must stay inside the repository it belongs to).
fn outside_seed(out: &Path, seed: &Path) -> Option<String> {
    let rel = relative(out, seed);
    if rel.starts_with("..") || Path::new(&rel).is_absolute() {
        seed.file_name().map(|n| n.to_string_lossy().into_owned())
    } else {
        None
    }
}

/// Copies into an `--all` import of the sandbox seeds that lie outside `out`: the state as
/// the embedded sandbox has it now (its working copy, else the seed), so that the new
/// repository plans to no changes.
fn seed_copies(loaded: &Loaded, out: &Path) -> Result<Vec<(PathBuf, String)>, String> {
    let mut copies = Vec::new();
    for p in loaded.providers.values() {
        let Endpoint::Sandbox(seed) = &p.endpoint else {
            continue;
        };
        let Some(name) = outside_seed(out, seed) else {
            continue;
        };
        let working = engine::working_copy(&loaded.base_dir, seed);
        let from = if working.exists() {
            working
        } else {
            seed.clone()
        };
        let text = std::fs::read_to_string(&from)
            .map_err(|e| format!("cannot read the sandbox state {}: {e}", from.display()))?;
        copies.push((PathBuf::from(name), text));
    }
    copies.sort();
    copies.dedup();
    Ok(copies)
}

/// The root file of an `--all` import: the same providers and policy, its `sandbox:`
/// paths rewritten to stay right from `out`, and an `include` of the written files.
fn root_file(loaded: &Loaded, out: &Path, includes: &[String], modeline: &str) -> String {
    let mut providers = Map::new();
    for (name, p) in &loaded.providers {
        let mut entry = Map::new();
        entry.insert("kind".into(), json!(p.kind.as_str()));
        entry.insert("organization".into(), json!(p.organization));
        match &p.endpoint {
            Endpoint::Default => {}
            Endpoint::Url(url) => {
                entry.insert("endpoint".into(), json!(url));
            }
            Endpoint::Sandbox(seed) => {
                let rel = match outside_seed(out, seed) {
                    // Copied into `out` (see `seed_copies`): sandbox paths stay inside.
                    Some(name) => name,
                    None => {
                        let rel = relative(out, seed);
                        rel.strip_prefix("./").unwrap_or(&rel).to_string()
                    }
                };
                entry.insert("endpoint".into(), json!(format!("sandbox:{rel}")));
            }
        }
        if let Some(env) = &p.token_env {
            entry.insert("token_env".into(), json!(env));
        }
        let prune: Vec<&str> = loaded
            .desired
            .prune
            .iter()
            .filter(|(provider, _)| provider == name)
            .map(|(_, kind)| kind.as_str())
            .collect();
        if !prune.is_empty() {
            entry.insert("prune".into(), json!(prune));
        }
        providers.insert(name.clone(), Value::Object(entry));
    }
    let mut doc = Map::new();
    doc.insert("version".into(), json!(1));
    doc.insert("providers".into(), Value::Object(providers));
    let mut policy = Map::new();
    if !loaded.policy.allowed_email_domains.is_empty() {
        policy.insert(
            "allowed_email_domains".into(),
            json!(loaded.policy.allowed_email_domains),
        );
    }
    if let Some(max) = loaded.policy.max_removals {
        policy.insert("max_removals".into(), json!(max));
    }
    if !policy.is_empty() {
        doc.insert("policy".into(), Value::Object(policy));
    }
    doc.insert("include".into(), json!(includes));
    let body = serde_saphyr::to_string(&Value::Object(doc)).unwrap_or_default();
    format!(
        "# yaml-language-server: $schema={modeline}\n# Written by `teamsync import --all` from {}.\n{body}",
        loaded.root.display()
    )
}

/// Whether two paths name the same existing file.
/// The root file's `include` patterns, as written.
fn include_patterns(root: &Path) -> Vec<String> {
    std::fs::read_to_string(root)
        .ok()
        .and_then(|text| serde_saphyr::from_str::<Value>(&text).ok())
        .and_then(|doc| doc.get("include").cloned())
        .and_then(|v| serde_json::from_value::<Vec<String>>(v).ok())
        .unwrap_or_default()
}

fn matches(pattern: &str, path: &Path) -> bool {
    glob::Pattern::new(pattern).is_ok_and(|p| p.matches_path(path))
}

/// Where an import into the configuration's own folder puts each file, so that the
/// root's `include` patterns already read it: the name itself when a pattern matches it,
/// else the folder of a pattern (`teams/*.yaml` → `teams/docs.yaml`), the one whose name
/// speaks of the file's provider or kind first. `None`: no pattern can match it, and it
/// must be added to `include`.
fn placed(name: &Path, hints: &[&str], patterns: &[String]) -> Option<PathBuf> {
    if patterns.iter().any(|p| matches(p, name)) {
        return Some(name.to_path_buf());
    }
    let mut candidates: Vec<(usize, usize, PathBuf)> = patterns
        .iter()
        .enumerate()
        .filter_map(|(order, p)| {
            let folder: PathBuf = Path::new(p)
                .parent()?
                .components()
                .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
                .collect();
            let candidate = folder.join(name);
            if folder.as_os_str().is_empty() || !matches(p, &candidate) {
                return None;
            }
            let words = folder.to_string_lossy().to_ascii_lowercase();
            let speaks = hints.iter().any(|h| !h.is_empty() && words.contains(h));
            Some((usize::from(!speaks), order, candidate))
        })
        .collect();
    candidates.sort();
    candidates.into_iter().next().map(|(_, _, c)| c)
}

/// The root file's text with `names` appended to its `include` list, every other byte
/// as it was: a flow list (`include: ["a.yaml"]`) gains `, "b.yaml"` before its `]`, a
/// block list gains `- b.yaml` lines under its last item, and a root without `include:`
/// gains one at its end. `None` when the list is written some other way (then the
/// command says what to add, and writes nothing of the root).
fn with_includes(text: &str, names: &[String]) -> Option<String> {
    let quoted: Vec<String> = names
        .iter()
        .map(|n| serde_json::to_string(n).unwrap_or_default())
        .collect();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let Some(at) = lines.iter().position(|l| l.starts_with("include:")) else {
        let mut out = text.to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("include: [{}]\n", quoted.join(", ")));
        return Some(out);
    };
    let line = lines[at];
    let rest = line["include:".len()..].trim();
    let rest = rest.split(" #").next().unwrap_or(rest).trim();
    let mut out: String = lines[..at].concat();
    if rest.starts_with('[') && rest.ends_with(']') {
        let close = line.rfind(']')?;
        let inner = rest[1..rest.len() - 1].trim();
        let sep = if inner.is_empty() { "" } else { ", " };
        out.push_str(&line[..close]);
        out.push_str(sep);
        out.push_str(&quoted.join(", "));
        out.push_str(&line[close..]);
    } else if rest.is_empty() {
        out.push_str(line);
        let items = lines[at + 1..]
            .iter()
            .take_while(|l| l.trim_start().starts_with("- ") && l.starts_with([' ', '-']))
            .count();
        let first = lines.get(at + 1).filter(|_| items > 0)?;
        let indent = &first[..first.len() - first.trim_start().len()];
        out.push_str(&lines[at + 1..at + 1 + items].concat());
        if !out.ends_with('\n') {
            out.push('\n');
        }
        for q in &quoted {
            out.push_str(&format!("{indent}- {q}\n"));
        }
        out.push_str(&lines[at + 1 + items..].concat());
        return Some(out);
    } else {
        return None;
    }
    out.push_str(&lines[at + 1..].concat());
    Some(out)
}

fn same_file(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// `--provider NAME` names no configured provider: which ones there are, and what else
/// the command takes (`or`).
fn unknown_provider(loaded: &crate::config::Loaded, name: &str, or: &str) -> ExitCode {
    let names: Vec<&str> = loaded.providers.keys().map(String::as_str).collect();
    report_errors(&[format!(
        "no provider `{name}` in {}; configured: {}. Pass one of them to --provider{or}",
        loaded.root.display(),
        names.join(", ")
    )])
}

pub fn run(opts: ImportOptions) -> ExitCode {
    if opts.drift {
        return drift::run(opts);
    }
    let loaded = match load_config_with(
        &opts.config,
        LoadOptions {
            unmatched_includes_ok: true,
            ..LoadOptions::default()
        },
    ) {
        Ok(l) => opts.network.endpoints(l),
        Err(code) => return code,
    };
    let chosen: Vec<crate::model::ProviderSettings> = match (&opts.provider, opts.all) {
        (_, true) => loaded.providers.values().cloned().collect(),
        (Some(name), false) => match loaded.providers.get(name) {
            Some(p) => vec![p.clone()],
            None => return unknown_provider(&loaded, name, ", or --all"),
        },
        (None, false) => {
            return report_errors(&["say what to import: --provider NAME, or --all"]);
        }
    };
    let out = opts.out.clone().unwrap_or_else(|| loaded.base_dir.clone());
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let options = opts.network.client_options(opts.verbosity, false);
    let live = rt.block_on(async {
        let conns = Connections::open(&loaded, options)
            .await
            .map_err(|e| report_errors(&[e]))?;
        let mut live = Vec::new();
        for settings in &chosen {
            live.push(
                engine::read_whole(&conns, settings)
                    .await
                    .map_err(|e| report_errors(&[e]))?,
            );
        }
        Ok::<_, ExitCode>(live)
    });
    let live = match live {
        Ok(l) => l,
        Err(code) => return code,
    };
    let line = modeline(&loaded.root, &loaded.base_dir, &out);
    let root_target = out.join("teamsync.yaml");
    // Into the configuration's own folder, --all adds files; elsewhere it writes a whole
    // repository, root file included.
    let write_root = opts.all && !same_file(&root_target, &loaded.root);
    let mut files = if opts.all {
        let sources: Vec<config_write::Source> = chosen
            .iter()
            .zip(&live)
            .map(|(s, l)| config_write::Source {
                provider: &s.name,
                kind: s.kind,
                live: l,
            })
            .collect();
        config_write::render_all(&sources, &loaded.people, &line)
    } else {
        config_write::render(
            &chosen[0].name,
            chosen[0].kind,
            &live[0],
            &loaded.people,
            &line,
        )
    };
    if write_root {
        let includes: Vec<String> = files
            .files
            .keys()
            .map(|p| p.display().to_string())
            .collect();
        files.files.insert(
            PathBuf::from("teamsync.yaml"),
            root_file(&loaded, &out, &includes, &line),
        );
        match seed_copies(&loaded, &out) {
            Ok(copies) => files.files.extend(copies),
            Err(e) => return report_errors(&[e]),
        }
    }
    // Into the configuration's own folder: each file where an `include` pattern already
    // reads it, else added to `include`, so that the next plan reads what was written.
    let mut placed_note = Vec::new();
    let mut root_edit = None;
    if !write_root && same_file(&out, &loaded.base_dir) {
        let patterns = include_patterns(&loaded.root);
        let mut moved = std::collections::BTreeMap::new();
        let mut unmatched = Vec::new();
        for (name, text) in std::mem::take(&mut files.files) {
            let provider = chosen
                .iter()
                .find(|s| config_write::file_name(&s.name) == name);
            let hints: Vec<&str> = match provider {
                // A file of teams is looked for under a teams pattern, any other under
                // the provider kind's own name.
                Some(s) if s.kind.supports(crate::model::ResourceKind::Team) => {
                    vec![s.name.as_str(), "team"]
                }
                Some(s) => vec![s.name.as_str(), s.kind.as_str()],
                None => vec!["people"],
            };
            match placed(&name, &hints, &patterns) {
                Some(at) => {
                    let text = match at.parent().filter(|d| !d.as_os_str().is_empty()) {
                        Some(dir) => {
                            let old = format!("# yaml-language-server: $schema={line}\n");
                            let new = format!(
                                "# yaml-language-server: $schema={}\n",
                                modeline(&loaded.root, &loaded.base_dir, &out.join(dir))
                            );
                            match text.strip_prefix(&old) {
                                Some(body) => format!("{new}{body}"),
                                None => text,
                            }
                        }
                        None => text,
                    };
                    if at != name {
                        placed_note.push(format!(
                            "{} goes to {}, where `include` already reads it",
                            name.display(),
                            at.display()
                        ));
                    }
                    moved.insert(at, text);
                }
                None => {
                    unmatched.push(name.display().to_string());
                    moved.insert(name, text);
                }
            }
        }
        files.files = moved;
        if !unmatched.is_empty() {
            let text = std::fs::read_to_string(&loaded.root).unwrap_or_default();
            match with_includes(&text, &unmatched) {
                Some(edited) => root_edit = Some((edited, unmatched)),
                None => {
                    return report_errors(&[format!(
                        "{} writes `include` in a form teamsync does not edit; add {} to it and run import again",
                        loaded.root.display(),
                        unmatched.join(", ")
                    )]);
                }
            }
        }
    }
    let written = config_write::files(&out, &files, opts.force);
    if let (Ok(_), Some((edited, added))) = (&written, &root_edit) {
        // Only the `include` list changes; every other byte of the root is kept.
        if let Err(e) = config_write::replace(&loaded.root, edited) {
            return report_errors(&[format!("cannot write {}: {e}", loaded.root.display())]);
        }
        placed_note.push(format!(
            "{} now includes {} (nothing else in it changed)",
            loaded.root.display(),
            added.join(", ")
        ));
    }
    match written {
        Ok(written) if !opts.verbosity.info() => {
            let _ = written;
            ExitCode::from(EXIT_OK)
        }
        Ok(written) => {
            for path in &written {
                eprintln!("wrote {}", path.display());
            }
            if files.without_email > 0 {
                eprintln!(
                    "note: {} no email and {} written as {{user_id: …}}.",
                    plural(files.without_email, "member has", "members have"),
                    if files.without_email == 1 {
                        "was"
                    } else {
                        "were"
                    }
                );
            }
            for note in &placed_note {
                eprintln!("{note}");
            }
            if write_root {
                eprintln!(
                    "`teamsync plan --config {}` now shows no changes.",
                    out.display()
                );
            } else if same_file(&out, &loaded.base_dir) {
                eprintln!(
                    "`teamsync plan --config {}` now reads every file written.",
                    loaded.root.display()
                );
            } else {
                eprintln!(
                    "Add these files to `include` in {} if its patterns do not match them yet; then `teamsync plan` shows no changes.",
                    loaded.root.display()
                );
            }
            ExitCode::from(EXIT_OK)
        }
        Err(message) => report_errors(&[message]),
    }
}

#[cfg(test)]
mod tests {
    use super::{placed, with_includes};
    use std::path::{Path, PathBuf};

    #[test]
    fn an_include_list_gains_entries_and_keeps_every_other_byte() {
        let names = vec!["cms.yaml".to_string(), "docs.yaml".to_string()];
        let flow = "version: 1 # root\ninclude: [\"people.yaml\"]  # the rest\npolicy: {}\n";
        assert_eq!(
            with_includes(flow, &names).as_deref(),
            Some(
                "version: 1 # root\ninclude: [\"people.yaml\", \"cms.yaml\", \"docs.yaml\"]  # the rest\npolicy: {}\n"
            )
        );
        assert_eq!(
            with_includes("include: []\n", &names[..1]).as_deref(),
            Some("include: [\"cms.yaml\"]\n")
        );
        let block = "include:\n  - people.yaml # roster\n  - teams/*.yaml\npolicy: {}\n";
        assert_eq!(
            with_includes(block, &names).as_deref(),
            Some(
                "include:\n  - people.yaml # roster\n  - teams/*.yaml\n  - \"cms.yaml\"\n  - \"docs.yaml\"\npolicy: {}\n"
            )
        );
        assert_eq!(
            with_includes("version: 1\n", &names[..1]).as_deref(),
            Some("version: 1\ninclude: [\"cms.yaml\"]\n")
        );
        // A form teamsync does not edit is left to the user.
        assert_eq!(with_includes("include: [\n  \"a.yaml\"\n]\n", &names), None);
    }

    #[test]
    fn a_file_goes_where_a_pattern_already_reads_it() {
        let patterns = vec![
            "people.yaml".to_string(),
            "pixiebrix/*.yaml".to_string(),
            "teams/*.yaml".to_string(),
        ];
        let at = |name: &str, hints: &[&str]| placed(Path::new(name), hints, &patterns);
        assert_eq!(
            at("people.yaml", &["people"]),
            Some(PathBuf::from("people.yaml"))
        );
        assert_eq!(
            at("pb.yaml", &["pb", "pixiebrix"]),
            Some(PathBuf::from("pixiebrix/pb.yaml"))
        );
        assert_eq!(
            at("docs.yaml", &["docs", "team"]),
            Some(PathBuf::from("teams/docs.yaml"))
        );
        assert_eq!(
            placed(
                Path::new("docs.yaml"),
                &["docs"],
                &["people.yaml".to_string()]
            ),
            None
        );
        assert_eq!(
            placed(Path::new("docs.yaml"), &["docs"], &["*.yaml".to_string()]),
            Some(PathBuf::from("docs.yaml"))
        );
    }
}
