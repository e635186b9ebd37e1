//! `include` patterns are globs relative to the root file's folder, and that folder is
//! taken literally: a repository checked out under `team[1]` or `what?` loads the same.

use std::path::Path;

use teamsync::config;
use teamsync::model::{ResourceKey, ResourceKind};

const ROOT: &str = "version: 1\nproviders:\n  docs:\n    kind: gitbook\n    organization: acme\n    token_env: GITBOOK_TOKEN\ninclude: [\"teams/*.yaml\"]\n";
const TEAMS: &str = "people:\n  alice: {email: alice@acme.com}\nteams:\n  - {provider: docs, name: Writers, members: [alice]}\n";

fn write_repo(dir: &Path) {
    std::fs::create_dir_all(dir.join("teams")).expect("mkdir");
    std::fs::write(dir.join("teamsync.yaml"), ROOT).expect("root");
    std::fs::write(dir.join("teams/writers.yaml"), TEAMS).expect("teams");
}

fn declared(dir: &Path) -> Vec<ResourceKey> {
    let loaded = config::load(dir).unwrap_or_else(|e| panic!("{}", config::report::render(&e)));
    loaded.desired.resources.keys().cloned().collect()
}

#[test]
fn a_folder_named_with_glob_characters_still_includes_its_files() {
    let parent = tempfile::tempdir().expect("tempdir");
    for folder in ["team[1]", "what?", "star*", "[abc]"] {
        let dir = parent.path().join(folder);
        write_repo(&dir);
        assert_eq!(
            declared(&dir),
            vec![ResourceKey::new("docs", ResourceKind::Team, "Writers")],
            "in {folder}"
        );
    }
}

#[test]
fn a_bracket_in_the_folder_name_never_matches_a_sibling_folder() {
    // Unescaped, `team[1]/teams/*.yaml` is the pattern `team1/teams/*.yaml`.
    let parent = tempfile::tempdir().expect("tempdir");
    let dir = parent.path().join("team[1]");
    write_repo(&dir);
    let sibling = parent.path().join("team1/teams");
    std::fs::create_dir_all(&sibling).expect("mkdir");
    std::fs::write(
        sibling.join("other.yaml"),
        "teams:\n  - {provider: docs, name: Other, members: []}\n",
    )
    .expect("sibling");
    assert_eq!(
        declared(&dir),
        vec![ResourceKey::new("docs", ResourceKind::Team, "Writers")]
    );
}

/// The file, line and column of a location, for comparing.
fn place(l: &teamsync::diag::Location) -> (String, usize, usize) {
    let name = l
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let p = l.position.expect("a position");
    (name, p.line, p.column)
}

#[test]
fn a_person_or_an_email_given_in_two_files_names_both_places() {
    // People are checked without looking up where each one stands; an error still
    // points at both entries, each in its own file.
    let dir = tempfile::tempdir().expect("tempdir");
    write_repo(dir.path());
    std::fs::write(
        dir.path().join("teams/zz.yaml"),
        "people:\n  bob: {email: bob@acme.com}\n  alice: {email: other@acme.com}\n  \
         carol: {email: Alice@ACME.com}\n",
    )
    .expect("more");
    let errors = match config::load(dir.path()) {
        Ok(_) => panic!("a person declared twice loaded"),
        Err(e) => e,
    };
    let found: Vec<_> = errors
        .iter()
        .map(|d| {
            (
                d.message.clone(),
                place(d.location.as_ref().expect("located")),
                d.related
                    .iter()
                    .map(|(l, note)| (place(l), note.clone()))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let at = |file: &str, line, column| (file.to_string(), line, column);
    assert_eq!(
        found,
        vec![
            (
                "person `alice` is declared twice".to_string(),
                at("zz.yaml", 3, 3),
                vec![(at("writers.yaml", 2, 3), "first declared here".to_string())],
            ),
            (
                "`carol` and `alice` have the same email alice@acme.com".to_string(),
                at("zz.yaml", 4, 18),
                vec![(
                    at("writers.yaml", 2, 3),
                    "`alice` declared here".to_string()
                )],
            ),
        ],
        "{}",
        config::report::render(&errors)
    );
}

#[test]
fn a_persons_data_goes_with_them_into_campaigns_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("teamsync.yaml"),
        "version: 1\nproviders:\n  pb:\n    kind: pixiebrix\n    organization: 0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11\n    token_env: PB_TOKEN\ninclude: [\"*.yaml\"]\n",
    )
    .expect("root");
    std::fs::write(
        dir.path().join("people.yaml"),
        "people:\n  alice: {email: alice@acme.com, data: {Location: NYC}}\n",
    )
    .expect("people");
    std::fs::write(
        dir.path().join("resources.yaml"),
        "groups:\n  - {name: Sales, members: [alice]}\ncampaigns:\n  - name: Q3\n    members: [alice]\n  - name: Q4\n    members: [{person: alice, data: {Unit: U1}}]\n",
    )
    .expect("resources");
    let loaded =
        config::load(dir.path()).unwrap_or_else(|e| panic!("{}", config::report::render(&e)));
    let data = |kind, name: &str| {
        let key = ResourceKey::new("pb", kind, name);
        let resource = &loaded.desired.resources[&key];
        let member = resource.members.values().next().expect("alice");
        serde_json::to_value(&member.data).expect("data")
    };
    assert_eq!(data(ResourceKind::Group, "Sales"), serde_json::json!({}));
    assert_eq!(
        data(ResourceKind::Campaign, "Q3"),
        serde_json::json!({"Location": "NYC"})
    );
    assert_eq!(
        data(ResourceKind::Campaign, "Q4"),
        serde_json::json!({"Location": "NYC", "Unit": "U1"})
    );
}
