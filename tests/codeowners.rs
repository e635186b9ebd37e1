//! `teamsync codeowners` through the binary (issue 35 item 2): the CODEOWNERS file the
//! configuration gives, where team owners approve their own team's file and only the
//! fallback approves the root file and the roster; `--check` for CI; never over a file
//! teamsync did not write; `validate` warns when the file is stale; and every `github:`
//! or `codeowners:` mistake is a located error.

mod common;

use std::path::Path;

use assert_cmd::Command;
use common::*;

const FALLBACK: &str = "@acme/access-admins";

fn teamsync() -> Command {
    let mut cmd = Command::cargo_bin("teamsync").expect("binary");
    cmd.env_remove("GITHUB_ACTIONS").env("NO_COLOR", "1");
    cmd
}

/// `teamsync codeowners --out -` of `repo`: the text it would write.
fn rendered(repo: &Repo) -> String {
    let out = repo.run(&["codeowners", "--out", "-"]).code(0);
    stdout(&out)
}

/// The line whose pattern is `pattern`, and the comment lines just above it.
fn line_of<'a>(text: &'a str, pattern: &str) -> (&'a str, Vec<&'a str>) {
    let lines: Vec<&str> = text.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.split(' ').next() == Some(pattern))
        .unwrap_or_else(|| panic!("no line for {pattern}:\n{text}"));
    let mut comments = Vec::new();
    let mut j = i;
    while j > 0 && lines[j - 1].starts_with('#') {
        j -= 1;
        comments.push(lines[j]);
    }
    (lines[i], comments)
}

fn codeowners_file(repo: &Repo) -> std::path::PathBuf {
    repo.path().join("CODEOWNERS")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read")
}

/// `file:line:column` of `value` on the first line of the repository's file `name` that
/// starts (indentation aside) with `line_start`.
fn located(repo: &Repo, name: &str, line_start: &str, value: &str) -> String {
    let text = read(&repo.path().join(name));
    let (n, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.trim_start().starts_with(line_start))
        .unwrap_or_else(|| panic!("{name} has a line starting {line_start:?}"));
    let column = line
        .find(value)
        .unwrap_or_else(|| panic!("{line:?} holds {value:?}"))
        + 1;
    format!("{name}:{}:{column}", n + 1)
}

#[test]
fn the_examples_codeowners_is_the_one_committed_beside_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = teamsync()
        .current_dir(root)
        .args(["codeowners", "--config", "examples/acme", "--out", "-"])
        .assert()
        .code(0);
    let committed = read(&root.join("examples/acme/CODEOWNERS"));
    assert_eq!(
        stdout(&out),
        committed,
        "run `teamsync codeowners --config examples/acme` and commit examples/acme/CODEOWNERS"
    );
    assert!(
        committed
            .starts_with("# This file is written by teamsync from /examples/acme/teamsync.yaml")
    );
    // In a copy laid out the same way it is current too, and --check says so.
    let repo = copy_example();
    assert_eq!(rendered(&repo), committed);
    repo.run(&["codeowners", "--check"]).code(0);
}

