//! Warnings from the configuration reach the user: every command that loads the
//! configuration prints them on stderr, located, and they change neither the exit code
//! nor what goes to stdout.

mod common;
use common::{a_config, copy_example, stderr, stdout};

const WARNING: &str =
    "teams/cms-editors.yaml:5:11: warning: name `␠Editors␠` has spaces around it; using `Editors`";

/// The example, with a team name written with spaces around it.
fn example_with_spaces() -> common::Repo {
    let repo = copy_example();
    let path = repo.path().join("teams/cms-editors.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("name: Editors\n"), "the example changed");
    std::fs::write(
        &path,
        text.replace("name: Editors\n", "name: \" Editors \"\n"),
    )
    .unwrap();
    repo
}

#[test]
fn a_trimmed_name_warns_on_stderr_of_validate_plan_and_apply_and_changes_nothing_else() {
    let clean = copy_example();
    let spaced = example_with_spaces();

    let valid = spaced.run(&["validate"]).code(0);
    assert!(stderr(&valid).contains(WARNING), "{}", stderr(&valid));
    assert!(!stdout(&valid).contains("warning"), "{}", stdout(&valid));

    let args = ["plan", "--detailed-exitcode", "--color", "never"];
    let expected = clean.run(&args);
    let code = expected.get_output().status.code();
    let got = spaced.run(&args);
    assert_eq!(got.get_output().status.code(), code, "{}", stderr(&got));
    assert!(stderr(&got).contains(WARNING), "{}", stderr(&got));
    assert!(
        !stderr(&expected).contains("warning:"),
        "{}",
        stderr(&expected)
    );
    assert_eq!(stdout(&got), stdout(&expected), "the plan is the same");

    let applied = spaced
        .run(&["apply", "--auto-approve", "--color", "never"])
        .code(0);
    assert!(stderr(&applied).contains(WARNING), "{}", stderr(&applied));
}

/// A group listing an address the exact roster does not hold is warned about at the group,
/// before any plan: the plan would block that person's roster removal.
#[test]
fn a_group_member_beyond_an_exact_roster_is_warned_about() {
    let repo = a_config()
        .provider("pb", "pixiebrix", "0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11")
        .endpoint("sandbox:state.json")
        .person("ann", "ann@acme.com")
        .organization("pb", Vec::<&str>::new())
        .set("roster", "exact")
        .group("pb", "G", ["ann", "zed@acme.com"])
        .write();
    repo.write_json("state.json", &serde_json::json!({}));
    let out = repo.run(&["validate"]).code(0);
    let err = stderr(&out);
    assert!(
        err.contains(r#"warning: pb.group["G"] lists zed@acme.com, whom the exact roster of `pb` does not hold"#)
            && err.contains("add them to `people`")
            && !err.contains("ann@acme.com"),
        "{err}"
    );
}
