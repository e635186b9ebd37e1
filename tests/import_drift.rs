//! `teamsync import --drift` (issue 35 item 4): the live change of `exact` containers is
//! adopted into the files that declare them instead of being reverted. Without `--force`
//! it prints the diff and writes nothing (exit 2 for drift, 0 for none); with `--force` it
//! writes only the changed entries, every other byte kept, and the next plan has no member
//! change left for them. `additive` and `observe` containers, members live knows only by
//! user id, and flow-style lists (rewritten in block style) are reported.

mod common;

use common::*;
use serde_json::{Value, json};

const ROOT: &str = "# The root.\nversion: 1\nproviders:\n  docs:\n    kind: gitbook\n    organization: acme\n    endpoint: sandbox:state.json\npolicy:\n  allowed_email_domains: [acme.com]\ninclude: [\"people.yaml\", \"teams/*.yaml\"]\n";

const PEOPLE: &str = "# Everyone.\npeople:\n  alice: { email: alice@acme.com }   # lead\n  bob:   { email: bob@acme.com }\n  carol: { email: carol@acme.com }\n  dan:   { email: dan@acme.com }\n  # contractors below\n  frank: { email: frank@acme.com }\n";

const TEAMS: &str = "# The docs teams.\nteams:\n  - name: Writers   # the writing team\n    provider: docs\n    members:\n      - alice          # lead writer\n      # bob joined in May\n      - bob\n      - { person: carol,   role: owner }\n      - person: dan\n        role: member\n\n  - name: Reviewers\n    mode: additive\n    members: [alice, bob]\n  - name: Mirror\n    mode: observe\n    members:\n      - alice\n  - name: Flow\n    members: [alice, 'bob']   # flow style\n\n# One more person, here.\npeople:\n  zed: { email: zed@acme.com }\n";

/// The organization and its teams, each team as (user id, role) pairs.
fn state(teams: &[(&str, &[(&str, &str)])]) -> Value {
    let mut members: Vec<Value> = ["alice", "bob", "carol", "dan", "erin", "frank", "zed"]
        .iter()
        .map(|n| json!({"id": format!("u_{n}"), "name": n, "email": format!("{n}@acme.com"), "role": "edit"}))
        .collect();
    members.push(json!({"id": "u_ghost", "name": "Ghost", "email": null, "role": "read"}));
    members.push(json!({"id": "u_teamsync", "name": "teamsync", "email": "teamsync-bot@acme.com", "role": "admin"}));
    let teams: Vec<Value> = teams
        .iter()
        .enumerate()
        .map(|(i, (title, who))| {
            json!({"id": format!("t{i}"), "title": title, "members": who.iter().map(|(u, r)| json!({"user": format!("u_{u}"), "role": r})).collect::<Vec<_>>()})
        })
        .collect();
    json!({"gitbook": {"me": "u_teamsync", "organizations": {"acme": {"members": members, "teams": teams}}}})
}

/// Live as the configuration says, but: erin joined Writers, bob left it, dan became an
/// owner, and a member GitBook gives no email for is in it; Reviewers (additive) and
/// Mirror (observe) gained frank; Flow lost bob and gained frank.
fn drifted() -> Value {
    state(&[
        (
            "Writers",
            &[
                ("alice", "member"),
                ("carol", "owner"),
                ("dan", "owner"),
                ("erin", "member"),
                ("ghost", "member"),
            ],
        ),
        ("Reviewers", &[("alice", "member"), ("frank", "member")]),
        ("Mirror", &[("frank", "member")]),
        ("Flow", &[("alice", "member"), ("frank", "member")]),
    ])
}

/// The live state equal to the config, with `extra` members more in Writers.
fn as_declared(extra: &[(&str, &str)]) -> Value {
    let mut writers = vec![
        ("alice", "member"),
        ("bob", "member"),
        ("carol", "owner"),
        ("dan", "member"),
    ];
    writers.extend_from_slice(extra);
    state(&[
        ("Writers", &writers),
        ("Reviewers", &[("alice", "member"), ("bob", "member")]),
        ("Mirror", &[("alice", "member")]),
        ("Flow", &[("alice", "member"), ("bob", "member")]),
    ])
}

fn repo(live: &Value) -> Repo {
    let repo = Repo::new(&[
        ("teamsync.yaml", ROOT),
        ("people.yaml", PEOPLE),
        ("teams/docs.yaml", TEAMS),
    ]);
    repo.write_json("state.json", live);
    repo
}

fn read(repo: &Repo, name: &str) -> String {
    std::fs::read_to_string(repo.path().join(name)).unwrap()
}

