//! Reading the files: size, encoding, a missing root, YAML 1.1 scalars and unclosed brackets.

use std::io::Write;

use super::*;

#[test]
fn a_50_mb_file_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("teamsync.yaml", ROOT.to_string())]);
    let big = std::fs::File::create(dir.path().join("more.yaml")).unwrap();
    big.set_len(50 * 1024 * 1024).unwrap();
    let diags = config::load(&dir.path().join("teamsync.yaml")).unwrap_err();
    assert!(
        diags[0]
            .message
            .contains("file is 50 MiB, larger than the 10 MiB"),
        "{diags:?}"
    );
    assert_eq!(
        diags[0].location.as_ref().unwrap().file,
        dir.path().join("more.yaml")
    );
}

#[test]
fn invalid_utf8_is_located() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("teamsync.yaml", ROOT.to_string())]);
    let mut f = std::fs::File::create(dir.path().join("more.yaml")).unwrap();
    f.write_all(b"people:\n  al\xffice: {email: a@acme.com}\n")
        .unwrap();
    let diags = config::load(&dir.path().join("teamsync.yaml")).unwrap_err();
    let pos = diags[0].location.as_ref().unwrap().position.unwrap();
    assert_eq!(
        (diags[0].message.as_str(), pos.line, pos.column),
        ("the file is not valid UTF-8", 2, 5)
    );
}

#[test]
fn a_missing_root_or_a_folder_without_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = config::load(&dir.path().join("nope.yaml")).unwrap_err();
    assert!(
        missing[0].message.starts_with("configuration not found:"),
        "{missing:?}"
    );
    let folder = config::load(dir.path()).unwrap_err();
    assert!(
        folder[0].message.ends_with("holds no teamsync.yaml"),
        "{folder:?}"
    );
}
#[test]
fn yaml_1_1_booleans_do_not_turn_names_into_false_and_x_keys_hold_anchors() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("teamsync.yaml", ROOT.to_string()),
            ("more.yaml", "x-team: &members [alice]\npeople:\n  alice: {email: alice@acme.com}\ngroups:\n  - name: no\n    members: *members\n".into()),
        ],
    );
    let loaded = config::load(&dir.path().join("teamsync.yaml"))
        .unwrap_or_else(|e| panic!("{}", config::report::render(&e)));
    let names: Vec<&str> = loaded
        .desired
        .resources
        .keys()
        .map(|k| k.name.as_str())
        .collect();
    assert_eq!(names, vec!["no"]);
}
#[test]
fn an_unclosed_bracket_is_reported_where_it_opens() {
    for (text, line, column) in [
        (
            "groups:\n  - name: G\n    members: [alice, bob\n  - name: H\n    members: []\n",
            3,
            14,
        ),
        (
            "people:\n  alice: {email: alice@acme.com\n  bob: {email: bob@acme.com}\n",
            2,
            10,
        ),
        ("groups:\n  - name: G\n    members: [alice,\n", 3, 14),
    ] {
        let (dir, diags) = load_errors(&[("teamsync.yaml", ROOT), ("more.yaml", text)]);
        let got = summary(dir.path(), &diags);
        let d = &diags[0];
        let p = d.location.as_ref().and_then(|l| l.position).unwrap();
        assert_eq!(
            (got[0].0.as_str(), p.line, p.column),
            ("more.yaml", line, column),
            "{}",
            config::report::render(&diags)
        );
        assert!(
            d.message.contains("never closed") || d.message.contains("unclosed"),
            "{}",
            d.message
        );
    }
}
