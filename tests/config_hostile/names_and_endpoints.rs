//! Names, lookalikes, endpoints, ids and sandbox links, beyond the one-message corpus.

use super::*;

// Issue 14: names, lookalikes, endpoints and ids, beyond the one-message corpus above.

#[test]
fn two_declarations_that_differ_only_in_case_name_both_places() {
    let root = ROOT.replace("[\"more.yaml\"]", "[\"a.yaml\", \"b.yaml\"]");
    let (dir, diags) = load_errors(&[
        ("teamsync.yaml", &root),
        ("a.yaml", "teams:\n  - name: Writers\n    provider: docs\n"),
        ("b.yaml", "teams:\n  - provider: docs\n    name: writers\n"),
    ]);
    assert_eq!(diags.len(), 1, "{}", config::report::render(&diags));
    let d = &diags[0];
    assert_eq!(
        d.message,
        "team `writers` and `Writers` on provider `docs` differ only in case"
    );
    assert_eq!(
        d.location.as_ref().unwrap().to_string(),
        format!("{}:3:11", dir.path().join("b.yaml").display())
    );
    assert_eq!(
        d.related[0].0.to_string(),
        format!("{}:2:11", dir.path().join("a.yaml").display())
    );
    // Surrounding spaces are trimmed first, so ` Writers` next to `Writers` is the same
    // name declared twice, both places named.
    let (dir, diags) = load_errors(&[
        ("teamsync.yaml", &root),
        ("a.yaml", "teams:\n  - name: Writers\n    provider: docs\n"),
        (
            "b.yaml",
            "teams:\n  - name: \" Writers\"\n    provider: docs\n",
        ),
    ]);
    let errors: Vec<&Diagnostic> = diags
        .iter()
        .filter(|d| d.severity == teamsync::diag::Severity::Error)
        .collect();
    assert_eq!(errors.len(), 1, "{}", config::report::render(&diags));
    assert_eq!(
        errors[0].message,
        "docs.team[\"Writers\"] is declared twice"
    );
    assert_eq!(
        errors[0].related[0].0.to_string(),
        format!("{}:2:11", dir.path().join("a.yaml").display())
    );
}

#[test]
fn a_name_with_surrounding_spaces_is_trimmed_with_a_located_warning() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("teamsync.yaml", ROOT.to_string()),
            (
                "more.yaml",
                format!(
                    "{PEOPLE}groups:\n  - name: \"Sales \"\n    previously: [\" Old\"]\n    members: [alice]\n"
                ),
            ),
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
    assert_eq!(names, vec!["Sales"]);
    let r = loaded.desired.resources.values().next().unwrap();
    assert_eq!(r.previously, vec!["Old".to_string()]);
    assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
    let w = &loaded.warnings[0];
    assert_eq!(w.severity, teamsync::diag::Severity::Warning);
    assert_eq!(
        w.message,
        "name `Sales␠` has spaces around it; using `Sales`"
    );
    assert_eq!(
        w.location.as_ref().unwrap().to_string(),
        format!("{}:5:11", dir.path().join("more.yaml").display())
    );
    assert_eq!(w.hint.as_deref(), Some("write `Sales`"));
    // `validate` prints it and still succeeds.
    let out = assert_cmd::Command::cargo_bin("teamsync")
        .unwrap()
        .args(["validate", "--config"])
        .arg(dir.path())
        .env_remove("GITHUB_ACTIONS")
        .assert()
        .code(0);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains(":5:11: warning: name `Sales␠` has spaces around it; using `Sales`"),
        "{stderr}"
    );
}

#[test]
fn every_bad_allowed_email_domain_is_located_with_its_fix() {
    let root = ROOT.replace(
        "[acme.com]",
        "[\"*.acme.com\", \"acme.com.\", \"@acme.com\", \"https://acme.com\"]",
    );
    let (dir, diags) = load_errors(&[("teamsync.yaml", &root), ("more.yaml", PEOPLE)]);
    let text = config::report::render(&diags);
    let got: Vec<(usize, usize, &str, &str)> = diags
        .iter()
        .map(|d| {
            let p = d.location.as_ref().unwrap().position.unwrap();
            (
                p.line,
                p.column,
                d.message.as_str(),
                d.hint.as_deref().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                7,
                27,
                "allowed email domain `*.acme.com` is a wildcard, which teamsync does not read",
                "write `acme.com`; subdomains are not matched — list each one (for example `eu.acme.com`)"
            ),
            (
                7,
                41,
                "allowed email domain `acme.com.` ends with a dot",
                "write `acme.com`"
            ),
            (
                7,
                54,
                "`@acme.com` is not a domain: it contains `@`",
                "write the domain alone: `acme.com`"
            ),
            (
                7,
                67,
                "allowed email domain `https://acme.com` is a URL (`https://`), not a domain",
                "write `acme.com`"
            ),
        ],
        "{text}"
    );
    assert!(
        diags
            .iter()
            .all(|d| d.location.as_ref().unwrap().file == dir.path().join("teamsync.yaml"))
    );
}

