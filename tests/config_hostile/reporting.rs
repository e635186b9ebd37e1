//! Which errors are reported, and where, when one or several files are broken.

use super::*;

#[test]
fn a_duplicate_resource_names_both_places() {
    let dir = tempfile::tempdir().unwrap();
    let root = ROOT.replace("[\"more.yaml\"]", "[\"a.yaml\", \"b.yaml\"]");
    write_files(
        dir.path(),
        &[
            ("teamsync.yaml", root),
            ("a.yaml", "groups:\n  - name: Sales\n".into()),
            ("b.yaml", "\ngroups:\n  - name: Sales\n".into()),
        ],
    );
    let diags = config::load(&dir.path().join("teamsync.yaml")).unwrap_err();
    assert_eq!(diags.len(), 1, "{diags:?}");
    let d = &diags[0];
    assert_eq!(d.message, "pb.group[\"Sales\"] is declared twice");
    assert_eq!(
        d.location.as_ref().unwrap().to_string(),
        format!("{}:3:11", dir.path().join("b.yaml").display())
    );
    assert_eq!(
        d.related[0].0.to_string(),
        format!("{}:2:11", dir.path().join("a.yaml").display())
    );
}

#[test]
fn every_problem_in_every_file_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = ROOT.replace("[\"more.yaml\"]", "[\"a.yaml\", \"b.yaml\"]");
    write_files(
        dir.path(),
        &[
            ("teamsync.yaml", root),
            ("a.yaml", "groups:\n  - nam: X\n".into()),
            (
                "b.yaml",
                "people:\n  z: {email: nope}\ngroups:\n  - name: G\n    members: [ghost, z]\n"
                    .into(),
            ),
        ],
    );
    let diags = config::load(&dir.path().join("teamsync.yaml")).unwrap_err();
    let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert!(
        messages.iter().any(|m| m.contains("unknown key `nam`")),
        "{messages:?}"
    );
    // b.yaml is schema-valid, so its semantic errors are only found once a.yaml is fixed;
    // schema errors from all files come together.
    let dir2 = tempfile::tempdir().unwrap();
    write_files(
        dir2.path(),
        &[
            ("teamsync.yaml", ROOT.to_string()),
            (
                "more.yaml",
                "people:\n  z: {email: nope}\ngroups:\n  - name: G\n    members: [ghost, z]\n"
                    .into(),
            ),
        ],
    );
    let diags = config::load(&dir2.path().join("teamsync.yaml")).unwrap_err();
    let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].contains("`nope` is not a valid email address"));
    assert!(messages[1].contains("unknown person `ghost`"));
}
#[test]
fn a_schema_error_in_one_file_does_not_hide_semantic_errors_in_others() {
    let root = ROOT.replace(
        "[\"more.yaml\"]",
        "[\"more.yaml\", \"people.yaml\", \"teams.yaml\"]",
    );
    let (dir, diags) = load_errors(&[
        ("teamsync.yaml", &root),
        // Schema error (unknown key), and a reference that would be a semantic error:
        // the file is left out of the semantic checks, so only the schema error shows.
        ("more.yaml", "groups:\n  - name: G\n    membres: [ghost]\n"),
        ("people.yaml", PEOPLE),
        (
            "teams.yaml",
            "teams:\n  - name: Writers\n    provider: docs\n    members: [alice, nobody]\n",
        ),
    ]);
    let got = summary(dir.path(), &diags);
    assert_eq!(got.len(), 2, "{}", config::report::render(&diags));
    assert_eq!((got[0].0.as_str(), got[0].1), ("more.yaml", 3));
    assert!(got[0].2.contains("unknown key `membres`"), "{got:?}");
    assert_eq!((got[1].0.as_str(), got[1].1), ("teams.yaml", 4));
    assert!(got[1].2.contains("unknown person `nobody`"), "{got:?}");
}

#[test]
fn an_unknown_provider_kind_does_not_hide_semantic_errors_in_other_files() {
    let root = ROOT.replace("kind: gitbook", "kind: gitbok");
    let (dir, diags) = load_errors(&[
        ("teamsync.yaml", &root),
        (
            "more.yaml",
            // `docs` is broken, so its team is not an error twice; the person in the
            // PixieBrix group still is, and so is a person broken in the roster.
            "people:\n  alice: {email: alice@acme.com}\n  bob: {emial: bob@acme.com}\nteams:\n  - name: Writers\n    provider: docs\n    members: [alice, ghost]\ngroups:\n  - name: G\n    provider: pb\n    members: [alice, bob, carol]\n",
        ),
    ]);
    let got = summary(dir.path(), &diags);
    let text = config::report::render(&diags);
    assert!(
        got.iter().any(|(f, l, m)| f == "teamsync.yaml"
            && *l == 4
            && m.contains("unknown provider kind `gitbok`")),
        "{text}"
    );
    assert!(
        got.iter()
            .any(|(f, l, m)| f == "more.yaml" && *l == 3 && m.contains("unknown key `emial`")),
        "{text}"
    );
    // more.yaml has a schema error too, so it is only context (carol is not reported);
    // the next case has it clean.
    assert!(!text.contains("unknown provider `docs`"), "{text}");
    // Sorted by file, then line.
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(got, sorted);

    let (dir, diags) = load_errors(&[
        ("teamsync.yaml", &root),
        (
            "more.yaml",
            "people:\n  alice: {email: alice@acme.com}\nteams:\n  - name: Writers\n    provider: docs\n    members: [alice, ghost]\ngroups:\n  - name: G\n    members: [alice, carol]\n",
        ),
    ]);
    let got = summary(dir.path(), &diags);
    let text = config::report::render(&diags);
    assert_eq!(got.len(), 2, "{text}");
    // Sorted by file name, then line.
    assert_eq!((got[0].0.as_str(), got[0].1), ("more.yaml", 9), "{text}");
    assert!(got[0].2.contains("unknown person `carol`"), "{text}");
    assert_eq!(
        (got[1].0.as_str(), got[1].1),
        ("teamsync.yaml", 4),
        "{text}"
    );
}
#[test]
fn a_file_that_does_not_parse_is_the_one_error_not_a_cascade_of_unknown_people() {
    let root = ROOT.replace("[\"more.yaml\"]", "[\"more.yaml\", \"groups.yaml\"]");
    let (dir, diags) = load_errors(&[
        ("teamsync.yaml", &root),
        (
            "more.yaml",
            "people:\n  alice: {email: alice@acme.com}\n---\nx: 1\n",
        ),
        (
            "groups.yaml",
            "groups:\n  - name: G\n    members: [alice]\n",
        ),
    ]);
    assert_eq!(
        summary(dir.path(), &diags),
        vec![(
            "more.yaml".to_string(),
            3,
            "invalid YAML: a second YAML document starts here; a teamsync file holds one"
                .to_string()
        )],
        "{}",
        config::report::render(&diags)
    );
}
