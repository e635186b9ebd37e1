//! The per-file size limit: 10 MiB by default, refused before the file is read, with a
//! message that names the root file's `limits.max_file_mib`; that key raises it for the
//! included files, while the root file itself is always held to the default.

use std::path::Path;

use teamsync::config;

const PROVIDERS: &str = "version: 1
providers:
  pb: {kind: pixiebrix, organization: 0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11, token_env: PB_TOKEN}
include: [\"more.yaml\"]
";

/// A valid YAML file of `mib` MiB and a little more: one person, then comment lines.
fn padded_people(path: &Path, mib: u64) {
    let mut text = String::from("people:\n  alice: {email: alice@acme.com}\n");
    let line = format!("# {}\n", "x".repeat(1022));
    while (text.len() as u64) <= mib * 1024 * 1024 {
        text.push_str(&line);
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn an_included_file_over_the_default_names_the_key_that_raises_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("teamsync.yaml"), PROVIDERS).unwrap();
    // Never read: the size alone refuses it.
    let big = std::fs::File::create(dir.path().join("more.yaml")).unwrap();
    big.set_len(12 * 1024 * 1024).unwrap();

    let diags = config::load(&dir.path().join("teamsync.yaml")).unwrap_err();

    let d = &diags[0];
    assert!(
        d.message
            .contains("file is 12 MiB, larger than the 10 MiB a config file may be")
            && d.message.contains("limits.max_file_mib"),
        "{d:?}"
    );
    assert!(
        d.hint
            .as_deref()
            .is_some_and(|h| h.contains("limits: {max_file_mib: 12}")),
        "{d:?}"
    );
    assert_eq!(
        d.location.as_ref().unwrap().file,
        dir.path().join("more.yaml")
    );
}

#[test]
fn a_raised_limit_lets_a_larger_included_file_in() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("teamsync.yaml"),
        format!("{PROVIDERS}limits: {{max_file_mib: 12}}\n"),
    )
    .unwrap();
    padded_people(&dir.path().join("more.yaml"), 11);

    let loaded = config::load(&dir.path().join("teamsync.yaml"))
        .unwrap_or_else(|d| panic!("refused: {d:?}"));

    assert_eq!(loaded.people.len(), 1);
}

#[test]
fn a_raised_limit_still_refuses_a_file_above_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("teamsync.yaml"),
        format!("{PROVIDERS}limits: {{max_file_mib: 11}}\n"),
    )
    .unwrap();
    let big = std::fs::File::create(dir.path().join("more.yaml")).unwrap();
    big.set_len(12 * 1024 * 1024).unwrap();

    let diags = config::load(&dir.path().join("teamsync.yaml")).unwrap_err();

    assert!(
        diags[0]
            .message
            .contains("file is 12 MiB, larger than the 11 MiB"),
        "{diags:?}"
    );
}

#[test]
fn the_root_file_is_held_to_the_default_whatever_it_says() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("teamsync.yaml");
    let mut text = format!("{PROVIDERS}limits: {{max_file_mib: 50}}\n");
    let line = format!("# {}\n", "x".repeat(1022));
    while text.len() <= 11 * 1024 * 1024 {
        text.push_str(&line);
    }
    std::fs::write(&root, text).unwrap();
    std::fs::write(dir.path().join("more.yaml"), "people: {}\n").unwrap();

    let diags = config::load(&root).unwrap_err();

    let d = &diags[0];
    assert!(
        d.message.contains("larger than the 10 MiB")
            && d.message
                .contains("the root file is always held to this default"),
        "{d:?}"
    );
    assert!(
        d.hint
            .as_deref()
            .is_some_and(|h| h.contains("files listed under `include`")),
        "{d:?}"
    );
}

#[test]
fn limits_belong_in_the_root_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("teamsync.yaml"), PROVIDERS).unwrap();
    std::fs::write(dir.path().join("more.yaml"), "limits: {max_file_mib: 50}\n").unwrap();

    let diags = config::load(&dir.path().join("teamsync.yaml")).unwrap_err();

    assert!(
        diags.iter().any(|d| d
            .message
            .contains("`limits` is only allowed in the root file")),
        "{diags:?}"
    );
}

#[test]
fn the_schema_bounds_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("teamsync.yaml"),
        format!("{PROVIDERS}limits: {{max_file_mib: 5000}}\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("more.yaml"), "people: {}\n").unwrap();

    let diags = config::load(&dir.path().join("teamsync.yaml")).unwrap_err();

    assert!(
        diags
            .iter()
            .any(|d| d.message.contains("`limits.max_file_mib`")
                && d.message.contains("maximum of 1024")),
        "{diags:?}"
    );
}
