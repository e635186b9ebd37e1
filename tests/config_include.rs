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
