//! `teamsync import --drift`: adopt the live change of `exact` containers into the files
//! that declare them, instead of letting the next apply revert it. Without `--force` it
//! writes nothing and prints the diff of every file it would change; with `--force` it
//! writes them. Either way the edits are checked first: the edited configuration loads,
//! and a plan of it against the same live state has nothing left to adopt.

use std::path::Path;
use std::process::ExitCode;

use crate::changeset::adopt::{Adopted, adoptions};
use crate::changeset::{DiffInput, diff};
use crate::config::edit::{EditedFile, Edits};
use crate::config::{self, LoadOptions, Loaded, Texts};
use crate::engine::{self, Connections};
use crate::model::{LeftAlone, MemberAction, ResourceKey, Risk};

use super::super::{EXIT_CHANGES, EXIT_OK, load_config, report_errors, runtime, write_stdout};
use super::ImportOptions;

pub fn run(opts: ImportOptions) -> ExitCode {
    let loaded = match load_config(&opts.config) {
        Ok(l) => opts.network.endpoints(l),
        Err(code) => return code,
    };
    // `--provider NAME`: only that provider is read (its token alone is needed), and only
    // its containers are adopted.
    let one = match &opts.provider {
        Some(name) if !loaded.providers.contains_key(name) => {
            return super::unknown_provider(&loaded, name, "");
        }
        Some(name) => Some(only(&loaded, name)),
        None => None,
    };
    let scope = one.as_ref().unwrap_or(&loaded);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let options = opts.network.client_options(opts.verbosity, false);
    // One day for the plan and for its check, so a run across midnight compares like
    // with like.
    let today = engine::today_date();
    let read = rt.block_on(async {
        let conns = Connections::open(scope, options)
            .await
            .map_err(|e| report_errors(&[e]))?;
        engine::plan_and_live(scope, &conns, today)
            .await
            .map_err(|e| report_errors(&e.lines()))
    });
    let (plan, live) = match read {
        Ok(r) => r,
        Err(code) => return code,
    };
    let adopted = adoptions(
        &plan,
        &scope.desired,
        &live,
        &scope.providers,
        &scope.policy,
    );
    drop(one);
    let edits = match config::edit::adopt(&loaded, &adopted.adoptions) {
        Ok(e) => e,
        Err(e) => return report_errors(&[e]),
    };
    let info = opts.verbosity.info();
    if edits.files.is_empty() {
        if info {
            summary(&adopted, &edits);
            if adopted.left.is_empty() && edits.skipped.is_empty() {
                eprintln!("No drift to adopt: the exact containers' members equal live.");
            } else {
                eprintln!("No drift to adopt; the differences above are left as they are.");
            }
        }
        return ExitCode::from(EXIT_OK);
    }
    if let Err(problems) = check(&opts.config, &edits, &adopted, &live, today) {
        let mut lines = vec![
            "the adopted configuration would not be right, so nothing was written:".to_string(),
        ];
        lines.extend(problems);
        return report_errors(&lines);
    }
    if !opts.force {
        let diffs: String = edits.files.iter().map(|f| unified(&loaded, f)).collect();
        if let Err(failure) = write_stdout(&diffs) {
            return failure.report();
        }
        if info {
            summary(&adopted, &edits);
            eprintln!(
                "Nothing was written. Run `teamsync import --drift --force` to write {}.",
                super::super::plural(edits.files.len(), "file", "files")
            );
        }
        return ExitCode::from(EXIT_CHANGES);
    }
    if let Err(e) = write_all(&edits.files) {
        return report_errors(&[e]);
    }
    // What was written must load as the check said; if it does not, it is put back.
    if let Err(diags) = config::load(&opts.config) {
        let restored = restore(&edits.files);
        let mut lines = vec![format!(
            "the written configuration does not load; {}:",
            if restored.is_empty() {
                "every file was put back as it was".to_string()
            } else {
                format!("and could not be put back: {}", restored.join("; "))
            }
        )];
        lines.extend(diags.iter().map(|d| d.message.clone()));
        return report_errors(&lines);
    }
    if info {
        for f in &edits.files {
            eprintln!("wrote {}", f.path.display());
        }
        summary(&adopted, &edits);
        eprintln!(
            "`teamsync plan` now shows no member changes for the adopted containers; review the diff and commit it to adopt the live change."
        );
    }
    ExitCode::from(EXIT_OK)
}

/// The configuration as far as provider `name` is concerned: its settings and its
/// declared containers (the people, and who is offboarded, stay whole).
fn only(loaded: &Loaded, name: &str) -> Loaded {
    let mut one = loaded.clone();
    one.providers.retain(|n, _| n == name);
    one.desired.resources.retain(|key, _| key.provider == name);
    one.desired.prune.retain(|(provider, _)| provider == name);
    one
}

