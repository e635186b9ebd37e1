//! `teamsync import` against the sandbox: for each provider the written config plans to no
//! changes (thousands of members across many pages included), existing files are never
//! overwritten without --force, and an existing roster is reused, matched by email
//! case-insensitively.

mod common;

use common::*;
use serde_json::{Value, json};

const ORG: &str = "0f4c2a6e-2f7a-4d55-9a3c-6a1b8f0e2d11";

fn pixiebrix_state(n: usize) -> Value {
    let emails: Vec<String> = (0..n).map(|i| format!("p{i:05}@acme.com")).collect();
    let mut refs: Vec<(&str, u8, &str)> = emails
        .iter()
        .enumerate()
        .map(|(i, e)| (e.as_str(), if i % 500 == 0 { 2 } else { 1 }, "human"))
        .collect();
    refs.push(("bot@acme.com", 2, "service"));
    let mut org = pixiebrix_org(ORG, &refs);
    org["groups"] = json!([
        {"id": uuid(900_001), "name": "no", "members": (0..1500).map(|i| json!({"id": uuid(1_000_000 + i), "email": format!("p{i:05}@acme.com")})).collect::<Vec<_>>()},
        {"id": uuid(900_002), "name": "Empty", "members": []}
    ]);
    org["campaigns"] = json!([{"id": uuid(900_003), "name": "Q3", "members": [
        {"id": uuid(900_004), "email": "p00001@acme.com", "data": {"Location": "NYC", "n": 3}},
        {"id": uuid(900_005), "email": "p00002@acme.com", "data": {}}
    ]}]);
    json!({"pixiebrix": {"organizations": [org]}})
}

fn gitbook_state(n: usize) -> Value {
    let members: Vec<Value> = (0..n).map(|i| json!({"id": format!("u{i:05}"), "name": format!("P{i}"), "email": format!("p{i:05}@acme.com"), "role": "read"})).collect();
    let team: Vec<Value> = (0..n).map(|i| json!({"user": format!("u{i:05}"), "role": if i % 100 == 0 { "owner" } else { "member" }})).collect();
    json!({"gitbook": {"organizations": {"acme": {"members": members, "teams": [
        {"id": "t_all", "title": "Everyone", "members": team},
        {"id": "t_docs", "title": "Docs", "members": [{"user": "u00003", "role": "owner"}]}
    ]}}}})
}

fn contentful_state(n: usize) -> Value {
    let users: Vec<Value> = (0..n)
        .map(|i| json!({"id": format!("U{i:05}"), "email": format!("p{i:05}@acme.com")}))
        .collect();
    let mems: Vec<Value> = (0..n)
        .map(|i| json!({"id": format!("OM{i:05}"), "user": format!("U{i:05}")}))
        .collect();
    let team: Vec<Value> = (0..n)
        .map(|i| json!({"id": format!("TM{i:05}"), "membership": format!("OM{i:05}")}))
        .collect();
    json!({"contentful": {"organizations": {"c1": {"users": users, "memberships": mems, "teams": [
        {"id": "Tall", "name": "Everyone", "members": team}, {"id": "Tnone", "name": "Nobody"}
    ]}}}})
}

fn provider_block(name: &str) -> String {
    match name {
        "pb" => format!(
            "  pb:\n    kind: pixiebrix\n    organization: {ORG}\n    endpoint: sandbox:state.json\n"
        ),
        "docs" => {
            "  docs:\n    kind: gitbook\n    organization: acme\n    endpoint: sandbox:state.json\n"
                .into()
        }
        _ => {
            "  cms:\n    kind: contentful\n    organization: c1\n    endpoint: sandbox:state.json\n"
                .into()
        }
    }
}

fn imported_plans_to_nothing(provider: &str, state: Value) {
    let root = format!(
        "version: 1\nproviders:\n{}policy:\n  allowed_email_domains: [acme.com]\n",
        provider_block(provider)
    );
    let repo = Repo::new(&[("teamsync.yaml", &root)]);
    repo.write_json("state.json", &state);
    let out_dir = repo.path().join("imported");
    let out = repo
        .run(&[
            "import",
            "--provider",
            provider,
            "--out",
            out_dir.to_str().unwrap(),
        ])
        .code(0);
    assert!(stderr(&out).contains("wrote "), "{}", stderr(&out));
    let text = std::fs::read_to_string(out_dir.join(format!("{provider}.yaml"))).unwrap();
    assert!(
        text.starts_with("# yaml-language-server: $schema=../schemas/teamsync.schema.json\n"),
        "{}",
        &text[..200]
    );
    repo.write(
        "teamsync.yaml",
        &format!("{root}include: [\"imported/*.yaml\"]\n"),
    );
    let plan = repo.plan_json(0);
    assert_eq!(
        plan["changes"],
        json!([]),
        "imported config plans to nothing"
    );
    // Stable: importing again gives the same bytes.
    let again = repo.path().join("again");
    repo.run(&[
        "import",
        "--provider",
        provider,
        "--out",
        again.to_str().unwrap(),
    ])
    .code(0);
    assert_eq!(
        std::fs::read_to_string(again.join(format!("{provider}.yaml"))).unwrap(),
        text
    );
}

