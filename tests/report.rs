//! `teamsync report`: the bundled example's CSV and JSON as snapshots (read time fixed,
//! digest checked independently), the HTML checked structurally, a generated
//! 5,000-person × 200-container report for size and render time, escaping of hostile
//! names in every format, and the page rendered in a real headless Chromium.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use teamsync::config::Loaded;
use teamsync::model::{
    AccountKind, Data, DesiredMember, DesiredResource, DesiredState, Email, LiveMember,
    LiveResource, LiveState, MemberKey, Mode, Policy, ProviderKind, ResourceKey, ResourceKind,
    Role,
};
use teamsync::review::{self, Report};

const NOW: &str = "2026-12-01T12:00:00Z";

/// `teamsync report --format FORMAT` on the example copy, with the read time fixed.
fn example_report(repo: &Repo, format: &str) -> String {
    let out = assert_cmd::Command::cargo_bin("teamsync")
        .unwrap()
        .args(["report", "--format", format, "--config"])
        .arg(repo.path())
        .env("TEAMSYNC_REPORT_NOW", NOW)
        .env_remove("PIXIEBRIX_TOKEN")
        .env_remove("GITBOOK_TOKEN")
        .env_remove("CONTENTFUL_TOKEN")
        .env_remove("GITHUB_ACTIONS")
        .assert()
        .code(0);
    stdout(&out)
}

/// The digest as docs/report-format.md defines it, computed here independently.
fn expected_digest(dir: &Path) -> String {
    use sha2::{Digest, Sha256};
    let mut files = vec![
        "people.yaml",
        "pixiebrix/everyone.yaml",
        "pixiebrix/organization.yaml",
        "pixiebrix/q3-rollout.yaml",
        "pixiebrix/sales-ops.yaml",
        "pixiebrix/support-pilot.yaml",
        "pixiebrix/support.yaml",
        "teams/cms-editors.yaml",
        "teams/cms-marketing.yaml",
        "teams/docs-api-reviewers.yaml",
        "teams/docs-writers.yaml",
        "teamsync.yaml",
    ];
    files.sort();
    let mut h = Sha256::new();
    for f in files {
        h.update(std::fs::read(dir.join(f)).unwrap());
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

#[test]
fn the_examples_json_report_is_versioned_and_stable() {
    let repo = copy_example();
    let text = example_report(&repo, "json");
    let digest = expected_digest(repo.path());
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["report_format_version"], 1);
    assert_eq!(doc["read_at"], NOW);
    assert_eq!(doc["config"]["digest"], digest.as_str());
    assert_eq!(
        doc["config"]["git_commit"],
        Value::Null,
        "a temp dir is no checkout"
    );
    // What an auditor asks about is all there in the example.
    let people = doc["people"].as_array().unwrap();
    let person = |id: &str| people.iter().find(|p| p["id"] == id).unwrap();
    assert!(
        person("oscar@acme.com")["marks"]
            .as_array()
            .unwrap()
            .contains(&"unknown_to_config".into())
    );
    assert_eq!(person("ci-bot@acme.com")["account"], "service_accounts");
    assert!(
        person("mallory")["marks"]
            .as_array()
            .unwrap()
            .contains(&"role_differs".into())
    );
    for p in people {
        for cell in p["access"].as_array().unwrap() {
            assert_eq!(cell["until"], Value::Null, "reserved for issue 16");
        }
    }
    // No checkout, so no grants: each declared cell says why, and the header says it once.
    assert_eq!(doc["config"]["history"], "none");
    let why = doc["config"]["history_reason"].as_str().unwrap();
    assert!(
        [
            "not a git repository",
            "git is not installed (no `git` on PATH)"
        ]
        .contains(&why),
        "{why}"
    );
    for p in people {
        for cell in p["access"].as_array().unwrap() {
            assert_eq!(cell["granted"], Value::Null);
            let evidence = if cell["declared"] == true {
                Value::from("no_history")
            } else {
                Value::Null
            };
            assert_eq!(cell["grant_evidence"], evidence, "{cell}");
        }
    }
    insta::assert_snapshot!(
        "example_report_json",
        text.replace(&digest, "[digest]").replace(why, "[why]")
    );
}

#[test]
fn the_examples_csv_report_has_one_row_per_person_and_container() {
    let repo = copy_example();
    let text = example_report(&repo, "csv");
    assert!(text.ends_with("\r\n"), "RFC 4180 line ends");
    assert!(text.starts_with("person,handle,email,"));
    assert!(
        text.contains("oscar@acme.com,,oscar@acme.com,Oscar,"),
        "{text}"
    );
    insta::assert_snapshot!("example_report_csv", text);
}

/// `(person id, container key, marks)` of every non-empty cell of a JSON report.
fn cells(doc: &Value) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for p in doc["people"].as_array().unwrap() {
        for c in p["access"].as_array().unwrap() {
            out.push((
                p["id"].as_str().unwrap().to_string(),
                c["container"].as_str().unwrap().to_string(),
                c["marks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m.as_str().unwrap().to_string())
                    .collect(),
            ));
        }
    }
    out
}

/// The text of the `<section class="person" data-person="ID">` of a page.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section class=\"person\" data-person=\"{id}\">"))
        .unwrap_or_else(|| panic!("no section for {id}"));
    let end = html[start..].find("</section>").unwrap() + start;
    &html[start..end]
}