#[test]
fn an_endpoint_password_is_never_repeated_in_the_error() {
    let root = ROOT.replace(
        "token_env: GB_TOKEN",
        "token_env: GB_TOKEN, endpoint: \"https://user:s3cret@api.gitbook.com/v1\"",
    );
    let (_dir, diags) = load_errors(&[("teamsync.yaml", &root), ("more.yaml", PEOPLE)]);
    let text = config::report::render(&diags);
    let d = diags
        .iter()
        .find(|d| d.message.contains("carries a user name or password"))
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(
        d.hint.as_deref().unwrap_or("").split(';').next(),
        Some("write `https://api.gitbook.com/v1`"),
        "{text}"
    );
    // No message or hint repeats the secret, and neither does the quoted source line:
    // its user-info is starred out, keeping the caret under the value.
    let said: String = diags
        .iter()
        .map(|d| format!("{} {}", d.message, d.hint.as_deref().unwrap_or("")))
        .collect();
    assert!(
        !said.contains("s3cret") && !said.contains("user:"),
        "{said}"
    );
    assert!(
        !text.contains("s3cret") && !text.contains("user:"),
        "{text}"
    );
    assert!(
        text.contains("\"https://***********@api.gitbook.com/v1\""),
        "{text}"
    );
    let github = config::report::github(&diags);
    assert!(!github.contains("s3cret"), "{github}");
}

#[cfg(unix)]
#[test]
fn a_sandbox_file_linked_from_outside_the_repository_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.json"), "{}").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = ROOT.replace(
        ", token_env: GB_TOKEN",
        ", endpoint: \"sandbox:state.json\"",
    );
    write_files(
        dir.path(),
        &[("teamsync.yaml", root), ("more.yaml", PEOPLE.to_string())],
    );
    std::os::unix::fs::symlink(
        outside.path().join("secret.json"),
        dir.path().join("state.json"),
    )
    .unwrap();
    let diags = config::load(&dir.path().join("teamsync.yaml")).unwrap_err();
    let text = config::report::render(&diags);
    assert!(
        diags.iter().any(|d| matches(
            d,
            dir.path(),
            (
                "teamsync.yaml",
                4,
                55,
                "sandbox state file `state.json` resolves outside the repository"
            )
        )),
        "{text}"
    );
    // A link that stays inside the repository is fine.
    std::fs::remove_file(dir.path().join("state.json")).unwrap();
    std::fs::create_dir(dir.path().join("seed")).unwrap();
    std::fs::write(dir.path().join("seed/state.json"), "{}").unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("seed/state.json"),
        dir.path().join("state.json"),
    )
    .unwrap();
    if let Err(diags) = config::load(&dir.path().join("teamsync.yaml")) {
        panic!("{}", config::report::render(&diags));
    }
}

#[test]
fn a_forged_line_or_a_bidi_control_never_reaches_the_terminal_raw() {
    // Two files: the handle is a schema error, which leaves its file out of the
    // semantic checks that find the name.
    let root = ROOT.replace("[\"more.yaml\"]", "[\"a.yaml\", \"b.yaml\"]");
    let (_dir, diags) = load_errors(&[
        ("teamsync.yaml", &root),
        (
            "a.yaml",
            "people:\n  \"bob\\nwarning: all good\": {email: bob@acme.com}\n",
        ),
        ("b.yaml", "groups:\n  - name: \"Sales\u{202E}spO\"\n"),
    ]);
    let text = config::report::render(&diags);
    assert!(!text.contains('\u{202E}'), "{text}");
    assert!(
        !text.lines().any(|l| l.starts_with("warning: all good")),
        "{text}"
    );
    assert!(text.contains("Sales\\u{202E}spO"), "{text}");
}