#[test]
fn a_team_owner_approves_their_teams_file_and_never_the_roster_or_the_root() {
    let repo = copy_example();
    let text = rendered(&repo);
    // The folder comes first: GitHub takes the last matching line.
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with('/')).collect();
    assert_eq!(lines[0], format!("/examples/acme/ {FALLBACK}"), "{text}");
    let (writers, _) = line_of(&text, "/examples/acme/teams/docs-writers.yaml");
    assert_eq!(
        writers,
        format!("/examples/acme/teams/docs-writers.yaml @alice-acme {FALLBACK}")
    );
    let (reviewers, _) = line_of(&text, "/examples/acme/teams/docs-api-reviewers.yaml");
    assert!(reviewers.contains("@erin-dev") && !reviewers.contains("@alice-acme"));
    // The organization's admin approves the organization's file.
    let (org, _) = line_of(&text, "/examples/acme/pixiebrix/organization.yaml");
    assert!(org.contains("@mallory-sec"), "{org}");
    for roster_or_policy in [
        "/examples/acme/people.yaml",
        "/examples/acme/teamsync.yaml",
        "/examples/acme/CODEOWNERS",
    ] {
        let (line, _) = line_of(&text, roster_or_policy);
        assert_eq!(line, format!("{roster_or_policy} {FALLBACK}"));
    }
    // A second owner is added to the line, sorted; a member is not.
    repo.edit(
        "teams/docs-writers.yaml",
        "      - heidi\n",
        "      - { person: heidi, role: owner }\n",
    );
    let text = rendered(&repo);
    let (writers, _) = line_of(&text, "/examples/acme/teams/docs-writers.yaml");
    assert_eq!(
        writers,
        format!("/examples/acme/teams/docs-writers.yaml @alice-acme @heidi-writes {FALLBACK}")
    );
    assert!(!writers.contains("@grace-docs"), "grace is a member");
    let (people, _) = line_of(&text, "/examples/acme/people.yaml");
    assert!(!people.contains("@heidi-writes") && !people.contains("@alice-acme"));
}

#[test]
fn a_team_whose_owner_has_no_github_name_gets_the_fallback_and_a_comment() {
    let repo = copy_example();
    repo.edit("people.yaml", " github: erin-dev,", "");
    let text = rendered(&repo);
    let (line, comments) = line_of(&text, "/examples/acme/teams/docs-api-reviewers.yaml");
    assert_eq!(
        line,
        format!("/examples/acme/teams/docs-api-reviewers.yaml {FALLBACK}")
    );
    assert_eq!(
        comments,
        vec![
            "# No approver but the fallback for docs.team[\"API Reviewers\"] (no owner has a `github:` username)"
        ]
    );
    // A Contentful team has no owner role at all: the comment says so.
    let (_, comments) = line_of(&text, "/examples/acme/teams/cms-editors.yaml");
    assert!(
        comments
            .iter()
            .any(|c| c.contains("cms.team[\"Editors\"]") && c.contains("have no owner role")),
        "{comments:?}"
    );
    // Her owner line in Writers is not affected.
    let (writers, comments) = line_of(&text, "/examples/acme/teams/docs-writers.yaml");
    assert!(writers.contains("@alice-acme") && comments.is_empty());
}

#[test]
fn check_exits_0_when_current_and_1_when_missing_or_stale_and_writes_nothing() {
    let repo = copy_example();
    let file = codeowners_file(&repo);
    let current = read(&file);
    let ok = repo.run(&["codeowners", "--check"]).code(0);
    assert!(stderr(&ok).contains("is up to date"), "{}", stderr(&ok));

    // An owner change makes it stale: exit 1, what to run, and the line that differs.
    repo.edit(
        "teams/docs-writers.yaml",
        "      - heidi\n",
        "      - { person: heidi, role: owner }\n",
    );
    let stale = repo.run(&["codeowners", "--check"]).code(1);
    let err = stderr(&stale);
    assert!(
        err.contains(&format!("{} is out of date", file.display()))
            && err.contains("run `teamsync codeowners"),
        "{err}"
    );
    assert!(
        err.contains("+ /examples/acme/teams/docs-writers.yaml @alice-acme @heidi-writes")
            && err.contains("- /examples/acme/teams/docs-writers.yaml @alice-acme @acme"),
        "{err}"
    );
    assert_eq!(read(&file), current, "--check writes nothing");

    repo.run(&["codeowners"]).code(0);
    assert_ne!(read(&file), current);
    repo.run(&["codeowners", "--check"]).code(0);

    std::fs::remove_file(&file).expect("rm");
    let missing = repo.run(&["codeowners", "--check"]).code(1);
    assert!(
        stderr(&missing).contains(&format!("{} does not exist", file.display())),
        "{}",
        stderr(&missing)
    );
    assert!(!file.exists(), "--check writes nothing");
    // `--check` compares a file, never stdout; with --force it makes no sense.
    repo.run(&["codeowners", "--check", "--out", "-"]).code(1);
    repo.run(&["codeowners", "--check", "--force"]).code(1);
}