#[test]
fn the_examples_html_names_every_person_and_container_and_marks_drift() {
    let repo = copy_example();
    let doc: Value = serde_json::from_str(&example_report(&repo, "json")).unwrap();
    let out = repo.path().join("report.html");
    assert_cmd::Command::cargo_bin("teamsync")
        .unwrap()
        .args(["report", "--out"])
        .arg(&out)
        .arg("--config")
        .arg(repo.path())
        .env("TEAMSYNC_REPORT_NOW", NOW)
        .assert()
        .code(0);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("@page { size: A4 landscape"));
    assert!(html.contains("<script type=\"application/json\" id=\"report-data\">"));
    assert!(
        !html.contains("http://") && !html.contains("https://") && !html.contains("src="),
        "self-contained: nothing to fetch"
    );
    for p in doc["providers"].as_array().unwrap() {
        let org = p["organization"].as_str().unwrap();
        assert!(html.contains(&format!("<code>{org}</code>")), "{org}");
    }
    for c in doc["containers"].as_array().unwrap() {
        let key = c["key"].as_str().unwrap().replace('"', "&quot;");
        assert!(
            html.contains(&format!("data-key=\"{key}\"")),
            "column {key}"
        );
    }
    let people = doc["people"].as_array().unwrap();
    assert_eq!(
        html.matches("<section class=\"person\"").count(),
        people.len()
    );
    let all = cells(&doc);
    assert!(
        all.iter()
            .any(|(_, _, m)| m.contains(&"undeclared".to_string()))
    );
    assert!(
        all.iter()
            .any(|(_, _, m)| m.contains(&"missing".to_string()))
    );
    for (person, _, marks) in &all {
        let s = section(&html, person);
        let drift = marks
            .iter()
            .any(|m| ["undeclared", "missing", "role_differs"].contains(&m.as_str()));
        if drift {
            let attr = format!("data-marks=\"{}\"", marks.join(" "));
            assert!(
                s.contains("<tr class=\"drift") && s.contains(&attr),
                "{person}: {attr} in\n{s}"
            );
        }
    }
    assert!(
        !repo
            .path()
            .join("live-state.json")
            .with_extension("bak")
            .exists()
            && std::fs::read_to_string(repo.path().join("live-state.json")).unwrap()
                == std::fs::read_to_string(
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/acme/live-state.json")
                )
                .unwrap(),
        "read-only: the seed is untouched"
    );
}

#[test]
fn a_bad_fixed_time_is_an_error() {
    let repo = copy_example();
    let out = assert_cmd::Command::cargo_bin("teamsync")
        .unwrap()
        .args(["report", "--format", "json", "--config"])
        .arg(repo.path())
        .env("TEAMSYNC_REPORT_NOW", "yesterday")
        .assert()
        .code(1);
    assert!(stderr(&out).contains("TEAMSYNC_REPORT_NOW"));
}