#[test]
fn pixiebrix_import_of_2500_members_plans_to_nothing() {
    imported_plans_to_nothing("pb", pixiebrix_state(2_500));
}

#[test]
fn gitbook_import_of_2500_members_plans_to_nothing() {
    imported_plans_to_nothing("docs", gitbook_state(2_500));
}

#[test]
fn contentful_import_of_250_members_plans_to_nothing() {
    imported_plans_to_nothing("cms", contentful_state(250));
}

#[test]
fn existing_files_are_kept_and_an_existing_roster_is_reused() {
    let root = format!(
        "version: 1\nproviders:\n{}include: [people.yaml]\n",
        provider_block("docs")
    );
    let repo = Repo::new(&[
        ("teamsync.yaml", &root),
        ("people.yaml", "people:\n  ally: {email: P00003@Acme.com}\n"),
    ]);
    repo.write_json("state.json", &gitbook_state(5));
    repo.write("docs.yaml", "# mine\n");
    let out = repo.run(&["import", "--provider", "docs"]).code(1);
    assert!(
        stderr(&out).contains("already exists; nothing was written"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("docs.yaml")).unwrap(),
        "# mine\n"
    );

    repo.run(&["import", "--provider", "docs", "--force"])
        .code(0);
    let docs = std::fs::read_to_string(repo.path().join("docs.yaml")).unwrap();
    assert!(
        docs.contains("person: ally"),
        "the roster's handle is reused:\n{docs}"
    );
    let new_people = std::fs::read_to_string(repo.path().join("people.docs.yaml")).unwrap();
    assert!(
        !new_people.contains("p00003"),
        "no duplicate person:\n{new_people}"
    );
    assert!(
        new_people.contains("p00004: {email: p00004@acme.com}")
            || new_people.contains("p00004:\n    email: p00004@acme.com"),
        "{new_people}"
    );
    repo.write(
        "teamsync.yaml",
        &root.replace(
            "include: [people.yaml]",
            "include: [people.yaml, people.docs.yaml, docs.yaml]",
        ),
    );
    assert_eq!(repo.plan_json(0)["changes"], json!([]));
}

#[test]
fn an_unknown_provider_is_named() {
    let repo = Repo::new(&[(
        "teamsync.yaml",
        &format!("version: 1\nproviders:\n{}", provider_block("cms")),
    )]);
    repo.write_json("state.json", &json!({}));
    let out = repo.run(&["import", "--provider", "nope"]).code(1);
    assert!(
        stderr(&out).contains("no provider `nope`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn import_all_of_the_example_writes_a_repository_that_plans_to_nothing() {
    // The repository's layout: schemas/ at the top, the example two folders down.
    let top = tempfile::tempdir().unwrap();
    let example = top.path().join("examples/acme");
    std::fs::create_dir_all(&example).unwrap();
    // A repository, as in the checkout: the example's CODEOWNERS is current in it.
    std::fs::create_dir_all(top.path().join(".git")).unwrap();
    copy_tree(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/acme"),
        &example,
    );
    std::fs::create_dir_all(top.path().join("schemas")).unwrap();
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/teamsync.schema.json"),
        top.path().join("schemas/teamsync.schema.json"),
    )
    .unwrap();
    let target = top.path().join("adopted");
    assert_cmd::Command::cargo_bin("teamsync")
        .unwrap()
        .args(["import", "--all", "--config"])
        .arg(&example)
        .arg("--out")
        .arg(&target)
        .assert()
        .code(0);
    let mut names: Vec<String> = std::fs::read_dir(&target)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "cms.yaml",
            "docs.yaml",
            "live-state.json",
            "people.yaml",
            "pixiebrix.yaml",
            "teamsync.yaml"
        ]
    );
    for name in names.iter().filter(|n| n.ends_with(".yaml")) {
        let text = std::fs::read_to_string(target.join(name)).unwrap();
        // The example's modeline names ../../schemas/…; from adopted/ it is ../schemas/….
        let expected = "# yaml-language-server: $schema=../schemas/teamsync.schema.json\n";
        assert!(text.starts_with(expected), "{name}:\n{text}");
        if name != "people.yaml" {
            assert!(!text.contains("people:"), "one people.yaml only: {name}");
        }
    }
    // The example's seed lies outside `adopted/`, and a `sandbox:` path must stay inside
    // its repository: the state moves in with the repository and the root names it there.
    let root = std::fs::read_to_string(target.join("teamsync.yaml")).unwrap();
    assert!(root.contains("sandbox:live-state.json"), "{root}");
    let out = assert_cmd::Command::cargo_bin("teamsync")
        .unwrap()
        .args(["plan", "--detailed-exitcode", "--config"])
        .arg(&target)
        .env("NO_COLOR", "1")
        .assert()
        .code(0);
    assert!(stdout(&out).starts_with("No changes."), "{}", stdout(&out));
    assert_cmd::Command::cargo_bin("teamsync")
        .unwrap()
        .args(["validate", "--config"])
        .arg(&target)
        .assert()
        .code(0);
}

