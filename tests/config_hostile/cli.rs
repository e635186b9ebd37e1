//! Hostile configs through the CLI: exit 1, a located error and no request.

use super::*;

/// Each hostile config, through the CLI: `validate` exits 1 with the located message, and
/// `plan` exits 1 with the same configuration error before any request: the providers'
/// endpoint is a local listener that must see no connection at all.
#[test]
fn hostile_configs_exit_1_with_a_located_error_and_make_no_request() {
    use std::net::TcpListener;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let endpoint = format!("endpoint: \"http://{addr}\", token_env: PB_TOKEN");
    let root = ROOT.replace("token_env: PB_TOKEN", &endpoint);
    let more = |text: &str| (root.clone(), text.to_string());
    let with_root = |r: String| (r, PEOPLE.to_string());
    let cases: Vec<(&str, (String, String), &str)> = vec![
        (
            "zero-width space",
            more("people:\n  ana: {email: \"ana\u{200B}@acme.com\"}\n"),
            "more.yaml:2:16: error: `ana\\u{200B}@acme.com` is not a valid email address: it contains U+200B (zero width space)",
        ),
        (
            "Cyrillic lookalike",
            more("people:\n  ana: {email: \u{0430}na@acme.com}\n"),
            "more.yaml:2:16: error: `\u{0430}na@acme.com` is not a valid email address: the part before '@' contains U+0430",
        ),
        (
            "!!binary",
            more("people:\n  ana: {email: !!binary YW5hQGFjbWUuY29t}\n"),
            "more.yaml:2:16: error: invalid YAML: unsupported tag `!!binary`",
        ),
        (
            "handle with a newline",
            more("people:\n  \"al\\nice\": {email: alice@acme.com}\n"),
            "more.yaml:2:3: error: handle `al\\nice` contains U+000A",
        ),
        (
            "name with U+202E",
            more("groups:\n  - name: \"Sales\u{202E}spO\"\n"),
            "more.yaml:2:11: error: name `Sales\\u{202E}spO` contains U+202E (right-to-left override)",
        ),
        (
            "Writers and writers",
            more("teams:\n  - name: Writers\n    provider: docs\n  - name: writers\n    provider: docs\n"),
            "more.yaml:4:11: error: team `writers` and `Writers` on provider `docs` differ only in case",
        ),
        (
            "user and password in the endpoint",
            with_root(root.replace("organization: acme, token_env: GB_TOKEN", "organization: acme, token_env: GB_TOKEN, endpoint: \"https://user:pass@api.gitbook.com\"")),
            "teamsync.yaml:4:76: error: endpoint `https://…@api.gitbook.com` carries a user name or password",
        ),
        (
            "a count past u64",
            with_root(root.replace("policy:\n", "policy:\n  max_removals: 100000000000000000000000\n")),
            "teamsync.yaml:7:17: error: `policy.max_removals` is out of range: it must be a whole number from 0 to 18446744073709551615",
        ),
        (
            "a second YAML document",
            more("people:\n  ana: {email: ana@acme.com}\n---\ngroups: []\n"),
            "more.yaml:3:1: error: invalid YAML: a second YAML document starts here; a teamsync file holds one",
        ),
        (
            "query and fragment",
            with_root(root.replace("organization: acme, token_env: GB_TOKEN", "organization: acme, token_env: GB_TOKEN, endpoint: \"https://api.gitbook.com/v1?query#fragment\"")),
            "teamsync.yaml:4:76: error: endpoint `https://api.gitbook.com/v1?query#fragment` has a query",
        ),
        (
            "organization that walks the URL",
            with_root(root.replace("organization: acme", "organization: ../../other/x")),
            "teamsync.yaml:4:39: error: organization id `../../other/x` contains `.`",
        ),
        (
            "sandbox:/etc/passwd",
            with_root(root.replace(", token_env: GB_TOKEN", ", endpoint: \"sandbox:/etc/passwd\"")),
            "teamsync.yaml:4:55: error: sandbox state file `/etc/passwd` is outside the repository",
        ),
        (
            "sandbox:../x.json",
            with_root(root.replace(", token_env: GB_TOKEN", ", endpoint: \"sandbox:../x.json\"")),
            "teamsync.yaml:4:55: error: sandbox state file `../x.json` is outside the repository",
        ),
        (
            "token_env: PATH",
            with_root(root.replace("token_env: GB_TOKEN", "token_env: PATH")),
            "teamsync.yaml:4:56: error: `token_env: PATH` names a well-known variable",
        ),
        (
            "allowed_email_domains",
            with_root(root.replace("[acme.com]", "[\"*.acme.com\", \"acme.com.\", \"@acme.com\", \"https://acme.com\"]")),
            "teamsync.yaml:7:27: error: allowed email domain `*.acme.com` is a wildcard",
        ),
    ];
    for (name, (root_text, more_text), expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        write_files(
            dir.path(),
            &[("teamsync.yaml", root_text), ("more.yaml", more_text)],
        );
        for command in ["validate", "plan"] {
            let out = assert_cmd::Command::cargo_bin("teamsync")
                .unwrap()
                .args([command, "--config"])
                .arg(dir.path())
                .env("PB_TOKEN", "t")
                .env("GB_TOKEN", "t")
                .env("CF_TOKEN", "t")
                .env_remove("GITHUB_ACTIONS")
                .assert()
                .code(1);
            let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
            let located = format!("{}{expected}", dir.path().join("").display());
            assert!(
                stderr.contains(&located),
                "{name} ({command}): expected `{located}` in:\n{stderr}"
            );
            assert!(stderr.contains("  hint: "), "{name} ({command}): {stderr}");
            assert!(
                !stderr.contains("connect") && !stderr.contains(&addr.to_string()),
                "{name} ({command}): {stderr}"
            );
            match listener.accept() {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                other => panic!("{name} ({command}): a connection reached the provider: {other:?}"),
            }
        }
    }
}