// ---- generated reports, through the library API ----

fn email(raw: &str) -> Email {
    Email::parse(raw).unwrap()
}

fn loaded(desired: DesiredState, people: BTreeMap<String, Email>) -> Loaded {
    Loaded {
        root: PathBuf::from("teamsync.yaml"),
        base_dir: PathBuf::from("."),
        files: vec![],
        providers: provider_settings(&[
            ("cms", ProviderKind::Contentful, "cms-org"),
            ("docs", ProviderKind::Gitbook, "docs-org"),
            ("pb", ProviderKind::Pixiebrix, "pb-org"),
        ]),
        policy: Policy {
            allowed_email_domains: BTreeSet::from(["corp.example".to_string()]),
            ..Policy::default()
        },
        desired,
        people,
        github: BTreeMap::new(),
        people_files: vec![],
        codeowners: None,
        warnings: vec![],
        declared: BTreeMap::new(),
    }
}

fn live_member(email_text: &str, name: &str, role: Option<Role>) -> LiveMember {
    LiveMember {
        user_id: Some(format!("u-{email_text}").into()),
        email: Some(email(email_text)),
        name: Some(name.into()),
        role,
        data: Data::new(),
        account: AccountKind::Human,
        membership_id: None,
        pending: false,
        unknown_role: None,
        unknown_status: None,
    }
}

/// A declared container with these members.
fn desired_resource(
    key: &ResourceKey,
    mode: Mode,
    members: BTreeMap<MemberKey, DesiredMember>,
) -> DesiredResource {
    DesiredResource {
        description: None,
        max_removals: None,
        key: key.clone(),
        previously: vec![],
        mode,
        members,
        organization: None,
    }
}

/// A live container with this id and these members, fully counted.
fn live_resource(key: &ResourceKey, id: &str, members: Vec<LiveMember>) -> LiveResource {
    LiveResource {
        description: None,
        key: key.clone(),
        id: id.into(),
        members,
        pending_invites: BTreeSet::new(),
        who_am_i: Default::default(),
        uncounted: false,
    }
}

/// `people` people and `containers` containers over three providers: person i may use
/// container j when (i + 7j) % 10 == 0 (about 20 each at 200 containers); one in 20 of
/// those is declared but not live, one in 25 live but undeclared, plus 1% unknown accounts.
fn generated(people: usize, containers: usize) -> (Loaded, LiveState) {
    let mut roster = BTreeMap::new();
    for i in 0..people {
        roster.insert(format!("p{i:05}"), email(&format!("p{i:05}@corp.example")));
    }
    let mut desired = DesiredState::default();
    let mut live = LiveState::default();
    for j in 0..containers {
        let (prov, kind) = match j % 4 {
            0 | 1 => ("pb", ResourceKind::Group),
            2 => ("docs", ResourceKind::Team),
            _ => ("cms", ResourceKind::Team),
        };
        let key = ResourceKey::new(prov, kind, format!("Container {j:03}"));
        let mut members = BTreeMap::new();
        let mut live_members = Vec::new();
        for i in (0..people).filter(|i| (i + 7 * j) % 10 == 0) {
            let addr = format!("p{i:05}@corp.example");
            let role = (prov == "docs").then_some(if i % 13 == 0 {
                Role::Owner
            } else {
                Role::Member
            });
            let declared = i % 25 != 0;
            let is_live = i % 20 != 0;
            if declared {
                members.insert(
                    MemberKey::Email(email(&addr)),
                    DesiredMember {
                        handle: Some(format!("p{i:05}")),
                        role,
                        data: Data::new(),
                        until: None,
                    },
                );
            }
            if is_live {
                live_members.push(live_member(&addr, &format!("Person {i}"), role));
            }
        }
        for k in (0..people / 100).filter(|k| (k + j) % 5 == 0) {
            live_members.push(live_member(
                &format!("contractor{k}@elsewhere.example"),
                "Contractor",
                None,
            ));
        }
        desired
            .resources
            .insert(key.clone(), desired_resource(&key, Mode::Exact, members));
        live.resources.insert(
            key.clone(),
            live_resource(&key, &format!("id{j}"), live_members),
        );
    }
    (loaded(desired, roster), live)
}