/// The line diff of `before` and `after` deletes exactly `removed` and inserts exactly
/// `added`, in order: every other line is byte for byte as it was, and where it was.
fn only_these_lines_changed(before: &str, after: &str, removed: &[&str], added: &[&str]) {
    use similar::ChangeTag;
    let diff = similar::TextDiff::from_lines(before, after);
    let lines = |tag: ChangeTag| -> Vec<String> {
        diff.iter_all_changes()
            .filter(|c| c.tag() == tag)
            .map(|c| c.value().trim_end_matches('\n').to_string())
            .collect()
    };
    assert_eq!(lines(ChangeTag::Delete), removed, "{after}");
    assert_eq!(lines(ChangeTag::Insert), added, "{after}");
}

const WRITERS_AFTER: &str = "# The docs teams.\nteams:\n  - name: Writers   # the writing team\n    provider: docs\n    members:\n      - alice          # lead writer\n      # bob joined in May\n      - { person: carol,   role: owner }\n      - person: dan\n        role: owner\n      - erin\n\n  - name: Reviewers\n    mode: additive\n    members: [alice, bob]\n  - name: Mirror\n    mode: observe\n    members:\n      - alice\n  - name: Flow\n    members:   # flow style\n      - alice\n      - frank\n\n# One more person, here.\npeople:\n  zed: { email: zed@acme.com }\n";

#[test]
fn drift_is_shown_as_a_diff_and_nothing_is_written_without_force() {
    let repo = repo(&drifted());
    let out = repo.run(&["import", "--drift"]).code(2);
    let diff = stdout(&out);
    let err = stderr(&out);
    for line in [
        "--- a/teams/docs.yaml",
        "+++ b/teams/docs.yaml",
        "-      - bob\n",
        "-        role: member\n",
        "+        role: owner\n",
        "+      - erin\n",
        "-    members: [alice, 'bob']   # flow style\n",
        "+      - frank\n",
        "--- a/people.yaml",
        "+  erin: { email: erin@acme.com }\n",
    ] {
        assert!(diff.contains(line), "{line:?} in\n{diff}");
    }
    // Only the two files change; nothing was written.
    assert_eq!(diff.matches("\n--- a/").count() + 1, 2, "{diff}");
    assert_eq!(read(&repo, "teams/docs.yaml"), TEAMS);
    assert_eq!(read(&repo, "people.yaml"), PEOPLE);
    assert_eq!(read(&repo, "teamsync.yaml"), ROOT);
    assert!(err.contains("Nothing was written"), "{err}");
    assert!(
        err.contains(
            "adopt: docs.team[\"Writers\"] in teams/docs.yaml: +erin, -bob, dan: role owner"
        ),
        "{err}"
    );
}

#[test]
fn force_writes_only_the_changed_members_and_the_next_plan_has_none_for_them() {
    let repo = repo(&drifted());
    let out = repo.run(&["import", "--drift", "--force"]).code(0);
    let err = stderr(&out);
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let teams = read(&repo, "teams/docs.yaml");
    assert_eq!(teams, WRITERS_AFTER);
    only_these_lines_changed(
        TEAMS,
        &teams,
        &[
            "      - bob",
            "        role: member",
            "    members: [alice, 'bob']   # flow style",
        ],
        &[
            "        role: owner",
            "      - erin",
            "    members:   # flow style",
            "      - alice",
            "      - frank",
        ],
    );
    // The new person joins the roster file that holds the most people, after its last.
    let people = read(&repo, "people.yaml");
    only_these_lines_changed(PEOPLE, &people, &[], &["  erin: { email: erin@acme.com }"]);
    assert!(
        people.ends_with("  frank: { email: frank@acme.com }\n  erin: { email: erin@acme.com }\n")
    );
    assert_eq!(read(&repo, "teamsync.yaml"), ROOT);

    // What was left alone, and why, is said.
    assert!(err.contains("wrote "), "{err}");
    assert!(
        err.contains("note: docs.team[\"Flow\"] in teams/docs.yaml: it was written in flow style (`[…]`); its members list is rewritten in block style"),
        "{err}"
    );
    for said in [
        "left alone: docs.team[\"Reviewers\"]: mode: additive: 1 live and not listed, 1 listed and not live",
        "left alone: docs.team[\"Mirror\"]: mode: observe: 1 live and not listed, 1 listed and not live",
        "left alone: docs.team[\"Writers\"]: user_id:u_ghost: live gives no email",
    ] {
        assert!(err.contains(said), "{said:?} in\n{err}");
    }
    assert!(!teams.contains("ghost"), "{teams}");

    // The next plan, against the same live state, has no member change for the adopted
    // containers; the additive one still adds bob, as before.
    let plan = repo.plan_json(2);
    let changes = member_changes(&plan);
    assert_eq!(
        changes,
        vec![(
            "docs.team[Reviewers]".to_string(),
            "bob@acme.com".to_string(),
            "add".to_string()
        )],
        "{plan}"
    );
    // And nothing is left to adopt: a second run writes nothing.
    let again = repo.run(&["import", "--drift"]).code(0);
    assert!(stdout(&again).is_empty());
    assert!(
        stderr(&again).contains("No drift to adopt"),
        "{}",
        stderr(&again)
    );
    assert_eq!(read(&repo, "teams/docs.yaml"), WRITERS_AFTER);
}