/// What was adopted, rewritten and left alone, on stderr.
fn summary(adopted: &Adopted, edits: &Edits) {
    for line in &edits.done {
        eprintln!("adopt: {line}");
    }
    for line in &edits.rewritten {
        eprintln!("note: {line}");
    }
    let left: Vec<&LeftAlone> = adopted.left.iter().chain(&edits.skipped).collect();
    for l in left {
        eprintln!("left alone: {}: {}", l.key, l.why);
    }
}

/// The edits checked before anything is written: the edited configuration loads, and a
/// plan of it against the live state just read has no member change left in an adopted
/// container but those `import --drift` leaves alone by design (expiries, offboarding,
/// campaign data).
fn check(
    config_path: &Path,
    edits: &Edits,
    adopted: &Adopted,
    live: &crate::model::LiveState,
    today: jiff::civil::Date,
) -> Result<(), Vec<String>> {
    let texts: Texts = edits
        .files
        .iter()
        .map(|f| (f.path.clone(), f.after.clone()))
        .collect();
    let edited =
        config::load_with_texts(config_path, LoadOptions::default(), &texts).map_err(|diags| {
            diags
                .iter()
                .map(|d| match &d.location {
                    Some(at) => format!("{}: {}", at.file.display(), d.message),
                    None => d.message.clone(),
                })
                .collect::<Vec<_>>()
        })?;
    let again = diff(DiffInput {
        desired: &edited.desired,
        live,
        providers: &edited.providers,
        policy: &edited.policy,
        today,
    });
    let adopted_keys: Vec<&ResourceKey> = adopted.adoptions.iter().map(|a| &a.key).collect();
    let skipped: Vec<&ResourceKey> = edits.skipped.iter().map(|s| &s.key).collect();
    let adopted_here = |key: &ResourceKey| adopted_keys.contains(&key) && !skipped.contains(&key);
    let drift = |m: &crate::model::MemberChange| {
        !matches!(m.action, MemberAction::SetData { .. })
            && !m
                .risks
                .iter()
                .any(|r| matches!(r, Risk::Expired | Risk::Offboarded))
    };
    let planned = again
        .changes
        .iter()
        .filter(|c| adopted_here(&c.key))
        .flat_map(|c| c.members.iter().map(move |m| (&c.key, m)));
    let held = again
        .blocked
        .iter()
        .filter(|b| adopted_here(&b.resource))
        .filter(|b| {
            matches!(
                b.change.action,
                MemberAction::Remove | MemberAction::SetRole { .. }
            )
        })
        .map(|b| (&b.resource, &b.change));
    let left: Vec<String> = planned
        .chain(held)
        .filter(|(_, m)| drift(m))
        .map(|(key, m)| {
            format!(
                "{key}: {} still planned for {}",
                action(&m.action),
                m.member
            )
        })
        .collect();
    if left.is_empty() { Ok(()) } else { Err(left) }
}

fn action(a: &MemberAction) -> &'static str {
    match a {
        MemberAction::Add { .. } => "an add",
        MemberAction::Remove => "a removal",
        MemberAction::SetRole { .. } => "a role change",
        MemberAction::SetData { .. } => "a data change",
        MemberAction::Invite { .. } => "an invitation",
        MemberAction::Revoke => "a revocation",
    }
}

/// One file's unified diff, named relative to the configuration's folder.
fn unified(loaded: &Loaded, file: &EditedFile) -> String {
    let name = file
        .path
        .strip_prefix(&loaded.base_dir)
        .unwrap_or(&file.path)
        .display()
        .to_string();
    similar::TextDiff::from_lines(&file.before, &file.after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

/// Writes every file as a temporary file beside it, renamed over it: a reader sees the
/// old file or the new one, never half of one. Stops at the first failure, naming it.
fn write_all(files: &[EditedFile]) -> Result<(), String> {
    for f in files {
        crate::config::write::replace(&f.path, &f.after).map_err(|e| {
            let restored = restore(files);
            format!(
                "cannot write {}: {e}{}",
                f.path.display(),
                if restored.is_empty() {
                    String::new()
                } else {
                    format!("; could not put back: {}", restored.join("; "))
                }
            )
        })?;
    }
    Ok(())
}

/// Puts every file back as it was; returns what could not be.
fn restore(files: &[EditedFile]) -> Vec<String> {
    files
        .iter()
        .filter_map(|f| {
            let now = std::fs::read_to_string(&f.path).ok();
            if now.as_deref() == Some(f.before.as_str()) {
                return None;
            }
            crate::config::write::replace(&f.path, &f.before)
                .err()
                .map(|e| format!("{}: {e}", f.path.display()))
        })
        .collect()
}