fn ctx() -> review::ReadContext {
    review::ReadContext {
        read_at: NOW.into(),
        config_digest: "sha256:0".into(),
        ..review::ReadContext::default()
    }
}

#[test]
fn five_thousand_people_by_two_hundred_containers_stay_small_and_fast() {
    let (loaded, live) = generated(5_000, 200);
    let started = Instant::now();
    let built: Report = review::build(&loaded, &live, ctx());
    let built_in = started.elapsed();
    let started = Instant::now();
    let html = review::html(&built);
    let html_in = started.elapsed();
    let started = Instant::now();
    let csv = review::csv(&built);
    let csv_in = started.elapsed();
    let json = review::json(&built);
    eprintln!(
        "5000x200: {} people, {} containers, {} cells; build {built_in:?}, html {} bytes in {html_in:?}, \
         csv {} bytes in {csv_in:?}, json {} bytes",
        built.summary.people,
        built.summary.containers,
        built.summary.access,
        html.len(),
        csv.len(),
        json.len()
    );
    assert_eq!(built.summary.people, 5_050);
    assert_eq!(built.summary.containers, 200);
    assert!(built.summary.drift > 0 && built.summary.outside_allowed_domains == 50);
    assert!(
        html.len() < 20 * 1024 * 1024,
        "the page stays under 20 MiB: {} bytes",
        html.len()
    );
    // Debug builds (what `cargo test` runs) are several times slower than release.
    let bound = Duration::from_secs(if cfg!(debug_assertions) { 20 } else { 3 });
    assert!(
        built_in + html_in < bound,
        "build {built_in:?} + html {html_in:?} within {bound:?}"
    );
    // Every person and container is in the page.
    for p in built.people.iter().step_by(97) {
        assert!(
            html.contains(&format!("data-person=\"{}\"", p.id)),
            "{}",
            p.id
        );
    }
    for c in &built.containers {
        let key = c.key.replace('"', "&quot;");
        assert!(html.contains(&format!("data-key=\"{key}\"")), "{key}");
    }
}

#[test]
fn hostile_names_are_escaped_in_every_format() {
    let mut desired = DesiredState::default();
    let key = ResourceKey::new("docs", ResourceKind::Team, "<b>Team</b>");
    desired.resources.insert(
        key.clone(),
        desired_resource(&key, Mode::Exact, BTreeMap::new()),
    );
    let mut evil = live_member(
        "<script>alert(1)</script>@corp.example",
        "=HYPERLINK(\"http://x\")",
        Some(Role::Owner),
    );
    evil.user_id = Some("-2+3".into());
    let mut live = LiveState::default();
    live.resources
        .insert(key.clone(), live_resource(&key, "t1", vec![evil]));
    let built = review::build(&loaded(desired, BTreeMap::new()), &live, ctx());
    let html = review::html(&built);
    assert!(!html.contains("<script>alert"), "HTML text escaped");
    assert!(!html.contains("<b>Team"), "HTML text escaped");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;@corp.example"));
    let data_start = html.find("id=\"report-data\">").unwrap();
    let data_end = html[data_start..].find("</script>").unwrap() + data_start;
    assert!(
        !html[data_start + 17..data_end].contains('<'),
        "embedded JSON cannot close its script element"
    );
    let csv = review::csv(&built);
    assert!(
        csv.contains(",\"'=HYPERLINK(\"\"http://x\"\")\","),
        "formula guarded and quoted: {csv}"
    );
    assert!(csv.contains(",'-2+3,"), "user id guarded: {csv}");
    let json: Value = serde_json::from_str(&review::json(&built)).unwrap();
    assert_eq!(json["people"][0]["name"], "=HYPERLINK(\"http://x\")");
    assert_eq!(json["people"][0]["access"][0]["marks"][0], "undeclared");
}

// ---- a real browser ----

const CHROMIUM: &str = "/usr/bin/chromium";

