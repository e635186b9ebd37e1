//! Hostile and broken input: every case gets a clear, located error (message and
//! file:line:column asserted), bounded memory, and no panic.

use std::io::Write;
use std::path::Path;

use teamsync::config;
use teamsync::diag::Diagnostic;

const ROOT: &str = "version: 1
providers:
  pb: {kind: pixiebrix, organization: 0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11, token_env: PB_TOKEN}
  docs: {kind: gitbook, organization: acme, token_env: GB_TOKEN}
  cms: {kind: contentful, organization: c1, token_env: CF_TOKEN}
policy:
  allowed_email_domains: [acme.com]
include: [\"more.yaml\"]
";

const PEOPLE: &str = "people:
  alice: {email: alice@acme.com}
  bob: {email: bob@acme.com}
";

struct Case {
    name: &'static str,
    files: Vec<(&'static str, String)>,
    /// (file, line, column, message fragment)
    expect: (&'static str, usize, usize, &'static str),
}

fn case(
    name: &'static str,
    more: &str,
    expect: (&'static str, usize, usize, &'static str),
) -> Case {
    Case {
        name,
        files: vec![
            ("teamsync.yaml", ROOT.to_string()),
            ("more.yaml", more.to_string()),
        ],
        expect,
    }
}

fn root_case(
    name: &'static str,
    root: &str,
    expect: (&'static str, usize, usize, &'static str),
) -> Case {
    Case {
        name,
        files: vec![
            ("teamsync.yaml", root.to_string()),
            ("more.yaml", PEOPLE.to_string()),
        ],
        expect,
    }
}

fn nested(depth: usize) -> String {
    let mut s = String::from("x-deep: ");
    s.push_str(&"[".repeat(depth));
    s.push_str(&"]".repeat(depth));
    s.push('\n');
    s
}

fn alias_bomb() -> String {
    let mut s = String::from("x-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..12 {
        let prev = i - 1;
        s.push_str(&format!("x-a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
    }
    s
}

fn cases() -> Vec<Case> {
    let p = PEOPLE;
    vec![
        case(
            "malformed yaml",
            "groups:\n  - name: [unclosed\n",
            ("more.yaml", 2, 11, "invalid YAML: unclosed bracket"),
        ),
        case(
            "wrong type for a list",
            "groups: {name: x}\n",
            (
                "more.yaml",
                1,
                9,
                "`groups` must be a list, found a mapping",
            ),
        ),
        case(
            "typo in a key",
            "groups:\n  - name: X\n    membres: [a]\n",
            ("more.yaml", 3, 5, "unknown key `membres`"),
        ),
        case(
            "unknown top-level key",
            "team: []\n",
            ("more.yaml", 1, 1, "unknown key `team`"),
        ),
        case(
            "alias bomb",
            &alias_bomb(),
            ("more.yaml", 0, 0, "invalid YAML"),
        ),
        case(
            "200-level nesting",
            &nested(200),
            ("more.yaml", 1, 0, "invalid YAML"),
        ),
        case(
            "name must be a string",
            "groups:\n  - name: 12\n",
            (
                "more.yaml",
                2,
                11,
                "`groups[0].name` must be a string, found a number",
            ),
        ),
        case(
            "unknown person",
            &format!("{p}groups:\n  - name: G\n    members: [alice, bobb]\n"),
            ("more.yaml", 6, 22, "unknown person `bobb`"),
        ),
        case(
            "unknown provider",
            &format!("{p}teams:\n  - name: T\n    provider: dcos\n"),
            ("more.yaml", 6, 15, "unknown provider `dcos`"),
        ),
        case(
            "provider without that kind",
            &format!("{p}groups:\n  - name: G\n    provider: docs\n"),
            (
                "more.yaml",
                6,
                15,
                "provider `docs` is gitbook, which has no groups",
            ),
        ),
        case(
            "ambiguous provider",
            &format!("{p}teams:\n  - name: T\n    members: [alice]\n"),
            ("more.yaml", 5, 5, "more than one provider manages teams"),
        ),
        case(
            "invalid email",
            "people:\n  zed: {email: zed@@acme.com}\n",
            (
                "more.yaml",
                2,
                16,
                "`zed@@acme.com` is not a valid email address",
            ),
        ),
        case(
            "email outside allowed domains",
            "people:\n  zed: {email: zed@evil.com}\n",
            (
                "more.yaml",
                2,
                16,
                "zed@evil.com is outside the allowed email domains (acme.com)",
            ),
        ),
        case(
            "raw email outside allowed domains",
            "groups:\n  - name: G\n    members: [eve@evil.com]\n",
            (
                "more.yaml",
                3,
                15,
                "eve@evil.com is outside the allowed email domains",
            ),
        ),
        case(
            "gitbook role that does not exist there",
            &format!(
                "{p}teams:\n  - name: T\n    provider: docs\n    members: [{{person: alice, role: admin}}]\n"
            ),
            (
                "more.yaml",
                7,
                37,
                "role `admin` is not valid for a gitbook team",
            ),
        ),
        case(
            "role on a contentful team",
            &format!(
                "{p}teams:\n  - name: T\n    provider: cms\n    members:\n      - {{person: alice, role: owner}}\n"
            ),
            (
                "more.yaml",
                8,
                31,
                "role `owner` is not valid for a contentful team",
            ),
        ),
        case(
            "data on a group member",
            &format!(
                "{p}groups:\n  - name: G\n    members:\n      - {{person: alice, data: {{a: 1}}}}\n"
            ),
            ("more.yaml", 7, 31, "`data` is only for campaign members"),
        ),
        case(
            "two identities in one member",
            &format!(
                "{p}groups:\n  - name: G\n    members:\n      - {{person: alice, email: alice@acme.com}}\n"
            ),
            ("more.yaml", 7, 9, "exactly one of person, email, user_id"),
        ),
        case(
            "empty member mapping",
            &format!("{p}groups:\n  - name: G\n    members:\n      - {{}}\n"),
            ("more.yaml", 7, 9, "needs `person`, `email` or `user_id`"),
        ),
        case(
            "member listed twice",
            &format!("{p}groups:\n  - name: G\n    members: [alice, alice@acme.com]\n"),
            ("more.yaml", 6, 22, "alice@acme.com is listed twice"),
        ),
        case(
            "same email for two handles",
            "people:\n  a: {email: x@acme.com}\n  b: {email: X@Acme.com}\n",
            (
                "more.yaml",
                3,
                14,
                "`b` and `a` have the same email x@acme.com",
            ),
        ),
        case(
            "unknown role value",
            &format!(
                "{p}teams:\n  - name: T\n    provider: docs\n    members: [{{person: alice, role: owenr}}]\n"
            ),
            (
                "more.yaml",
                7,
                37,
                "`teams[0].members[0].role` must be one of member, admin, developer, restricted, manager, owner, found `owenr`",
            ),
        ),
        case(
            "unknown mode",
            "groups:\n  - name: G\n    mode: exactly\n",
            (
                "more.yaml",
                3,
                11,
                "`groups[0].mode` must be one of exact, additive, observe, found `exactly`",
            ),
        ),
        case(
            "multiple documents",
            "people: {}\n---\ngroups: []\n",
            ("more.yaml", 2, 1, "invalid YAML"),
        ),
        case(
            "unsupported tag",
            "groups: !!python/object:os.system [x]\n",
            (
                "more.yaml",
                1,
                9,
                "invalid YAML: unsupported tag `!!python/object:os.system`",
            ),
        ),
        case(
            "a list instead of a mapping",
            "- a\n- b\n",
            ("more.yaml", 1, 1, "must be a mapping"),
        ),
        case(
            "version in an included file",
            "version: 1\n",
            (
                "more.yaml",
                1,
                1,
                "`version` is only allowed in the root file",
            ),
        ),
        case(
            "include in an included file",
            "include: [\"x.yaml\"]\n",
            (
                "more.yaml",
                1,
                1,
                "`include` is only allowed in the root file",
            ),
        ),
        root_case(
            "provider kind typo",
            &ROOT.replace("kind: gitbook", "kind: gitbok"),
            ("teamsync.yaml", 4, 16, "unknown provider kind `gitbok`"),
        ),
        root_case(
            "unsupported version",
            &ROOT.replace("version: 1", "version: 2"),
            ("teamsync.yaml", 1, 10, "version"),
        ),
        root_case(
            "missing version",
            &ROOT.replace("version: 1\n", ""),
            ("teamsync.yaml", 1, 1, "the root file has no `version`"),
        ),
        root_case(
            "plain http to a remote host",
            &ROOT.replace(
                "token_env: PB_TOKEN",
                "token_env: PB_TOKEN, endpoint: http://pixiebrix.example.com",
            ),
            (
                "teamsync.yaml",
                3,
                108,
                "plain http to a host that is not loopback",
            ),
        ),
        root_case(
            "missing sandbox file",
            &ROOT.replace("token_env: PB_TOKEN", "endpoint: sandbox:nope.json"),
            (
                "teamsync.yaml",
                3,
                87,
                "sandbox state file `nope.json` does not exist",
            ),
        ),
        root_case(
            "missing token_env",
            &ROOT.replace(", token_env: GB_TOKEN", ""),
            ("teamsync.yaml", 4, 3, "provider `docs` has no `token_env`"),
        ),
        root_case(
            "include escapes the root",
            &ROOT.replace("[\"more.yaml\"]", "[\"more.yaml\", \"../outside.yaml\"]"),
            ("teamsync.yaml", 8, 24, "reaches outside the repository"),
        ),
        root_case(
            "absolute include",
            &ROOT.replace("[\"more.yaml\"]", "[\"more.yaml\", \"/etc/passwd\"]"),
            ("teamsync.yaml", 8, 24, "reaches outside the repository"),
        ),
        root_case(
            "include matches nothing",
            &ROOT.replace("[\"more.yaml\"]", "[\"more.yaml\", \"teams/*.yaml\"]"),
            ("teamsync.yaml", 8, 24, "matches no file"),
        ),
        root_case(
            "prune a kind the provider lacks",
            &ROOT.replace("token_env: GB_TOKEN", "token_env: GB_TOKEN, prune: [group]"),
            ("teamsync.yaml", 4, 74, "gitbook does not manage groups"),
        ),
        // Issue 14: invisible characters, lookalikes, tags, names, endpoints and ids.
        case(
            "zero-width space in an email",
            "people:\n  ana: {email: \"ana\u{200B}@acme.com\"}\n",
            (
                "more.yaml",
                2,
                16,
                "contains U+200B (zero width space), invisible, at character 4",
            ),
        ),
        case(
            "byte order mark in an email",
            "groups:\n  - name: G\n    members: [\"\u{FEFF}ana@acme.com\"]\n",
            (
                "more.yaml",
                3,
                15,
                "U+FEFF (zero width no-break space (BOM))",
            ),
        ),
        case(
            "bidi control in an email",
            "people:\n  ana: {email: \"ana\u{202E}@acme.com\"}\n",
            ("more.yaml", 2, 16, "U+202E (right-to-left override)"),
        ),
        case(
            "Cyrillic lookalike in the local part",
            "people:\n  ana: {email: \u{0430}na@acme.com}\n",
            (
                "more.yaml",
                2,
                16,
                "U+0430 'а', which looks like the ASCII `a`, at character 1; it must be ASCII",
            ),
        ),
        case(
            "Cyrillic lookalike in the domain",
            "people:\n  ana: {email: ana@\u{0430}cme.com}\n",
            (
                "more.yaml",
                2,
                16,
                "mixes Latin and Cyrillic letters (U+0430 'а' is Cyrillic)",
            ),
        ),
        case(
            "domain spelled in lookalike letters",
            "people:\n  ana: {email: ana@\u{0430}\u{0441}\u{0435}.com}\n",
            (
                "more.yaml",
                2,
                16,
                "written in Cyrillic letters that look like the ASCII `ace`",
            ),
        ),
        case(
            "binary tag",
            "people:\n  ana: {email: !!binary YW5hQGFjbWUuY29t}\n",
            ("more.yaml", 2, 16, "unsupported tag `!!binary`"),
        ),
        case(
            "timestamp tag",
            "groups:\n  - name: !!timestamp 2001-12-14\n",
            ("more.yaml", 2, 11, "unsupported tag `!!timestamp`"),
        ),
        case(
            "handle with a newline",
            "people:\n  \"al\\nice\": {email: alice@acme.com}\n",
            (
                "more.yaml",
                2,
                3,
                "handle `al\\nice` contains U+000A (a line feed) at character 3",
            ),
        ),
        case(
            "handle with an upper-case letter",
            "people:\n  Alice: {email: alice@acme.com}\n",
            (
                "more.yaml",
                2,
                3,
                "handle `Alice` starts with an upper-case letter `A`",
            ),
        ),
        case(
            "reference with a newline is shown escaped",
            &format!("{p}groups:\n  - name: G\n    members: [\"bob\\nwarning: forged\"]\n"),
            ("more.yaml", 6, 15, "unknown person `bob\\nwarning: forged`"),
        ),
        case(
            "name with a right-to-left override",
            "groups:\n  - name: \"Sales\u{202E}spO\"\n",
            (
                "more.yaml",
                2,
                11,
                "name `Sales\\u{202E}spO` contains U+202E (right-to-left override) at character 6",
            ),
        ),
        case(
            "name with a NUL",
            "groups:\n  - name: \"Sales\\0\"\n",
            ("more.yaml", 2, 11, "contains U+0000 (NUL) at character 6"),
        ),
        case(
            "name with a newline",
            "teams:\n  - name: \"Writers\\nOps\"\n    provider: docs\n",
            (
                "more.yaml",
                2,
                11,
                "contains U+000A (a line feed) at character 8",
            ),
        ),
        case(
            "earlier name with a zero-width joiner",
            "groups:\n  - name: Sales\n    previously: [\"Sa\u{200D}les\"]\n",
            ("more.yaml", 3, 18, "U+200D (zero width joiner)"),
        ),
        case(
            "two teams that differ only in case",
            "teams:\n  - name: Writers\n    provider: docs\n  - name: writers\n    provider: docs\n",
            (
                "more.yaml",
                4,
                11,
                "team `writers` and `Writers` on provider `docs` differ only in case",
            ),
        ),
        case(
            "user id that walks the URL",
            "groups:\n  - name: G\n    members: [{user_id: ../groups/1}]\n",
            ("more.yaml", 3, 25, "user id `../groups/1` contains `.`"),
        ),
        root_case(
            "endpoint with a user name and password",
            &ROOT.replace(
                "token_env: GB_TOKEN",
                "token_env: GB_TOKEN, endpoint: \"https://user:s3cret@api.gitbook.com/v1\"",
            ),
            (
                "teamsync.yaml",
                4,
                76,
                "endpoint `https://…@api.gitbook.com` carries a user name or password",
            ),
        ),
        root_case(
            "endpoint with a query and a fragment",
            &ROOT.replace(
                "token_env: GB_TOKEN",
                "token_env: GB_TOKEN, endpoint: \"https://api.gitbook.com/v1?query#fragment\"",
            ),
            (
                "teamsync.yaml",
                4,
                76,
                "has a query (`?…`) and a fragment (`#…`)",
            ),
        ),
        root_case(
            "endpoint with a line break",
            &ROOT.replace(
                "token_env: GB_TOKEN",
                "token_env: GB_TOKEN, endpoint: \"https://api.git\\nbook.com\"",
            ),
            ("teamsync.yaml", 4, 76, "contains U+000A (a line feed)"),
        ),
        root_case(
            "organization id that walks the URL",
            &ROOT.replace("organization: acme", "organization: \"../../other/x\""),
            (
                "teamsync.yaml",
                4,
                39,
                "organization id `../../other/x` contains `.`",
            ),
        ),
        root_case(
            "PixieBrix organization that is not a UUID",
            &ROOT.replace("0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11", "acme"),
            (
                "teamsync.yaml",
                3,
                39,
                "PixieBrix organization id `acme` is not a UUID",
            ),
        ),
        root_case(
            "absolute sandbox path",
            &ROOT.replace(
                ", token_env: GB_TOKEN",
                ", endpoint: \"sandbox:/etc/passwd\"",
            ),
            (
                "teamsync.yaml",
                4,
                55,
                "sandbox state file `/etc/passwd` is outside the repository",
            ),
        ),
        root_case(
            "sandbox path with ..",
            &ROOT.replace(", token_env: GB_TOKEN", ", endpoint: \"sandbox:../x.json\""),
            (
                "teamsync.yaml",
                4,
                55,
                "sandbox state file `../x.json` is outside the repository",
            ),
        ),
        root_case(
            "token_env naming PATH",
            &ROOT.replace("token_env: GB_TOKEN", "token_env: PATH"),
            (
                "teamsync.yaml",
                4,
                56,
                "`token_env: PATH` names a well-known variable that holds no token",
            ),
        ),
        root_case(
            "token_env naming a GitHub Actions variable",
            &ROOT.replace("token_env: GB_TOKEN", "token_env: GITHUB_TOKEN"),
            ("teamsync.yaml", 4, 56, "names a well-known variable"),
        ),
        root_case(
            "token_env in lower case",
            &ROOT.replace("token_env: GB_TOKEN", "token_env: gb_token"),
            (
                "teamsync.yaml",
                4,
                56,
                "`gb_token` is not an environment variable name teamsync reads",
            ),
        ),
        root_case(
            "provider name with an upper-case letter",
            &ROOT.replace("  docs: {", "  Docs: {"),
            (
                "teamsync.yaml",
                4,
                3,
                "provider name `Docs` starts with an upper-case letter `D`",
            ),
        ),
        root_case(
            "provider name with a dot",
            &ROOT.replace("  docs: {", "  do.cs: {"),
            (
                "teamsync.yaml",
                4,
                3,
                "provider name `do.cs` contains `.` at character 3",
            ),
        ),
        root_case(
            "allowed domain written as a wildcard",
            &ROOT.replace("[acme.com]", "[\"*.acme.com\"]"),
            (
                "teamsync.yaml",
                7,
                27,
                "`*.acme.com` is a wildcard, which teamsync does not read",
            ),
        ),
        root_case(
            "allowed domain with a trailing dot",
            &ROOT.replace("[acme.com]", "[acme.com.]"),
            ("teamsync.yaml", 7, 27, "`acme.com.` ends with a dot"),
        ),
        root_case(
            "allowed domain written as a URL",
            &ROOT.replace("[acme.com]", "[\"https://acme.com\"]"),
            (
                "teamsync.yaml",
                7,
                27,
                "`https://acme.com` is a URL (`https://`), not a domain",
            ),
        ),
        root_case(
            "allowed domain in upper case",
            &ROOT.replace("[acme.com]", "[Acme.com]"),
            ("teamsync.yaml", 7, 27, "`Acme.com` has upper-case letters"),
        ),
        root_case(
            "allowed domain with spaces",
            &ROOT.replace("[acme.com]", "[\" acme.com\"]"),
            ("teamsync.yaml", 7, 27, "contains white space"),
        ),
        root_case(
            "allowed domain written as an email",
            &ROOT.replace("[acme.com]", "[\"@acme.com\"]"),
            ("teamsync.yaml", 7, 27, "`@acme.com` is not a domain"),
        ),
    ]
}

fn write_files(dir: &Path, files: &[(&str, String)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn matches(
    d: &Diagnostic,
    dir: &Path,
    (file, line, col, fragment): (&str, usize, usize, &str),
) -> bool {
    let Some(loc) = &d.location else { return false };
    let file_ok = loc.file == dir.join(file);
    let pos_ok = match (loc.position, line) {
        (_, 0) => true,
        (Some(p), l) => p.line == l && (col == 0 || p.column == col),
        (None, _) => false,
    };
    file_ok && pos_ok && d.message.contains(fragment) && d.hint.is_some()
}

#[test]
fn corpus_of_broken_configs_gives_located_errors() {
    let mut failures = Vec::new();
    let all = cases();
    assert!(all.len() >= 30, "the corpus keeps at least 30 cases");
    for c in all {
        let dir = tempfile::tempdir().unwrap();
        write_files(dir.path(), &c.files);
        match config::load(&dir.path().join("teamsync.yaml")) {
            Ok(_) => failures.push(format!("{}: loaded without error", c.name)),
            Err(diags) => {
                if !diags.iter().any(|d| matches(d, dir.path(), c.expect)) {
                    failures.push(format!(
                        "{}: expected {:?}, got:\n{}",
                        c.name,
                        c.expect,
                        config::report::render(&diags)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

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

fn load_errors(files: &[(&str, &str)]) -> (tempfile::TempDir, Vec<Diagnostic>) {
    let dir = tempfile::tempdir().unwrap();
    let owned: Vec<(&str, String)> = files.iter().map(|(n, t)| (*n, t.to_string())).collect();
    write_files(dir.path(), &owned);
    let diags = match config::load(&dir.path().join("teamsync.yaml")) {
        Ok(_) => panic!("loaded without error"),
        Err(d) => d,
    };
    (dir, diags)
}

/// (file name, line, message fragment) of each diagnostic, in the order reported.
fn summary(dir: &Path, diags: &[Diagnostic]) -> Vec<(String, usize, String)> {
    diags
        .iter()
        .map(|d| {
            let loc = d.location.as_ref().unwrap();
            (
                loc.file.strip_prefix(dir).unwrap().display().to_string(),
                loc.position.map_or(0, |p| p.line),
                d.message.clone(),
            )
        })
        .collect()
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