#[test]
fn a_hand_written_codeowners_is_never_replaced_without_force() {
    let repo = copy_example();
    let file = codeowners_file(&repo);
    let generated = read(&file);
    let mine = "# Ours, by hand.\n* @acme/everyone\n";
    std::fs::write(&file, mine).expect("write");
    let refused = repo.run(&["codeowners"]).code(1);
    let err = stderr(&refused);
    assert!(
        err.contains(&file.display().to_string()) && err.contains("teamsync did not write it"),
        "{err}"
    );
    assert_eq!(read(&file), mine, "left as it is");
    // --check says so too, and how to replace it.
    let check = repo.run(&["codeowners", "--check"]).code(1);
    assert!(stderr(&check).contains("--force"), "{}", stderr(&check));

    repo.run(&["codeowners", "--force"]).code(0);
    assert_eq!(read(&file), generated);

    // --out must be named CODEOWNERS, and is never a file of the configuration.
    let people = repo.path().join("people.yaml");
    let before = read(&people);
    repo.run(&["codeowners", "--out", people.to_str().expect("utf-8")])
        .code(1);
    let named = repo.path().join("OWNERS");
    let out = repo
        .run(&["codeowners", "--out", named.to_str().expect("utf-8")])
        .code(1);
    assert!(
        stderr(&out).contains("must be named CODEOWNERS"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&people), before);
    assert!(!named.exists());
}

#[test]
fn every_command_that_loads_the_config_warns_when_codeowners_is_stale_at_the_codeowners_key() {
    let repo = copy_example();
    let clean = repo.run(&["validate"]).code(0);
    assert!(!stderr(&clean).contains("warning"), "{}", stderr(&clean));

    repo.edit("people.yaml", "github: alice-acme", "github: alice-writes");
    let at = located(&repo, "teamsync.yaml", "codeowners:", "codeowners:");
    let warning = format!(
        "{}: warning: CODEOWNERS is out of date: run `teamsync codeowners`",
        repo.path().join(at).display()
    );
    let valid = repo.run(&["validate"]).code(0);
    assert!(stderr(&valid).contains(&warning), "{}", stderr(&valid));
    let plan = repo.run(&["plan", "--color", "never"]).code(0);
    assert!(stderr(&plan).contains(&warning), "{}", stderr(&plan));
    // The command that fixes it does not warn about it: it fixes it.
    let fixed = repo.run(&["codeowners"]).code(0);
    assert!(!stderr(&fixed).contains("warning"), "{}", stderr(&fixed));
    assert!(read(&codeowners_file(&repo)).contains("@alice-writes"));
    let valid = repo.run(&["validate"]).code(0);
    assert!(!stderr(&valid).contains("warning"), "{}", stderr(&valid));

    // A missing file is --check's to report, not every command's.
    std::fs::remove_file(codeowners_file(&repo)).expect("rm");
    let valid = repo.run(&["validate"]).code(0);
    assert!(!stderr(&valid).contains("warning"), "{}", stderr(&valid));
}