/// Runs Chromium headless with `extra` on the page, returning (stdout, stderr), or panics
/// after `limit`.
fn chromium(page: &str, profile: &Path, extra: &[&str], limit: Duration) -> (String, String) {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1400,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{page}"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("start chromium");
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (
        std::fs::read_to_string(out_path).unwrap_or_default(),
        std::fs::read_to_string(err_path).unwrap_or_default(),
    )
}

fn chromium_available() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{CHROMIUM} is missing and CI is set: .ci/run must install chromium");
    }
    eprintln!(
        "SKIPPED: {CHROMIUM} is missing (apt-get install chromium); set CI to make this fail"
    );
    false
}

/// Screenshot and DOM of a page: a non-trivial PNG, the script's ready marker, no error
/// element and no console message from the page.
fn check_in_browser(page: &Path, png: &Path, limit: Duration) -> (String, u64) {
    let profile = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (_, err) = chromium(
        &page.display().to_string(),
        profile.path(),
        &[&format!("--screenshot={}", png.display())],
        limit,
    );
    let shot_in = started.elapsed();
    let size = std::fs::metadata(png).map(|m| m.len()).unwrap_or(0);
    assert!(size > 20_000, "screenshot of {} bytes\n{err}", size);
    assert!(std::fs::read(png).unwrap().starts_with(b"\x89PNG"));
    let started = Instant::now();
    let (dom, err2) = chromium(
        &page.display().to_string(),
        profile.path(),
        &["--dump-dom"],
        limit,
    );
    let dom_in = started.elapsed();
    eprintln!(
        "chromium: screenshot {size} bytes in {shot_in:?}, dump-dom in {dom_in:?} ({})",
        page.display()
    );
    for log in [&err, &err2] {
        let console: Vec<&str> = log
            .lines()
            .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
            .collect();
        assert!(console.is_empty(), "console messages: {console:#?}");
    }
    assert!(
        dom.contains("data-report-state=\"ready\""),
        "the script finished: {}",
        &dom[..dom.len().min(2000)]
    );
    assert!(!dom.contains("class=\"js-error\""), "no script error shown");
    let ready_ms = dom
        .split("data-ready-ms=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse::<u64>().ok())
        .expect("the script records when the grid was drawn");
    eprintln!("chromium: grid drawn {ready_ms} ms after navigation start");
    (dom, ready_ms)
}

#[test]
fn the_page_renders_in_headless_chromium_without_errors() {
    if !chromium_available() {
        return;
    }
    let repo = copy_example();
    let page = repo.path().join("report.html");
    assert_cmd::Command::cargo_bin("teamsync")
        .unwrap()
        .args(["report", "--out"])
        .arg(&page)
        .arg("--config")
        .arg(repo.path())
        .env("TEAMSYNC_REPORT_NOW", NOW)
        .assert()
        .code(0);
    let png = std::env::var_os("TEAMSYNC_REPORT_PNG")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.path().join("report.png"));
    let (dom, _) = check_in_browser(&page, &png, Duration::from_secs(60));
    // The grid the script drew: rows for people, drift cells marked.
    assert!(
        dom.contains("<tr data-person=\"oscar@acme.com\">"),
        "grid rows"
    );
    assert!(dom.contains("<td class=\"drift"), "drift cells in the grid");
    assert!(dom.contains("rows 1–15 of 15"), "pager");

    // Filtering and sorting, driven through the address (the page reads its state there).
    let profile = tempfile::tempdir().unwrap();
    let base = page.display().to_string();
    let grid_rows = |dom: &str| -> Vec<String> {
        let grid = &dom[..dom.find("<div id=\"print\"").unwrap()];
        grid.split("<tr data-person=\"")
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].to_string())
            .filter(|id| !id.starts_with('\''))
            .collect()
    };
    let limit = Duration::from_secs(60);
    let (dom, _) = chromium(
        &format!("{base}#filter=OSC"),
        profile.path(),
        &["--dump-dom"],
        limit,
    );
    assert_eq!(
        grid_rows(&dom),
        ["oscar@acme.com"],
        "filter is case-insensitive"
    );
    let (dom, _) = chromium(
        &format!("{base}#mark=drift&sort=person&desc=1"),
        profile.path(),
        &["--dump-dom"],
        limit,
    );
    let rows = grid_rows(&dom);
    assert!(
        !rows.contains(&"bob".to_string()),
        "bob has no drift: {rows:?}"
    );
    let mut sorted = rows.clone();
    sorted.sort_by_key(|id| std::cmp::Reverse(id.to_lowercase()));
    assert_eq!(rows, sorted, "sorted by person, descending");
    assert!(dom.contains("data-report-state=\"ready\""));
}