#[test]
fn no_drift_exits_0_and_writes_nothing() {
    let live = as_declared(&[]);
    let repo = repo(&live);
    for args in [
        &["import", "--drift"][..],
        &["import", "--drift", "--force"],
    ] {
        let out = repo.run(args).code(0);
        assert!(stdout(&out).is_empty(), "{}", stdout(&out));
        assert!(
            stderr(&out).contains("No drift to adopt"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(read(&repo, "teams/docs.yaml"), TEAMS);
    assert_eq!(read(&repo, "people.yaml"), PEOPLE);
}

#[test]
fn only_a_member_known_by_user_id_is_reported_not_adopted() {
    let live = as_declared(&[("ghost", "member")]);
    let repo = repo(&live);
    let out = repo.run(&["import", "--drift", "--force"]).code(0);
    let err = stderr(&out);
    assert!(
        err.contains("user_id:u_ghost: live gives no email"),
        "{err}"
    );
    assert!(err.contains("No drift to adopt"), "{err}");
    assert_eq!(read(&repo, "teams/docs.yaml"), TEAMS);
}

#[test]
fn drift_conflicts_with_all_and_out() {
    let repo = repo(&drifted());
    for extra in [&["--all"][..], &["--out", "x"]] {
        let mut args = vec!["import", "--drift"];
        args.extend_from_slice(extra);
        let out = repo.run(&args).code(1);
        assert!(
            stderr(&out).contains("cannot be used with"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(read(&repo, "teams/docs.yaml"), TEAMS);
}

#[test]
fn a_list_shared_through_an_anchor_is_reported_not_edited() {
    // Editing the anchor would change every list that uses it: left to the user.
    let teams = "x-crew: &crew [alice, bob]\nteams:\n  - name: Writers\n    members: *crew\n";
    let repo = Repo::new(&[
        ("teamsync.yaml", ROOT),
        ("people.yaml", PEOPLE),
        ("teams/docs.yaml", teams),
    ]);
    repo.write_json("state.json", &state(&[("Writers", &[("alice", "member")])]));
    let out = repo.run(&["import", "--drift", "--force"]).code(0);
    let err = stderr(&out);
    assert!(
        err.contains(
            "left alone: docs.team[\"Writers\"]: its members are not a list teamsync can edit"
        ),
        "{err}"
    );
    assert!(
        err.contains("No drift to adopt; the differences above are left as they are"),
        "{err}"
    );
    assert_eq!(read(&repo, "teams/docs.yaml"), teams);
    assert_eq!(read(&repo, "people.yaml"), PEOPLE);
}

/// `--provider NAME` reads only that provider (a second one, which cannot be reached and
/// has no token, fails the run without it) and adopts only its containers; a name no
/// provider has is refused before any request, naming the ones there are.
#[test]
fn provider_reads_and_adopts_only_that_provider() {
    let repo = repo(&drifted());
    let root = ROOT.replace(
        "providers:\n",
        "providers:\n  pb:\n    kind: pixiebrix\n    organization: 0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11\n    endpoint: http://127.0.0.1:9\n    token_env: TEAMSYNC_TEST_NO_SUCH_TOKEN\n",
    );
    std::fs::write(repo.path().join("teamsync.yaml"), &root).unwrap();
    let pb = "groups:\n  - { provider: pb, name: Eng, members: [alice] }\n";
    std::fs::write(repo.path().join("teams/pb.yaml"), pb).unwrap();
    let out = repo
        .command(&["import", "--drift"])
        .env_remove("TEAMSYNC_TEST_NO_SUCH_TOKEN")
        .assert()
        .code(1);
    // The whole configuration is valid: it is the unreachable provider that fails.
    assert!(
        stderr(&out).contains("TEAMSYNC_TEST_NO_SUCH_TOKEN"),
        "{}",
        stderr(&out)
    );

    let out = repo
        .command(&["import", "--drift", "--provider", "docs"])
        .env_remove("TEAMSYNC_TEST_NO_SUCH_TOKEN")
        .assert()
        .code(2);
    let diff = stdout(&out);
    assert!(diff.contains("+      - erin\n"), "{diff}");
    assert!(
        stderr(&out).contains("adopt: docs.team[\"Writers\"] in teams/docs.yaml"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&repo, "teams/docs.yaml"), TEAMS);
    assert_eq!(read(&repo, "teams/pb.yaml"), pb);

    let out = repo
        .run(&["import", "--drift", "--provider", "nope"])
        .code(1);
    let err = stderr(&out);
    assert!(
        err.contains("no provider `nope`") && err.contains("configured: docs, pb"),
        "{err}"
    );
}
