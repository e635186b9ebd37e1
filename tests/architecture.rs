//! The arrows of `docs/architecture.md`, kept honest by reading source: `model` and `diag`
//! import nothing of ours; `plan` and `render` know no HTTP and no provider; `review` sees
//! only the config and the model; providers never see a plan; `commands` reach providers
//! and the sandbox only through the engine; no module name is used at two levels;
//! the sandbox imports nothing of ours (so it can disagree with the clients); and an API's
//! URL paths live only in its own client and emulator modules.

use std::path::{Path, PathBuf};

fn sources(dir: &str) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut stack = vec![root.clone()];
    if root.is_file() {
        return vec![(root.clone(), std::fs::read_to_string(&root).unwrap())];
    }
    let rs = root.with_extension("rs");
    if rs.is_file() {
        out.push((rs.clone(), std::fs::read_to_string(&rs).unwrap()));
    }
    while let Some(d) = stack.pop() {
        if d == root && !root.is_dir() && out.is_empty() {
            panic!("src/{dir} does not exist: a rule about it would check nothing");
        }
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push((p.clone(), std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out
}

/// Every `crate::X` module a file refers to.
fn crate_refs(text: &str) -> Vec<String> {
    text.match_indices("crate::")
        .map(|(i, _)| {
            text[i + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

fn assert_only(dir: &str, allowed: &[&str], forbidden_words: &[&str]) {
    for (path, text) in sources(dir) {
        for r in crate_refs(&text) {
            assert!(
                allowed.contains(&r.as_str()),
                "{} refers to crate::{r}; {dir} may use only {allowed:?}",
                path.display()
            );
        }
        for word in forbidden_words {
            assert!(
                !text.contains(word),
                "{} mentions `{word}`, which {dir} must not know",
                path.display()
            );
        }
    }
}

#[test]
fn model_and_diag_import_nothing_of_ours() {
    assert_only("model", &["model"], &["reqwest", "axum"]);
    assert_only("diag.rs", &[], &["reqwest", "axum"]);
}

#[test]
fn the_changeset_and_render_know_no_http_and_no_provider() {
    assert_only("changeset", &["model"], &["reqwest", "axum"]);
    assert_only("render", &["model", "changeset"], &["reqwest", "axum"]);
}

#[test]
fn the_review_reads_config_and_model_only() {
    // Live state comes in from the command; the access review never opens a client or a
    // plan.
    assert_only("review", &["model", "config"], &["reqwest", "axum"]);
}

#[test]
fn commands_reach_the_world_only_through_the_engine() {
    // Parse, call, render: connections, reads, diffs and execution sit behind `engine`.
    assert_only(
        "commands",
        &[
            "engine",
            "render",
            "changeset",
            "config",
            "review",
            "model",
            "diag",
        ],
        &["reqwest", "axum", "read_each", "ReadScope"],
    );
    // Live state → YAML is pure: it neither reads nor knows a client.
    assert_only(
        "config/write.rs",
        &["model"],
        &["reqwest", "axum", "engine"],
    );
}

#[test]
fn the_engine_is_the_one_path_to_providers_and_the_sandbox() {
    // `render` only for the one-line form of a held member change in apply's report.
    assert_only(
        "engine",
        &[
            "config",
            "changeset",
            "providers",
            "sandbox",
            "model",
            "render",
        ],
        &["axum"],
    );
    for (dir, allowed) in [
        ("config", &["config", "model", "diag"][..]),
        ("changeset", &["model"]),
    ] {
        assert_only(dir, allowed, &["reqwest", "axum"]);
    }
}

#[test]
fn no_module_name_is_used_at_two_levels() {
    // `commands/apply.rs` is the command; what it calls is named for its level
    // (`engine/execute.rs`), so a reader never has to ask which `apply` is meant.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let stems = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir() || p.extension().is_some_and(|x| x == "rs"))
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .filter(|s| s != "mod")
            .collect()
    };
    let top = stems(&src);
    for sub in ["commands", "engine"] {
        for name in stems(&src.join(sub)) {
            assert!(
                !top.contains(&name),
                "src/{sub}/{name}.rs and src/{name} share a name; name one for its level"
            );
        }
    }
}

#[test]
fn providers_never_see_a_plan_or_the_config() {
    assert_only("providers", &["model"], &["axum"]);
}

#[test]
fn the_sandbox_imports_nothing_of_ours() {
    assert_only("sandbox", &[], &["reqwest"]);
}

#[test]
fn each_api_path_lives_only_in_its_client_and_its_emulator() {
    let apis = [
        ("/api/organizations/", "pixiebrix.rs"),
        ("/orgs/{", "gitbook.rs"),
        ("/team_memberships", "contentful.rs"),
    ];
    for (path, text) in sources("") {
        for (needle, home) in apis {
            if text.contains(needle) {
                // The module itself, or a file of its folder (`pixiebrix/roster.rs`).
                let module = home.trim_end_matches(".rs");
                let in_folder = path
                    .parent()
                    .and_then(|d| d.file_name())
                    .is_some_and(|d| d == module);
                assert!(
                    path.file_name().is_some_and(|f| f == home) || in_folder,
                    "{} contains the API path `{needle}`, which belongs in {home} (or its folder) only",
                    path.display()
                );
            }
        }
    }
}

/// The sandbox's knobs are plain data in `knobs.rs`: the server applies them and the
/// variants reshape answers by them, and neither of the two imports the other.
#[test]
fn the_sandbox_server_and_its_variants_do_not_import_each_other() {
    for (path, text) in sources("sandbox") {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name == "variants.rs" {
            assert!(
                !text.contains("server::"),
                "{} imports the server",
                path.display()
            );
        }
        if path.components().any(|c| c.as_os_str() == "server") || name == "server.rs" {
            assert!(
                !text.contains("variants::Variant") && !text.contains("variants::{"),
                "{} takes types from variants.rs; they belong in knobs.rs",
                path.display()
            );
        }
    }
}

/// A provider is registered in one line per layer (`docs/architecture.md`, "Adding a fourth
/// provider"): its variant and row in `model/spec.rs`, its line of `clients!` in
/// `providers/mod.rs`, its line of `served!` in `sandbox/mod.rs`. Outside its own client
/// and emulator, no code names it anywhere else, except an emulator's optional variants and
/// control routes in the sandbox server. Contentful, which has no control route, is named
/// in exactly the three registration lines.
#[test]
fn a_provider_is_registered_in_one_line_per_layer() {
    let apis = [
        ("pixiebrix", "Pixiebrix"),
        ("gitbook", "Gitbook"),
        ("contentful", "Contentful"),
    ];
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (api, variant) in apis {
        let mut named = Vec::new();
        for (path, text) in sources("") {
            let rel = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let own = rel.starts_with(&format!("providers/{api}"))
                || rel.starts_with(&format!("sandbox/{api}"));
            // Unit tests name every kind; only the code before them registers.
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (n, line) in code.lines().enumerate() {
                let trimmed = line.trim_start();
                if own || trimmed.starts_with("//") {
                    continue;
                }
                if line.contains(&format!("ProviderKind::{variant}"))
                    || line.contains(&format!("{api}::"))
                {
                    named.push(format!("{rel}:{}: {}", n + 1, line.trim()));
                }
            }
        }
        let registration: Vec<&String> = named
            .iter()
            .filter(|l| {
                l.starts_with("model/spec.rs:")
                    || l.starts_with("providers/mod.rs:")
                    || l.starts_with("sandbox/mod.rs:")
            })
            .collect();
        let places: std::collections::BTreeSet<&str> = registration
            .iter()
            .filter_map(|l| l.split(':').next())
            .collect();
        assert_eq!(
            places.len(),
            3,
            "{api} is registered in {places:?}; expected model/spec.rs, providers/mod.rs and sandbox/mod.rs:\n{named:#?}"
        );
        for l in &named {
            let registration_line = registration.contains(&l);
            let optional = l.starts_with("sandbox/server/");
            assert!(
                registration_line || optional,
                "{l}: {api} is named outside its own modules and its registration lines"
            );
        }
        let clients = named
            .iter()
            .filter(|l| l.starts_with("providers/mod.rs:"))
            .count();
        let served = named
            .iter()
            .filter(|l| l.starts_with("sandbox/mod.rs:"))
            .count();
        assert_eq!(
            (clients, served),
            (1, 1),
            "{api}: one line in each macro:\n{named:#?}"
        );
        if api == "contentful" {
            assert_eq!(named.len(), 3, "{named:#?}");
        }
    }
}