#[test]
fn five_thousand_people_render_in_headless_chromium() {
    if !chromium_available() {
        return;
    }
    let (loaded, live) = generated(5_000, 200);
    let built = review::build(&loaded, &live, ctx());
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("big.html");
    std::fs::write(&page, review::html(&built)).unwrap();
    let png = std::env::var_os("TEAMSYNC_REPORT_BIG_PNG")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().join("big.png"));
    let (dom, ready_ms) = check_in_browser(&page, &png, Duration::from_secs(120));
    assert!(
        dom.contains("rows 1–100 of 5050"),
        "one page of rows is drawn"
    );
    let grid = &dom[..dom.find("<div id=\"print\"").unwrap()];
    assert_eq!(grid.matches("<tr data-person=").count(), 100);
    assert!(
        ready_ms < 15_000,
        "the first page of the grid within 15 s: {ready_ms} ms"
    );
}

#[test]
fn invitations_service_accounts_foreign_domains_and_missing_containers_are_marked() {
    let org = ResourceKey::new("pb", ResourceKind::Organization, "pb-org");
    let group = ResourceKey::new("pb", ResourceKind::Group, "Not Created Yet");
    let mut desired = DesiredState::default();
    let declared = |who: &str| {
        (
            MemberKey::Email(email(who)),
            DesiredMember {
                handle: None,
                role: None,
                data: Data::new(),
                until: None,
            },
        )
    };
    for (key, members) in [
        (
            &org,
            vec![declared("ann@corp.example"), declared("new@corp.example")],
        ),
        (&group, vec![declared("ann@corp.example")]),
    ] {
        desired.resources.insert(
            key.clone(),
            desired_resource(key, Mode::Exact, members.into_iter().collect()),
        );
    }
    let mut bot = live_member("bot@corp.example", "Bot", Some(Role::Admin));
    bot.account = AccountKind::ServiceAccounts;
    let mut live = LiveState::default();
    live.resources.insert(
        org.clone(),
        LiveResource {
            pending_invites: BTreeSet::from([email("new@corp.example"), email("x@other.example")]),
            ..live_resource(
                &org,
                "pb-org",
                vec![
                    live_member("ann@corp.example", "Ann", Some(Role::Member)),
                    live_member("eve@gmail.com", "Eve", Some(Role::Member)),
                    bot,
                ],
            )
        },
    );
    let built = review::build(&loaded(desired, BTreeMap::new()), &live, ctx());
    let person = |id: &str| built.people.iter().find(|p| p.id == id).unwrap();
    let has = |id: &str, m: review::Mark| person(id).marks.contains(&m);
    use review::Mark::*;
    assert!(has("new@corp.example", PendingInvitation) && !has("new@corp.example", Missing));
    assert!(has("x@other.example", PendingInvitation) && has("x@other.example", Undeclared));
    assert!(has("x@other.example", OutsideAllowedDomains));
    assert!(has("eve@gmail.com", OutsideAllowedDomains) && has("eve@gmail.com", UnknownToConfig));
    assert!(!has("ann@corp.example", OutsideAllowedDomains));
    assert!(has("bot@corp.example", ServiceAccount) && has("bot@corp.example", Privileged));
    // A declared container that does not exist live: a column, with its access missing.
    let column = built
        .containers
        .iter()
        .find(|c| c.name == "Not Created Yet")
        .unwrap();
    assert!(column.declared && !column.live);
    assert!(has("ann@corp.example", Missing));
    assert_eq!(built.summary.pending_invitations, 2);
}

