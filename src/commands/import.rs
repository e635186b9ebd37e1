//! `teamsync import`: write what a provider has today as config.

use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Map, Value, json};

use crate::config::{LoadOptions, Loaded};
use crate::dump;
use crate::engine::{self, Connections};
use crate::model::Endpoint;

use super::{EXIT_OK, load_config_with, plural, report_errors, runtime};

/// Everything `import` needs from the command line.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub config: PathBuf,
    /// One provider; `None` with `all`.
    pub provider: Option<String>,
    /// Every configured provider, as a repository of its own (root file included).
    pub all: bool,
    pub out: Option<PathBuf>,
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
fn same_file(a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

pub fn run(opts: ImportOptions) -> ExitCode {
    let loaded = match load_config_with(
        &opts.config,
        LoadOptions {
            unmatched_includes_ok: true,
        },
    ) {
        Ok(l) => opts.network.endpoints(l),
        Err(code) => return code,
    };
    let chosen: Vec<crate::model::ProviderSettings> = match (&opts.provider, opts.all) {
        (_, true) => loaded.providers.values().cloned().collect(),
        (Some(name), false) => match loaded.providers.get(name) {
            Some(p) => vec![p.clone()],
            None => {
                let names: Vec<&str> = loaded.providers.keys().map(String::as_str).collect();
                return report_errors(&[format!(
                    "no provider `{name}` in {}; configured: {}. Pass one of them to --provider, or --all",
                    loaded.root.display(),
                    names.join(", ")
                )]);
            }
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
        let sources: Vec<dump::Source> = chosen
            .iter()
            .zip(&live)
            .map(|(s, l)| dump::Source {
                provider: &s.name,
                kind: s.kind,
                live: l,
            })
            .collect();
        dump::render_all(&sources, &loaded.people, &line)
    } else {
        dump::render(
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
    match dump::write(&out, &files, opts.force) {
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
            if write_root {
                eprintln!(
                    "`teamsync plan --config {}` now shows no changes.",
                    out.display()
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