#[test]
fn hostile_github_names_are_located_errors_with_the_fix_and_exit_1() {
    let long = "a".repeat(40);
    let cases: [(&str, &str, &str); 4] = [
        (
            "\"@alice\"",
            "GitHub username `@alice` starts with `@`",
            "drop the `@`: write `alice`",
        ),
        (
            "-bob",
            "GitHub username `-bob` starts with a hyphen",
            "remove the hyphen at the edge: `bob`",
        ),
        (&long, "is 40 characters long", "at most 39 characters"),
        (
            "a--b",
            "GitHub username `a--b` has two hyphens in a row",
            "single hyphens only: `a-b`",
        ),
    ];
    for (value, message, hint) in cases {
        let repo = copy_example();
        repo.edit(
            "people.yaml",
            "github: alice-acme,",
            &format!("github: {value},"),
        );
        let at = located(&repo, "people.yaml", "alice:", value);
        for command in [
            &["validate"][..],
            &["codeowners"],
            &["codeowners", "--check"],
        ] {
            let out = repo.run(command).code(1);
            let err = stderr(&out);
            assert!(
                err.contains(&format!("{}: error: ", repo.path().join(&at).display()))
                    && err.contains(message)
                    && err.contains("hint: ")
                    && err.contains(hint),
                "{command:?} with github: {value}:\n{err}"
            );
        }
        assert!(
            read(&codeowners_file(&repo)).contains("@alice-acme"),
            "nothing written on a bad config"
        );
    }

    // The same account twice, whatever its case: both places are named.
    let repo = copy_example();
    repo.edit("people.yaml", "github: bob-acme", "github: Alice-ACME");
    let bob = located(&repo, "people.yaml", "bob:", "Alice-ACME");
    let alice = located(&repo, "people.yaml", "alice:", "alice-acme");
    let out = repo.run(&["validate"]).code(1);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{}: error: `bob` and `alice` have the same GitHub username `Alice-ACME`",
            repo.path().join(bob).display()
        )) && err.contains(&format!(
            "{}: note: `alice` declared here",
            repo.path().join(alice).display()
        )),
        "{err}"
    );
}