#[test]
fn a_config_in_a_git_checkout_reports_its_commit() {
    let git = |dir: &Path, args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let repo = copy_example();
    if git(repo.path(), &["init", "-q"]).is_none() {
        eprintln!("SKIPPED: git is not available");
        return;
    }
    git(repo.path(), &["add", "-A"]).unwrap();
    git(repo.path(), &["commit", "-q", "-m", "config"]).unwrap();
    let head = git(repo.path(), &["rev-parse", "HEAD"]).unwrap();
    let doc: Value = serde_json::from_str(&example_report(&repo, "json")).unwrap();
    assert_eq!(doc["config"]["git_commit"], head.as_str());
    assert_eq!(
        doc["config"]["git_dirty"], false,
        "the sandbox's untracked .teamsync/ is not the config"
    );
    // An uncommitted edit (a comment) keeps the config valid and makes the checkout dirty.
    let people = repo.path().join("people.yaml");
    let text = std::fs::read_to_string(&people).unwrap();
    std::fs::write(&people, format!("{text}# edited\n")).unwrap();
    let doc: Value = serde_json::from_str(&example_report(&repo, "json")).unwrap();
    assert_eq!(doc["config"]["git_commit"], head.as_str());
    assert_eq!(doc["config"]["git_dirty"], true);
}

/// The report marks `role_differs` exactly where the plan changes a role: one rule, pinned
/// over every mode × stated role × live role of a GitBook team (issue 32: an owner of an
/// `additive` team without `role:` was drift in the report that the plan never fixes).
#[test]
fn the_reports_role_drift_is_exactly_the_plans_role_changes() {
    use teamsync::changeset::{DiffInput, diff};
    use teamsync::model::MemberAction;
    let roles = [None, Some(Role::Member), Some(Role::Owner)];
    let mut checked = 0;
    for mode in [Mode::Exact, Mode::Additive] {
        for stated in roles {
            for live_role in roles {
                for unknown in [false, true] {
                    let key = ResourceKey::new("docs", ResourceKind::Team, "Writers");
                    let mut desired = DesiredState::default();
                    desired.resources.insert(
                        key.clone(),
                        desired_resource(
                            &key,
                            mode,
                            BTreeMap::from([(
                                MemberKey::Email(email("ann@corp.example")),
                                DesiredMember {
                                    handle: Some("ann".into()),
                                    role: stated,
                                    data: Data::new(),
                                    until: None,
                                },
                            )]),
                        ),
                    );
                    let mut ann = live_member("ann@corp.example", "Ann", live_role);
                    if unknown {
                        ann.role = None;
                        ann.unknown_role = Some("admin".into());
                    }
                    let mut live = LiveState::default();
                    live.resources
                        .insert(key.clone(), live_resource(&key, "t1", vec![ann]));
                    let people = BTreeMap::from([("ann".to_string(), email("ann@corp.example"))]);
                    let loaded = loaded(desired, people);
                    let plan = diff(DiffInput {
                        desired: &loaded.desired,
                        live: &live,
                        providers: &loaded.providers,
                        policy: &loaded.policy,
                        today: jiff::civil::date(2026, 12, 1),
                    });
                    // A change the plan wants but blocks (demoting the last owner) is
                    // still drift: the plan names it and how to fix it.
                    let plan_changes_role = plan
                        .changes
                        .iter()
                        .flat_map(|c| &c.members)
                        .chain(plan.blocked.iter().map(|b| &b.change))
                        .any(|m| matches!(m.action, MemberAction::SetRole { .. }));
                    let json: Value =
                        serde_json::from_str(&review::json(&review::build(&loaded, &live, ctx())))
                            .unwrap();
                    let report_drift = json["people"][0]["access"][0]["marks"]
                        .as_array()
                        .is_some_and(|m| m.iter().any(|m| m == "role_differs"));
                    assert_eq!(
                        report_drift, plan_changes_role,
                        "mode {mode:?}, stated {stated:?}, live {live_role:?}, unknown {unknown}"
                    );
                    checked += usize::from(plan_changes_role);
                }
            }
        }
    }
    assert!(
        checked >= 4,
        "some combinations do change the role: {checked}"
    );
}