#[test]
fn import_works_before_its_include_pattern_matches_and_with_a_root_matched_by_its_own_glob() {
    let root = format!(
        "version: 1\nproviders:\n{}{}include: [\"*.yaml\", \"imported/*.yaml\"]\n",
        provider_block("docs"),
        provider_block("cms")
    );
    let repo = Repo::new(&[("teamsync.yaml", &root)]);
    let mut state = gitbook_state(20);
    state["contentful"] = contentful_state(30)["contentful"].clone();
    repo.write_json("state.json", &state);
    // `*.yaml` matches only the root, `imported/*.yaml` nothing yet: both fine for import.
    repo.run(&["validate"]).code(1);
    let out = repo
        .run(&[
            "import",
            "--all",
            "--out",
            repo.path().join("imported").to_str().unwrap(),
        ])
        .code(0);
    assert!(stderr(&out).contains("wrote "), "{}", stderr(&out));
    let imported = repo.path().join("imported");
    // A root of its own, and the configuration's root now includes the same files.
    assert!(imported.join("teamsync.yaml").is_file());
    std::fs::remove_file(imported.join("teamsync.yaml")).unwrap();
    let people = std::fs::read_to_string(imported.join("people.yaml")).unwrap();
    assert!(
        people.starts_with("# yaml-language-server: $schema=../schemas/teamsync.schema.json\n"),
        "{people}"
    );
    // No organization is imported: everyone gets a handle, once, in one people.yaml.
    assert!(people.contains("p00025:"), "{people}");
    repo.run(&["validate"]).code(0);
    assert_eq!(repo.plan_json(0)["changes"], json!([]));
}

/// A repository that already names where its files go: `import --all` into its own folder
/// writes each file where a pattern reads it, leaves the root as it was, and the next
/// plan shows no changes (issue 33: it used to write beside the root and fail the plan).
#[test]
fn import_into_an_existing_repository_follows_its_include_patterns() {
    let root = format!(
        "version: 1\nproviders:\n{}{}include: [\"people.yaml\", \"pixiebrix/*.yaml\", \"teams/*.yaml\"]\n",
        provider_block("docs"),
        provider_block("cms")
    );
    let repo = Repo::new(&[("teamsync.yaml", &root)]);
    let mut state = gitbook_state(20);
    state["contentful"] = contentful_state(30)["contentful"].clone();
    repo.write_json("state.json", &state);
    let out = repo
        .run(&["import", "--all", "--out", repo.path().to_str().unwrap()])
        .code(0);
    let said = stderr(&out);
    assert!(
        said.contains("docs.yaml goes to teams/docs.yaml, where `include` already reads it"),
        "{said}"
    );
    assert!(repo.path().join("teams/docs.yaml").is_file());
    assert!(repo.path().join("teams/cms.yaml").is_file());
    assert!(!repo.path().join("docs.yaml").exists());
    assert_eq!(
        std::fs::read_to_string(repo.path().join("teamsync.yaml")).unwrap(),
        root,
        "the root is untouched"
    );
    // A file one folder down names the schema one folder further up.
    let docs = std::fs::read_to_string(repo.path().join("teams/docs.yaml")).unwrap();
    let people = std::fs::read_to_string(repo.path().join("people.yaml")).unwrap();
    assert!(
        docs.starts_with("# yaml-language-server: $schema=../schemas/teamsync.schema.json\n"),
        "{docs}"
    );
    assert!(
        people.starts_with("# yaml-language-server: $schema=./schemas/teamsync.schema.json\n"),
        "{people}"
    );
    // `pixiebrix/*.yaml` matches nothing (no PixieBrix provider): that pattern is the
    // configuration's own, so relax it for the plan, which must show no changes.
    let text = root.replace(", \"pixiebrix/*.yaml\"", "");
    repo.write("teamsync.yaml", &text);
    assert_eq!(repo.plan_json(0)["changes"], json!([]));
}

/// Where no pattern reads a file, the root's `include` list gains it, every other byte of
/// the root kept, and the plan reads it.
#[test]
fn import_adds_to_include_what_no_pattern_reads_and_nothing_else() {
    let root = format!(
        "# my config\nversion: 1\nproviders:\n{}include:\n  - people.yaml # the roster\n",
        provider_block("docs"),
    );
    let repo = Repo::new(&[("teamsync.yaml", &root)]);
    repo.write_json("state.json", &gitbook_state(20));
    let out = repo
        .run(&[
            "import",
            "--provider",
            "docs",
            "--out",
            repo.path().to_str().unwrap(),
        ])
        .code(0);
    assert!(
        stderr(&out).contains("now includes docs.yaml (nothing else in it changed)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("teamsync.yaml")).unwrap(),
        format!("{root}  - \"docs.yaml\"\n")
    );
    assert_eq!(repo.plan_json(0)["changes"], json!([]));
}