#[test]
fn the_codeowners_section_is_checked_where_it_is_written() {
    // (from, to, message, the line the error is on, the text it points at)
    let fallback = "  fallback: [\"@acme/access-admins\"]\n";
    let path = "  path: CODEOWNERS\n";
    let cases = [
        (
            fallback,
            "  fallback: []\n",
            "`codeowners.fallback` is empty",
            "fallback:",
            "[]",
        ),
        (
            fallback,
            "  fallback: [\"acme/access-admins\"]\n",
            "does not start with `@`",
            "fallback:",
            "\"acme/access-admins\"",
        ),
        (
            fallback,
            "  fallback: [\"@acme/admins\", \"@acme/access admins\"]\n",
            "team slug `access admins` contains ` `",
            "fallback:",
            "\"@acme/access admins\"",
        ),
        (
            fallback,
            "  fallback: [\"@acme/admins\", \"@ACME/admins\"]\n",
            "listed twice",
            "fallback:",
            "\"@ACME/admins\"",
        ),
        (
            path,
            "  path: OWNERS\n",
            "does not name a file called CODEOWNERS",
            "path:",
            "OWNERS",
        ),
        (
            path,
            "  path: ../../../elsewhere/CODEOWNERS\n",
            "leaves the repository",
            "path:",
            "../",
        ),
        (
            path,
            "  path: /etc/CODEOWNERS\n",
            "is not a path relative to the root file's folder",
            "path:",
            "/etc",
        ),
    ];
    for (from, to, message, line, value) in cases {
        let repo = copy_example();
        repo.edit("teamsync.yaml", from, to);
        let at = located(&repo, "teamsync.yaml", line, value);
        let out = repo.run(&["validate"]).code(1);
        let err = stderr(&out);
        assert!(
            err.contains(&format!("{}: error: ", repo.path().join(at).display()))
                && err.contains(message)
                && err.contains("hint: "),
            "{to}:\n{err}"
        );
    }
    // Only the root file may say it.
    let repo = copy_example();
    repo.edit(
        "people.yaml",
        "people:\n",
        "codeowners:\n  fallback: [\"@me\"]\npeople:\n",
    );
    let out = repo.run(&["validate"]).code(1);
    assert!(
        stderr(&out).contains("`codeowners` is only allowed in the root file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn without_a_codeowners_section_the_command_says_what_to_add_and_reads_no_api() {
    let repo = copy_example();
    let root = read(&repo.path().join("teamsync.yaml"));
    let start = root.find("# Who approves").expect("the section");
    repo.write("teamsync.yaml", &root[..start]);
    let out = repo.run(&["codeowners"]).code(1);
    let err = stderr(&out);
    assert!(
        err.contains("no `codeowners:` section")
            && err.contains("codeowners:\n    fallback: [\"@acme/access-admins\"]"),
        "{err}"
    );
    let valid = repo.run(&["validate"]).code(0);
    assert!(!stderr(&valid).contains("warning"), "{}", stderr(&valid));

    // No API is read: with every endpoint refusing connections it works all the same.
    let repo = copy_example();
    let root = read(&repo.path().join("teamsync.yaml")).replace(
        "endpoint: sandbox:live-state.json",
        "endpoint: https://127.0.0.1:9",
    );
    repo.write("teamsync.yaml", &root);
    repo.run(&["codeowners", "--check"]).code(0);
}

#[test]
fn the_default_path_is_dot_github_at_the_repository_root_and_spaces_are_escaped() {
    let repo = Repo::new(&[
        (
            "access team/teamsync.yaml",
            "version: 1\nproviders:\n  docs: {kind: gitbook, organization: acme, token_env: GITBOOK_TOKEN}\ninclude: [\"people.yaml\", \"teams/*.yaml\"]\ncodeowners:\n  fallback: [\"@acme/admins\", \"@root-admin\"]\n",
        ),
        (
            "access team/people.yaml",
            // A team declared beside the roster: its owner does not approve the roster.
            "people:\n  ada: {email: ada@acme.com, github: Ada-L}\n  bob: {email: bob@acme.com, github: bob-gh}\nteams:\n  - name: Roster Keepers\n    members: [{person: bob, role: owner}]\n",
        ),
        (
            "access team/teams/the writers.yaml",
            "teams:\n  - name: Writers\n    members:\n      - {email: bob@acme.com, role: owner}\n      - {person: ada, role: owner}\n",
        ),
    ]);
    std::fs::create_dir_all(repo.path().join(".git")).expect("mkdir");
    let config = repo.path().join("access team");
    teamsync()
        .arg("codeowners")
        .arg("--config")
        .arg(&config)
        .assert()
        .code(0);
    let written = read(&repo.path().join(".github/CODEOWNERS"));
    let lines: Vec<&str> = written.lines().filter(|l| l.starts_with('/')).collect();
    assert_eq!(
        lines,
        vec![
            // The folder first, then every file in path order.
            "/access\\ team/ @acme/admins @root-admin",
            "/.github/CODEOWNERS @acme/admins @root-admin",
            "/access\\ team/people.yaml @acme/admins @root-admin",
            // An owner named by address is the person with that address; owners are
            // sorted ignoring case, the fallback follows in its own order.
            "/access\\ team/teams/the\\ writers.yaml @Ada-L @bob-gh @acme/admins @root-admin",
            "/access\\ team/teamsync.yaml @acme/admins @root-admin",
        ]
    );
    assert!(
        written.contains("# Its containers' owners do not approve it: docs.team[\"Roster Keepers\"]\n/access\\ team/people.yaml @acme/admins @root-admin\n"),
        "{written}"
    );
    teamsync()
        .arg("codeowners")
        .arg("--check")
        .arg("--config")
        .arg(&config)
        .assert()
        .code(0);
}

/// In CODEOWNERS the last matching line wins, so a line moved is a line wrong: the
/// folder's catch-all moved below a team's line takes that team's approval away, and
/// `--check` names the moved line, not only that the file differs.
#[test]
fn check_names_a_line_that_moved() {
    let repo = copy_example();
    let file = codeowners_file(&repo);
    let current = read(&file);
    let catch_all = "/examples/acme/ @acme/access-admins\n";
    assert!(current.contains(catch_all), "{current}");
    let moved = format!("{}{catch_all}", current.replacen(catch_all, "", 1));
    std::fs::write(&file, &moved).expect("write");
    let out = repo.run(&["codeowners", "--check"]).code(1);
    let err = stderr(&out);
    assert!(
        err.contains("- /examples/acme/ @acme/access-admins")
            && err.contains("+ /examples/acme/ @acme/access-admins"),
        "{err}"
    );
}
